//! The whole system on one machine, offline: the functions (Twilio webhooks and the relay
//! API as two servers over one store, as deployed), the relay and the Realtime double, wired
//! together on loopback ports. The end-to-end tests and the demo call run on it.

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use salon_domain::availability::{DayStatus, day_status};
use salon_domain::{BusinessId, Clock, PhoneE164, SystemClock, demo};
use salon_functions::config::{RelayApiSettings, Secret, TwilioSettings};
use salon_functions::{AppState, router};
use salon_realtime_double::{Double, Script};
use salon_relay::audio::AudioMode;
use salon_relay::metrics::Metrics;
use salon_store::{Store, seed};
use serde_json::Value;

use crate::{Account, Report, Step, read_mulaw_wav};

pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const RELAY_SECRET: &str = "relay-secret-0123456789abcdef0123";
pub const STREAM_SECRET: &str = "stream-secret-0123456789abcdef012";
pub const CALLER: &str = "+40722123456";

pub enum Backend {
    Embedded,
    Dynamo,
}

pub struct Stack {
    pub store: Store,
    pub double: Double,
    pub account: Account,
    pub relay_api: tokio::task::JoinHandle<()>,
    /// Booking requests the flaky proxy forwarded (scenario 8).
    pub forwarded: Arc<std::sync::atomic::AtomicU32>,
    _dir: Option<tempfile::TempDir>,
}

/// The next day the demo salon is open, at least tomorrow: scripts speak in relative dates.
pub fn next_open_day() -> Date {
    next_open_day_on(&SystemClock)
}

/// The next day the demo salon is open after today by `clock`.
pub fn next_open_day_on(clock: &dyn Clock) -> Date {
    let b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).expect("the demo number is valid"));
    open_day_after(
        clock
            .now()
            .to_zoned_datetime(b.time_zone.tz().clone())
            .date(),
    )
}

/// The demo salon's first open day after `after`.
pub fn open_day_after(after: Date) -> Date {
    let b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).expect("the demo number is valid"));
    let mut d = after;
    loop {
        d = d.tomorrow().expect("a salon opens within jiff's range");
        if matches!(day_status(&b, d), DayStatus::Open(_)) {
            return d;
        }
    }
}

pub fn caller(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../realtime-double/audio/caller/{name}.wav",
        env!("CARGO_MANIFEST_DIR")
    );
    read_mulaw_wav(&std::fs::read(path).unwrap()).unwrap()
}

pub fn say(name: &str) -> Step {
    Step::Say {
        label: name.into(),
        audio: caller(name),
    }
}

pub fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

/// A store with the demo salon, before anything else starts (tests add appointments to it).
pub struct Prepared {
    pub store: Store,
    dir: Option<tempfile::TempDir>,
    /// The one clock of the functions, the store and the relay.
    clock: Arc<dyn Clock>,
}

impl Prepared {
    /// Runs the whole stack on `clock` (a rehearsal of a given day: `OffsetClock`).
    pub fn on_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.store = self.store.with_clock(clock.clone());
        self.clock = clock;
        self
    }
}

pub async fn prepare(backend: Backend) -> Prepared {
    let (store, dir) = match backend {
        Backend::Embedded => {
            let (s, d) = salon_store::testing::embedded_store();
            (s, Some(d))
        }
        Backend::Dynamo => (salon_store::testing::dynamo_store().await, None),
    };
    seed::demo_salon(&store, PhoneE164::parse(demo::DEMO_NUMBER).unwrap())
        .await
        .unwrap();
    Prepared {
        store,
        dir,
        clock: Arc::new(SystemClock),
    }
}

