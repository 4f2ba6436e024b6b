//! The Lambda Runtime API (version 2018-06-01) as a runtime client sees it: one event per long
//! poll of `/next`, the answer or the error posted back under the event's request id.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use salon_wire::clock::{Clock, SystemClock};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{FunctionError, InvocationError};

/// Lambda's limit on a synchronous invocation's response (its "6 MB" is 6,291,556 bytes).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// What the emulator reads of a response before calling it unreadable: the limit's check
/// needs the length, and a runaway runtime must not fill the test's memory.
const READ_LIMIT: usize = 4 * MAX_RESPONSE_BYTES;

/// An event waiting for the runtime's next poll.
struct Queued {
    request_id: String,
    event: Bytes,
    deadline_ms: u128,
    answer: oneshot::Sender<Result<Bytes, InvocationError>>,
}

/// What the handlers share.
struct Shared {
    /// Events in the order they were invoked; a poll takes one (a lock, so two polls never
    /// take the same event).
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    /// Events handed out and not yet answered, by request id.
    in_flight: Mutex<HashMap<String, oneshot::Sender<Result<Bytes, InvocationError>>>>,
    /// True from the runtime's first poll on: that poll ends Lambda's init phase.
    ready: watch::Sender<bool>,
    /// What the runtime posted to `/runtime/init/error`, if it did.
    init_error: watch::Sender<Option<FunctionError>>,
    function_arn: String,
}

