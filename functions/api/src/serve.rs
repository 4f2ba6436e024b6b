//! Serves the router over HTTP/1.1 locally with the limits `axum::serve` lacks: a header-read
//! timeout (which also bounds a keep-alive connection's idle time) and a small header buffer,
//! so a socket that sends half a request line is closed instead of held forever.
//!
//! Lambda needs none of this (API Gateway terminates the connections); the local stack faces a
//! public tunnel. The relay has its own (`relay/src/http.rs`), with WebSocket upgrades; the two
//! cannot share a crate, since the relay depends on nothing of the functions but the wire.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long a client may take to send a request's head, or stay idle between requests.
pub const HEADER_READ: Duration = Duration::from_secs(10);
/// The most a request's head may take in memory (hyper's default is about 400 KiB).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            // Stop accepting; connections in hand end with the process.
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
