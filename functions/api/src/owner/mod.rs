//! The owner's JSON API, for integrations: the console's operations (the book, appointments
//! added, moved and cancelled, blocked time, services, stylists' hours and absences, messages,
//! the phone's figures) under a per-salon token from configuration (`OWNER_TOKENS`) or the
//! console's session (a change then carries the session's CSRF token in `X-CSRF-Token`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use salon_domain::{Absence, BusinessId, StaffId};
use salon_store::AbsenceError;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::config::{ConfigError, Env, Secret};

/// The shortest token accepted: as long as the other secrets.
const MIN_TOKEN_LEN: usize = 32;

/// Each salon's owner token: `OWNER_TOKENS=salon-demo=TOKEN,other-salon=TOKEN`.
#[derive(Debug, Clone, Default)]
pub struct OwnerSettings {
    tokens: Vec<(BusinessId, Secret)>,
    /// OpenAI's prices for the figures' cost estimates (`OPENAI_PRICES`).
    prices: salon_domain::analytics::Prices,
}

impl OwnerSettings {
    /// Reads `OWNER_TOKENS` (`None` when it is not set: no owner API) and `OPENAI_PRICES`.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        let Some(raw) = env.var("OWNER_TOKENS") else {
            return Ok(None);
        };
        let invalid = |why: &str| ConfigError::Invalid {
            name: "OWNER_TOKENS",
            why: why.to_owned(),
        };
        let mut tokens = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (business, token) = pair
                .split_once('=')
                .ok_or_else(|| invalid("expected business=token pairs, separated by commas"))?;
            let business = BusinessId::parse(business.trim())
                .map_err(|_| invalid("a business id is not valid"))?;
            if token.trim().len() < MIN_TOKEN_LEN {
                return Err(invalid("each token must be at least 32 characters"));
            }
            tokens.push((business, Secret::new(token.trim().to_owned())));
        }
        Ok(Some(Self {
            tokens,
            prices: crate::config::openai_prices(env)?,
        }))
    }

    /// With these tokens (tests).
    pub fn new(tokens: Vec<(BusinessId, Secret)>) -> Self {
        Self {
            tokens,
            prices: Default::default(),
        }
    }

    /// The salon a bearer token belongs to, compared in constant time against every token.
    fn salon_of(&self, headers: &HeaderMap) -> Option<BusinessId> {
        let given = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim();
        let mut found = None;
        for (business, token) in &self.tokens {
            if bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
                found = Some(business.clone());
            }
        }
        found
    }
}

mod book;
mod salon;
mod settings;

/// The owner's routes: at `/api/owner` (a token, or the session), and at `/console/api` where
/// the console's session cookie (`Path=/console`) reaches them from the owner's browser.
pub fn router(console: bool) -> Router<AppState> {
    let app = Router::new().nest("/api/owner", routes());
    match console {
        true => app.nest("/console/api", routes()),
        false => app,
    }
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(messages))
        .route("/messages/{id}/read", post(read))
        .route("/staff/{id}/absences", post(add_absence))
        .route("/book", get(book::day))
        .route("/appointments", post(book::add))
        .route("/appointments/{id}/cancel", post(book::cancel))
        .route("/appointments/{id}/move", post(book::move_to))
        .route("/blocks", post(book::block))
        .route("/blocks/{id}", axum::routing::delete(book::unblock))
        .route(
            "/services",
            get(settings::services).post(salon::add_service),
        )
        .route("/staff", post(salon::add_staff))
        .route("/staff/{id}", axum::routing::patch(salon::change_staff))
        .route("/hours", axum::routing::put(salon::hours))
        .route("/days/{date}/close", post(salon::close_day))
        .route("/days/{date}/open", post(salon::open_day))
        .route("/holidays/{date}/close", post(salon::close_holiday))
        .route(
            "/services/{id}",
            axum::routing::put(settings::change_service),
        )
        .route(
            "/staff/{id}/hours",
            axum::routing::put(settings::staff_hours),
        )
        .route("/analytics", get(settings::analytics))
        .route("/clients", get(settings::clients))
        .route("/clients/{phone}", get(settings::client))
}

/// The header a change under the console's session carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Deserialize)]
struct Filter {
    #[serde(default)]
    unread: bool,
}

/// The salon a request speaks for: its bearer token's, else its console session's (a change,
/// `writes`, must then carry the session's CSRF token: 403 without). 404 when this deployment
/// serves neither, 401 for a token of no salon or no session.
async fn salon(
    state: &AppState,
    headers: &HeaderMap,
    writes: bool,
) -> Result<BusinessId, StatusCode> {
    if headers.contains_key(header::AUTHORIZATION) {
        let settings: &Arc<OwnerSettings> = state.owner.as_ref().ok_or(StatusCode::UNAUTHORIZED)?;
        return settings.salon_of(headers).ok_or(StatusCode::UNAUTHORIZED);
    }
    if state.console.is_none() {
        return Err(if state.owner.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::NOT_FOUND
        });
    }
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match crate::console::session_salon(state, headers, csrf).await {
        Ok(Some((business, _))) if !writes => Ok(business),
        Ok(Some((business, true))) => Ok(business),
        Ok(Some(_)) => Err(StatusCode::FORBIDDEN),
        Ok(None) => Err(StatusCode::UNAUTHORIZED),
        Err(e) => {
            tracing::error!(error = %e, "could not read a console session");
            Err(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

pub(crate) fn refused(status: StatusCode) -> Response {
    (
        status,
        axum::Json(json!({"error": status.canonical_reason()})),
    )
        .into_response()
}

/// The salon's messages, newest first (`?unread=true`: those not read yet).
async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let business = match salon(&state, &headers, false).await {
        Ok(b) => b,
        Err(status) => return refused(status),
    };
    match state.store.messages(&business).await {
        Ok(list) => {
            let list: Vec<_> = list
                .into_iter()
                .filter(|m| !(filter.unread && m.read))
                .collect();
            axum::Json(json!({ "messages": list })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "could not read the salon's messages");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Marks a message read.
async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let business = match salon(&state, &headers, true).await {
        Ok(b) => b,
        Err(status) => return refused(status),
    };
    if id.len() > 200 {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.store.mark_message_read(&business, &id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not mark a message read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Adds an absence to a stylist (`{"from": "2026-12-21", "to": "2026-12-23", "reason":
/// "concediu"}`): 201 with the appointments already booked with them on those days, which
/// stay booked for the salon to move or cancel.
async fn add_absence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<axum::Json<Absence>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let business = match salon(&state, &headers, true).await {
        Ok(b) => b,
        Err(status) => return refused(status),
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return refused(StatusCode::NOT_FOUND);
    };
    let absence = match body {
        Ok(axum::Json(a)) => a,
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({"error": e.body_text()})),
            )
                .into_response();
        }
    };
    match state
        .store
        .add_absence(&business, &staff, absence.clone())
        .await
    {
        Ok(booked) => (
            StatusCode::CREATED,
            axum::Json(json!({ "absence": absence, "booked": booked })),
        )
            .into_response(),
        Err(AbsenceError::UnknownStaff) => refused(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "could not add an absence");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
