//! A stylist's week: the seven days from a Monday, each with its appointments, for planning
//! at a glance (and on a phone).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::{Date, Weekday};
use salon_domain::StaffId;
use serde::Deserialize;

use super::{page, pages, unavailable, viewing};
use crate::app::AppState;

#[derive(Deserialize)]
pub(super) struct WeekQuery {
    date: Option<String>,
    stylist: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let bad = |text: &str| page(StatusCode::BAD_REQUEST, pages::message(text));
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    let date = match q.date.as_deref().map(str::parse::<Date>) {
        None => today,
        Some(Ok(d)) => d,
        Some(Err(_)) => return bad("Data nu este validă (AAAA-LL-ZZ)."),
    };
    let stylist = match q.stylist.as_deref().map(StaffId::parse) {
        None => b.active_staff().next().map(|s| s.id.clone()),
        Some(Ok(s)) if b.staff_member(&s).is_some() => Some(s),
        Some(_) => return bad("Stilistul nu există."),
    };
    let Some(stylist) = stylist else {
        return bad("Salonul nu are stiliști.");
    };
    let monday = date
        .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
        .unwrap_or(date);
    let sunday = monday
        .checked_add(jiff::Span::new().days(6))
        .unwrap_or(monday);
    // The week in two reads: its appointments and its blocked time.
    let (appointments, blocks) = tokio::join!(
        state.store.appointments_between(&b, monday, sunday),
        state.store.blocks_between(&b, monday, sunday)
    );
    let (appointments, blocks) = match (appointments, blocks) {
        (Ok(a), Ok(k)) => (a, k),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let tz = b.time_zone.tz().clone();
    let on = |t: jiff::Timestamp| t.to_zoned_datetime(tz.clone()).date();
    let mut days = Vec::with_capacity(7);
    let mut day = monday;
    for _ in 0..7 {
        let theirs = appointments
            .iter()
            .filter(|a| a.staff == stylist && on(a.start) == day)
            .cloned()
            .collect();
        let blocked = blocks
            .iter()
            .filter(|k| k.staff() == &stylist && on(k.start()) == day)
            .cloned()
            .collect();
        days.push(pages::WeekDay {
            day,
            appointments: theirs,
            blocks: blocked,
        });
        day = day.tomorrow().unwrap_or(day);
    }
    debug_assert_eq!(monday.weekday(), Weekday::Monday);
    page(
        StatusCode::OK,
        pages::week(&b, &stylist, &days, &owner.session.csrf),
    )
}
