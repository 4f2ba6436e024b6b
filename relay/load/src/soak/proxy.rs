//! The functions' relay API as the soak's relay reaches it: the real router over the real
//! store, served through a proxy that injects each call's planned fault into its booking
//! request (a delay, a 500, a lost answer, a restart) and tags each session's instructions
//! with the call, so the Realtime double can tell the calls apart.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::plan::Fault;
use super::tap::{lock, tag};

/// How long the slow fault holds the booking request (below the relay's 2 s tool timeout).
pub(crate) const SLOW: Duration = Duration::from_secs(1);
/// How long the functions stay down when they restart.
pub(crate) const DOWN_FOR: Duration = Duration::from_millis(1_000);
/// Bodies are small JSON; anything bigger is a harness bug.
const BODY_LIMIT: usize = 1 << 20;

/// A request the proxy did not answer: the relay sees its connection close.
#[derive(Debug, thiserror::Error)]
#[error("the connection was cut on purpose")]
pub(crate) struct Cut;

/// What the proxy did, for the report.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Requests that reached the functions.
    pub forwarded: AtomicUsize,
    /// Requests cut without an answer (reset, or during a restart), any call's.
    pub cut: AtomicUsize,
    /// Requests answered 500.
    pub failed: AtomicUsize,
    /// Calls with a request cut, by call SID.
    pub cut_calls: Mutex<HashSet<String>>,
    /// Calls whose planned fault met their booking request, by call SID (a call that ended
    /// before booking, on a draining relay say, never met it).
    pub fault_met: Mutex<HashSet<String>>,
}

impl Counts {
    fn cut(&self, call_sid: &str) -> Cut {
        self.cut.fetch_add(1, Ordering::Relaxed);
        lock(&self.cut_calls).insert(call_sid.to_owned());
        Cut
    }
}

/// The proxy's state.
#[derive(Debug)]
struct Proxy {
    functions: Router,
    /// Each call's planned fault, taken by its first booking request.
    faults: Mutex<HashMap<String, Fault>>,
    /// Cancelled when the functions "restart": every connection open then is cut.
    generation: Mutex<CancellationToken>,
    /// While set, every request is cut.
    down: AtomicBool,
    counts: Arc<Counts>,
}

/// Serves `functions` on `listener` behind the fault proxy; returns its counts.
pub(crate) fn serve(
    listener: TcpListener,
    functions: Router,
    faults: HashMap<String, Fault>,
    stop: CancellationToken,
) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let proxy = Arc::new(Proxy {
        functions,
        faults: Mutex::new(faults),
        generation: Mutex::new(CancellationToken::new()),
        down: AtomicBool::new(false),
        counts: counts.clone(),
    });
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(_) => continue,
                },
            };
            let _ = stream.set_nodelay(true);
            let generation = lock(&proxy.generation).clone();
            let proxy = proxy.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let proxy = proxy.clone();
                    async move { proxy.handle(req).await }
                });
                // One request per connection: the relay's client opens a new one each time, so
                // the relay's open sockets at rest do not depend on a pool's whims.
                let connection = hyper::server::conn::http1::Builder::new()
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    // A restart: the connection goes, answered or not.
                    () = generation.cancelled() => {}
                }
            });
        }
    });
    counts
}

impl Proxy {
    async fn handle(
        self: Arc<Self>,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Body>, Cut> {
        let path = req.uri().path().to_owned();
        let call_sid = path
            .strip_prefix("/api/relay/calls/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let booking = path.ends_with("/tools/create_voice_appointment");
        if self.down.load(Ordering::SeqCst) {
            // A call planned to meet a restart has met one: its retry must not restart the
            // functions again as they come back, or one fault would chain into a long outage.
            if booking {
                let mut faults = lock(&self.faults);
                if faults.get(&call_sid) == Some(&Fault::FunctionsDown) {
                    faults.remove(&call_sid);
                    lock(&self.counts.fault_met).insert(call_sid.clone());
                }
            }
            return Err(self.counts.cut(&call_sid));
        }
        let fault = if booking {
            let mut faults = lock(&self.faults);
            match faults.remove(&call_sid) {
                // The first answer lost; the retry's too, as the next request's fault.
                Some(Fault::FunctionsResetTwice) => {
                    faults.insert(call_sid.clone(), Fault::FunctionsReset);
                    Some(Fault::FunctionsReset)
                }
                other => other,
            }
        } else {
            None
        };
        if fault.is_some() {
            lock(&self.counts.fault_met).insert(call_sid.clone());
        }
        match fault {
            Some(Fault::FunctionsSlow) => tokio::time::sleep(SLOW).await,
            Some(Fault::FunctionsError) => {
                self.counts.failed.fetch_add(1, Ordering::Relaxed);
                return Ok(Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(Body::from("{\"error\":\"injected\"}"))
                    .expect("a valid response"));
            }
            Some(Fault::FunctionsDown) => {
                self.restart();
                return Err(self.counts.cut(&call_sid));
            }
            _ => {}
        }
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(Body::new(body), BODY_LIMIT)
            .await
            .map_err(|_| Cut)?;
        let forwarded = Request::from_parts(parts, Body::from(body));
        self.counts.forwarded.fetch_add(1, Ordering::Relaxed);
        let answer = self
            .functions
            .clone()
            .oneshot(forwarded)
            .await
            .unwrap_or_else(|never| match never {});
        if fault == Some(Fault::FunctionsReset) {
            // Served and booked: only the answer is lost.
            return Err(self.counts.cut(&call_sid));
        }
        if !path.ends_with("/session") || !answer.status().is_success() {
            return Ok(answer);
        }
        let (mut parts, body) = answer.into_parts();
        // The tag lengthens the body: hyper sets the new length.
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        let body = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| Cut)?;
        Ok(Response::from_parts(
            parts,
            Body::from(tagged(&body, &call_sid)),
        ))
    }

    /// Cuts every open connection and every new request for [`DOWN_FOR`], as a restarting
    /// server does.
    fn restart(self: &Arc<Self>) {
        self.down.store(true, Ordering::SeqCst);
        let old = std::mem::replace(&mut *lock(&self.generation), CancellationToken::new());
        let proxy = self.clone();
        tokio::spawn(async move {
            // Let the request that triggered it fail first, like the others in flight.
            tokio::task::yield_now().await;
            old.cancel();
            tokio::time::sleep(DOWN_FOR).await;
            proxy.down.store(false, Ordering::SeqCst);
        });
    }
}

/// The session config with the call's tag appended to its instructions.
fn tagged(body: &Bytes, call_sid: &str) -> Bytes {
    let Ok(mut config) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.clone();
    };
    if let Some(instructions) = config["instructions"].as_str() {
        config["instructions"] = format!("{instructions}{}", tag(call_sid)).into();
    }
    Bytes::from(serde_json::to_vec(&config).expect("JSON serialises"))
}
