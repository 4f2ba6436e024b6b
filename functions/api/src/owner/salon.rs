//! The rest of the console's settings over JSON: a new service, a new stylist and the
//! services one does, the salon's weekly hours, closed days and opened holidays. Each change is
//! checked whole by the domain; a refusal says why (422).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use salon_domain::{
    Business, ConfigError, Minutes, Price, Service, ServiceId, StaffId, WeeklyHours,
};
use salon_store::StoreError;
use serde::Deserialize;
use serde_json::json;

use super::book::{business, change_with, error, unavailable};
use super::refused;
use crate::app::AppState;

/// The answer to a profile edit: the salon as it now is, or why not.
fn edited(r: Result<Option<Business>, StoreError>) -> Response {
    match r {
        Ok(Some(b)) => Json(json!({
            "staff": b.staff, "hours": b.hours, "closures": b.closures
        }))
        .into_response(),
        Ok(None) | Err(StoreError::InvalidBusiness(ConfigError::UnknownStaff(_))) => {
            refused(StatusCode::NOT_FOUND)
        }
        Err(StoreError::InvalidBusiness(e)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct NewService {
    id: ServiceId,
    name: String,
    #[serde(default)]
    category: String,
    minutes: Minutes,
    price: Price,
}

/// `POST /api/owner/services`: `{"id","name","category"?,"minutes","price":{"bani"}}` (201;
/// 409 when the id is taken).
pub(super) async fn add_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<NewService>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.store.services(&b.id).await {
        Ok(list) if list.iter().any(|s| s.id == req.id) => {
            return error(StatusCode::CONFLICT, "a service with this id exists");
        }
        Ok(_) => {}
        Err(e) => return unavailable(e),
    }
    let service = Service {
        id: req.id,
        name: req.name.trim().to_owned(),
        category: req.category,
        duration: req.minutes,
        price: req.price,
        active: true,
        processing: Vec::new(),
        buffer: None,
    };
    match state.store.put_service(&b.id, &service).await {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "service": service }))).into_response(),
        Err(StoreError::InvalidService(e)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct NewStylist {
    id: StaffId,
    name: String,
}

/// `POST /api/owner/staff`: `{"id","name"}`, working the salon's hours and doing every
/// service until changed (409 when the id is taken).
pub(super) async fn add_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<NewStylist>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Checked inside the edit, so of two requests adding one id, one gets 409.
    let r = state
        .store
        .edit_business(&b.id, |b| b.add_staff(req.id.clone(), &req.name))
        .await;
    match r {
        Ok(Some(_)) => (StatusCode::CREATED, edited(r)).into_response(),
        Err(StoreError::InvalidBusiness(ConfigError::DuplicateStaff(_))) => {
            error(StatusCode::CONFLICT, "a stylist with this id exists")
        }
        r => edited(r),
    }
}

#[derive(Deserialize)]
pub(super) struct StaffChange {
    /// Absent: unchanged; `null`: every service; a list: those.
    #[serde(default, deserialize_with = "present")]
    services: Option<Option<BTreeSet<ServiceId>>>,
    #[serde(default)]
    active: Option<bool>,
}

/// A field that is present, even as `null` (absent stays `None` by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /api/owner/staff/{id}`: `{"services": ["tuns"] or null, "active": false}`, each
/// optional.
pub(super) async fn change_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Result<Json<StaffChange>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    edited(
        state
            .store
            .edit_business(&b.id, |b| {
                let s = b.staff_mut(&staff)?;
                if let Some(services) = &req.services {
                    s.services = services.clone();
                }
                if let Some(active) = req.active {
                    s.active = active;
                }
                Ok(())
            })
            .await,
    )
}

/// `PUT /api/owner/hours`: the salon's weekly hours (each stylist's own must still fit).
pub(super) async fn hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<WeeklyHours>, JsonRejection>,
) -> Response {
    let (b, week) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    edited(
        state
            .store
            .edit_business(&b.id, |b| {
                b.hours = week.clone();
                Ok(())
            })
            .await,
    )
}

#[derive(Deserialize)]
pub(super) struct Closing {
    reason: String,
}

/// `POST /api/owner/days/{date}/close`: `{"reason": "inventar"}`.
pub(super) async fn close_day(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(date): Path<String>,
    req: Result<Json<Closing>, JsonRejection>,
) -> Response {
    let (b, req) = match change_with(&state, &headers, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(date) = date.parse::<Date>() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "a date is YYYY-MM-DD");
    };
    edited(
        state
            .store
            .edit_business(&b.id, |b| b.close_on(date, &req.reason))
            .await,
    )
}

/// `POST /api/owner/days/{date}/open`: a closed day, or a public holiday, opened.
pub(super) async fn open_day(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(date): Path<String>,
) -> Response {
    edit_date(&state, &headers, &date, Business::open_on).await
}

/// `POST /api/owner/holidays/{date}/close`: a public holiday opened earlier, closed again.
pub(super) async fn close_holiday(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(date): Path<String>,
) -> Response {
    edit_date(&state, &headers, &date, Business::close_holiday).await
}

/// Changes the salon's calendar on the date of a path.
async fn edit_date(
    state: &AppState,
    headers: &HeaderMap,
    date: &str,
    edit: fn(&mut Business, Date),
) -> Response {
    let b = match business(state, headers, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(date) = date.parse::<Date>() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "a date is YYYY-MM-DD");
    };
    edited(
        state
            .store
            .edit_business(&b.id, |b| {
                edit(b, date);
                Ok(())
            })
            .await,
    )
}
