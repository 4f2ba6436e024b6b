//! The relay's API: session config, tools and the call summary, all signed with the relay secret.

use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use salon_domain::call::ToolCallRecord;
use salon_domain::{CallEvent, CallSid, caller_id};
use salon_store::ClaimError;
use salon_wire::{CallSummary, SessionConfig, SessionRequest, ToolReply, ToolRequest, auth};
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::Instrument;

use crate::app::AppState;
use crate::{prompt, tools};

/// The relay API's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/relay/calls/{call_sid}/session", post(session))
        .route("/api/relay/calls/{call_sid}/tools/{name}", post(tool))
        .route("/api/relay/calls/{call_sid}/summary", post(summary))
        // A handler that panics answers 500, which the relay turns into a spoken apology.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A JSON body whose relay signature checked out.
pub struct Signed<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Signed<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let settings = state
            .relay_api
            .clone()
            .ok_or_else(|| StatusCode::NOT_FOUND.into_response())?;
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let (ts, sig) = {
            let header = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            (
                header(auth::HEADER_TIMESTAMP),
                header(auth::HEADER_SIGNATURE),
            )
        };
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let now = state.clock.now().as_second();
        if let Err(e) = auth::verify(
            settings.relay_secret.expose().as_bytes(),
            ts.as_deref(),
            sig.as_deref(),
            &auth::Request {
                method: &method,
                path: &path,
                body: &body,
            },
            now,
        ) {
            tracing::warn!(error = %e, "refused an unauthenticated relay request");
            return Err(problem(StatusCode::UNAUTHORIZED, "unauthenticated"));
        }
        // Says where the body went wrong, never what it held (it carries names and numbers).
        serde_json::from_slice(&body).map(Signed).map_err(|e| {
            problem(
                StatusCode::BAD_REQUEST,
                &format!("malformed body at line {}, column {}", e.line(), e.column()),
            )
        })
    }
}

/// A path whose call SID is malformed.
struct BadCallSid;

impl IntoResponse for BadCallSid {
    fn into_response(self) -> Response {
        problem(StatusCode::BAD_REQUEST, "malformed call SID")
    }
}

fn call_sid(raw: &str) -> Result<CallSid, BadCallSid> {
    CallSid::parse(raw).map_err(|_| BadCallSid)
}

fn store_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the store failed");
    problem(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
}

/// Returns the session config for a call, recording its start and claiming it for the
/// relay's stream: a second stream of the same call gets 409.
async fn session(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Signed(req): Signed<SessionRequest>,
) -> Response {
    let call_sid = match call_sid(&raw) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Ok(business_id) = salon_domain::BusinessId::parse(&req.business) else {
        return problem(StatusCode::NOT_FOUND, "unknown business");
    };
    let business = match state.store.business(&business_id).await {
        Ok(Some(b)) => b,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown business"),
        Err(e) => return store_failed(e),
    };
    // The relay passes on what the stream token signed; a withheld caller ID is none.
    let caller = caller_id(&req.caller);
    let now = state.clock.now();
    let started = CallEvent::Started {
        business: business.id.clone(),
        from: caller.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        to: req.dialled.clone(),
        at: now,
    };
    match state
        .store
        .claim_call(&call_sid, &started, &req.stream_sid)
        .await
    {
        Ok(_) => {}
        Err(ClaimError::AlreadyStreaming(_)) => {
            tracing::warn!(call_sid = %call_sid, "refused a second stream for a call");
            return problem(StatusCode::CONFLICT, "another stream serves this call");
        }
        Err(e) => return store_failed(e),
    }
    let services = match state.store.services(&business.id).await {
        Ok(s) => s,
        Err(e) => return store_failed(e),
    };
    let client = match &caller {
        Some(p) => match state.store.client(&business.id, p).await {
            Ok(c) => c,
            Err(e) => return store_failed(e),
        },
        None => None,
    };
    let settings = state
        .relay_api
        .as_ref()
        .expect("the relay API is mounted only with its settings");
    Json(SessionConfig {
        instructions: prompt::instructions(&business, &services, client.as_ref(), now),
        greeting: prompt::greeting(&business, client.as_ref()),
        transcription_model: settings.transcription_model.clone(),
        language: "ro".into(),
        tools: tools::definitions(),
    })
    .into_response()
}

