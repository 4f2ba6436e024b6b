//! How the phone is doing: the figures of the last days' calls as a page (SVG charts, a table
//! behind each) and as JSON, for the signed-in owner's salon only.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use salon_domain::analytics::{Figures, dollars};
use salon_domain::{Business, CallRecord};
use serde::Deserialize;
use serde_json::json;

use super::pages::{layout, outcome, top};
use super::{charts, page, settings, unavailable, viewing};
use crate::app::AppState;
use crate::speech;

/// The periods offered, in days.
const PERIODS: [u16; 3] = [7, 30, 90];

/// How many recent calls the page lists.
const LISTED: usize = 30;

#[derive(Deserialize)]
pub(super) struct Period {
    days: Option<u16>,
}

impl Period {
    fn days(&self) -> u16 {
        self.days
            .filter(|d| PERIODS.contains(d))
            .unwrap_or(PERIODS[1])
    }
}

async fn read(
    state: &AppState,
    b: &Business,
    days: u16,
) -> Result<(Figures, Vec<CallRecord>), Response> {
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    let prices = settings(state).prices;
    crate::analytics::read(&state.store, b, today, days, &prices)
        .await
        .map_err(unavailable)
}

pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let days = period.days();
    match read(&state, &b, days).await {
        Ok((f, calls)) => page(
            StatusCode::OK,
            analytics(&b, days, &f, &calls, &owner.session.csrf),
        ),
        Err(r) => r,
    }
}

