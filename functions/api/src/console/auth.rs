//! Who is signed in: passwords (argon2id), random tokens, cookies, the session behind one,
//! and the CSRF checks.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use salon_domain::owner::ConsoleSession;
use salon_store::StoreError;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ConsoleSettings;
use crate::app::AppState;

pub(super) const SESSION_COOKIE: &str = "salon_session";
pub(super) const CSRF_COOKIE: &str = "salon_csrf";

/// Hashes a password for storage: argon2id with a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored hash, off the async threads (argon2 takes tens of
/// milliseconds on purpose). Without a hash (no such login), a dummy one is checked, so the
/// answer takes as long either way.
pub(super) async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| hash_password("no such account").unwrap_or_default())
                .clone()
        });
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// 256 random bits, as hex: session ids and CSRF tokens.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the store keeps a session under: its id's SHA-256, so the table never holds a live
/// cookie.
pub(super) fn hash(id: &str) -> String {
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sets a console cookie for `max_age` seconds (0 deletes it).
pub(super) fn set_cookie(
    r: &mut Response,
    name: &str,
    value: &str,
    max_age: i64,
    settings: &ConsoleSettings,
) {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A cookie's value from the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether the sign-in form carries back the token its cookie holds.
pub(super) fn csrf_cookie_matches(headers: &HeaderMap, form: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| same(c, form))
}

/// The signed-in owner of a request.
pub(super) struct Owner {
    pub(super) session: ConsoleSession,
    pub(super) session_hash: String,
}

impl Owner {
    /// The owner whose session cookie the request carries, if it is a live session.
    pub(super) async fn from_headers(
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<Self>, StoreError> {
        let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let session_hash = hash(id);
        let now = state.clock.now();
        Ok(state
            .store
            .console_session(&session_hash, now)
            .await?
            .map(|session| Self {
                session,
                session_hash,
            }))
    }

    /// Whether a form carries back the session's CSRF token.
    pub(super) fn csrf_matches(&self, form: &str) -> bool {
        same(&self.session.csrf, form)
    }
}
