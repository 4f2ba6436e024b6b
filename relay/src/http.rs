//! Serves a `Router` over HTTP/1.1 with WebSocket upgrades and the limits `axum::serve` lacks:
//! a header-read timeout (which also bounds a keep-alive connection's idle time) and a small
//! header buffer, so a socket that sends half a request line is closed instead of held forever.

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The most a request's head may take in memory. Twilio's upgrade request is well under 2 KiB;
/// hyper's default (about 400 KiB) would let every slow socket hold that much.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long connections may finish the request in hand once the server stops.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `stop` fires, then lets requests in hand finish (up to
/// a few seconds) and returns. Upgraded WebSockets are not connections here any more: they live
/// on in their own tasks.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    header_read: Duration,
    stop: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let tcp = tokio::select! {
            // Stop accepting: the server is done (after the drain, not at its start).
            () = stop.cancelled() => break,
            // A new connection, or an accept error to ride out.
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
        // Nagle would hold back small audio frames by tens of milliseconds.
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let stop = stop.clone();
        connections.spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                // The client is done, timed out, or upgraded (the WebSocket lives on elsewhere).
                _ = conn.as_mut() => {}
                // The server stops: finish the request in hand, then close.
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(STOP_GRACE, conn).await;
                }
            }
        });
    }
    connections.close();
    let _ = tokio::time::timeout(STOP_GRACE, connections.wait()).await;
}
