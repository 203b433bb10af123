//! HTTPS on the public listener: TLS versions, ALPN, certificate rotation, mTLS, the plain
//! admin listener, security headers and CORS. Certificates are made here with rcgen: a CA,
//! server certificates for 127.0.0.1, client certificates from that CA and from another.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use a2a_server::config::{ClientAuth, Config, CorsConfig, Overrides, TlsConfig};
use a2a_server::startup::Application;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, SerialNumber,
};
use serde_json::{Value, json};
use support::app::{App, config, start};

/// A CA that signs server and client certificates.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate and its key (PEM) for 127.0.0.1 with `serial`.
    fn server(&self, serial: u64) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.serial_number = Some(SerialNumber::from(serial));
        params
            .distinguished_name
            .push(DnType::CommonName, "a2a test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// A client certificate for the common name `cn`, as an identity for reqwest.
    fn client(&self, cn: &str) -> reqwest::Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        reqwest::Identity::from_pem(format!("{}\n{}", cert.pem(), key.serialize_pem()).as_bytes())
            .unwrap()
    }

    fn trust(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.pem().as_bytes()).unwrap()
    }
}

/// Writes `text` to `path` through a temporary file and a rename, as a certificate
/// manager (or a Kubernetes secret volume) replaces files.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The server's certificate files in a temporary directory.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(server: &Ca, serial: u64) -> Files {
        let files = Files {
            dir: tempfile::tempdir().unwrap(),
        };
        files.install(server, serial);
        files
    }

    fn install(&self, ca: &Ca, serial: u64) {
        let (cert, key) = ca.server(serial);
        // Key first: between the two renames the pair does not match, and is not served.
        replace(&self.key(), &key);
        replace(&self.cert(), &cert);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cert(&self) -> PathBuf {
        self.path("tls.crt")
    }

    fn key(&self) -> PathBuf {
        self.path("tls.key")
    }

    fn tls(&self) -> TlsConfig {
        TlsConfig {
            cert: self.cert(),
            key: self.key(),
            min_version: "1.3".into(),
            client_ca: None,
            client_auth: ClientAuth::Required,
        }
    }

    /// `client_ca` trusting `ca`, with the given policy.
    fn mtls(&self, ca: &Ca, auth: ClientAuth) -> TlsConfig {
        let path = self.path("clients-ca.pem");
        std::fs::write(&path, ca.pem()).unwrap();
        TlsConfig {
            client_ca: Some(path),
            client_auth: auth,
            ..self.tls()
        }
    }
}

async fn start_tls(tls: TlsConfig) -> App {
    start(config(|c| c.tls = Some(tls))).await
}

fn client(ca: &Ca) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_only([ca.trust()])
        .tls_info(true)
}

fn send_body(id: u64, text: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "SendMessage", "params": {"message": {
        "messageId": format!("tck-complete-task-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER", "parts": [{"text": text}]}}})
}

async fn send(http: &reqwest::Client, url: &str) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{url}/"))
        .header("A2A-Version", "1.0")
        .json(&send_body(1, "hi"))
        .send()
        .await
}

/// The serial number of the certificate the server presented.
fn served_serial(resp: &reqwest::Response) -> Vec<u8> {
    let info = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("tls_info is on");
    let der = info.peer_certificate().expect("a server certificate");
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.raw_serial().to_vec()
}

