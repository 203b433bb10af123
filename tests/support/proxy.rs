//! A TCP proxy between a server under test and its database, which a test cuts to make
//! the database go away.

/// A TCP proxy to `upstream` that the test can cut: every connection through it is closed
/// and new ones are refused, as when the database host goes away.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut db) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut db).await;
                    }
                });
                held.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Proxy { addr, tasks }
    }

    pub fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

impl Proxy {
    /// A proxy to the host of `url` (`postgres://user@HOST:PORT/db`), and `url` through it.
    pub async fn to_database(url: &str) -> (Proxy, String) {
        let (head, rest) = url.split_once('@').expect("user@host in the URL");
        let (upstream, db) = rest.split_once('/').expect("/database in the URL");
        let proxy = Proxy::start(upstream.to_string()).await;
        let through = format!("{head}@{}/{db}", proxy.addr);
        (proxy, through)
    }
}
