//! Unit tests of webhook URL safety: every blocked range, the form rules, resolution and
//! the resolver reqwest connects through.

use std::time::Duration;

use reqwest::dns::{Name, Resolve};

use super::*;

fn blocked(url: &str) -> UrlError {
    validate_webhook_url(url, false).expect_err(url)
}

#[test]
fn every_blocked_range_is_refused_and_allowed_with_the_switch() {
    let cases: &[(&str, BlockedRange)] = &[
        ("http://127.0.0.1:9/", BlockedRange::Loopback),
        ("http://127.255.0.7/", BlockedRange::Loopback),
        ("http://[::1]/", BlockedRange::Loopback),
        ("http://10.1.2.3/", BlockedRange::Private),
        ("http://172.16.0.1/", BlockedRange::Private),
        ("http://172.31.255.255/", BlockedRange::Private),
        ("http://192.168.1.1/", BlockedRange::Private),
        ("http://[fc00::1]/", BlockedRange::Private),
        ("http://[fd12:3456::1]/", BlockedRange::Private),
        ("http://169.254.1.1/", BlockedRange::LinkLocal),
        ("http://[fe80::1]/", BlockedRange::LinkLocal),
        ("http://0.0.0.0/", BlockedRange::Unspecified),
        ("http://0.1.2.3/", BlockedRange::Unspecified),
        ("http://[::]/", BlockedRange::Unspecified),
        ("http://255.255.255.255/", BlockedRange::Broadcast),
        ("http://100.64.0.1/", BlockedRange::SharedCgnat),
        ("http://100.127.255.254/", BlockedRange::SharedCgnat),
        ("http://224.0.0.1/", BlockedRange::Multicast),
        ("http://[ff02::1]/", BlockedRange::Multicast),
        ("http://240.0.0.1/", BlockedRange::Reserved),
        (
            "http://169.254.169.254/latest/meta-data/",
            BlockedRange::CloudMetadata,
        ),
        ("http://[fd00:ec2::254]/", BlockedRange::CloudMetadata),
        ("http://[::ffff:127.0.0.1]/", BlockedRange::Loopback),
        ("http://[::ffff:10.0.0.1]/", BlockedRange::Private),
        (
            "http://[::ffff:169.254.169.254]/",
            BlockedRange::CloudMetadata,
        ),
        ("http://[::127.0.0.1]/", BlockedRange::Loopback),
        ("http://[64:ff9b::192.168.0.1]/", BlockedRange::Private),
        // Legacy IPv4 spellings are normalised by the URL parser.
        ("http://2130706433/", BlockedRange::Loopback),
        ("http://0x7f.1/", BlockedRange::Loopback),
    ];
    for (url, range) in cases {
        match blocked(url) {
            UrlError::Blocked { range: got, .. } => assert_eq!(got, *range, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
        validate_webhook_url(url, true).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn blocked_names_are_refused_without_dns() {
    for (url, range) in [
        ("http://localhost:8080/hook", BlockedRange::Loopback),
        ("http://LOCALHOST./hook", BlockedRange::Loopback),
        ("http://api.localhost/hook", BlockedRange::Loopback),
        (
            "http://metadata.google.internal/",
            BlockedRange::CloudMetadata,
        ),
        (
            "http://metadata.google.internal./",
            BlockedRange::CloudMetadata,
        ),
    ] {
        match blocked(url) {
            UrlError::BlockedHost { range: got, .. } => assert_eq!(got, range, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
        validate_webhook_url(url, true).unwrap();
    }
}

#[test]
fn public_addresses_pass() {
    for url in [
        "https://example.com/hook",
        "http://93.184.216.34/",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/",
        "http://100.63.255.255/",
        "http://100.128.0.1/",
        "http://172.32.0.1/",
        "http://[::ffff:8.8.8.8]/",
    ] {
        validate_webhook_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn message_says_why() {
    assert_eq!(
        blocked("http://127.0.0.1:9/").to_string(),
        "webhook URL http://127.0.0.1:9/ resolves to 127.0.0.1, a loopback address; \
         set --push-allow-private-networks to allow it"
    );
    assert_eq!(
        blocked("http://[::ffff:127.0.0.1]/x").to_string(),
        "webhook URL http://[::ffff:7f00:1]/x resolves to ::ffff:127.0.0.1, a loopback \
         address; set --push-allow-private-networks to allow it"
    );
    assert!(
        blocked("http://169.254.169.254/")
            .to_string()
            .contains("a cloud metadata address")
    );
}

#[test]
fn form_rules() {
    for url in [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ws://example.com/",
        "javascript:alert(1)",
    ] {
        assert!(
            matches!(
                validate_webhook_url(url, true),
                Err(UrlError::Scheme { .. })
            ),
            "{url}"
        );
    }
    assert!(matches!(
        validate_webhook_url("/relative", true),
        Err(UrlError::Invalid { .. })
    ));
    assert!(matches!(
        validate_webhook_url("not a url", true),
        Err(UrlError::Invalid { .. })
    ));
    let err = validate_webhook_url("https://user:secret@example.com/", true).unwrap_err();
    assert!(matches!(err, UrlError::UserInfo { .. }));
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(matches!(
        validate_webhook_url("https://user@example.com/", true),
        Err(UrlError::UserInfo { .. })
    ));
}

#[tokio::test]
async fn resolution_is_checked() {
    let err = resolve_allowed("http://localhost:9/", false)
        .await
        .unwrap_err();
    assert!(matches!(err, UrlError::BlockedHost { .. }), "{err}");
    let err = resolve_allowed("http://127.0.0.1:9/", false)
        .await
        .unwrap_err();
    assert!(matches!(err, UrlError::Blocked { .. }), "{err}");

    let addrs = resolve_allowed("http://127.0.0.1:9/", true).await.unwrap();
    assert_eq!(addrs, vec!["127.0.0.1:9".parse().unwrap()]);
    let addrs = resolve_allowed("http://localhost/", true).await.unwrap();
    assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
}

#[tokio::test]
async fn safe_resolver_filters_what_reqwest_connects_to() {
    // A name resolving to loopback, resolved the way reqwest would.
    let strict = SafeResolver {
        allow_private: false,
    };
    let err = strict
        .resolve("localhost".parse::<Name>().unwrap())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
    let open = SafeResolver {
        allow_private: true,
    };
    let addrs: Vec<_> = open
        .resolve("localhost".parse::<Name>().unwrap())
        .await
        .unwrap()
        .collect();
    assert!(!addrs.is_empty());

    // End to end: a real server on 127.0.0.1, reached through a host name.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    let url = format!("http://localhost:{port}/hook");
    let client = webhook_client_builder(false, Duration::from_secs(2), Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.post(&url).send().await.unwrap_err();
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = source {
        chain.push_str(&e.to_string());
        chain.push_str(" / ");
        source = e.source();
    }
    assert!(chain.contains("loopback"), "{chain}");

    let client = webhook_client_builder(true, Duration::from_secs(2), Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = client.post(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "redirects are not followed");
}

/// RFC 6761: `.invalid` never resolves, anywhere.
const UNRESOLVABLE: &str = "https://hook.a2a-test.invalid/notify";

#[tokio::test]
async fn registration_accepts_a_name_that_does_not_resolve_yet() {
    assert!(matches!(
        resolve_allowed(UNRESOLVABLE, false).await,
        Err(UrlError::Resolve { .. } | UrlError::NoAddresses { .. })
    ));
    for allow in [false, true] {
        let url = check_registration(UNRESOLVABLE, allow).await.unwrap();
        assert_eq!(url.host_str(), Some("hook.a2a-test.invalid"));
    }
    // The form rules still apply to such a name.
    let err = check_registration("ftp://hook.a2a-test.invalid/", false)
        .await
        .unwrap_err();
    assert!(matches!(err, UrlError::Scheme { .. }), "{err}");
}

#[tokio::test]
async fn registration_refuses_blocked_literals_and_names_unless_allowed() {
    for url in [
        "http://10.1.2.3/hook",
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
    ] {
        let err = check_registration(url, false).await.unwrap_err();
        assert!(
            matches!(err, UrlError::Blocked { .. } | UrlError::BlockedHost { .. }),
            "{url}: {err}"
        );
        check_registration(url, true)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[tokio::test]
async fn registration_refuses_a_name_that_resolves_to_a_blocked_address() {
    // A name of /etc/hosts that maps to loopback (most hosts have one besides
    // `localhost`, which is refused by name); resolved for real, not by name.
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let name = hosts
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let addr: IpAddr = words.next()?.parse().ok()?;
            blocked_range(addr)?;
            words.find(|n| blocked_name(n).is_none())
        })
        .next();
    let Some(name) = name else {
        eprintln!("skipping: /etc/hosts names no blocked address but localhost");
        return;
    };
    let url = format!("http://{name}/hook");
    let err = check_registration(&url, false).await.unwrap_err();
    assert!(matches!(err, UrlError::Blocked { .. }), "{url}: {err}");
    check_registration(&url, true).await.unwrap();
}
