//! The salon owner's console: accounts (one login, one salon), sessions, and the slowdown of
//! failed sign-ins. The password itself never comes here: only its hash (a PHC string made by
//! the functions), so nothing in the domain or the store can reveal it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ids::BusinessId;

/// A console login: an e-mail address as the owner types it, compared without case or the
/// spaces around it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

/// What is not a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a login is an e-mail address of at most 254 characters")]
pub struct LoginError;

impl Login {
    pub fn parse(s: &str) -> Result<Self, LoginError> {
        let s = s.trim().to_lowercase();
        let ok = (3..=254).contains(&s.chars().count())
            && s.split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(LoginError);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Login {
    type Error = LoginError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Login> for String {
    fn from(l: Login) -> Self {
        l.0
    }
}

impl std::fmt::Display for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An owner's account: it signs in to one salon's console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerAccount {
    pub login: Login,
    pub business: BusinessId,
    /// The password's hash, as a PHC string (argon2id).
    pub password_hash: String,
    pub created: Timestamp,
}

/// A signed-in owner, stored under a hash of its cookie's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    pub business: BusinessId,
    pub login: Login,
    /// The token every form of the session carries back (cross-site requests lack it).
    pub csrf: String,
    pub expires: Timestamp,
}

/// How long a session lasts: a working day.
pub const SESSION_HOURS: i64 = 12;

/// Failed sign-ins of one login, and the wait they impose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFailures {
    pub count: u32,
    pub last: Option<Timestamp>,
}

/// Failures allowed before each further attempt must wait.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait between attempts.
pub const MAX_WAIT: SignedDuration = SignedDuration::from_mins(15);

impl SignInFailures {
    /// How long an attempt at `now` must still wait: nothing for the first few failures, then
    /// a wait doubling from a second with each further one, at most [`MAX_WAIT`].
    pub fn wait(&self, now: Timestamp) -> Option<SignedDuration> {
        let over = self.count.checked_sub(FREE_FAILURES)?;
        let delay = SignedDuration::from_secs(1i64 << over.min(10)).min(MAX_WAIT);
        let until = self.last?.checked_add(delay).ok()?;
        (now < until).then(|| until.duration_since(now))
    }

    /// With one more failure at `now`.
    pub fn failed(&self, now: Timestamp) -> Self {
        Self {
            count: self.count.saturating_add(1),
            last: Some(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_an_address_compared_without_case() {
        let l = Login::parse("  Ana@Salon.RO ").unwrap();
        assert_eq!(l.as_str(), "ana@salon.ro");
        for bad in [
            "",
            "ana",
            "@salon.ro",
            "ana@salon",
            "a na@salon.ro",
            "ana@sa\u{7}lon.ro",
        ] {
            assert!(Login::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn failures_past_the_first_five_make_each_attempt_wait_longer() {
        let t0: Timestamp = "2026-12-14T08:00:00Z".parse().unwrap();
        let mut f = SignInFailures::default();
        for _ in 1..FREE_FAILURES {
            f = f.failed(t0);
            assert_eq!(f.wait(t0), None);
        }
        // The fifth: a second before the next attempt; the sixth: two.
        f = f.failed(t0);
        assert_eq!(f.wait(t0), Some(SignedDuration::from_secs(1)));
        f = f.failed(t0);
        assert_eq!(f.wait(t0), Some(SignedDuration::from_secs(2)));
        assert_eq!(f.wait(t0 + SignedDuration::from_secs(2)), None);
        for _ in 0..20 {
            f = f.failed(t0);
        }
        assert_eq!(f.wait(t0), Some(MAX_WAIT));
    }
}
