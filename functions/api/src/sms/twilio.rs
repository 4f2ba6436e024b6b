//! Twilio's Messages API: one `POST` per text, form-encoded, with HTTP Basic credentials (the
//! request the `twilio` package makes for `client.messages.create`).

use std::time::Duration;

use salon_domain::PhoneE164;
use salon_store::SmsOutcome;
use serde::Deserialize;

use crate::config::{ConfigError, Env, Secret};

/// How long a text's request may take before its outcome is unknown.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a text refused for now waits before it is tried again.
const RETRY_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// Where texts come from: a Twilio number, or a Messaging Service (`MG…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsFrom {
    Number(PhoneE164),
    Service(String),
}

/// What sending texts needs: `TWILIO_ACCOUNT_SID`, `SMS_FROM`, the credentials
/// (`TWILIO_API_KEY_SID` and `TWILIO_API_KEY_SECRET`, or else the account SID and
/// `TWILIO_AUTH_TOKEN`), and `TWILIO_API_URL` (Twilio's own by default; a test double).
#[derive(Debug, Clone)]
pub struct SmsSettings {
    pub api_url: String,
    pub account_sid: String,
    pub username: String,
    pub password: Secret,
    pub from: SmsFrom,
}

impl SmsSettings {
    /// Reads the settings; `None` when texts are not configured (no `SMS_FROM`).
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, ConfigError> {
        let Some(from) = env.var("SMS_FROM") else {
            return Ok(None);
        };
        let from = match from.trim() {
            s if s.starts_with("MG") && s.len() == 34 => SmsFrom::Service(s.to_owned()),
            s => SmsFrom::Number(PhoneE164::parse(s).map_err(|_| ConfigError::Invalid {
                name: "SMS_FROM",
                why: "expected a number in E.164 (+40…) or a Messaging Service SID (MG…)".into(),
            })?),
        };
        let account_sid = env
            .var("TWILIO_ACCOUNT_SID")
            .ok_or(ConfigError::Missing("TWILIO_ACCOUNT_SID"))?;
        if !(account_sid.starts_with("AC") && account_sid.len() == 34) {
            return Err(ConfigError::Invalid {
                name: "TWILIO_ACCOUNT_SID",
                why: "expected AC followed by 32 characters".into(),
            });
        }
        let (username, password) = match env.var("TWILIO_API_KEY_SID") {
            Some(key) => (
                key,
                env.var("TWILIO_API_KEY_SECRET")
                    .ok_or(ConfigError::Missing("TWILIO_API_KEY_SECRET"))?,
            ),
            None => (
                account_sid.clone(),
                env.var("TWILIO_AUTH_TOKEN")
                    .ok_or(ConfigError::Missing("TWILIO_AUTH_TOKEN"))?,
            ),
        };
        let api_url = match env.var("TWILIO_API_URL") {
            Some(u) => salon_wire::settings::url("TWILIO_API_URL", &u, &["https", "http"])?,
            None => "https://api.twilio.com".into(),
        };
        Ok(Some(Self {
            api_url,
            account_sid,
            username,
            password: Secret::new(password),
            from,
        }))
    }
}

/// Twilio's error body.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u32>,
    message: Option<String>,
}

/// A sender of texts through Twilio.
#[derive(Clone)]
pub struct MessagesApi {
    http: reqwest::Client,
    settings: SmsSettings,
}

impl MessagesApi {
    pub fn new(settings: SmsSettings) -> Self {
        Self::with_timeout(settings, REQUEST_TIMEOUT)
    }

    /// With another request timeout (tests that stall the provider).
    pub fn with_timeout(settings: SmsSettings, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("a client with a timeout builds");
        Self { http, settings }
    }

    /// Hands `body` to Twilio for `to`; says what became of it.
    pub async fn send(&self, to: &PhoneE164, body: &str) -> SmsOutcome {
        let s = &self.settings;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            s.api_url, s.account_sid
        );
        let from = match &s.from {
            SmsFrom::Number(n) => ("From", n.as_str().to_owned()),
            SmsFrom::Service(sid) => ("MessagingServiceSid", sid.clone()),
        };
        let form = [
            ("To", to.as_str().to_owned()),
            from,
            ("Body", body.to_owned()),
        ];
        let sent = self
            .http
            .post(url)
            .basic_auth(&s.username, Some(s.password.expose()))
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            // Never reached Twilio: safe to try again.
            Err(e) if e.is_connect() => {
                return SmsOutcome::Retry {
                    reason: "Twilio could not be reached".into(),
                    after: RETRY_AFTER,
                };
            }
            // Sent, and no answer: it may have gone out.
            Err(_) => return SmsOutcome::Unknown,
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            let sid = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["sid"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return SmsOutcome::Sent { sid };
        }
        let error: Option<TwilioError> = serde_json::from_str(&text).ok();
        let code = error.as_ref().and_then(|e| e.code);
        let reason = format!(
            "HTTP {}: {}",
            status.as_u16(),
            error
                .and_then(|e| e.message)
                .unwrap_or_else(|| "no message".into())
        );
        match status.as_u16() {
            // A rate limit, Twilio unavailable, or credentials an operator can fix: refused
            // before it was taken, so safe to try again.
            429 | 503 | 401 | 403 => SmsOutcome::Retry {
                reason,
                after: RETRY_AFTER,
            },
            // Any other server error may come after the text was taken: never sent twice.
            500.. => SmsOutcome::Unknown,
            // A number that replied STOP (21610), one that cannot take texts: for good.
            _ => SmsOutcome::Refused { code, reason },
        }
    }
}
