//! The HTTPS side of the accept loop: the rustls server configuration built from `[tls]`,
//! certificate rotation, and the verified client chain a request carries (mTLS).
//!
//! Rotation: the resolver that hands rustls the certificate looks at the two files' metadata
//! at most once a second, on a handshake, and reloads them when their modification time,
//! size or inode changed. That needs no watcher crate and no background task, costs one
//! `stat` pair a second under load and nothing when idle, and a new handshake sees a new
//! certificate within a second of the files' replacement. A pair that does not load (a
//! half-written file, a key that does not match) keeps the previous certificate and is
//! logged once per change.

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use crate::config::{ClientAuth, TlsConfig};

/// The verified certificate chain of an mTLS client, leaf first, in the extensions of each
/// request on its connection. Absent: no client certificate (or plain HTTP).
#[derive(Debug, Clone)]
pub struct PeerCertificates(pub Arc<[CertificateDer<'static>]>);

impl PeerCertificates {
    /// The client's own certificate.
    pub fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.0.first()
    }
}

/// How often, at most, the certificate files' metadata is looked at.
const RECHECK: Duration = Duration::from_secs(1);

/// The rustls configuration of the public listener: TLS 1.3 (and 1.2 when asked), ALPN
/// `h2` then `http/1.1`, client certificates verified against `client_ca` when set.
/// Fails naming the file that could not be read or parsed.
pub fn server_config(tls: &TlsConfig) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version.as_str() {
        "1.2" => &[&rustls::version::TLS13, &rustls::version::TLS12],
        _ => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| anyhow::anyhow!("tls: {e}"))?;
    let builder = match &tls.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca, "tls.client_ca")? {
                roots.add(cert).map_err(|e| {
                    anyhow::anyhow!("tls.client_ca {}: not a CA certificate: {e}", ca.display())
                })?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone());
            let verifier = match tls.client_auth {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                ClientAuth::Required => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|e| anyhow::anyhow!("tls.client_ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let resolver = ReloadingCert::load(tls.cert.clone(), tls.key.clone(), provider)?;
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certs(path: &Path, setting: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{setting} {}: {e}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "{setting} {}: no PEM certificate in the file",
            path.display()
        );
    }
    Ok(certs)
}

/// The certificate and key at `cert` and `key`, checked to belong together.
fn load_pair(cert: &Path, key: &Path, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let chain = read_certs(cert, "tls.cert")?;
    let der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("tls.key {}: {e}", key.display()))?;
    CertifiedKey::from_der(chain, der, provider).map_err(|e| {
        anyhow::anyhow!(
            "tls.cert {} / tls.key {}: {e}",
            cert.display(),
            key.display()
        )
    })
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta: Metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}

/// Hands rustls the current certificate, reloading the files when they change.
#[derive(Debug)]
struct ReloadingCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    state: Mutex<CertState>,
}

#[derive(Debug)]
struct CertState {
    current: Arc<CertifiedKey>,
    stamps: (Option<Stamp>, Option<Stamp>),
    checked: Instant,
}

impl ReloadingCert {
    fn load(cert: PathBuf, key: PathBuf, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamps = (Stamp::of(&cert), Stamp::of(&key));
        let current = Arc::new(load_pair(&cert, &key, &provider)?);
        Ok(Self {
            cert_path: cert,
            key_path: key,
            provider,
            state: Mutex::new(CertState {
                current,
                stamps,
                checked: Instant::now(),
            }),
        })
    }

    fn current(&self) -> Arc<CertifiedKey> {
        let mut state = self.state.lock();
        if state.checked.elapsed() >= RECHECK {
            state.checked = Instant::now();
            let stamps = (Stamp::of(&self.cert_path), Stamp::of(&self.key_path));
            if stamps != state.stamps {
                state.stamps = stamps;
                match load_pair(&self.cert_path, &self.key_path, &self.provider) {
                    Ok(pair) => {
                        tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
                        state.current = Arc::new(pair);
                    }
                    // Retried at the next change of the files.
                    Err(e) => tracing::warn!(
                        error = %e,
                        "TLS certificate files changed but do not load; serving the previous certificate"
                    ),
                }
            }
        }
        state.current.clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
