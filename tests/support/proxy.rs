//! A TCP proxy between a server under test and its database, which a test cuts to make
//! the database go away.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

/// A TCP proxy to `upstream` that the test can cut: every connection through it is closed
/// and new ones are refused, as when the database host goes away.
pub struct Proxy {
    pub addr: SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// A proxy to the host of `url` (`postgres://user@HOST:PORT/db`), and `url` through it.
    pub async fn to_database(url: &str) -> (Proxy, String) {
        let (head, rest) = url.split_once('@').expect("user@host in the URL");
        let (upstream, db) = rest.split_once('/').expect("/database in the URL");
        let proxy = Proxy::start(upstream.to_string()).await;
        let through = format!("{head}@{}/{db}", proxy.addr);
        (proxy, through)
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        let held = self.tasks.clone();
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
        self.tasks.lock().unwrap().push(accept);
    }

    pub fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Accepts connections again on the same address, as when the database host is back.
    pub async fn restore(&self) {
        // The aborted listener closes once its task has dropped it.
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(self.addr).await {
                return self.serve(listener);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("cannot listen on {} again", self.addr);
    }
}
