//! The salon's settings from the console: services (add, change price or duration,
//! deactivate), stylists (their weekly hours, taking bookings or not, absences), the salon's
//! hours, closed days and the public holidays it opens on. Each change is checked whole by the
//! domain and written by the store on condition of what it read (two owners' edits both land).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use salon_domain::service::{MAX_SERVICE_NAME, ServiceError};
use salon_domain::{Absence, Business, ConfigError, Minutes, Service, ServiceId, StaffId};
use salon_store::{AbsenceError, StoreError};
use serde::Deserialize;

use super::{CsrfForm, bad, changing, forms, page, pages, settings_pages, unavailable, viewing};
use crate::app::AppState;

/// The services page.
pub(super) async fn services(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match state.store.services(&b.id).await {
        Ok(list) => page(
            StatusCode::OK,
            settings_pages::services(&b, &list, &owner.session.csrf),
        ),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct ServiceForm {
    csrf: String,
    /// Only when adding.
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    minutes: String,
    price: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    active: Option<String>,
}

impl ServiceForm {
    fn minutes(&self) -> Result<Minutes, String> {
        self.minutes
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|m| Minutes::new(m).ok())
            .ok_or_else(|| "Durata este între 5 și 480 de minute, din 5 în 5.".to_owned())
    }
}

/// The answer to a service the store would not write.
fn service_refused(e: StoreError) -> Response {
    match e {
        StoreError::InvalidService(ServiceError::Name) => bad(&format!(
            "Scrieți numele serviciului (cel mult {MAX_SERVICE_NAME} de caractere)."
        )),
        StoreError::InvalidService(_) => bad(
            "Serviciul nu poate fi salvat: o programare, cu tot cu curățenia de după, durează cel mult 8 ore (mai puțin într-un salon cu limită zilnică).",
        ),
        e => unavailable(e),
    }
}

/// Adds a service, bookable at once (by callers too).
pub(super) async fn add_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ServiceForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = form.name.trim();
    let (duration, price) = match (form.minutes(), forms::price(&form.price)) {
        (Ok(d), Ok(p)) => (d, p),
        (Err(text), _) | (_, Err(text)) => return bad(&text),
    };
    let existing = match state.store.services(&b.id).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let taken: Vec<ServiceId> = existing.iter().map(|s| s.id.clone()).collect();
    let Some(id) = forms::service_id(name, &taken) else {
        return bad("Numele serviciului are nevoie de litere sau cifre.");
    };
    let category = match form.category.trim() {
        "" => salon_domain::text::fold(name),
        c => c.chars().take(60).collect(),
    };
    let service = Service {
        id,
        name: name.to_owned(),
        category,
        duration,
        price,
        active: true,
        processing: Vec::new(),
        buffer: None,
    };
    match state.store.put_service(&b.id, &service).await {
        Ok(()) => Redirect::to("/console/services").into_response(),
        Err(e) => service_refused(e),
    }
}

/// Changes a service's price, duration, or whether it is offered. Its segments (processing
/// time, clean-up) keep their shape; a duration they no longer fit is refused.
pub(super) async fn change_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ServiceForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let list = match state.store.services(&b.id).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let Some(mut service) = list.into_iter().find(|s| s.id.as_str() == id) else {
        return page(
            StatusCode::NOT_FOUND,
            pages::message("Serviciul nu există."),
        );
    };
    let (duration, price) = match (form.minutes(), forms::price(&form.price)) {
        (Ok(d), Ok(p)) => (d, p),
        (Err(text), _) | (_, Err(text)) => return bad(&text),
    };
    service.duration = duration;
    service.price = price;
    service.active = form.active.is_some();
    if service.validate().is_err() {
        return bad("Durata nu mai cuprinde timpul de procesare al serviciului.");
    }
    match state.store.put_service(&b.id, &service).await {
        Ok(()) => Redirect::to("/console/services").into_response(),
        Err(e) => service_refused(e),
    }
}

/// The stylists, each with their hours, services and absences.
pub(super) async fn staff(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let services = match state.store.services(&b.id).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    page(
        StatusCode::OK,
        settings_pages::staff(&b, &services, today, &owner.session.csrf),
    )
}