#[tokio::test]
async fn https_with_tls13_http2_over_alpn_and_tls12_only_when_allowed() {
    let ca = Ca::new("server CA");
    let files = Files::new(&ca, 7);
    let server = start_tls(files.tls()).await;
    assert!(server.url.starts_with("https://"), "{}", server.url);

    let http = client(&ca).build().unwrap();
    let resp = send(&http, &server.url).await.expect("https works");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2, "ALPN chose h2");
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["result"]["task"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );

    // HTTP/1.1 when the client offers only that.
    let h1 = client(&ca).http1_only().build().unwrap();
    let resp = send(&h1, &server.url).await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);

    // The card advertises the https URL.
    let card: Value = http
        .get(format!("{}/.well-known/agent-card.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["url"], format!("{}/", server.url));

    let tls12 = client(&ca)
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let err = send(&tls12, &server.url)
        .await
        .expect_err("a TLS 1.2-only client is refused by default");
    assert!(err.is_connect(), "{err:?}");

    let relaxed = start_tls(TlsConfig {
        min_version: "1.2".into(),
        ..files.tls()
    })
    .await;
    let resp = send(&tls12, &relaxed.url)
        .await
        .expect("min_version 1.2 serves TLS 1.2");
    assert_eq!(resp.status(), 200);

    // Plain HTTP to the TLS port is no answer.
    let plain = format!("http://{}", server.url.trim_start_matches("https://"));
    assert!(reqwest::get(format!("{plain}/healthz")).await.is_err());
}

#[tokio::test]
async fn a_replaced_certificate_is_served_to_new_connections() {
    let ca = Ca::new("server CA");
    let files = Files::new(&ca, 1001);
    let server = start_tls(files.tls()).await;
    let first = send(&client(&ca).build().unwrap(), &server.url)
        .await
        .unwrap();
    assert_eq!(
        served_serial(&first),
        1001u64.to_be_bytes().trim_ascii_start_zero()
    );

    files.install(&ca, 2002);
    // The files are looked at once a second at most: new connections (a fresh client
    // each) until one gets the new certificate.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = send(&client(&ca).build().unwrap(), &server.url)
            .await
            .expect("served during the rotation");
        if served_serial(&resp) == 2002u64.to_be_bytes().trim_ascii_start_zero() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A broken pair keeps the last good certificate.
    std::fs::write(files.cert(), "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = send(&client(&ca).build().unwrap(), &server.url)
        .await
        .expect("still served");
    assert_eq!(
        served_serial(&resp),
        2002u64.to_be_bytes().trim_ascii_start_zero()
    );
}

/// `to_be_bytes` without its leading zero bytes, as DER writes a positive serial (plus a
/// zero byte when the high bit is set, which these small serials never have).
trait TrimZero {
    fn trim_ascii_start_zero(&self) -> Vec<u8>;
}

impl TrimZero for [u8; 8] {
    fn trim_ascii_start_zero(&self) -> Vec<u8> {
        let first = self.iter().position(|b| *b != 0).unwrap_or(7);
        self[first..].to_vec()
    }
}

#[tokio::test]
async fn a_bad_certificate_or_key_is_a_start_up_error_naming_the_file() {
    let ca = Ca::new("server CA");
    let files = Files::new(&ca, 1);
    std::fs::write(files.cert(), "garbage").unwrap();
    let Err(e) = Application::build(config(|c| c.tls = Some(files.tls()))).await else {
        panic!("a bad certificate must not start")
    };
    let msg = format!("{e:#}");
    assert!(msg.contains("tls.cert") && msg.contains("tls.crt"), "{msg}");

    let files = Files::new(&ca, 2);
    let other = KeyPair::generate().unwrap().serialize_pem();
    std::fs::write(files.key(), other).unwrap();
    let Err(e) = Application::build(config(|c| c.tls = Some(files.tls()))).await else {
        panic!("a key of another certificate must not start")
    };
    let msg = format!("{e:#}");
    assert!(msg.contains("tls.key"), "{msg}");

    let missing = TlsConfig {
        key: files.path("nope.key"),
        ..files.tls()
    };
    let Err(e) = Application::build(config(|c| c.tls = Some(missing))).await else {
        panic!("a missing key must not start")
    };
    assert!(format!("{e:#}").contains("nope.key"), "{e:#}");
}

#[tokio::test]
async fn mtls_required_refuses_missing_and_foreign_certificates() {
    let server_ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let stranger = Ca::new("another CA");
    let files = Files::new(&server_ca, 3);
    let server = start_tls(files.mtls(&clients, ClientAuth::Required)).await;

    let none = client(&server_ca).build().unwrap();
    assert!(
        send(&none, &server.url).await.is_err(),
        "no client certificate: handshake refused"
    );
    let foreign = client(&server_ca)
        .identity(stranger.client("mallory"))
        .build()
        .unwrap();
    assert!(
        send(&foreign, &server.url).await.is_err(),
        "a certificate from another CA: refused"
    );
    let good = client(&server_ca)
        .identity(clients.client("alice"))
        .build()
        .unwrap();
    let resp = send(&good, &server.url).await.expect("a good certificate");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn mtls_optional_serves_clients_with_and_without_certificates() {
    let server_ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let stranger = Ca::new("another CA");
    let files = Files::new(&server_ca, 4);
    let tls = files.mtls(&clients, ClientAuth::Optional);
    let server = start(config(|c| {
        c.tls = Some(tls.clone());
        c.auth.allow_anonymous = true;
    }))
    .await;

    let none = client(&server_ca).build().unwrap();
    assert_eq!(send(&none, &server.url).await.unwrap().status(), 200);
    let good = client(&server_ca)
        .identity(clients.client("alice"))
        .build()
        .unwrap();
    assert_eq!(send(&good, &server.url).await.unwrap().status(), 200);
    // A certificate that is offered must still verify.
    let foreign = client(&server_ca)
        .identity(stranger.client("mallory"))
        .build()
        .unwrap();
    assert!(send(&foreign, &server.url).await.is_err());

    // Without allow_anonymous the handshake still succeeds, and the call gets 401.
    let strict = start_tls(tls).await;
    let resp = send(&none, &strict.url).await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("client certificate"),
        "{body}"
    );
    assert_eq!(send(&good, &strict.url).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_certificate_subject_is_the_owner_that_scopes_tasks() {
    let server_ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let files = Files::new(&server_ca, 9);
    let server = start_tls(files.mtls(&clients, ClientAuth::Required)).await;
    let alice = client(&server_ca)
        .identity(clients.client("alice"))
        .build()
        .unwrap();
    let bob = client(&server_ca)
        .identity(clients.client("bob"))
        .build()
        .unwrap();
    let created: Value = send(&alice, &server.url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = created["result"]["task"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |http: reqwest::Client| {
        let (url, task_id) = (server.url.clone(), task_id.clone());
        async move {
            let params = json!({"id": task_id});
            support::app::rpc(&http, &url, Some("1.0"), 9, "GetTask", params, &[])
                .await
                .body
        }
    };
    let mine = get(alice.clone()).await;
    assert_eq!(mine["result"]["id"], task_id.as_str(), "{mine}");
    let theirs = get(bob.clone()).await;
    assert_eq!(
        theirs["error"]["code"], -32001,
        "another certificate sees no such task: {theirs}"
    );
}

#[test]
fn the_subject_dn_is_written_as_rfc_4514_says() {
    let ca = Ca::new("clients CA");
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    // Encoded in this order (rcgen's default DN already holds a CN, first).
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "FR");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example, Inc");
    params.distinguished_name.push(DnType::CommonName, "alice");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
    assert_eq!(
        a2a_server::auth::mtls::rfc4514(parsed.subject()),
        "CN=alice,O=Example\\, Inc,C=FR"
    );
    let certs = a2a_server::transport::tls::PeerCertificates(vec![cert.der().clone()].into());
    let p = a2a_server::auth::mtls::principal(&certs).unwrap();
    assert_eq!(p.scope.owner, "mtls:CN=alice,O=Example\\, Inc,C=FR");
}

#[tokio::test]
async fn the_admin_listener_stays_plain_http_under_tls() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let files = Files::new(&ca, 5);
    let server = start(config(|c| {
        c.tls = Some(files.mtls(&clients, ClientAuth::Required));
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    }))
    .await;
    let admin = server.admin.as_deref().expect("admin listener");
    let resp = reqwest::get(format!("{admin}/readyz")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("strict-transport-security").is_none());
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let metrics = reqwest::get(format!("{admin}/metrics")).await.unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("a2a_rate_limited_total")
    );
    // The public one needs TLS and a client certificate.
    let public_plain = format!("http://{}", server.url.trim_start_matches("https://"));
    assert!(reqwest::get(format!("{public_plain}/")).await.is_err());
}

// Multi-threaded: the CLI runs as a blocking child process while this runtime serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_health_reach_an_https_server_with_cacert_and_a_client_certificate() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let files = Files::new(&ca, 6);
    let ca_file = files.path("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let cert = files.path("client.crt");
    let key = files.path("client.key");
    {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "cli");
        let k = KeyPair::generate().unwrap();
        let c = params.signed_by(&k, &clients.issuer).unwrap();
        std::fs::write(&cert, c.pem()).unwrap();
        std::fs::write(&key, k.serialize_pem()).unwrap();
    }
    let server = start_tls(files.mtls(&clients, ClientAuth::Optional)).await;
    let bin = env!("CARGO_BIN_EXE_a2a");
    let run = |args: Vec<&str>| {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let ca_arg = ca_file.to_str().unwrap();
    let (code, _, err) = run(vec!["health", &server.url, "--cacert", ca_arg]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, _) = run(vec!["health", &server.url]);
    assert_eq!(code, Some(1), "the test CA is not trusted without --cacert");
    let (code, out, err) = run(vec![
        "send",
        &server.url,
        "hello",
        "--cacert",
        ca_arg,
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let result: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(result["task"]["id"].is_string(), "{result}");
    let (code, _, err) = run(vec!["card", &server.url, "--cert", cert.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(err.contains("--key"), "--cert needs --key: {err}");
}

/// The security headers every answer carries.
fn assert_security_headers(what: &str, h: &reqwest::header::HeaderMap, tls: bool) {
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(
        h.contains_key("strict-transport-security"),
        tls,
        "{what}: HSTS exactly under TLS"
    );
}

#[tokio::test]
async fn security_headers_on_every_kind_of_answer() {
    let ca = Ca::new("server CA");
    let files = Files::new(&ca, 8);
    let plain = start(config(|_| {})).await;
    let tls = start_tls(files.tls()).await;
    for (server, http, is_tls) in [
        (&plain, reqwest::Client::new(), false),
        (&tls, client(&ca).build().unwrap(), true),
    ] {
        let rpc = send(&http, &server.url).await.unwrap();
        assert_security_headers("POST /", rpc.headers(), is_tls);
        let card = http
            .get(format!("{}/.well-known/agent-card.json", server.url))
            .send()
            .await
            .unwrap();
        assert_security_headers("card", card.headers(), is_tls);
        let missing = http
            .get(format!("{}/no/such/path", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_security_headers("404", missing.headers(), is_tls);
        let bad = http
            .post(format!("{}/", server.url))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 415);
        assert_security_headers("415", bad.headers(), is_tls);
        let mut body = send_body(2, "stream");
        body["method"] = "SendStreamingMessage".into();
        body["params"]["message"]["messageId"] = "tck-stream-001-h".into();
        let sse = http
            .post(format!("{}/", server.url))
            .header("A2A-Version", "1.0")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(sse.headers()["content-type"], "text/event-stream");
        assert_security_headers("SSE", sse.headers(), is_tls);
        // No CORS configured: no CORS headers, even for a browser's request.
        let cross = http
            .get(format!("{}/.well-known/agent-card.json", server.url))
            .header("Origin", "https://app.example.com")
            .send()
            .await
            .unwrap();
        assert!(cors_headers(cross.headers()).is_empty());
    }
}

fn cors_headers(h: &reqwest::header::HeaderMap) -> Vec<String> {
    h.keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn cors_for_allowed_origins_only_with_preflight() {
    let server = start(config(|c| {
        c.cors = CorsConfig {
            allowed_origins: vec!["https://app.example.com".into()],
        }
    }))
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/", server.url);

    let pre = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type, a2a-version",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "Authorization",
        "Content-Type",
        "A2A-Version",
        "A2A-Extensions",
        "Idempotency-Key",
        "Last-Event-ID",
        "X-API-Key",
    ] {
        assert!(allowed.contains(name), "{name} in {allowed}");
    }
    assert_eq!(h["vary"], "Origin");

    let post = http
        .post(&url)
        .header("Origin", "https://app.example.com")
        .header("A2A-Version", "1.0")
        .json(&send_body(3, "cors"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    let h = post.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(
        h["access-control-expose-headers"],
        "Retry-After, WWW-Authenticate"
    );
    assert_eq!(h["vary"], "Origin");
    let card = http
        .get(format!("{}/.well-known/agent-card.json", server.url))
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        card.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    // A refused origin: no CORS header at all, and its preflight is no preflight.
    let refused = http
        .post(&url)
        .header("Origin", "https://evil.example.com")
        .header("A2A-Version", "1.0")
        .json(&send_body(4, "cors"))
        .send()
        .await
        .unwrap();
    assert!(cors_headers(refused.headers()).is_empty());
    let refused_pre = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://evil.example.com")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_ne!(refused_pre.status(), 204);
    assert!(cors_headers(refused_pre.headers()).is_empty());
    // A server-to-server call (no Origin) gets none either.
    let direct = send(&http, &server.url).await.unwrap();
    assert!(cors_headers(direct.headers()).is_empty());
}

#[test]
fn tls_and_cors_settings_are_checked_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a2a.toml");
    std::fs::write(
        &file,
        "[tls]\ncert = \"/etc/a2a/tls.crt\"\nkey = \"/etc/a2a/tls.key\"\nmin_version = \"1.1\"\n",
    )
    .unwrap();
    let e = Config::load(Some(file.clone()), Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("tls.min_version"), "{e}");
    std::fs::write(
        &file,
        "[cors]\nallowed_origins = [\"https://app.example.com/x\"]\n",
    )
    .unwrap();
    let e = Config::load(Some(file.clone()), Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("cors.allowed_origins"), "{e}");
    std::fs::write(
        &file,
        "[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nclient_ca = \"/ca.pem\"\nclient_auth = \"optional\"\n[cors]\nallowed_origins = [\"https://app.example.com\"]\n",
    )
    .unwrap();
    let c = Config::load(Some(file), Overrides::default()).unwrap();
    let tls = c.tls.clone().unwrap();
    assert_eq!(
        (tls.min_version.as_str(), tls.client_auth),
        ("1.3", ClientAuth::Optional)
    );
    assert_eq!(c.scheme(), "https");
}
