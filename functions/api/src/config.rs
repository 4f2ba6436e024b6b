//! Configuration, read once from the environment, failing fast with the variable's name.

use std::path::PathBuf;
use std::sync::Arc;

use salon_domain::{Clock, OffsetClock, SystemClock};

use salon_wire::settings::{self, Lookup};
pub use salon_wire::settings::{ConfigError, Secret};

/// Reads variables: the process environment in binaries, a map in tests.
pub trait Env {
    /// Returns a variable's value, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// Adapts an [`Env`] to the shared readers.
fn lookup(env: &dyn Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| env.var(name)
}

fn required(env: &dyn Env, name: &'static str) -> Result<String, ConfigError> {
    settings::required(&lookup(env) as Lookup<'_>, name)
}

fn secret(env: &dyn Env, name: &'static str) -> Result<Secret, ConfigError> {
    settings::secret(&lookup(env) as Lookup<'_>, name)
}

fn url(env: &dyn Env, name: &'static str, schemes: &[&str]) -> Result<String, ConfigError> {
    settings::url(name, &required(env, name)?, schemes)
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// DynamoDB: `STORE=dynamodb`, `TABLE_NAME`, optionally `DYNAMODB_ENDPOINT` (a local server).
    Dynamo {
        table: String,
        endpoint: Option<String>,
    },
    /// The embedded store: `STORE=embedded`, `DATA_DIR` (default `./data`).
    Embedded { dir: PathBuf },
}

impl StoreConfig {
    /// Reads `STORE` and what it needs.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        match env.var("STORE").as_deref() {
            Some("dynamodb") => Ok(Self::Dynamo {
                table: required(env, "TABLE_NAME")?,
                endpoint: env.var("DYNAMODB_ENDPOINT"),
            }),
            Some("embedded") | None => Ok(Self::Embedded {
                dir: env
                    .var("DATA_DIR")
                    .map_or_else(|| PathBuf::from("data"), PathBuf::from),
            }),
            Some(other) => Err(ConfigError::Invalid {
                name: "STORE",
                why: format!("expected dynamodb or embedded, got {other:?}"),
            }),
        }
    }
}

impl StoreConfig {
    /// The store a command-line tool names (`seed`, `owner`): `--store embedded [--data-dir
    /// DIR]` (the default, `./data`) or `--store dynamodb --table NAME [--endpoint-url URL]`.
    pub fn from_flags(flag: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match flag("--store").as_deref() {
            Some("dynamodb") => Ok(Self::Dynamo {
                table: flag("--table").ok_or(ConfigError::Missing("--table"))?,
                endpoint: flag("--endpoint-url"),
            }),
            Some("embedded") | None => Ok(Self::Embedded {
                dir: flag("--data-dir").unwrap_or_else(|| "data".into()).into(),
            }),
            Some(other) => Err(ConfigError::Invalid {
                name: "--store",
                why: format!("expected dynamodb or embedded, got {other:?}"),
            }),
        }
    }
}

/// What the Twilio webhooks need.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// The base URL Twilio signs against, e.g. `https://abc.execute-api.eu-central-1.amazonaws.com`.
    pub public_base_url: String,
    pub auth_token: Secret,
    /// Off only for local runs (`TWILIO_SIGNATURE_CHECK=off`), and logged loudly when off.
    pub signature_check: bool,
    /// The relay's `wss://` base; the stream URL is `{relay}/twilio/stream`.
    pub relay_public_url: String,
    pub stream_token_secret: Secret,
}

impl TwilioSettings {
    /// Reads `PUBLIC_BASE_URL`, `TWILIO_AUTH_TOKEN`, `TWILIO_SIGNATURE_CHECK`, `RELAY_PUBLIC_URL`, `STREAM_TOKEN_SECRET`.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let signature_check = match env.var("TWILIO_SIGNATURE_CHECK").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "TWILIO_SIGNATURE_CHECK",
                    why: format!("expected on or off, got {other:?}"),
                });
            }
        };
        let auth_token = required(env, "TWILIO_AUTH_TOKEN")?;
        Ok(Self {
            public_base_url: url(env, "PUBLIC_BASE_URL", &["https", "http"])?,
            auth_token: Secret::new(auth_token),
            signature_check,
            relay_public_url: url(env, "RELAY_PUBLIC_URL", &["wss", "ws"])?,
            stream_token_secret: secret(env, "STREAM_TOKEN_SECRET")?,
        })
    }
}

/// What the relay's API needs.
#[derive(Debug, Clone)]
pub struct RelayApiSettings {
    pub relay_secret: Secret,
    /// The transcription model (`OPENAI_TRANSCRIPTION_MODEL`, default `gpt-4o-transcribe`).
    pub transcription_model: String,
}

impl RelayApiSettings {
    /// Reads `RELAY_SECRET` and the transcription model (the relay owns the Realtime model
    /// and the voice).
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            relay_secret: secret(env, "RELAY_SECRET")?,
            transcription_model: env
                .var("OPENAI_TRANSCRIPTION_MODEL")
                .unwrap_or_else(|| "gpt-4o-transcribe".into()),
        })
    }
}