/// The answer to a profile edit the domain or the store refused.
fn edit_refused(e: StoreError) -> Response {
    match e {
        StoreError::InvalidBusiness(ConfigError::UnknownStaff(_)) => page(
            StatusCode::NOT_FOUND,
            pages::message("Stilistul nu există."),
        ),
        StoreError::InvalidBusiness(ConfigError::StaffHours { .. }) => bad(
            "Programul unui stilist trebuie să fie în interiorul programului salonului, în fiecare zi.",
        ),
        StoreError::InvalidBusiness(ConfigError::ClosureReason) => {
            bad("Scrieți motivul (cel mult 100 de caractere).")
        }
        StoreError::InvalidBusiness(ConfigError::NoStaff) => {
            bad("Salonul are nevoie de cel puțin un stilist.")
        }
        StoreError::InvalidBusiness(ConfigError::StaffName) => bad(&format!(
            "Scrieți numele stilistului (cel mult {} de caractere).",
            salon_domain::business::MAX_STAFF_NAME
        )),
        StoreError::InvalidBusiness(ConfigError::DuplicateStaff(_)) => {
            bad("Un stilist cu acest nume există deja: reîncărcați pagina.")
        }
        StoreError::InvalidBusiness(_) => bad("Modificarea nu respectă regulile salonului."),
        e => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct NewStylist {
    csrf: String,
    name: String,
}

/// Adds a stylist, who works the salon's hours and does every service until changed.
pub(super) async fn add_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<NewStylist>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let taken: Vec<StaffId> = b.staff.iter().map(|s| s.id.clone()).collect();
    let Some(id) = forms::staff_id(&form.name, &taken) else {
        return bad("Numele stilistului are nevoie de litere.");
    };
    let edited = state
        .store
        .edit_business(&b.id, |b| b.add_staff(id.clone(), &form.name))
        .await;
    match edited {
        Ok(_) => Redirect::to(&format!("/console/staff#stilist-{id}")).into_response(),
        Err(e) => edit_refused(e),
    }
}

/// Sets a stylist's weekly hours (or the salon's), the services they do, and whether they take
/// bookings.
pub(super) async fn staff_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    let (_, b) = match changing(&state, &headers, csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return page(
            StatusCode::NOT_FOUND,
            pages::message("Stilistul nu există."),
        );
    };
    let own = match form.get("hours").map(String::as_str) {
        Some("salon") => None,
        _ => match forms::week(&form) {
            Ok(w) => Some(w),
            Err(text) => return bad(&text),
        },
    };
    let active = form.contains_key("active");
    let all: Vec<ServiceId> = match state.store.services(&b.id).await {
        Ok(list) => list.into_iter().map(|s| s.id).collect(),
        Err(e) => return unavailable(e),
    };
    let does = forms::services_done(&form, &all);
    if does.as_ref().is_some_and(|d| d.is_empty()) {
        return bad("Bifați cel puțin un serviciu pe care îl face stilistul.");
    }
    let edited = state
        .store
        .edit_business(&b.id, |b| {
            let s = b.staff_mut(&staff)?;
            s.hours = own.clone();
            s.active = active;
            s.services = does.clone();
            Ok(())
        })
        .await;
    match edited {
        Ok(_) => Redirect::to(&format!("/console/staff#stilist-{staff}")).into_response(),
        Err(e) => edit_refused(e),
    }
}

#[derive(Deserialize)]
pub(super) struct AbsenceForm {
    csrf: String,
    from: String,
    to: String,
    #[serde(default)]
    reason: String,
}

