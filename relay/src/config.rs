//! The relay's configuration, read once from the environment, failing fast with the name.

use std::sync::Arc;
use std::time::Duration;

pub use salon_wire::settings::{ConfigError, Secret};
use salon_wire::settings::{required, secret, url};

use salon_wire::clock::{Clock, OffsetClock, SystemClock};

use crate::audio::AudioMode;
use crate::turn::TurnDetection;

/// The relay's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The relay's public `wss://` base; the URL Twilio signs the upgrade against is `{this}/twilio/stream`.
    pub relay_public_url: String,
    /// Whether the upgrade must carry Twilio's signature (it must, unless explicitly off).
    pub upgrade_signature: UpgradeSignature,
    pub relay_secret: Secret,
    pub stream_token_secret: Secret,
    /// The functions' base URL (`https://…execute-api…`).
    pub functions_url: String,
    pub openai_api_key: Secret,
    /// `wss://api.openai.com/v1/realtime` unless pointed elsewhere (the double in tests).
    pub openai_url: String,
    /// The Realtime model (`OPENAI_REALTIME_MODEL`, default [`DEFAULT_MODEL`]): the relay alone
    /// owns it.
    pub model: String,
    /// The voice (`OPENAI_VOICE`, default [`DEFAULT_VOICE`]).
    pub voice: String,
    pub audio_mode: AudioMode,
    /// Every "now" of the relay (stream token expiry, request signatures): the system's clock,
    /// or with `CLOCK_START` one that starts at that instant and runs on (local rehearsals only,
    /// beside functions started the same way).
    pub clock: ClockHandle,
    /// How the end of the caller's turn is detected (`TURN_DETECTION`, `VAD_EAGERNESS`,
    /// `VAD_SILENCE_MS`).
    pub turn_detection: TurnDetection,
    /// Calls served at once; more are refused so Twilio plays the fallback.
    pub max_calls: usize,
    /// Streams upgraded but not yet admitted (no valid `start` yet); past this the oldest is
    /// dropped, so idle sockets can never hold a call's place.
    pub max_pending_streams: usize,
    /// How long an upgraded stream may take to send a valid `start` (Twilio sends it at once).
    pub start_limit: Duration,
    /// How long one write to Twilio or to OpenAI may take; a peer that stops reading ends the call.
    pub write_limit: Duration,
    /// How long a client may take to send a request's headers (or idle between requests).
    pub header_read_limit: Duration,
    /// Caller silence before the agent checks in ("Mai sunteți acolo?"), then says goodbye.
    pub silence: Duration,
    /// The longest call; then the agent ends it politely.
    pub max_call: Duration,
    /// How long calls in progress may go on after SIGTERM.
    pub drain: Duration,
    /// How long one tool call may take before it is retried or reported as failed.
    pub tool_timeout: Duration,
    /// How long the relay keeps trying to reach OpenAI, at call start or after a drop.
    pub connect_budget: Duration,
}

/// Whether the WebSocket upgrade must carry a valid `X-Twilio-Signature`.
#[derive(Debug, Clone)]
pub enum UpgradeSignature {
    /// Checked with the account's auth token; an upgrade without a valid one gets 403.
    Required(Secret),
    /// Not checked (`TWILIO_SIGNATURE_CHECK=off`): local runs only, logged loudly at start.
    Off,
}

/// The relay's clock, shared by every call.
#[derive(Clone)]
pub struct ClockHandle(pub Arc<dyn Clock>);

impl ClockHandle {
    /// Returns the current instant.
    pub fn now(&self) -> jiff::Timestamp {
        self.0.now()
    }

    /// Reads `CLOCK_START`: absent, the system clock.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match get("CLOCK_START") {
            None => Ok(Self::default()),
            Some(v) => v
                .trim()
                .parse::<jiff::Timestamp>()
                .map(|at| Self(Arc::new(OffsetClock::starting_at(at))))
                .map_err(|_| ConfigError::Invalid {
                    name: "CLOCK_START",
                    why: "expected an RFC 3339 instant such as 2027-10-31T08:00:00+02:00".into(),
                }),
        }
    }
}

