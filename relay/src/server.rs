//! The relay's server: the public listener (Twilio's streams, `/health`), the private metrics
//! listener, one task per call, caps on pending streams and on calls, and a graceful drain.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use salon_wire::twilio_signature;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::call::{self, Admission, READ_BUFFER_BYTES, Shared, WRITE_BUFFER_BYTES};
use crate::config::{Config, UpgradeSignature};
use crate::functions::Functions;
use crate::metrics::Metrics;
use crate::pending::Pending;
use crate::throttle::{LOG_PERIOD, LogThrottle};
use crate::twilio::{MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};

/// How long calls still going at the drain limit get to say goodbye: the process is gone
/// within `DRAIN_SECS` plus this after SIGTERM.
pub const GOODBYE_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Clone)]
struct App {
    shared: Arc<Shared>,
    /// Streams upgraded and not yet admitted; capped, oldest pushed out first.
    pending: Arc<Pending>,
    /// One permit per admitted call; none left means an admitted stream is refused.
    slots: Arc<Semaphore>,
    /// Every stream's task, so shutdown can wait for them.
    calls: TaskTracker,
    /// Fires when the drain limit is reached: calls say goodbye and end.
    stop_calls: CancellationToken,
    /// Set once shutdown begins: `/health` answers 503 and new streams are refused.
    draining: Arc<AtomicBool>,
}

/// Serves Twilio's streams and `/health` on `listener` and `/metrics` on `metrics_listener`
/// until `shutdown` resolves; then keeps listening while draining (`/health` answers 503
/// "draining", new streams get 503), lets calls in progress finish for up to `config.drain`,
/// asks the rest to say goodbye, stops both listeners and returns.
pub async fn run(
    listener: TcpListener,
    metrics_listener: TcpListener,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    if matches!(config.upgrade_signature, UpgradeSignature::Off) {
        tracing::warn!(
            "TWILIO SIGNATURE CHECK IS OFF: anyone can open a stream. Use this for local runs only."
        );
    }
    let functions = Functions::new(
        &config.functions_url,
        config.relay_secret.clone(),
        config.tool_timeout,
        config.clock.clone(),
    );
    let (drain, header_read) = (config.drain, config.header_read_limit);
    let app = App {
        pending: Pending::new(config.max_pending_streams, metrics.clone()),
        slots: Arc::new(Semaphore::new(config.max_calls)),
        shared: Arc::new(Shared {
            config: Arc::new(config),
            functions,
            tls: crate::openai::Tls::web_roots(),
            metrics: metrics.clone(),
            door_log: LogThrottle::new(LOG_PERIOD),
        }),
        calls: TaskTracker::new(),
        stop_calls: CancellationToken::new(),
        draining: Arc::new(AtomicBool::new(false)),
    };
    let public = Router::new()
        .route("/twilio/stream", get(stream))
        .route("/health", get(health))
        .with_state(app.clone());
    let private = Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(metrics);
    let stop_serving = CancellationToken::new();
    let servers = TaskTracker::new();
    servers.spawn(crate::http::serve(
        listener,
        public,
        header_read,
        stop_serving.clone(),
    ));
    servers.spawn(crate::http::serve(
        metrics_listener,
        private,
        header_read,
        stop_serving.clone(),
    ));
    servers.close();

    shutdown.await;
    // Still listening: the platform sees "draining" on /health and stops routing to us.
    app.draining.store(true, Ordering::SeqCst);
    tracing::info!("shutting down: no new streams; letting calls finish");
    app.calls.close();
    if tokio::time::timeout(drain, app.calls.wait()).await.is_err() {
        tracing::warn!("drain limit reached: ending the calls still in progress");
        app.stop_calls.cancel();
        let _ = tokio::time::timeout(GOODBYE_GRACE, app.calls.wait()).await;
    }
    stop_serving.cancel();
    servers.wait().await;
}

async fn health(State(app): State<App>) -> Response {
    if app.draining.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ok".into_response()
    }
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
        .into_response()
}

/// Returns whether the upgrade carries a valid `X-Twilio-Signature` (or the check is off).
fn signed(config: &Config, headers: &HeaderMap) -> bool {
    let UpgradeSignature::Required(token) = &config.upgrade_signature else {
        return true;
    };
    let Some(sig) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let url = format!("{}/twilio/stream", config.relay_public_url);
    twilio_signature::is_valid(token.expose(), &url, &[], sig)
}

/// Accepts Twilio's media stream: refuses it while draining or without a valid signature, and
/// holds it as pending until its `start` is admitted (a call slot is taken only then).
async fn stream(State(app): State<App>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let refuse = |status: StatusCode, why: &'static str| {
        app.shared
            .metrics
            .streams_refused
            .fetch_add(1, Ordering::Relaxed);
        call::log_refused(&app.shared, why);
        status.into_response()
    };
    if app.draining.load(Ordering::SeqCst) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    if !signed(&app.shared.config, &headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            "no valid Twilio signature on the upgrade",
        );
    }
    let (slot, pushed_out) = app.pending.enter();
    if pushed_out {
        app.shared
            .metrics
            .streams_refused
            .fetch_add(1, Ordering::Relaxed);
        call::log_refused(
            &app.shared,
            "too many streams without a start: dropped the oldest",
        );
    }
    let admission = Admission {
        pending: slot,
        slots: app.slots.clone(),
    };
    let (shared, tracker, stop) = (
        app.shared.clone(),
        app.calls.clone(),
        app.stop_calls.clone(),
    );
    // Bounded to what Twilio sends, so no socket can make the relay buffer megabytes. Writes
    // wait in a small buffer until the call flushes its batch (a frame and its mark, or a few
    // frames), so a batch goes out in one write instead of one per message.
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            tracker.track_future(call::serve(socket, shared, admission, stop))
        })
}
