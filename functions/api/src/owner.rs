//! The owner's API, until the console exists (and for integrations after it): the salon's
//! messages and the stylists' absences, under a per-salon token from configuration
//! (`OWNER_TOKENS`).

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
}

impl OwnerSettings {
    /// Reads `OWNER_TOKENS`; `None` when it is not set (no owner API).
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
        Ok(Some(Self { tokens }))
    }

    /// With these tokens (tests).
    pub fn new(tokens: Vec<(BusinessId, Secret)>) -> Self {
        Self { tokens }
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

/// The owner's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/owner/messages", get(messages))
        .route("/api/owner/messages/{id}/read", post(read))
        .route("/api/owner/staff/{id}/absences", post(add_absence))
}

#[derive(Deserialize)]
struct Filter {
    #[serde(default)]
    unread: bool,
}

/// The salon the request's token belongs to: 404 when this deployment has no owner API, 401
/// for a token of no salon.
fn salon(state: &AppState, headers: &HeaderMap) -> Result<BusinessId, StatusCode> {
    let settings: &Arc<OwnerSettings> = state.owner.as_ref().ok_or(StatusCode::NOT_FOUND)?;
    settings.salon_of(headers).ok_or(StatusCode::UNAUTHORIZED)
}

fn refused(status: StatusCode) -> Response {
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
    let business = match salon(&state, &headers) {
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
    let business = match salon(&state, &headers) {
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
    let business = match salon(&state, &headers) {
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