/// Runs a tool for the call and records it on the call record.
async fn tool(
    State(state): State<AppState>,
    Path((raw, name)): Path<(String, String)>,
    Signed(req): Signed<ToolRequest>,
) -> Response {
    let call_sid = match call_sid(&raw) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    // The call id keys the tool's record and its idempotency: bounded, plain characters.
    if !salon_wire::valid_call_id(&req.call_id) {
        return problem(StatusCode::BAD_REQUEST, "invalid call_id");
    }
    // Only a known tool's name is logged or recorded: the rest is whatever the model wrote.
    let name = salon_wire::tools::known(&name);
    let span = tracing::info_span!("tool", call_sid = %call_sid, tool = name);
    run_tool(&state, call_sid, name, &req)
        .instrument(span)
        .await
}

/// Runs a tool inside its span, then records it on the call.
async fn run_tool(state: &AppState, call_sid: CallSid, name: &str, req: &ToolRequest) -> Response {
    let started = Instant::now();
    let now = state.clock.now();
    let unavailable = || {
        Json(ToolReply::error(
            salon_wire::ToolErrorCode::StoreUnavailable,
            "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.",
        ))
        .into_response()
    };
    // Who is calling which salon: what the stream token signed, as the relay passes it on
    // (a relay older than that field leaves it out: then the session's record says).
    let (business_id, caller) = if req.business.is_empty() {
        let record = match state.store.call(&call_sid).await {
            Ok(Some(r)) => r,
            Ok(None) => return problem(StatusCode::NOT_FOUND, "no session for this call"),
            Err(e) => {
                tracing::error!(error = %e, "could not read the call record");
                return unavailable();
            }
        };
        let Some(business) = record.business.clone() else {
            return problem(StatusCode::NOT_FOUND, "no session for this call");
        };
        // Only a caller ID is a caller: a withheld one is no number, whatever it parses as.
        (business, record.from.as_deref().and_then(caller_id))
    } else {
        let Ok(business) = salon_domain::BusinessId::parse(&req.business) else {
            return problem(StatusCode::NOT_FOUND, "unknown business");
        };
        (business, caller_id(&req.caller))
    };
    let business = match state.store.business(&business_id).await {
        Ok(Some(b)) => b,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown business"),
        Err(e) => {
            tracing::error!(error = %e, "could not read the business");
            return unavailable();
        }
    };
    let ctx = tools::CallContext {
        business,
        call_sid: call_sid.clone(),
        caller,
        now,
        started,
    };
    let outcome = tools::run(&state.store, &ctx, name, &req.call_id, &req.arguments).await;
    let error = match &outcome.reply {
        ToolReply::Ok(_) => None,
        ToolReply::Err(e) => Some(
            serde_json::to_value(e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ),
    };
    let millis = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    tracing::info!(
        ok = error.is_none(),
        error = error.as_deref().unwrap_or(""),
        millis,
        "tool call"
    );
    let record = ToolCallRecord {
        name: name.to_owned(),
        call_id: req.call_id.clone(),
        error,
        at: now,
        millis,
    };
    // The answer stands even if the record cannot be written: the booking itself is done. A
    // booking recorded its call in its own transaction.
    if !outcome.recorded
        && let Err(e) = state
            .store
            .record_tool_call(&call_sid, &record, outcome.appointment.as_ref())
            .await
    {
        tracing::error!(error = %e, "could not record the tool call");
    }
    Json(outcome.reply).into_response()
}

/// Records the relay's summary of the call.
async fn summary(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Signed(summary): Signed<CallSummary>,
) -> Response {
    let call_sid = match call_sid(&raw) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let event = CallEvent::Summary {
        summary,
        at: state.clock.now(),
    };
    match state.store.record_call(&call_sid, &event).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_failed(e),
    }
}