/// The clock of a local run: the system's, or, with `CLOCK_START` (an RFC 3339 instant such as
/// `2027-10-31T08:00:00+02:00`), one that starts there and runs on (rehearsing a given day).
pub fn local_clock(env: &dyn Env) -> Result<Arc<dyn Clock>, ConfigError> {
    match env.var("CLOCK_START") {
        None => Ok(Arc::new(SystemClock)),
        Some(v) => v
            .trim()
            .parse::<jiff::Timestamp>()
            .map(|at| Arc::new(OffsetClock::starting_at(at)) as Arc<dyn Clock>)
            .map_err(|_| ConfigError::Invalid {
                name: "CLOCK_START",
                why: "expected an RFC 3339 instant such as 2027-10-31T08:00:00+02:00".into(),
            }),
    }
}

/// The clock of a deployment: the system's. `CLOCK_START` is refused, so a rehearsal setting
/// copied into Lambda cannot make the salon's book run on another day.
pub fn deployed_clock(env: &dyn Env) -> Result<Arc<dyn Clock>, ConfigError> {
    match env.var("CLOCK_START") {
        None => Ok(Arc::new(SystemClock)),
        Some(_) => Err(ConfigError::Invalid {
            name: "CLOCK_START",
            why: "is for local runs only; remove it from the deployment".into(),
        }),
    }
}

/// How long transcripts are kept (`TRANSCRIPT_RETENTION_DAYS`, default 30).
pub fn retention_days(env: &dyn Env) -> Result<u32, ConfigError> {
    match env.var("TRANSCRIPT_RETENTION_DAYS") {
        None => Ok(30),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or(ConfigError::Invalid {
                name: "TRANSCRIPT_RETENTION_DAYS",
                why: format!("expected 1 to 3650 days, got {v:?}"),
            }),
    }
}

/// OpenAI's prices for the cost estimates (`OPENAI_PRICES`, US dollars per million tokens:
/// `audio_in=32,audio_out=64,text_in=4,text_out=16,cached_in=0.4`; gpt-realtime's list prices
/// when unset or for a name left out).
pub fn openai_prices(env: &dyn Env) -> Result<salon_domain::analytics::Prices, ConfigError> {
    match env.var("OPENAI_PRICES") {
        None => Ok(Default::default()),
        Some(v) => salon_domain::analytics::Prices::parse(&v).map_err(|e| ConfigError::Invalid {
            name: "OPENAI_PRICES",
            why: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(&'static [(&'static str, &'static str)]);

    impl Env for Map {
        fn var(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn a_rehearsal_clock_is_local_only() {
        let env = Map(&[("CLOCK_START", "2027-10-31T08:00:00+02:00")]);
        let at: jiff::Timestamp = "2027-10-31T08:00:00+02:00".parse().unwrap();
        let now = local_clock(&env).unwrap().now();
        assert!(now.duration_since(at).as_secs() < 5);
        assert_eq!(
            deployed_clock(&env).err().unwrap().to_string(),
            "CLOCK_START is invalid: is for local runs only; remove it from the deployment"
        );
        assert!(local_clock(&Map(&[("CLOCK_START", "tomorrow")])).is_err());
        assert!(deployed_clock(&Map(&[])).is_ok());
    }

    const GOOD: [(&str, &str); 5] = [
        ("PUBLIC_BASE_URL", "https://api.example.com/"),
        ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
        ("RELAY_PUBLIC_URL", "wss://relay.example.com"),
        ("STREAM_TOKEN_SECRET", "0123456789abcdef0123456789abcdef"),
        ("TWILIO_SIGNATURE_CHECK", "on"),
    ];

    #[test]
    fn twilio_settings_read_and_trim() {
        let s = TwilioSettings::from_env(&GOOD).unwrap();
        assert_eq!(s.public_base_url, "https://api.example.com");
        assert!(s.signature_check);
        assert_eq!(format!("{:?}", s.auth_token), "Secret(***)");
        assert!(
            !format!("{s:?}").contains("0123456789abcdef"),
            "secrets never print"
        );
    }

    #[test]
    fn a_missing_or_malformed_variable_is_named() {
        let missing = [("PUBLIC_BASE_URL", "https://api.example.com")];
        let e = TwilioSettings::from_env(&missing).unwrap_err().to_string();
        assert_eq!(e, "TWILIO_AUTH_TOKEN is not set");
        let mut bad = GOOD;
        bad[2] = ("RELAY_PUBLIC_URL", "https://relay.example.com");
        let e = TwilioSettings::from_env(&bad).unwrap_err().to_string();
        assert!(e.starts_with("RELAY_PUBLIC_URL is invalid"), "{e}");
        bad = GOOD;
        bad[4] = ("TWILIO_SIGNATURE_CHECK", "maybe");
        assert!(
            TwilioSettings::from_env(&bad)
                .unwrap_err()
                .to_string()
                .contains("TWILIO_SIGNATURE_CHECK")
        );
        let short = [("RELAY_SECRET", "short")];
        assert!(
            RelayApiSettings::from_env(&short)
                .unwrap_err()
                .to_string()
                .contains("at least 16")
        );
        assert!(StoreConfig::from_env(&[("STORE", "postgres")]).is_err());
        assert_eq!(
            StoreConfig::from_env(&[("STORE", "dynamodb")])
                .unwrap_err()
                .to_string(),
            "TABLE_NAME is not set"
        );
        assert!(retention_days(&[("TRANSCRIPT_RETENTION_DAYS", "0")]).is_err());
        assert_eq!(retention_days(&[("X", "1")]).unwrap(), 30);
    }
}
