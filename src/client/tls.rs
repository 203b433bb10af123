//! Trust and identity for `https://` agents: a CA to trust beside the system's roots
//! (`--cacert`), and a client certificate for servers that ask for one (`--cert`/`--key`).

use std::path::PathBuf;
use std::time::Duration;

/// TLS settings of the client's HTTP connections; the default trusts the system roots and
/// presents no certificate.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsOptions {
    /// PEM file of a CA certificate to trust for https URLs (beside the system's).
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
    /// PEM file of a client certificate for mTLS (with --key).
    #[arg(long, value_name = "PEM", requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl TlsOptions {
    /// A reqwest builder with these settings, the client's timeouts and user agent.
    pub fn builder(&self) -> anyhow::Result<reqwest::ClientBuilder> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("a2a-server-client/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &self.cacert {
            let pem = read(path, "--cacert")?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| anyhow::anyhow!("--cacert {}: {e}", path.display()))?;
            if certs.is_empty() {
                anyhow::bail!(
                    "--cacert {}: no PEM certificate in the file",
                    path.display()
                );
            }
            b = b.tls_certs_merge(certs);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            let mut pem = read(cert, "--cert")?;
            pem.push(b'\n');
            pem.extend(read(key, "--key")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!("--cert {} / --key {}: {e}", cert.display(), key.display())
            })?;
            b = b.identity(identity);
        }
        Ok(b)
    }

    /// [`TlsOptions::builder`], built.
    pub fn client(&self) -> anyhow::Result<reqwest::Client> {
        Ok(self.builder()?.build()?)
    }
}

fn read(path: &std::path::Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))
}
