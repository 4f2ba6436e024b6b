//! The salon owner's console, served as HTML by the same `Router`: sign-in with the owner's own
//! account (argon2id password hashes), a session cookie (`HttpOnly`, `SameSite=Strict`, and
//! `Secure` outside local runs) stored under its hash, a CSRF token on every form, failed
//! sign-ins slowed down (counted in the store: the functions are stateless), sign-out, and the
//! salon's book for a day. An owner sees their own salon only: every page reads the salon from
//! the session, never from the request.

mod analytics;
mod auth;
mod blocks;
mod book;
mod calls;
mod charts;
mod clients;
mod forms;
mod messages;
mod pages;
mod settings;
mod settings_pages;
mod week;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use salon_domain::owner::{ConsoleSession, Login, SESSION_HOURS};
use serde::Deserialize;

use crate::app::AppState;
use crate::config::{ConfigError, Env};

pub use auth::hash_password;

/// The console's settings (present: the console is served).
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// Cookies only over HTTPS: off for a local run over plain HTTP only.
    pub secure_cookies: bool,
    /// OpenAI's prices, for the cost estimates (`OPENAI_PRICES`).
    pub prices: salon_domain::analytics::Prices,
}

impl ConsoleSettings {
    /// Reads `CONSOLE` (`on` serves it), `CONSOLE_SECURE_COOKIES` (`off` for local runs over
    /// plain HTTP; on by default) and `OPENAI_PRICES`.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        match env.var("CONSOLE").as_deref().map(str::trim) {
            None | Some("" | "off") => return Ok(None),
            Some("on") => {}
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "CONSOLE",
                    why: "expected on or off".into(),
                });
            }
        }
        let secure_cookies = match env.var("CONSOLE_SECURE_COOKIES").as_deref().map(str::trim) {
            None | Some("" | "on") => true,
            Some("off") => false,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "CONSOLE_SECURE_COOKIES",
                    why: "expected on or off".into(),
                });
            }
        };
        Ok(Some(Self {
            secure_cookies,
            prices: crate::config::openai_prices(env)?,
        }))
    }
}

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(day))
        .route("/console/signin", get(signin_page).post(signin))
        .route("/console/signout", post(signout))
        .route("/console/appointments", post(book::add))
        .route("/console/appointments/{id}/cancel", post(book::cancel))
        .route("/console/appointments/{id}/move", post(book::move_to))
        .route("/console/messages", get(messages::list))
        .route("/console/calls/{sid}", get(calls::show))
        .route("/console/week", get(week::show))
        .route("/console/messages/{id}/done", post(messages::done))
        .route("/console/clients", get(clients::list))
        .route("/console/clients/{phone}", get(clients::history))
        .route("/console/analytics", get(analytics::show))
        .route("/console/analytics.json", get(analytics::json))
        .route("/console/blocks", post(blocks::add))
        .route("/console/blocks/{id}/remove", post(blocks::remove))
        .route(
            "/console/services",
            get(settings::services).post(settings::add_service),
        )
        .route("/console/services/{id}", post(settings::change_service))
        .route(
            "/console/staff",
            get(settings::staff).post(settings::add_staff),
        )
        .route("/console/staff/{id}/hours", post(settings::staff_hours))
        .route("/console/staff/{id}/absences", post(settings::add_absence))
        .route(
            "/console/staff/{id}/absences/remove",
            post(settings::remove_absence),
        )
        .route("/console/schedule", get(settings::schedule))
        .route("/console/schedule/hours", post(settings::salon_hours))
        .route("/console/schedule/days", post(settings::close_day))
        .route(
            "/console/schedule/days/{date}/open",
            post(settings::open_day),
        )
        .route(
            "/console/schedule/holidays/{date}/close",
            post(settings::close_holiday),
        )
}

/// Headers every console page carries: no caching, no framing, nothing loaded from elsewhere.
fn page(status: StatusCode, html: maud::Markup) -> Response {
    let mut r = (status, Html(html.into_string())).into_response();
    let h = r.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

fn settings(state: &AppState) -> Arc<ConsoleSettings> {
    state
        .console
        .clone()
        .expect("the console's routes are mounted only with its settings")
}

/// The sign-in form, with a fresh CSRF token in a cookie and in the form (a cross-site form
/// cannot read the cookie to copy it).
async fn signin_page(State(state): State<AppState>) -> Response {
    let token = auth::random_token();
    let mut r = page(StatusCode::OK, pages::signin(&token, None));
    auth::set_cookie(&mut r, auth::CSRF_COOKIE, &token, 3600, &settings(&state));
    r
}

#[derive(Deserialize)]
struct SignInForm {
    login: String,
    password: String,
    csrf: String,
}

async fn signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let console = settings(&state);
    if !auth::csrf_cookie_matches(&headers, &form.csrf) {
        return forbidden();
    }
    let again = |status: StatusCode, message: &str| {
        let token = auth::random_token();
        let mut r = page(status, pages::signin(&token, Some(message)));
        auth::set_cookie(&mut r, auth::CSRF_COOKIE, &token, 3600, &console);
        r
    };
    let wrong = "Adresa sau parola nu sunt corecte.";
    let Ok(login) = Login::parse(&form.login) else {
        return again(StatusCode::UNAUTHORIZED, wrong);
    };
    let now = state.clock.now();
    let failures = match state.store.signin_failures(&login).await {
        Ok(f) => f,
        Err(e) => return unavailable(e),
    };
    if let Some(wait) = failures.wait(now) {
        let secs = wait.as_secs().max(1);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Prea multe încercări greșite. Încercați din nou peste {secs} secunde."),
        );
    }
    let account = match state.store.owner(&login).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    // An unknown login costs the same hash as a known one: the time tells nothing.
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    if !auth::verify_password(form.password, hash).await {
        if let Err(e) = state.store.record_signin_failure(&login, now).await {
            return unavailable(e);
        }
        return again(StatusCode::UNAUTHORIZED, wrong);
    }
    let Some(account) = account else {
        return again(StatusCode::UNAUTHORIZED, wrong);
    };
    if let Err(e) = state.store.clear_signin_failures(&login).await {
        return unavailable(e);
    }
    let id = auth::random_token();
    let session = ConsoleSession {
        business: account.business,
        login,
        csrf: auth::random_token(),
        expires: now
            .checked_add(jiff::SignedDuration::from_hours(SESSION_HOURS))
            .unwrap_or(now),
    };
    if let Err(e) = state.store.start_session(&auth::hash(&id), &session).await {
        return unavailable(e);
    }
    let mut r = Redirect::to("/console").into_response();
    auth::set_cookie(
        &mut r,
        auth::SESSION_COOKIE,
        &id,
        SESSION_HOURS * 3600,
        &console,
    );
    auth::set_cookie(&mut r, auth::CSRF_COOKIE, "", 0, &console);
    r
}