/// Forwards the relay's requests to the relay API, but holds the first booking's answer
/// past the relay's timeout, as a network that loses a response would.
async fn flaky_proxy(upstream: String) -> (String, Arc<std::sync::atomic::AtomicU32>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode, Uri};
    let seen = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counter = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (upstream, counter) = (upstream.clone(), counter.clone());
        async move {
            let mut req = reqwest::Client::new()
                .post(format!("{upstream}{uri}"))
                .body(body);
            for (k, v) in &headers {
                if k.as_str().starts_with("x-relay") || k == "content-type" {
                    req = req.header(k.as_str(), v.to_str().unwrap());
                }
            }
            let resp = req.send().await.unwrap();
            let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
            let text = resp.text().await.unwrap();
            if uri.path().ends_with("/tools/create_voice_appointment")
                && counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0
            {
                tokio::time::sleep(Duration::from_secs(4)).await;
            }
            (status, [("content-type", "application/json")], text)
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

impl Prepared {
    pub async fn run(
        self,
        mode: AudioMode,
        script: Value,
        vars: &[(&str, &str)],
        flaky: bool,
    ) -> Stack {
        let Prepared { store, dir, clock } = self;
        let double = Double::start(
            Script::from_json(&script.to_string())
                .unwrap()
                .with_vars(vars),
        )
        .await
        .unwrap();

        let webhooks = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let webhooks_url = format!("http://{}", webhooks.local_addr().unwrap());
        let api_url = format!("http://{}", api.local_addr().unwrap());
        let relay_url = format!("ws://{}", relay.local_addr().unwrap());

        let twilio = TwilioSettings {
            public_base_url: webhooks_url.clone(),
            auth_token: Secret::new(AUTH_TOKEN),
            signature_check: true,
            relay_public_url: relay_url.clone(),
            stream_token_secret: Secret::new(STREAM_SECRET),
        };
        let relay_api = RelayApiSettings {
            relay_secret: Secret::new(RELAY_SECRET),
            transcription_model: "gpt-4o-transcribe".into(),
        };
        let webhooks_app =
            router(AppState::new(store.clone(), Some(twilio), None).with_clock(clock.clone()));
        let api_app =
            router(AppState::new(store.clone(), None, Some(relay_api)).with_clock(clock.clone()));
        tokio::spawn(async move { axum::serve(webhooks, webhooks_app).await.unwrap() });
        let relay_api = tokio::spawn(async move { axum::serve(api, api_app).await.unwrap() });
        let (functions_url, forwarded) = if flaky {
            flaky_proxy(api_url).await
        } else {
            (api_url, Default::default())
        };

        let config = salon_relay::Config {
            relay_public_url: relay_url,
            upgrade_signature: salon_relay::config::UpgradeSignature::Required(
                salon_relay::config::Secret::new(AUTH_TOKEN),
            ),
            relay_secret: salon_relay::config::Secret::new(RELAY_SECRET),
            stream_token_secret: salon_relay::config::Secret::new(STREAM_SECRET),
            functions_url,
            openai_api_key: salon_relay::config::Secret::new("sk-offline"),
            openai_url: double.url(),
            model: "gpt-realtime".into(),
            voice: "marin".into(),
            audio_mode: mode,
            // The scripted audio was timed for server VAD with a 500 ms silence.
            turn_detection: salon_relay::turn::TurnDetection::Server { silence_ms: 500 },
            clock: salon_relay::config::ClockHandle(clock),
            max_calls: 10,
            max_pending_streams: 8,
            start_limit: Duration::from_secs(5),
            write_limit: Duration::from_secs(5),
            header_read_limit: Duration::from_secs(10),
            silence: Duration::from_secs(20),
            max_call: Duration::from_secs(600),
            drain: Duration::from_secs(30),
            tool_timeout: Duration::from_secs(2),
            connect_budget: Duration::from_secs(3),
        };
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(salon_relay::run(
            relay,
            metrics_listener,
            config,
            Arc::new(Metrics::default()),
            std::future::pending(),
        ));
        let account = Account {
            functions_url: webhooks_url.clone(),
            public_base_url: webhooks_url,
            auth_token: AUTH_TOKEN.into(),
        };
        Stack {
            store,
            double,
            account,
            relay_api,
            forwarded,
            _dir: dir,
        }
    }
}

impl Stack {
    pub async fn start(
        mode: AudioMode,
        backend: Backend,
        script: Value,
        vars: &[(&str, &str)],
    ) -> Stack {
        prepare(backend).await.run(mode, script, vars, false).await
    }

    pub async fn call(&self, sid: &str, from: &str, steps: Vec<Step>) -> Report {
        let report = crate::call(
            &self.account,
            sid,
            from,
            demo::DEMO_NUMBER,
            steps,
            Duration::from_secs(90),
        )
        .await
        .unwrap();
        report.print();
        report
    }
}
