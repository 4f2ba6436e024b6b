//! The messages callers left when nobody at the salon could take them: read in the console,
//! newest first, and marked done.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{CsrfForm, forbidden, page, pages, signed_in, unavailable};
use crate::app::AppState;

pub(super) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let owner = match signed_in(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let business = &owner.session.business;
    let (b, messages) = match (
        state.store.business(business).await,
        state.store.messages(business).await,
    ) {
        (Ok(Some(b)), Ok(m)) => (b, m),
        (Ok(None), _) => {
            return page(StatusCode::NOT_FOUND, pages::message("Salonul nu există."));
        }
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    page(
        StatusCode::OK,
        pages::messages(&b, &messages, &owner.session.csrf),
    )
}

/// Marks a message of the owner's salon done.
pub(super) async fn done(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let owner = match signed_in(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    if !owner.csrf_matches(form.token()) {
        return forbidden();
    }
    match state
        .store
        .mark_message_read(&owner.session.business, &id)
        .await
    {
        Ok(true) => Redirect::to("/console/messages").into_response(),
        Ok(false) => page(StatusCode::NOT_FOUND, pages::message("Mesajul nu există.")),
        Err(e) => unavailable(e),
    }
}
