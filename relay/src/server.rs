//! The relay's server: a listener, one task per call, a cap on concurrent calls, graceful drain.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use salon_wire::twilio_signature;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::call::{self, Shared};
use crate::config::Config;
use crate::functions::Functions;
use crate::metrics::Metrics;

#[derive(Clone)]
struct App {
    shared: Arc<Shared>,
    /// One permit per call in progress; none left means the stream is refused.
    slots: Arc<Semaphore>,
    /// Every call task, so shutdown can wait for them.
    calls: TaskTracker,
    /// Fires when the drain limit is reached: calls say goodbye and end.
    stop_calls: CancellationToken,
    /// Set once shutdown begins: new streams are refused.
    draining: Arc<AtomicBool>,
}

/// Serves until `shutdown` resolves, then stops accepting streams, lets calls in progress
/// finish for up to `config.drain`, asks the rest to say goodbye, and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let functions = Functions::new(
        &config.functions_url,
        config.relay_secret.clone(),
        config.tool_timeout,
    );
    let drain = config.drain;
    let app = App {
        slots: Arc::new(Semaphore::new(config.max_calls)),
        shared: Arc::new(Shared {
            config: Arc::new(config),
            functions,
            metrics,
        }),
        calls: TaskTracker::new(),
        stop_calls: CancellationToken::new(),
        draining: Arc::new(AtomicBool::new(false)),
    };
    let router = Router::new()
        .route("/twilio/stream", get(stream))
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .with_state(app.clone());
    // Nagle would hold back small audio frames by tens of milliseconds.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let stopped = CancellationToken::new();
    let on_stop = stopped.clone();
    let draining = app.draining.clone();
    let signal = async move {
        shutdown.await;
        draining.store(true, Ordering::SeqCst);
        on_stop.cancel();
        tracing::info!("shutting down: no new streams; letting calls finish");
    };
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(signal)
            .await;
    });
    stopped.cancelled().await;
    app.calls.close();
    if tokio::time::timeout(drain, app.calls.wait()).await.is_err() {
        tracing::warn!("drain limit reached: ending the calls still in progress");
        app.stop_calls.cancel();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), app.calls.wait()).await;
    }
    server.abort();
}

async fn health(State(app): State<App>) -> Response {
    if app.draining.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ok".into_response()
    }
}

async fn metrics_text(State(app): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.shared.metrics.render(),
    )
        .into_response()
}

/// Accepts Twilio's media stream: checks the upgrade's signature where Twilio sent one, and
/// that there is room; the stream token is checked once `start` arrives.
async fn stream(State(app): State<App>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let refuse = |status: StatusCode, why: &str| {
        app.shared
            .metrics
            .streams_refused
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(why, "refused a stream upgrade");
        status.into_response()
    };
    if app.draining.load(Ordering::SeqCst) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    if let Some(sig) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    {
        let config = &app.shared.config;
        let url = format!("{}/twilio/stream", config.relay_public_url);
        let valid = config
            .twilio_auth_token
            .as_ref()
            .is_some_and(|t| twilio_signature::is_valid(t.expose(), &url, &[], sig));
        if !valid {
            return refuse(StatusCode::FORBIDDEN, "bad Twilio signature on the upgrade");
        }
    }
    let Ok(permit) = app.slots.clone().try_acquire_owned() else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "at the call limit");
    };
    let (shared, tracker, stop) = (
        app.shared.clone(),
        app.calls.clone(),
        app.stop_calls.clone(),
    );
    ws.read_buffer_size(16 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                call::serve(socket, shared, stop).await;
                drop(permit);
            })
        })
}
