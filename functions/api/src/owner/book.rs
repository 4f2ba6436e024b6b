//! The book over JSON: a day's appointments and blocked time, appointments added by hand,
//! moved and cancelled, time blocked and freed. The same store rules and guarantees as the
//! console's forms and the agent's tools; a refusal is the agent's Romanian sentence.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::civil::{Date, DateTime, Time};
use salon_domain::{
    AppointmentId, Business, BusinessId, ClientName, IdempotencyKey, PhoneE164, PhoneOrigin,
    ServiceId, Source, StaffId,
};
use salon_store::{BlockTimeError, BookingError, BookingRequest, Stylist};
use serde::Deserialize;
use serde_json::json;

use super::{refused, salon};
use crate::app::AppState;

/// A clear 4xx answer with what to correct.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the store failed in the owner's API");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage unavailable; retry",
    )
}

/// The request's salon (from its token or session) and its profile.
pub(super) async fn business(
    state: &AppState,
    headers: &HeaderMap,
    writes: bool,
) -> Result<Business, Response> {
    let id: BusinessId = salon(state, headers, writes).await.map_err(refused)?;
    match state.store.business(&id).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(refused(StatusCode::NOT_FOUND)),
        Err(e) => Err(unavailable(e)),
    }
}

/// The request's salon and its JSON body, for a change: or the answer refusing either.
pub(super) async fn change_with<T>(
    state: &AppState,
    headers: &HeaderMap,
    req: Result<Json<T>, JsonRejection>,
) -> Result<(Business, T), Response> {
    let b = business(state, headers, true).await?;
    let t = body(req).map_err(|why| error(StatusCode::UNPROCESSABLE_ENTITY, &why))?;
    Ok((b, t))
}

/// A JSON body, or why it was refused (to answer with 422).
pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, String> {
    b.map(|Json(t)| t).map_err(|e| e.body_text())
}

fn booking_refused(b: &Business, at: Option<DateTime>, e: BookingError) -> Response {
    match e {
        BookingError::NotFound => refused(StatusCode::NOT_FOUND),
        BookingError::Store(e) => unavailable(e),
        e => error(StatusCode::CONFLICT, &crate::tools::refusal(b, at, e)),
    }
}

#[derive(Deserialize)]
pub(super) struct DayQuery {
    date: Date,
}

/// `GET /api/owner/book?date=2026-12-15`: the day's appointments and blocked time.
pub(super) async fn day(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<DayQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let b = match business(&state, &headers, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "date=YYYY-MM-DD is required");
    };
    let (appointments, blocks) = tokio::join!(
        state.store.appointments_on(&b, q.date),
        state.store.blocks_on(&b, q.date)
    );
    match (appointments, blocks) {
        (Ok(a), Ok(k)) => {
            Json(json!({"date": q.date, "appointments": a, "blocks": k})).into_response()
        }
        (Err(e), _) | (_, Err(e)) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct NewAppointment {
    date: Date,
    time: Time,
    service: ServiceId,
    #[serde(default)]
    stylist: Option<StaffId>,
    client_name: String,
    /// None for a walk-in who leaves no number.
    #[serde(default)]
    phone: Option<String>,
    /// The integration's own key: sent again, the request books once.
    key: String,
}

/// `POST /api/owner/appointments`: an appointment added by hand (201), or why not (409).
pub(super) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<NewAppointment>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(name) = ClientName::parse(&req.client_name) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "client_name is not a name",
        );
    };
    let phone = match req.phone.as_deref().map(PhoneE164::parse).transpose() {
        Ok(p) => p,
        Err(_) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "phone is not a phone number",
            );
        }
    };
    let Ok(key) = IdempotencyKey::parse(format!("owner-api:{}", req.key)) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "key must be 1 to 180 printable characters",
        );
    };
    let at = req.date.to_datetime(req.time);
    let booking = BookingRequest {
        business: b.id.clone(),
        service: req.service,
        more: Vec::new(),
        client: phone,
        phone_origin: PhoneOrigin::Salon,
        client_name: Some(name),
        start: at,
        staff: req.stylist,
        call_sid: None,
        key,
        tool_call: None,
        source: Source::Manual,
    };
    match state.store.book(&booking, state.clock.now()).await {
        Ok(done) => {
            let status = if done.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(json!({"appointment": done.appointment}))).into_response()
        }
        Err(e) => booking_refused(&b, Some(at), e),
    }
}

/// `POST /api/owner/appointments/{id}/cancel`.
pub(super) async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let b = match business(&state, &headers, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(id) = AppointmentId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    match state
        .store
        .cancel(&b.id, &id, None, state.clock.now())
        .await
    {
        Ok(a) => Json(json!({"appointment": a})).into_response(),
        Err(e) => booking_refused(&b, None, e),
    }
}

#[derive(Deserialize)]
pub(super) struct MoveTo {
    date: Date,
    time: Time,
    /// Another stylist; absent keeps the same one.
    #[serde(default)]
    stylist: Option<StaffId>,
}

/// `POST /api/owner/appointments/{id}/move`.
pub(super) async fn move_to(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Result<Json<MoveTo>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = AppointmentId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    let stylist = match &req.stylist {
        None => Stylist::Same,
        Some(s) => Stylist::Named(s),
    };
    let at = req.date.to_datetime(req.time);
    match state
        .store
        .reschedule(&b.id, &id, None, at, stylist, state.clock.now())
        .await
    {
        Ok(moved) => Json(json!({"appointment": moved})).into_response(),
        Err(e) => booking_refused(&b, Some(at), e),
    }
}

#[derive(Deserialize)]
pub(super) struct NewBlock {
    stylist: StaffId,
    /// Local times of the salon.
    start: DateTime,
    end: DateTime,
    #[serde(default)]
    note: String,
}

/// `POST /api/owner/blocks`: a stylist's time blocked (201), or 409 when part of it is booked
/// or held.
pub(super) async fn block(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<NewBlock>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tz = b.time_zone.tz().clone();
    let (Ok(start), Ok(end)) = (
        req.start.to_zoned_datetime(tz.clone()),
        req.end.to_zoned_datetime(tz),
    ) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "start and end must be local times",
        );
    };
    match state
        .store
        .block_time(
            &b.id,
            &req.stylist,
            start.timestamp(),
            end.timestamp(),
            &req.note,
        )
        .await
    {
        Ok(k) => (StatusCode::CREATED, Json(json!({"block": k}))).into_response(),
        Err(BlockTimeError::UnknownStaff) => refused(StatusCode::NOT_FOUND),
        Err(BlockTimeError::Invalid(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(BlockTimeError::Taken) => error(
            StatusCode::CONFLICT,
            "part of that time is booked, held by a caller or blocked already; nothing was blocked",
        ),
        Err(e) => unavailable(e),
    }
}

/// `DELETE /api/owner/blocks/{id}`: the time freed (204), or 404.
pub(super) async fn unblock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let b = match business(&state, &headers, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match state.store.unblock(&b.id, &id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refused(StatusCode::NOT_FOUND),
        Err(e) => unavailable(e),
    }
}