/// A form that carries nothing but the session's CSRF token (a button).
#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

impl CsrfForm {
    pub(super) fn token(&self) -> &str {
        &self.csrf
    }
}

async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let console = settings(&state);
    let owner = match signed_in(&state, &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    if !owner.csrf_matches(&form.csrf) {
        return forbidden();
    }
    if let Err(e) = state.store.end_session(&owner.session_hash).await {
        return unavailable(e);
    }
    let mut r = Redirect::to("/console/signin").into_response();
    auth::set_cookie(&mut r, auth::SESSION_COOKIE, "", 0, &console);
    r
}

#[derive(Deserialize)]
struct DayQuery {
    date: Option<String>,
}

/// The salon's book for a day (today unless `?date=`), stylist by stylist.
async fn day(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DayQuery>,
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
    let date = match q.date.as_deref().map(str::parse::<Date>) {
        None => today,
        Some(Ok(d)) => d,
        Some(Err(_)) => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::message("Data nu este validă (AAAA-LL-ZZ)."),
            );
        }
    };
    let appointments = match state.store.appointments_on(&b, date).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    let services = match state.store.services(&b.id).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let blocks = match state.store.blocks_on(&b, date).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let form = pages::NewAppointment {
        csrf: &owner.session.csrf,
        key: &auth::random_token(),
        services: &services,
    };
    page(
        StatusCode::OK,
        pages::day(&b, date, &appointments, &blocks, &form),
    )
}

/// The signed-in owner of a request, or the answer that sends the browser to sign in (or says
/// the store failed).
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<auth::Owner, Response> {
    match auth::Owner::from_headers(state, headers).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(Redirect::to("/console/signin").into_response()),
        Err(e) => Err(unavailable(e)),
    }
}

/// The salon of the console session a request carries, and whether `csrf` (a header of a
/// JSON change) is the session's own token: for the owner's JSON API under a session.
pub(crate) async fn session_salon(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<Option<(salon_domain::BusinessId, bool)>, salon_store::StoreError> {
    if state.console.is_none() {
        return Ok(None);
    }
    Ok(auth::Owner::from_headers(state, headers).await?.map(|o| {
        let matches = csrf.is_some_and(|c| o.csrf_matches(c));
        (o.session.business, matches)
    }))
}

/// The signed-in owner and their salon, for a page.
async fn viewing(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(auth::Owner, salon_domain::Business), Response> {
    let owner = signed_in(state, headers).await?;
    with_salon(state, owner).await
}

/// The signed-in owner and their salon, for a change sent with `csrf` (refused unless it is
/// the session's own token).
async fn changing(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(auth::Owner, salon_domain::Business), Response> {
    let owner = signed_in(state, headers).await?;
    if !owner.csrf_matches(csrf) {
        return Err(forbidden());
    }
    with_salon(state, owner).await
}

/// The owner with their salon's profile (read from the session, never from the request).
async fn with_salon(
    state: &AppState,
    owner: auth::Owner,
) -> Result<(auth::Owner, salon_domain::Business), Response> {
    match state.store.business(&owner.session.business).await {
        Ok(Some(b)) => Ok((owner, b)),
        Ok(None) => Err(page(
            StatusCode::NOT_FOUND,
            pages::message("Salonul nu există."),
        )),
        Err(e) => Err(unavailable(e)),
    }
}

/// A refused form: 400 with what to correct.
fn bad(text: &str) -> Response {
    page(StatusCode::BAD_REQUEST, pages::message(text))
}

/// The answer to a change the store refused: not found, unavailable, or the rule that
/// refused it as the agent's own Romanian sentence (409), nothing written.
fn refused(
    b: &salon_domain::Business,
    at: Option<jiff::civil::DateTime>,
    e: salon_store::BookingError,
) -> Response {
    match e {
        salon_store::BookingError::NotFound => page(
            StatusCode::NOT_FOUND,
            pages::message("Programarea nu există."),
        ),
        salon_store::BookingError::Store(e) => unavailable(e),
        e => page(
            StatusCode::CONFLICT,
            pages::message(&crate::tools::refusal(b, at, e)),
        ),
    }
}

fn forbidden() -> Response {
    page(
        StatusCode::FORBIDDEN,
        pages::message(
            "Cererea nu a putut fi verificată. Reîncărcați pagina și încercați din nou.",
        ),
    )
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the store failed in the console");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::message("Sistemul nu răspunde acum. Încercați din nou peste puțin timp."),
    )
}