/// The same figures as JSON, with the recent calls' outcomes.
pub(super) async fn json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    let (_, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match read(&state, &b, period.days()).await {
        Ok((f, calls)) => {
            let recent: Vec<_> = calls
                .iter()
                .take(LISTED)
                .map(|c| {
                    json!({
                        "call_sid": c.call_sid,
                        "started": c.started,
                        "duration_seconds": c.duration_seconds,
                        "outcome": c.summary.as_ref().map(|s| s.outcome),
                        "appointments": c.appointments,
                    })
                })
                .collect();
            let mut r = axum::Json(json!({"figures": f, "recent_calls": recent})).into_response();
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(r) => r,
    }
}

fn percent(part: u32, whole: u32) -> String {
    match whole {
        0 => "—".to_owned(),
        w => format!("{}%", u64::from(part) * 100 / u64::from(w)),
    }
}

/// Hundredths as a Romanian decimal: "1,25".
fn centi(n: u32) -> String {
    format!("{},{:02}", n / 100, n % 100)
}

fn analytics(b: &Business, days: u16, f: &Figures, calls: &[CallRecord], csrf: &str) -> Markup {
    let tz = b.time_zone.tz().clone();
    let per_day: Vec<u32> = f.per_day.iter().map(|d| d.1).collect();
    let busiest = f
        .per_hour
        .iter()
        .enumerate()
        .flat_map(|(d, row)| row.iter().enumerate().map(move |(h, n)| (*n, d, h)))
        .max()
        .filter(|(n, _, _)| *n > 0);
    let weekday = |d: usize| {
        speech::weekday(
            jiff::civil::Weekday::from_monday_zero_offset(d as i8)
                .unwrap_or(jiff::civil::Weekday::Monday),
        )
    };
    layout(
        "Cum merge telefonul",
        html! {
            (top(b, csrf))
            nav aria-label="Perioada" {
                @for p in PERIODS {
                    @if p == days { strong aria-current="page" { "Ultimele " (p) " zile" } }
                    @else { a href={ "/console/analytics?days=" (p) } { "Ultimele " (p) " zile" } }
                }
            }
            main {
                h2 { "Cum merge telefonul" }
                p { "Din " (speech::date(f.from)) " până în " (speech::date(f.to)) ". " a href={ "/console/analytics.json?days=" (days) } { "Aceleași cifre în JSON" } }
                dl.figures {
                    div { dt { "Apeluri" } dd { (f.calls) } }
                    div { dt { "Încheiate cu o programare" } dd { (f.booked_calls) " (" (percent(f.booked_calls, f.calls)) ")" } }
                    div { dt { "Durata medie" } dd { @match f.average_seconds { Some(s) => { (s / 60) " min " (s % 60) " s" }, None => "—" } } }
                    div { dt { "Întreruperi pe apel" } dd { (centi(f.barge_ins_per_call_centi)) } }
                    div { dt { "Reconectări pe apel" } dd { (centi(f.reconnects_per_call_centi)) } }
                    div { dt { "Tokeni (intrare / ieșire)" } dd { (f.tokens.input_tokens) " / " (f.tokens.output_tokens) } }
                    div { dt { "Cost OpenAI estimat" } dd { (dollars(f.cost_nano_dollars)) } }
                    div { dt { "Pe apel" } dd { (f.cost_per_call_nano_dollars.map_or("—".to_owned(), dollars)) } }
                    div { dt { "Pe programare" } dd { (f.cost_per_booking_nano_dollars.map_or("—".to_owned(), dollars)) } }
                }
                h3 { "Apeluri pe zi" }
                (charts::bars("pe-zi", "Apeluri pe zi", &format!("{} apeluri în {} zile; cel mai multe într-o zi: {}.", f.calls, per_day.len(), per_day.iter().max().unwrap_or(&0)), &per_day, &f.from.strftime("%d.%m").to_string(), &f.to.strftime("%d.%m").to_string()))
                details {
                    summary { "Cifrele pe zile" }
                    table {
                        thead { tr { th scope="col" { "Ziua" } th scope="col" { "Apeluri" } } }
                        tbody { @for (d, n) in &f.per_day { tr { td data-label="Ziua" { (speech::date(*d)) } td data-label="Apeluri" { (n) } } } }
                    }
                }
                h3 { "Orele de vârf" }
                (charts::week_grid("varf", "Apeluri pe zi a săptămânii și oră", &match busiest {
                    Some((n, d, h)) => format!("Cele mai multe apeluri: {} la ora {h}, {n}.", weekday(d)),
                    None => "Niciun apel.".to_owned(),
                }, &f.per_hour))
                details {
                    summary { "Cifrele pe ore" }
                    table {
                        thead { tr { th scope="col" { "Ziua" } th scope="col" { "Ora" } th scope="col" { "Apeluri" } } }
                        tbody {
                            @for (d, row) in f.per_hour.iter().enumerate() {
                                @for (h, n) in row.iter().enumerate().filter(|(_, n)| **n > 0) {
                                    tr { td data-label="Ziua" { (weekday(d)) } td data-label="Ora" { (h) ":00" } td data-label="Apeluri" { (n) } }
                                }
                            }
                        }
                    }
                }
                h3 { "Serviciile programate la telefon" }
                @if f.services.is_empty() {
                    p { "Nicio programare la telefon în această perioadă." }
                } @else {
                    (charts::ranked("servicii", "Serviciile programate la telefon", &format!("Cel mai des: {}.", f.services[0].0), &f.services))
                }
                h3 { "Acțiunile asistentului" }
                table {
                    thead { tr { th scope="col" { "Acțiunea" } th scope="col" { "De câte ori" } th scope="col" { "Reușite" } } }
                    tbody {
                        @for t in &f.tools {
                            tr { td data-label="Acțiunea" { code { (t.name) } } td data-label="De câte ori" { (t.calls) } td data-label="Reușite" { (percent(t.succeeded, t.calls)) } }
                        }
                    }
                }
                h3 { "Apeluri recente" }
                table {
                    thead { tr { th scope="col" { "Început" } th scope="col" { "Sfârșit" } th scope="col" { "Programări" } th scope="col" { "Apel" } } }
                    tbody {
                        @for c in calls.iter().take(LISTED) {
                            tr {
                                td data-label="Început" { @if let Some(t) = c.started { @let at = t.to_zoned_datetime(tz.clone()); (at.strftime("%d.%m %H:%M")) } }
                                td data-label="Sfârșit" { (c.summary.as_ref().map_or("—", |s| outcome(s.outcome))) }
                                td data-label="Programări" { (c.appointments.len()) }
                                td data-label="Apel" { a href={ "/console/calls/" (c.call_sid) } { "Vezi apelul din " @if let Some(t) = c.started { (t.to_zoned_datetime(tz.clone()).strftime("%d.%m %H:%M")) } } }
                            }
                        }
                    }
                }
            }
        },
    )
}
