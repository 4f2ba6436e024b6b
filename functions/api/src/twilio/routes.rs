//! Twilio's webhooks: the voice webhook, the status callback and the stream's end.
//!
//! Every answer a caller could hear is Romanian TwiML: an unknown number or a failing store
//! still gets a spoken apology, never a 500 that makes Twilio play its English error voice.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use salon_domain::{CallEvent, CallSid, CallStatus, PhoneE164, caller_id};
use salon_wire::token;
use tracing::Instrument;

use tower_http::catch_panic::CatchPanicLayer;

use crate::config::TwilioSettings;

use crate::app::AppState;
use crate::twilio::{handover, signature, twiml};

/// The webhooks' routes. A handler that panics (a bug, wherever it is) still answers Twilio
/// with the Romanian apology: an error status or a dropped connection would make Twilio play
/// its English error voice to the caller.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/twilio/voice", post(voice))
        .route("/api/twilio/status", post(status))
        .route("/api/twilio/stream-ended", post(stream_ended))
        .route(handover::DIAL_ENDED, post(handover::dial_ended))
        .route(handover::RECORDED, post(handover::recorded))
        .layer(CatchPanicLayer::custom(apologise_for_panic))
}

/// What Twilio gets from a handler that panicked.
fn apologise_for_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic's message may hold personal data (a number in a failed parse): not logged.
    tracing::error!("a webhook handler panicked: answering with the apology");
    xml(twiml::say_and_hang_up(twiml::APOLOGY))
}

/// Form parameters of a request whose Twilio signature checked out.
pub struct TwilioForm(Vec<(String, String)>);

impl TwilioForm {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl FromRequest<AppState> for TwilioForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let settings = state
            .twilio
            .clone()
            .ok_or_else(|| StatusCode::NOT_FOUND.into_response())?;
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
        let sig = req
            .headers()
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = signature::parse_form(&body).map_err(|e| {
            tracing::warn!(path, error = %e, "refused a Twilio form");
            StatusCode::BAD_REQUEST.into_response()
        })?;
        if settings.signature_check {
            // Twilio signed the public URL (API Gateway's), which is configuration, not the Host header.
            let url = format!("{}{path}", settings.public_base_url);
            let ok = sig.is_some_and(|s| {
                signature::is_valid(settings.auth_token.expose(), &url, &params, &s)
            });
            if !ok {
                tracing::warn!(path, "refused a request without a valid Twilio signature");
                return Err(StatusCode::FORBIDDEN.into_response());
            }
        }
        Ok(Self(params))
    }
}

pub(crate) fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// Answers a call: connects it to the relay with a stream token, after one store read.
async fn voice(State(state): State<AppState>, form: TwilioForm) -> Response {
    let settings = state
        .twilio
        .as_ref()
        .expect("the webhooks are mounted only with their settings");
    let (Some(call_sid), Some(_)) = (form.get("CallSid"), form.get("To")) else {
        tracing::warn!("voice webhook without CallSid or To");
        return xml(twiml::say_and_hang_up(twiml::UNAVAILABLE));
    };
    let Ok(call_sid) = CallSid::parse(call_sid) else {
        return xml(twiml::say_and_hang_up(twiml::UNAVAILABLE));
    };
    let span = tracing::info_span!("voice", call_sid = %call_sid);
    answer(&state, settings, &form, call_sid)
        .instrument(span)
        .await
}

