//! `a2a health [URL]`: exit 0 when the server's liveness route answers 200. The image has
//! no curl, so the Dockerfile's `HEALTHCHECK` runs this.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::config::{Config, Overrides};

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// URL to GET; a bare `http://HOST:PORT` means its `/healthz`. Unset: `/healthz` on
    /// the configured `admin_listen`, else `listen` (same config file and `A2A_*`
    /// variables as `serve`).
    pub url: Option<String>,
    /// TOML config file, for the addresses when no URL is given.
    #[arg(long, env = "A2A_CONFIG")]
    pub config: Option<PathBuf>,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
    #[command(flatten)]
    pub tls: crate::client::TlsOptions,
}

pub async fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let url = match args.url {
        Some(u) => with_default_path(&u),
        None => {
            let config = Config::load(args.config, Overrides::default())?;
            // The admin listener is plain HTTP; `listen` is HTTPS under `[tls]`.
            match config.admin_listen {
                Some(admin) => healthz_url(admin, "http"),
                None => healthz_url(config.listen, config.scheme()),
            }
        }
    };
    let http = args
        .tls
        .builder()?
        .timeout(Duration::from_secs(args.timeout.max(1)))
        .build()?;
    match http.get(&url).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::OK => Ok(ExitCode::SUCCESS),
        Ok(r) => {
            eprintln!("{url}: HTTP {}", r.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("{url}: {:#}", anyhow::Error::from(e));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `http://h:p` and `http://h:p/` mean `http://h:p/healthz`.
fn with_default_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.path() == "/" => {
            u.set_path("/healthz");
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A listen address as a URL to reach it from the same host: an unspecified address
/// (`0.0.0.0`, `::`) is reached on loopback.
fn healthz_url(addr: SocketAddr, scheme: &str) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("{scheme}://{}/healthz", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_become_loopback_urls() {
        assert_eq!(
            healthz_url("0.0.0.0:9464".parse().unwrap(), "http"),
            "http://127.0.0.1:9464/healthz"
        );
        assert_eq!(
            healthz_url("[::]:8000".parse().unwrap(), "http"),
            "http://[::1]:8000/healthz"
        );
        assert_eq!(
            healthz_url("10.0.0.2:8000".parse().unwrap(), "https"),
            "https://10.0.0.2:8000/healthz"
        );
    }

    #[test]
    fn a_bare_url_means_its_healthz() {
        assert_eq!(
            with_default_path("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000/healthz"
        );
        assert_eq!(with_default_path("http://h:1/readyz"), "http://h:1/readyz");
    }
}
