//! The salon's clients: the list (searchable by name or number), each one's history, and the
//! coming bookings made from a number a caller said aloud (not verified by caller ID), so the
//! salon can call to confirm them.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::Date;
use maud::{Markup, html};
use salon_domain::text::fold;
use salon_domain::{Appointment, Business, Client, PhoneE164, PhoneOrigin};
use serde::Deserialize;

use super::pages::{layout, source, status, top};
use super::{page, pages, unavailable, viewing};
use crate::app::AppState;
use crate::speech;

/// How far ahead the unverified bookings are looked for.
const AHEAD_DAYS: i64 = 60;

#[derive(Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    q: String,
}

pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(search): Query<Search>,
) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    let until = today
        .checked_add(jiff::Span::new().days(AHEAD_DAYS))
        .unwrap_or(today);
    let (clients, coming) = tokio::join!(
        state.store.clients(&b.id),
        state.store.appointments_between(&b, today, until)
    );
    let (clients, coming) = match (clients, coming) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let q: String = search.q.chars().take(60).collect();
    let wanted = fold(&q);
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let shown: Vec<&Client> = clients
        .iter()
        .filter(|c| {
            wanted.is_empty()
                || fold(&c.name).contains(&wanted)
                || (!digits.is_empty() && c.phone.as_str().contains(digits.trim_start_matches('0')))
        })
        .collect();
    let unverified: Vec<&Appointment> = coming
        .iter()
        .filter(|a| a.phone_origin == PhoneOrigin::Spoken)
        .collect();
    page(
        StatusCode::OK,
        clients_page(&b, &q, &shown, &unverified, &owner.session.csrf),
    )
}

pub(super) async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(phone) = PhoneE164::parse(&phone) else {
        return page(StatusCode::NOT_FOUND, pages::message("Clientul nu există."));
    };
    let (client, appointments) = tokio::join!(
        state.store.client(&b.id, &phone),
        state.store.client_appointments(&b.id, &phone)
    );
    match (client, appointments) {
        (Ok(None), Ok(a)) if a.is_empty() => {
            page(StatusCode::NOT_FOUND, pages::message("Clientul nu există."))
        }
        (Ok(c), Ok(a)) => page(
            StatusCode::OK,
            history_page(&b, &phone, c.as_ref(), &a, &owner.session.csrf),
        ),
        (Err(e), _) | (_, Err(e)) => unavailable(e),
    }
}

fn when(b: &Business, a: &Appointment) -> (Date, String) {
    let at = a.start.to_zoned_datetime(b.time_zone.tz().clone());
    (at.date(), at.strftime("%H:%M").to_string())
}

fn clients_page(
    b: &Business,
    q: &str,
    clients: &[&Client],
    unverified: &[&Appointment],
    csrf: &str,
) -> Markup {
    layout(
        "Clienți",
        html! {
            (top(b, csrf))
            main {
                h2 { "De confirmat" }
                p { "Programări făcute de la un număr spus la telefon, nu de la numărul care a sunat: sunați clientul să le confirme." }
                @if unverified.is_empty() {
                    p { "Niciuna." }
                } @else {
                    ul {
                        @for a in unverified {
                            @let (day, time) = when(b, a);
                            li {
                                a href={ "/console?date=" (day) } { (speech::date(day)) ", ora " (time) }
                                " – " (a.client_name) ", " (a.service_name) ", "
                                @if let Some(p) = &a.client {
                                    a href={ "/console/clients/" (p) } { span.nowrap { (p.national()) } }
                                }
                                " (neverificat)"
                            }
                        }
                    }
                }
                h2 { "Clienți" }
                form method="get" action="/console/clients" role="search" {
                    label for="q" { "Caută după nume sau telefon" }
                    input id="q" name="q" type="search" value=(q);
                    button type="submit" { "Caută" }
                }
                @if clients.is_empty() {
                    p { "Niciun client." }
                } @else {
                    ul {
                        @for c in clients {
                            li {
                                a href={ "/console/clients/" (c.phone) } { (c.name) }
                                ", " span.nowrap { (c.phone.national()) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn history_page(
    b: &Business,
    phone: &PhoneE164,
    client: Option<&Client>,
    appointments: &[Appointment],
    csrf: &str,
) -> Markup {
    let name = client.map_or_else(
        || {
            appointments
                .last()
                .map_or_else(String::new, |a| a.client_name.clone())
        },
        |c| c.name.clone(),
    );
    layout(
        &format!("Client {name}"),
        html! {
            (top(b, csrf))
            main {
                h2 { (name) ", " span.nowrap { (phone.national()) } }
                @if let Some(c) = client {
                    p { "Client din " (speech::date(c.created.to_zoned_datetime(b.time_zone.tz().clone()).date())) "." }
                } @else {
                    p { "Numărul nu a sunat niciodată el însuși: programările lui au fost făcute de la alt telefon." }
                }
                h3 { "Istoric" }
                table {
                    thead { tr {
                        th scope="col" { "Ziua" } th scope="col" { "Ora" } th scope="col" { "Serviciu" }
                        th scope="col" { "Stilist" } th scope="col" { "Sursă" } th scope="col" { "Stare" }
                    } }
                    tbody {
                        @for a in appointments.iter().rev() {
                            @let (day, time) = when(b, a);
                            tr {
                                td data-label="Ziua" { a href={ "/console?date=" (day) } { (speech::date(day)) } }
                                td data-label="Ora" { (time) }
                                td data-label="Serviciu" { (a.service_name) }
                                td data-label="Stilist" { (b.staff_member(&a.staff).map_or(a.staff.as_str(), |s| s.name.as_str())) }
                                td data-label="Sursă" {
                                    (source(a.source))
                                    @if a.phone_origin == PhoneOrigin::Spoken { " (număr spus, neverificat)" }
                                }
                                td data-label="Stare" { (status(&a.status)) }
                            }
                        }
                    }
                }
            }
        },
    )
}
