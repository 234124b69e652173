//! A TCP proxy in front of the shared Redis that a test can break and mend, so "Redis goes away"
//! is tested without touching the shared server.

use std::net::SocketAddr;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Forwards bytes both ways.
    Forward,
    /// Drops every connection, open or new: the client sees the peer close (like a Redis crash).
    Close,
    /// Keeps connections open but never answers (like a hung Redis or a dropped network path).
    Blackhole,
}

#[derive(Debug)]
pub(crate) struct RedisProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept_loop: JoinHandle<()>,
}

impl RedisProxy {
    /// Starts forwarding from a fresh local port to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> RedisProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (mode, watcher) = watch::channel(Mode::Forward);
        let accept_loop = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream, watcher.clone()));
            }
        });
        RedisProxy {
            addr,
            mode,
            accept_loop,
        }
    }

    /// A Redis URL that goes through the proxy.
    pub(crate) fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for RedisProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.set_mode(Mode::Close);
    }
}

/// Serves one client connection according to the mode, until the mode leaves `Forward`.
async fn serve(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let current = *mode.borrow_and_update();
    match current {
        Mode::Close => return,
        Mode::Blackhole => return swallow(client, mode).await,
        Mode::Forward => {}
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let stopped_by = tokio::select! {
        // Mode changes first: once the test changes it, no further byte may be forwarded.
        biased;
        changed = mode.wait_for(|mode| *mode != Mode::Forward) => changed.map(|mode| *mode).ok(),
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => None,
    };
    drop(server);
    if stopped_by == Some(Mode::Blackhole) {
        swallow(client, mode).await;
    }
}

/// Reads and discards what the client sends, answering nothing, until the mode changes; then
/// closes (the byte stream is out of step with Redis by then).
async fn swallow(mut client: TcpStream, mut mode: watch::Receiver<Mode>) {
    let mut sink = [0_u8; 4096];
    loop {
        tokio::select! {
            read = client.read(&mut sink) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
            _ = mode.wait_for(|mode| *mode != Mode::Blackhole) => return,
        }
    }
}