/// The Runtime API of one function, served on a loopback port until dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<Queued>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves the API on a free loopback port for the function `function_arn` (the value of
    /// the `Lambda-Runtime-Invoked-Function-Arn` header).
    pub async fn start(function_arn: impl Into<String>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (events, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::new(HashMap::new()),
            ready: watch::Sender::new(false),
            init_error: watch::Sender::new(None),
            function_arn: function_arn.into(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            events,
            shared,
            server,
        })
    }

    /// Returns the value of `AWS_LAMBDA_RUNTIME_API`: `host:port`, without a scheme, as Lambda
    /// sets it.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Returns what the runtime posted to `/runtime/init/error`, if it did.
    pub fn init_error(&self) -> Option<FunctionError> {
        self.shared.init_error.borrow().clone()
    }

    /// Waits for the runtime's first poll, the end of its init phase.
    pub async fn ready(&self, within: Duration) -> Result<(), InvocationError> {
        let mut ready = self.shared.ready.subscribe();
        let mut init = self.shared.init_error.subscribe();
        tokio::select! {
            // An init error wins over a poll: the runtime said it cannot serve.
            biased;
            e = init.wait_for(Option::is_some) => Err(init_failure(e.ok().as_deref())),
            r = ready.wait_for(|ready| *ready) => r.map(drop).map_err(|_| InvocationError::Lost),
            () = tokio::time::sleep(within) => Err(InvocationError::InitTimeout(within)),
        }
    }

    /// Invokes the function with `event` and waits up to `timeout` (also the deadline the
    /// runtime is told) for its answer, which must be JSON.
    pub async fn invoke(
        &self,
        event: &serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value, InvocationError> {
        if let Some(e) = self.init_error() {
            return Err(InvocationError::Init(e));
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let (answer, answered) = oneshot::channel();
        let queued = Queued {
            request_id: request_id.clone(),
            event: Bytes::from(event.to_string()),
            deadline_ms: epoch_ms() + timeout.as_millis(),
            answer,
        };
        if self.events.send(queued).is_err() {
            return Err(InvocationError::Lost);
        }
        let mut init = self.shared.init_error.subscribe();
        let body = tokio::select! {
            a = answered => a.map_err(|_| InvocationError::Lost)??,
            e = init.wait_for(Option::is_some) => return Err(init_failure(e.ok().as_deref())),
            () = tokio::time::sleep(timeout) => {
                // A late answer is refused, as Lambda refuses one for a timed-out invocation.
                self.in_flight().remove(&request_id);
                return Err(InvocationError::Timeout(timeout));
            }
        };
        serde_json::from_slice(&body).map_err(|source| InvocationError::NotJson {
            source,
            body: String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned(),
        })
    }

    fn in_flight(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Result<Bytes, InvocationError>>>>
    {
        lock(&self.shared.in_flight)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn init_failure(e: Option<&Option<FunctionError>>) -> InvocationError {
    e.and_then(Option::clone)
        .map_or(InvocationError::Lost, InvocationError::Init)
}

/// Locks a mutex whose holders never panic while holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Lambda's time, by the system clock (never a test's set clock): the function under test
/// compares `Lambda-Runtime-Deadline-Ms` with its process's real time, so the deadline must be
/// real too.
fn epoch_ms() -> u128 {
    u128::try_from(SystemClock.now().as_millisecond()).unwrap_or_default()
}

/// `GET /runtime/invocation/next`: waits for an event and hands it out with its context.
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.ready.send_replace(true);
    let mut queue = shared.queue.lock().await;
    let queued = loop {
        let Some(q) = queue.recv().await else {
            return StatusCode::GONE.into_response();
        };
        // Its caller gave up while it waited: nobody would read the answer.
        if !q.answer.is_closed() {
            break q;
        }
    };
    drop(queue);
    lock(&shared.in_flight).insert(queued.request_id.clone(), queued.answer);
    let headers = [
        ("lambda-runtime-aws-request-id", queued.request_id),
        ("lambda-runtime-deadline-ms", queued.deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            shared.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", trace_id()),
        (header::CONTENT_TYPE.as_str(), "application/json".into()),
    ];
    (StatusCode::OK, headers, queued.event).into_response()
}

/// `POST /runtime/invocation/{id}/response`: the function's answer.
async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(answer) = lock(&shared.in_flight).remove(&id) else {
        return invalid_request_id();
    };
    let streaming = headers
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"streaming"));
    if streaming {
        let _ = answer.send(Err(InvocationError::Streaming));
        return accepted();
    }
    match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(b) if b.len() <= MAX_RESPONSE_BYTES => {
            let _ = answer.send(Ok(b));
            accepted()
        }
        Ok(b) => {
            let _ = answer.send(Err(InvocationError::ResponseTooLarge { bytes: b.len() }));
            refused(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge")
        }
        Err(e) => {
            let _ = answer.send(Err(InvocationError::ResponseUnreadable(e.to_string())));
            refused(StatusCode::BAD_REQUEST, "InvalidResponse")
        }
    }
}

/// `POST /runtime/invocation/{id}/error`: the handler failed.
async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(answer) = lock(&shared.in_flight).remove(&id) else {
        return invalid_request_id();
    };
    let _ = answer.send(Err(InvocationError::Function(reported(&headers, &body))));
    accepted()
}

/// `POST /runtime/init/error`: the runtime cannot serve; every invocation fails with this.
async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared
        .init_error
        .send_replace(Some(reported(&headers, &body)));
    accepted()
}

/// Reads an error report: a JSON `{errorType, errorMessage}` body, else the
/// `Lambda-Runtime-Function-Error-Type` header and the body as text.
fn reported(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    FunctionError {
        error_type: field("errorType")
            .or_else(|| {
                headers
                    .get("lambda-runtime-function-error-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "Unknown".into()),
        error_message: field("errorMessage")
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

fn invalid_request_id() -> Response {
    refused(StatusCode::BAD_REQUEST, "InvalidRequestID")
}

fn refused(status: StatusCode, error_type: &str) -> Response {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": error_type});
    (status, body.to_string()).into_response()
}

/// An X-Ray trace header as Lambda passes it: `Root=1-{epoch hex}-{96 random bits}`.
fn trace_id() -> String {
    let r = uuid::Uuid::new_v4().simple().to_string();
    let secs = epoch_ms() / 1000;
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &r[..24],
        &r[16..32]
    )
}

#[cfg(test)]
mod tests;
