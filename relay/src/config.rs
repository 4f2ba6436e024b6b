//! The relay's configuration, read once from the environment, failing fast with the name.

use std::time::Duration;

pub use salon_wire::settings::{ConfigError, Secret};
use salon_wire::settings::{required, secret, url};

use crate::audio::AudioMode;

/// The relay's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The relay's public `wss://` base; the URL Twilio signs the upgrade against is `{this}/twilio/stream`.
    pub relay_public_url: String,
    /// Checks Twilio's signature on the upgrade, when Twilio sends one.
    pub twilio_auth_token: Option<Secret>,
    pub relay_secret: Secret,
    pub stream_token_secret: Secret,
    /// The functions' base URL (`https://…execute-api…`).
    pub functions_url: String,
    pub openai_api_key: Secret,
    /// `wss://api.openai.com/v1/realtime` unless pointed elsewhere (the double in tests).
    pub openai_url: String,
    /// Overrides the model the session config suggests.
    pub model: Option<String>,
    /// Overrides the voice the session config suggests.
    pub voice: Option<String>,
    pub audio_mode: AudioMode,
    /// Calls served at once; more are refused so Twilio plays the fallback.
    pub max_calls: usize,
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

/// The default Realtime model: generally available, not scheduled for shutdown.
pub const DEFAULT_MODEL: &str = "gpt-realtime";
/// The GA Realtime endpoint.
pub const DEFAULT_OPENAI_URL: &str = "wss://api.openai.com/v1/realtime";

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
        let max_calls = match get("MAX_CALLS") {
            None => 100,
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::Invalid {
                    name: "MAX_CALLS",
                    why: format!("expected a positive number, got {v:?}"),
                })?,
        };
        Ok(Self {
            relay_public_url: url(
                "RELAY_PUBLIC_URL",
                &required(get, "RELAY_PUBLIC_URL")?,
                &["wss", "ws"],
            )?,
            twilio_auth_token: get("TWILIO_AUTH_TOKEN").map(Secret::new),
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
            model: get("OPENAI_REALTIME_MODEL"),
            voice: get("OPENAI_VOICE"),
            audio_mode,
            max_calls,
            silence: secs(get, "SILENCE_SECS", 10)?,
            max_call: secs(get, "MAX_CALL_SECS", 600)?,
            drain: secs(get, "DRAIN_SECS", 600)?,
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
        assert!(!format!("{c:?}").contains("sk-test"), "secrets never print");
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
