//! Changes to the book from the console: an appointment added by hand (a walk-in, a call the
//! owner took) and a cancellation. They go through the store's booking rules and guarantees
//! like the agent's: a time the agent has just booked is refused with the same Romanian
//! sentence, and nothing is written; a form sent twice books once (its key).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::{Date, Time};
use salon_domain::{
    AppointmentId, ClientName, IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId, Source, StaffId,
};
use salon_store::BookingRequest;
use serde::Deserialize;

use super::{CsrfForm, bad, changing, page, pages, refused};
use crate::app::AppState;

#[derive(Deserialize)]
pub(super) struct AddForm {
    csrf: String,
    /// Drawn when the form was shown: sent twice, the form books once.
    key: String,
    date: String,
    time: String,
    service: String,
    /// A stylist's id, or empty for whoever is free.
    #[serde(default)]
    stylist: String,
    client_name: String,
    phone: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AddForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(date) = form.date.trim().parse::<Date>() else {
        return bad("Data nu este validă.");
    };
    let Ok(time) = form.time.trim().parse::<Time>() else {
        return bad("Ora nu este validă.");
    };
    let Ok(service) = ServiceId::parse(form.service.trim()) else {
        return bad("Alegeți un serviciu.");
    };
    let staff = match form.stylist.trim() {
        "" => None,
        s => match StaffId::parse(s) {
            Ok(s) => Some(s),
            Err(_) => return bad("Alegeți un stilist."),
        },
    };
    let Ok(name) = ClientName::parse(&form.client_name) else {
        return bad("Scrieți numele clientului.");
    };
    // A walk-in may leave no number: booked under their name alone, owed no text.
    let phone = match form.phone.trim() {
        "" => None,
        typed => match PhoneE164::parse(typed) {
            Ok(p) => Some(p),
            Err(_) => return bad("Numărul de telefon nu este valid."),
        },
    };
    let Ok(key) = IdempotencyKey::parse(format!("console:{}", form.key.trim())) else {
        return bad("Formularul nu mai este valid: reîncărcați pagina.");
    };
    let at = date.to_datetime(time);
    let req = BookingRequest {
        business: b.id.clone(),
        service,
        more: Vec::new(),
        client: phone,
        phone_origin: PhoneOrigin::Salon,
        client_name: Some(name),
        start: at,
        staff,
        call_sid: None,
        key,
        tool_call: None,
        source: Source::Manual,
    };
    match state.store.book(&req, state.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/console?date={date}")).into_response(),
        Err(e) => refused(&b, Some(at), e),
    }
}

/// No such appointment in the owner's salon.
fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        pages::message("Programarea nu există."),
    )
}

/// Cancels an appointment of the owner's salon (the salon is not held to the callers'
/// cut-off).
pub(super) async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, form.token()).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(id) = AppointmentId::parse(&id) else {
        return not_found();
    };
    // Looked up in the owner's salon only: another salon's id is no appointment here.
    match state
        .store
        .cancel(&b.id, &id, None, state.clock.now())
        .await
    {
        Ok(a) => {
            let day = a.start.to_zoned_datetime(b.time_zone.tz().clone()).date();
            Redirect::to(&format!("/console?date={day}")).into_response()
        }
        Err(e) => refused(&b, None, e),
    }
}

#[derive(Deserialize)]
pub(super) struct MoveForm {
    csrf: String,
    date: String,
    time: String,
    /// A stylist's id; empty keeps the one it is with.
    #[serde(default)]
    stylist: String,
}

/// Moves an appointment of the owner's salon to another time (and stylist), under the same
/// rules as a caller's move but the cut-off.
pub(super) async fn move_to(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<MoveForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(id) = AppointmentId::parse(&id) else {
        return not_found();
    };
    let (Ok(date), Ok(time)) = (
        form.date.trim().parse::<Date>(),
        form.time.trim().parse::<Time>(),
    ) else {
        return bad("Data sau ora nu este validă.");
    };
    let named = match form.stylist.trim() {
        "" => None,
        s => match StaffId::parse(s) {
            Ok(s) => Some(s),
            Err(_) => return bad("Alegeți un stilist."),
        },
    };
    let stylist = match &named {
        None => salon_store::Stylist::Same,
        Some(s) => salon_store::Stylist::Named(s),
    };
    let at = date.to_datetime(time);
    match state
        .store
        .reschedule(&b.id, &id, None, at, stylist, state.clock.now())
        .await
    {
        Ok(_) => Redirect::to(&format!("/console?date={date}")).into_response(),
        Err(e) => refused(&b, Some(at), e),
    }
}