/// Adds an absence (a holiday, a sick day); what is booked those days stays, listed.
pub(super) async fn add_absence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<AbsenceForm>,
) -> Response {
    let (owner, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let not_found = || {
        page(
            StatusCode::NOT_FOUND,
            pages::message("Stilistul nu există."),
        )
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return not_found();
    };
    let (Ok(from), Ok(to)) = (
        form.from.trim().parse::<Date>(),
        form.to.trim().parse::<Date>(),
    ) else {
        return bad("Datele nu sunt valide.");
    };
    let Ok(absence) = Absence::new(from, to, form.reason) else {
        return bad(
            "Absența se termină în ziua în care începe sau după; motivul are cel mult 200 de caractere.",
        );
    };
    match state.store.add_absence(&b.id, &staff, absence).await {
        Ok(booked) if booked.is_empty() => {
            Redirect::to(&format!("/console/staff#stilist-{staff}")).into_response()
        }
        // Those appointments stay booked: the owner decides, so they are shown.
        Ok(booked) => page(
            StatusCode::OK,
            settings_pages::booked_while_away(&b, &booked, &owner.session.csrf),
        ),
        Err(AbsenceError::UnknownStaff) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct AbsenceDays {
    csrf: String,
    from: String,
    to: String,
}

/// Removes an absence (a holiday cancelled, a sick day that ended early): the stylist can be
/// booked those days again.
pub(super) async fn remove_absence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<AbsenceDays>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(staff) = StaffId::parse(&id) else {
        return page(
            StatusCode::NOT_FOUND,
            pages::message("Stilistul nu există."),
        );
    };
    let (Ok(from), Ok(to)) = (form.from.parse::<Date>(), form.to.parse::<Date>()) else {
        return bad("Datele nu sunt valide.");
    };
    let edited = state
        .store
        .edit_business(&b.id, |b| {
            b.staff_mut(&staff)?
                .absences
                .retain(|a| (a.from(), a.to()) != (from, to));
            Ok(())
        })
        .await;
    match edited {
        Ok(_) => Redirect::to(&format!("/console/staff#stilist-{staff}")).into_response(),
        Err(e) => edit_refused(e),
    }
}

/// The salon's hours, closed days and public holidays.
pub(super) async fn schedule(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (owner, b) = match viewing(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let today = state
        .clock
        .now()
        .to_zoned_datetime(b.time_zone.tz().clone())
        .date();
    page(
        StatusCode::OK,
        settings_pages::schedule(&b, today, &owner.session.csrf),
    )
}

/// Sets the salon's weekly hours (each stylist's own hours must still fit inside).
pub(super) async fn salon_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    let (_, b) = match changing(&state, &headers, csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let week = match forms::week(&form) {
        Ok(w) => w,
        Err(text) => return bad(&text),
    };
    match state
        .store
        .edit_business(&b.id, |b| {
            b.hours = week.clone();
            Ok(())
        })
        .await
    {
        Ok(_) => Redirect::to("/console/schedule").into_response(),
        Err(e) => edit_refused(e),
    }
}

#[derive(Deserialize)]
pub(super) struct ClosureForm {
    csrf: String,
    date: String,
    reason: String,
}

/// Closes the salon on a date.
pub(super) async fn close_day(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ClosureForm>,
) -> Response {
    let (_, b) = match changing(&state, &headers, &form.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(date) = form.date.trim().parse::<Date>() else {
        return bad("Data nu este validă.");
    };
    match state
        .store
        .edit_business(&b.id, |b| b.close_on(date, &form.reason))
        .await
    {
        Ok(_) => Redirect::to("/console/schedule").into_response(),
        Err(e) => edit_refused(e),
    }
}

/// Opens a date: a day the salon closed, or a public holiday it works after all.
pub(super) async fn open_day(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(date): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    edit_date(&state, &headers, form.token(), &date, Business::open_on).await
}

/// Closes a public holiday opened earlier.
pub(super) async fn close_holiday(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(date): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    edit_date(
        &state,
        &headers,
        form.token(),
        &date,
        Business::close_holiday,
    )
    .await
}

/// Changes the salon's calendar on the date of a path, back to the schedule page.
async fn edit_date(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    date: &str,
    edit: fn(&mut Business, Date),
) -> Response {
    let (_, b) = match changing(state, headers, csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Ok(date) = date.parse::<Date>() else {
        return bad("Data nu este validă.");
    };
    match state
        .store
        .edit_business(&b.id, |b| {
            edit(b, date);
            Ok(())
        })
        .await
    {
        Ok(_) => Redirect::to("/console/schedule").into_response(),
        Err(e) => edit_refused(e),
    }
}
