//! Settings and figures over JSON: services (list, change), a stylist's weekly hours, and the
//! phone's figures, as the console has them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use salon_domain::{ConfigError, Minutes, Price, StaffId, WeeklyHours};
use salon_store::StoreError;
use serde::Deserialize;
use serde_json::json;

use super::book::{business, change_with, error, unavailable};
use super::refused;
use crate::app::AppState;

/// `GET /api/owner/services`: every service, offered or not.
pub(super) async fn services(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let b = match business(&state, &headers, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match state.store.services(&b.id).await {
        Ok(list) => Json(json!({ "services": list })).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct ServiceChange {
    minutes: Option<Minutes>,
    price: Option<Price>,
    active: Option<bool>,
}

/// `PUT /api/owner/services/{id}`: `{"minutes": 45, "price": {"bani": 5550}, "active": true}`,
/// each optional.
pub(super) async fn change_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Result<Json<ServiceChange>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let list = match state.store.services(&b.id).await {
        Ok(l) => l,
        Err(e) => return unavailable(e),
    };
    let Some(mut s) = list.into_iter().find(|s| s.id.as_str() == id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    s.duration = req.minutes.unwrap_or(s.duration);
    s.price = req.price.unwrap_or(s.price);
    s.active = req.active.unwrap_or(s.active);
    match state.store.put_service(&b.id, &s).await {
        Ok(()) => Json(json!({ "service": s })).into_response(),
        Err(StoreError::InvalidService(e)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct StaffHours {
    /// `null`: the salon's hours.
    hours: Option<WeeklyHours>,
}

/// `PUT /api/owner/staff/{id}/hours`: `{"hours": {"monday": {"open": "09:00", "close":
/// "17:00"}, …}}` or `{"hours": null}` for the salon's.
pub(super) async fn staff_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Result<Json<StaffHours>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    let edited = state
        .store
        .edit_business(&b.id, |b| {
            b.staff_mut(&staff)?.hours = req.hours.clone();
            Ok(())
        })
        .await;
    match edited {
        Ok(Some(b)) => Json(json!({ "staff": b.staff_member(&staff) })).into_response(),
        Ok(None) | Err(StoreError::InvalidBusiness(ConfigError::UnknownStaff(_))) => {
            refused(StatusCode::NOT_FOUND)
        }
        Err(StoreError::InvalidBusiness(e)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /api/owner/clients`: the salon's clients, by name.
pub(super) async fn clients(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let b = match business(&state, &headers, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match state.store.clients(&b.id).await {
        Ok(list) => Json(json!({ "clients": list })).into_response(),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/owner/clients/{phone}`: one number's appointments, booked and cancelled (each
/// with `phone_origin`: `spoken` is a number said aloud, not verified).
pub(super) async fn client(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Response {
    let b = match business(&state, &headers, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(phone) = salon_domain::PhoneE164::parse(&phone) else {
        return refused(StatusCode::NOT_FOUND);
    };
    let (client, appointments) = tokio::join!(
        state.store.client(&b.id, &phone),
        state.store.client_appointments(&b.id, &phone)
    );
    match (client, appointments) {
        (Ok(None), Ok(a)) if a.is_empty() => refused(StatusCode::NOT_FOUND),
        (Ok(c), Ok(a)) => Json(json!({ "client": c, "appointments": a })).into_response(),
        (Err(e), _) | (_, Err(e)) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct Period {
    #[serde(default = "thirty")]
    days: u16,
}

fn thirty() -> u16 {
    30
}

/// `GET /api/owner/analytics?days=30`: the phone's figures (as the console shows them), at the
/// prices this deployment is configured with.
pub(super) async fn analytics(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    let b = match business(&state, &headers, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    let prices = match (&state.console, &state.owner) {
        (Some(c), _) => c.prices,
        (None, Some(o)) => o.prices,
        (None, None) => Default::default(),
    };
    match crate::analytics::read(&state.store, &b, today, period.days, &prices).await {
        Ok((f, _)) => Json(json!({ "figures": f })).into_response(),
        Err(e) => unavailable(e),
    }
}
