//! One call as the owner sees it: when, from whom, how it ended, what the agent did (its tool
//! calls and the appointments they made) and, while it is kept, what both sides said. Only a
//! call of the owner's own salon: another's is not found.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use salon_domain::CallSid;

use super::{page, pages, signed_in, unavailable};
use crate::app::AppState;

pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let owner = match signed_in(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let not_found = || page(StatusCode::NOT_FOUND, pages::message("Apelul nu există."));
    let Ok(sid) = CallSid::parse(&sid) else {
        return not_found();
    };
    let business = &owner.session.business;
    let (b, record) = match (
        state.store.business(business).await,
        state.store.call(&sid).await,
    ) {
        (Ok(Some(b)), Ok(Some(r))) if r.business.as_ref() == Some(business) => (b, r),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
        _ => return not_found(),
    };
    page(
        StatusCode::OK,
        pages::call(
            &b,
            &record,
            state.store.retention_days(),
            &owner.session.csrf,
        ),
    )
}