/// Routes a call to its salon and connects it to the relay.
async fn answer(
    state: &AppState,
    settings: &TwilioSettings,
    form: &TwilioForm,
    call_sid: CallSid,
) -> Response {
    let Some(Ok(to)) = form.get("To").map(PhoneE164::parse) else {
        return xml(twiml::say_and_hang_up(twiml::UNKNOWN_NUMBER));
    };
    let business = match state.store.business_by_number(&to).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            tracing::warn!(to = %to, "a call to a number no salon answers");
            return xml(twiml::say_and_hang_up(twiml::UNKNOWN_NUMBER));
        }
        Err(e) => {
            tracing::error!(error = %e, "the store failed while answering a call");
            return xml(twiml::say_and_hang_up(twiml::UNAVAILABLE));
        }
    };
    // The caller ID, or none when it is withheld (Twilio's placeholders are no number):
    // signed into the token, so a stream cannot claim to be another caller.
    let caller = form
        .get("From")
        .and_then(caller_id)
        .map(String::from)
        .unwrap_or_default();
    let claims = token::Claims {
        call_sid: call_sid.as_str().to_owned(),
        business: business.id.as_str().to_owned(),
        caller,
        dialled: to.as_str().to_owned(),
        expires_at: state.clock.now().as_second() + token::LIFETIME_SECS,
    };
    let token = token::issue(settings.stream_token_secret.expose().as_bytes(), &claims);
    let url = format!("{}/twilio/stream", settings.relay_public_url);
    let action = format!("{}/api/twilio/stream-ended", settings.public_base_url);
    let caller = claims.caller.as_str();
    tracing::info!(business = %business.id, "connecting the call to the relay");
    xml(twiml::connect(&twiml::StreamParams {
        url: &url,
        action: &action,
        business: business.id.as_str(),
        caller,
        token: &token,
    }))
}

/// Records a status callback; repeats and out-of-order callbacks end right (`SequenceNumber`).
async fn status(State(state): State<AppState>, form: TwilioForm) -> Response {
    let call_sid = form.get("CallSid").map(CallSid::parse);
    let status = form.get("CallStatus").and_then(CallStatus::parse);
    let (Some(Ok(call_sid)), Some(status)) = (call_sid, status) else {
        return (
            StatusCode::BAD_REQUEST,
            "CallSid and CallStatus are required",
        )
            .into_response();
    };
    let Some(sequence) = form
        .get("SequenceNumber")
        .map_or(Some(0), |s| s.parse().ok())
    else {
        return (StatusCode::BAD_REQUEST, "SequenceNumber must be a number").into_response();
    };
    let duration_seconds = form.get("CallDuration").and_then(|d| d.parse().ok());
    // Twilio's own time of the event (RFC 2822) orders it best; else the time it arrived.
    let at = form
        .get("Timestamp")
        .and_then(|t| jiff::fmt::rfc2822::parse(t).ok())
        .map(|z| z.timestamp())
        .unwrap_or_else(|| state.clock.now());
    let event = CallEvent::Status {
        status,
        sequence,
        duration_seconds,
        at,
    };
    match state.store.record_call(&call_sid, &event).await {
        Ok(record) => {
            // The call is over: what it held for the caller is free for others at once.
            if status.is_final()
                && let Some(business) = &record.business
                && let Err(e) = state.store.release_holds(business, &call_sid).await
            {
                tracing::warn!(call_sid = %call_sid, error = %e, "could not release a call's holds; they lapse by themselves");
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(call_sid = %call_sid, error = %e, "could not record a status callback");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Tells Twilio what to do when the stream ends: hang up after a goodbye the relay meant,
/// apologise in Romanian otherwise (the model or relay failed).
async fn stream_ended(State(state): State<AppState>, form: TwilioForm) -> Response {
    let Some(Ok(call_sid)) = form.get("CallSid").map(CallSid::parse) else {
        return xml(twiml::say_and_hang_up(twiml::APOLOGY));
    };
    match state.store.call(&call_sid).await {
        Ok(Some(r))
            if r.summary
                .as_ref()
                .is_some_and(|s| s.outcome == salon_wire::CallOutcome::Transferred) =>
        {
            handover::put_through(&state, &r).await
        }
        Ok(Some(r))
            if r.summary
                .as_ref()
                .is_some_and(|s| s.outcome.is_deliberate()) =>
        {
            xml(twiml::hang_up())
        }
        Ok(_) => {
            tracing::warn!(call_sid = %call_sid, "the stream ended without the agent finishing the call");
            xml(twiml::say_and_hang_up(twiml::APOLOGY))
        }
        Err(e) => {
            tracing::error!(call_sid = %call_sid, error = %e, "could not read the call record at the stream's end");
            xml(twiml::say_and_hang_up(twiml::APOLOGY))
        }
    }
}