impl Default for ClockHandle {
    fn default() -> Self {
        Self(Arc::new(SystemClock))
    }
}

impl std::fmt::Debug for ClockHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// The default voice: one of the Realtime voices that speaks Romanian well.
pub const DEFAULT_VOICE: &str = "marin";
/// The default Realtime model: generally available, not scheduled for shutdown.
pub const DEFAULT_MODEL: &str = "gpt-realtime";
/// How long calls in progress may go on after SIGTERM before they are bid goodbye. Short
/// enough that the drain and its goodbyes fit the 5-minute stop limit of Fly's shared-CPU
/// machines; a platform's limit must exceed it plus [`crate::server::GOODBYE_GRACE`].
pub const DEFAULT_DRAIN_SECS: u64 = 270;
/// The GA Realtime endpoint.
pub const DEFAULT_OPENAI_URL: &str = "wss://api.openai.com/v1/realtime";

fn count(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: usize,
) -> Result<usize, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid {
                name,
                why: format!("expected a positive number, got {v:?}"),
            }),
    }
}

/// Reads `TWILIO_SIGNATURE_CHECK` (on unless `off`) and, when on, `TWILIO_AUTH_TOKEN`.
fn upgrade_signature(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<UpgradeSignature, ConfigError> {
    match get("TWILIO_SIGNATURE_CHECK").as_deref().map(str::trim) {
        None | Some("on") => Ok(UpgradeSignature::Required(Secret::new(required(
            get,
            "TWILIO_AUTH_TOKEN",
        )?))),
        Some("off") => Ok(UpgradeSignature::Off),
        Some(other) => Err(ConfigError::Invalid {
            name: "TWILIO_SIGNATURE_CHECK",
            why: format!("expected on or off, got {other:?}"),
        }),
    }
}

fn secs(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match get(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .ok_or(ConfigError::Invalid {
                name,
                why: format!("expected whole seconds, got {v:?}"),
            }),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let audio_mode = match get("AUDIO_MODE") {
            None => AudioMode::Pcm24,
            Some(m) => AudioMode::parse(&m).map_err(|e| ConfigError::Invalid {
                name: "AUDIO_MODE",
                why: e.to_string(),
            })?,
        };
        Ok(Self {
            relay_public_url: url(
                "RELAY_PUBLIC_URL",
                &required(get, "RELAY_PUBLIC_URL")?,
                &["wss", "ws"],
            )?,
            relay_secret: secret(get, "RELAY_SECRET")?,
            stream_token_secret: secret(get, "STREAM_TOKEN_SECRET")?,
            functions_url: url(
                "FUNCTIONS_URL",
                &required(get, "FUNCTIONS_URL")?,
                &["https", "http"],
            )?,
            openai_api_key: Secret::new(required(get, "OPENAI_API_KEY")?),
            openai_url: url(
                "OPENAI_REALTIME_URL",
                &get("OPENAI_REALTIME_URL").unwrap_or_else(|| DEFAULT_OPENAI_URL.into()),
                &["wss", "ws"],
            )?,
            upgrade_signature: upgrade_signature(get)?,
            model: get("OPENAI_REALTIME_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()),
            voice: get("OPENAI_VOICE").unwrap_or_else(|| DEFAULT_VOICE.into()),
            audio_mode,
            turn_detection: TurnDetection::from_lookup(get)?,
            clock: ClockHandle::from_lookup(get)?,
            max_calls: count(get, "MAX_CALLS", 100)?,
            max_pending_streams: count(get, "MAX_PENDING_STREAMS", 32)?,
            start_limit: Duration::from_secs(5),
            write_limit: Duration::from_secs(5),
            header_read_limit: Duration::from_secs(10),
            silence: secs(get, "SILENCE_SECS", 10)?,
            max_call: secs(get, "MAX_CALL_SECS", 600)?,
            drain: secs(get, "DRAIN_SECS", DEFAULT_DRAIN_SECS)?,
            tool_timeout: secs(get, "TOOL_TIMEOUT_SECS", 5)?,
            connect_budget: Duration::from_secs(3),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("RELAY_PUBLIC_URL", "wss://relay.example.com/"),
        ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
        ("RELAY_SECRET", "relay-secret-0123456789abcdef"),
        ("STREAM_TOKEN_SECRET", "stream-secret-0123456789abcdef"),
        ("FUNCTIONS_URL", "https://api.example.com"),
        ("OPENAI_API_KEY", "sk-test"),
    ];

    #[test]
    fn defaults_are_the_designs() {
        let c = Config::from_lookup(&lookup(GOOD)).unwrap();
        assert_eq!(c.relay_public_url, "wss://relay.example.com");
        assert_eq!(c.openai_url, DEFAULT_OPENAI_URL);
        assert_eq!(c.audio_mode, AudioMode::Pcm24);
        assert_eq!(c.max_call, Duration::from_secs(600));
        assert_eq!(
            (c.model.as_str(), c.voice.as_str()),
            (DEFAULT_MODEL, DEFAULT_VOICE)
        );
        assert_eq!((c.max_calls, c.max_pending_streams), (100, 32));
        assert!(matches!(c.upgrade_signature, UpgradeSignature::Required(_)));
        assert!(!format!("{c:?}").contains("sk-test"), "secrets never print");
        assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
    }

    /// `GOOD` without one variable, and with the extra pairs.
    fn with(
        without: &str,
        extra: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        GOOD.iter()
            .filter(|(k, _)| *k != without)
            .chain(extra)
            .copied()
            .collect()
    }

    fn read(pairs: Vec<(&'static str, &'static str)>) -> Result<Config, ConfigError> {
        Config::from_lookup(&move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_upgrade_signature_is_required_unless_explicitly_off() {
        let e = read(with("TWILIO_AUTH_TOKEN", &[])).unwrap_err();
        assert_eq!(e.to_string(), "TWILIO_AUTH_TOKEN is not set");
        let e = read(with(
            "TWILIO_AUTH_TOKEN",
            &[("TWILIO_SIGNATURE_CHECK", "on")],
        ))
        .unwrap_err();
        assert_eq!(e.to_string(), "TWILIO_AUTH_TOKEN is not set");
        let off = read(with(
            "TWILIO_AUTH_TOKEN",
            &[("TWILIO_SIGNATURE_CHECK", "off")],
        ))
        .unwrap();
        assert!(matches!(off.upgrade_signature, UpgradeSignature::Off));
        let e = read(with("", &[("TWILIO_SIGNATURE_CHECK", "no")])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("TWILIO_SIGNATURE_CHECK is invalid")
        );
    }

    #[test]
    fn the_pending_cap_is_read_and_checked() {
        assert_eq!(
            read(with("", &[("MAX_PENDING_STREAMS", "8")]))
                .unwrap()
                .max_pending_streams,
            8
        );
        let e = read(with("", &[("MAX_PENDING_STREAMS", "0")])).unwrap_err();
        assert!(e.to_string().starts_with("MAX_PENDING_STREAMS is invalid"));
    }

    #[test]
    fn errors_name_the_variable() {
        let e = Config::from_lookup(&lookup(&[("RELAY_PUBLIC_URL", "wss://r")])).unwrap_err();
        assert_eq!(e.to_string(), "RELAY_SECRET is not set");
        let bad: &'static [(&str, &str)] = &[
            ("RELAY_PUBLIC_URL", "wss://relay.example.com"),
            ("RELAY_SECRET", "relay-secret-0123456789abcdef"),
            ("STREAM_TOKEN_SECRET", "stream-secret-0123456789abcdef"),
            ("FUNCTIONS_URL", "https://api.example.com"),
            ("OPENAI_API_KEY", "sk-test"),
            ("AUDIO_MODE", "opus"),
        ];
        assert!(
            Config::from_lookup(&lookup(bad))
                .unwrap_err()
                .to_string()
                .starts_with("AUDIO_MODE is invalid")
        );
    }
}
