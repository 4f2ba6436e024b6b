//! A person, or a message: the salon's phone after a transfer, and the message a caller
//! records when nobody answers it.

use axum::extract::State;
use axum::response::Response;
use salon_domain::message::{Message, Recording};
use salon_domain::{CallRecord, CallSid, caller_id};

use super::routes::{TwilioForm, xml};
use super::twiml;
use crate::app::AppState;

/// Where Twilio reports how the transfer went.
pub(crate) const DIAL_ENDED: &str = "/api/twilio/dial-ended";
/// Where Twilio posts the caller's recorded message.
pub(crate) const RECORDED: &str = "/api/twilio/recorded";

fn url(state: &AppState, path: &str) -> String {
    let base = state
        .twilio
        .as_ref()
        .map_or("", |s| s.public_base_url.as_str());
    format!("{base}{path}")
}

/// After the agent said it puts the caller through: ring the salon's phone, or, if it has
/// none any more, let the caller leave a message.
pub(crate) async fn put_through(state: &AppState, record: &CallRecord) -> Response {
    let phone = match &record.business {
        Some(id) => match state.store.business(id).await {
            Ok(Some(b)) => b.person_phone,
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "could not read the salon for a transfer");
                None
            }
        },
        None => None,
    };
    match phone {
        Some(p) => {
            tracing::info!(call_sid = %record.call_sid, "putting the caller through to the salon");
            xml(twiml::dial(p.as_str(), &url(state, DIAL_ENDED)))
        }
        None => xml(twiml::record_message(
            twiml::NO_PERSON,
            &url(state, RECORDED),
        )),
    }
}

/// How the transfer went: a person talked to the caller, or the caller leaves a message.
pub(crate) async fn dial_ended(State(state): State<AppState>, form: TwilioForm) -> Response {
    match form.get("DialCallStatus") {
        Some("completed") | Some("answered") => xml(twiml::hang_up()),
        _ => xml(twiml::record_message(
            twiml::NOBODY_ANSWERED,
            &url(&state, RECORDED),
        )),
    }
}

/// The caller's recorded message: kept once for the salon (the audio stays with Twilio).
pub(crate) async fn recorded(State(state): State<AppState>, form: TwilioForm) -> Response {
    let Some(Ok(call_sid)) = form.get("CallSid").map(CallSid::parse) else {
        return xml(twiml::say_and_hang_up(twiml::NO_MESSAGE));
    };
    let seconds: u32 = form
        .get("RecordingDuration")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    // Only Twilio's own address, bounded: the owner will open it.
    let recording_url = form
        .get("RecordingUrl")
        .filter(|u| u.starts_with("https://api.twilio.com/") && u.len() <= 300);
    let (Some(recording_url), true) = (recording_url, seconds > 0) else {
        return xml(twiml::say_and_hang_up(twiml::NO_MESSAGE));
    };
    let record = match state.store.call(&call_sid).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            tracing::warn!(call_sid = %call_sid, "a recording for a call without a record");
            return xml(twiml::say_and_hang_up(twiml::APOLOGY));
        }
        Err(e) => {
            tracing::error!(call_sid = %call_sid, error = %e, "could not read the call record for a message");
            return xml(twiml::say_and_hang_up(twiml::APOLOGY));
        }
    };
    let Some(business) = record.business.clone() else {
        return xml(twiml::say_and_hang_up(twiml::APOLOGY));
    };
    let message = Message {
        id: format!("{call_sid}-recording"),
        business,
        call_sid: call_sid.clone(),
        phone: record.from.as_deref().and_then(caller_id),
        name: None,
        text: None,
        recording: Some(Recording {
            url: recording_url.to_owned(),
            seconds,
        }),
        at: state.clock.now(),
        read: false,
    };
    match state.store.leave_message(&message).await {
        Ok(_) => xml(twiml::say_and_hang_up(twiml::MESSAGE_TAKEN)),
        Err(e) => {
            tracing::error!(call_sid = %call_sid, error = %e, "could not keep a recorded message");
            xml(twiml::say_and_hang_up(twiml::APOLOGY))
        }
    }
}
