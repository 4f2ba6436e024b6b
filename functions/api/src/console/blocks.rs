//! Time the owner blocks for a stylist (a break, an errand), and its removal. A block holds
//! the stylist's slot locks like a booking: time the agent has just booked or a caller holds
//! is refused with a clear message, and nothing is written.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::{Date, Time};
use salon_domain::StaffId;
use salon_store::BlockTimeError;
use serde::Deserialize;

use super::{CsrfForm, bad, changing, page, pages, unavailable};
use crate::app::AppState;

#[derive(Deserialize)]
pub(super) struct BlockForm {
    csrf: String,
    date: String,
    stylist: String,
    from: String,
    to: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<BlockForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(date) = form.date.trim().parse::<Date>() else {
        return bad("Data nu este validă.");
    };
    let (Ok(from), Ok(to)) = (
        form.from.trim().parse::<Time>(),
        form.to.trim().parse::<Time>(),
    ) else {
        return bad("Orele nu sunt valide.");
    };
    let Ok(staff) = StaffId::parse(form.stylist.trim()) else {
        return bad("Alegeți un stilist.");
    };
    let tz = b.time_zone.tz().clone();
    let (Ok(start), Ok(end)) = (
        date.to_datetime(from).to_zoned_datetime(tz.clone()),
        date.to_datetime(to).to_zoned_datetime(tz),
    ) else {
        return bad("Orele nu sunt valide.");
    };
    match state
        .store
        .block_time(
            &b.id,
            &staff,
            start.timestamp(),
            end.timestamp(),
            &form.note,
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/console?date={date}")).into_response(),
        Err(BlockTimeError::UnknownStaff) => bad("Alegeți un stilist."),
        Err(BlockTimeError::Invalid(_)) => bad(
            "Timpul blocat începe la un sfert de oră și durează între 15 minute și 8 ore, în sferturi de oră; nota are cel mult 100 de caractere.",
        ),
        Err(BlockTimeError::Taken) => page(
            StatusCode::CONFLICT,
            pages::message(
                "În acest interval stilistul are deja o programare, un client care tocmai alege ora sau timp blocat. Nu s-a blocat nimic.",
            ),
        ),
        Err(BlockTimeError::Store(e)) => unavailable(e),
        Err(e) => unavailable(e),
    }
}

/// Frees blocked time of the owner's salon.
pub(super) async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, form.token()).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let day = id
        .split_once('-')
        .and_then(|(s, _)| s.parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.to_zoned_datetime(b.time_zone.tz().clone()).date());
    match state.store.unblock(&b.id, &id).await {
        Ok(true) => Redirect::to(&match day {
            Some(d) => format!("/console?date={d}"),
            None => "/console".to_owned(),
        })
        .into_response(),
        Ok(false) => page(
            StatusCode::NOT_FOUND,
            pages::message("Intervalul blocat nu există."),
        ),
        Err(e) => unavailable(e),
    }
}
