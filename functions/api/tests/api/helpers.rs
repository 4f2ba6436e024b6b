//! Spawns the functions on a free port with a fresh store, and speaks to them as Twilio and
//! as the relay do (signed requests).

use std::sync::Arc;

use jiff::Timestamp;
use salon_domain::{ManualClock, PhoneE164, demo};
use salon_functions::config::{RelayApiSettings, Secret, TwilioSettings};
use salon_functions::twilio::signature;
use salon_functions::{AppState, router};
use salon_store::testing::{BreakableTable, breakable_embedded_store};
use salon_store::{Store, seed};
use salon_wire::auth;

pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const RELAY_SECRET: &str = "relay-secret-0123456789abcdef0123";
pub const STREAM_SECRET: &str = "stream-secret-0123456789abcdef012";
pub const PUBLIC_BASE: &str = "https://voice.example.com";
/// The demo salon's owner token, and another salon's.
pub const OWNER_TOKEN: &str = "owner-token-0123456789abcdef0123456789";
pub const OTHER_OWNER_TOKEN: &str = "other-owner-0123456789abcdef012345678";
pub const CALL: &str = "CA0123456789abcdef0123456789abcdef";
pub const CALLER: &str = "+40722123456";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub table: Arc<BreakableTable>,
    _dir: Option<tempfile::TempDir>,
}

/// The OpenAI prices the test app is configured with (US dollars per million tokens).
pub const TEST_PRICES: &str = "audio_in=40,audio_out=80,text_in=5,text_out=20,cached_in=2.5";

/// Monday 14 December 2026, 08:00 in Bucharest.
pub fn monday_morning() -> Timestamp {
    "2026-12-14T08:00:00+02:00".parse().unwrap()
}

pub async fn spawn_app() -> TestApp {
    let (_, table, dir) = breakable_embedded_store();
    spawn_app_on(table, Some(dir)).await
}

/// The functions over `table` (wrapped so a test can break it), with the demo salon seeded.
pub async fn spawn_app_on(table: Arc<BreakableTable>, dir: Option<tempfile::TempDir>) -> TestApp {
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let store = Store::new(table.clone()).with_clock(clock.clone());
    seed::demo_salon(&store, PhoneE164::parse(demo::DEMO_NUMBER).unwrap())
        .await
        .unwrap();
    let twilio = TwilioSettings {
        public_base_url: PUBLIC_BASE.into(),
        auth_token: Secret::new(AUTH_TOKEN),
        signature_check: true,
        relay_public_url: "wss://relay.example.com".into(),
        stream_token_secret: Secret::new(STREAM_SECRET),
    };
    let relay = RelayApiSettings {
        relay_secret: Secret::new(RELAY_SECRET),
        transcription_model: "gpt-4o-transcribe".into(),
    };
    let owner = salon_functions::owner::OwnerSettings::new(vec![
        (
            salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            Secret::new(OWNER_TOKEN),
        ),
        (
            salon_domain::BusinessId::parse("alt-salon").unwrap(),
            Secret::new(OTHER_OWNER_TOKEN),
        ),
    ]);
    let state = AppState::new(store.clone(), Some(twilio), Some(relay))
        .with_owner(Some(owner))
        .with_console(Some(salon_functions::console::ConsoleSettings {
            secure_cookies: true,
            // Not the defaults: the console's estimates must use the configured prices.
            prices: salon_domain::analytics::Prices::parse(TEST_PRICES).unwrap(),
        }))
        .with_clock(clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    TestApp {
        base,
        http: reqwest::Client::new(),
        clock,
        store,
        table,
        _dir: dir,
    }
}

/// A session request for the demo salon from `caller`, as the relay sends it from the token.
pub fn session_body(caller: &str) -> serde_json::Value {
    serde_json::json!({
        "business": demo::BUSINESS_ID,
        "caller": caller,
        "dialled": demo::DEMO_NUMBER,
        "stream_sid": "MZ1",
    })
}

/// Posts `body` to `{base}{path}` as the relay does, signed for `signed_path` at `ts`.
pub async fn signed_post(
    http: &reqwest::Client,
    base: &str,
    signed_path: &str,
    path: &str,
    body: &serde_json::Value,
    secret: &str,
    ts: i64,
) -> reqwest::Response {
    let body = serde_json::to_vec(body).unwrap();
    let sig = auth::sign(
        secret.as_bytes(),
        ts,
        &auth::Request {
            method: "POST",
            path: signed_path,
            body: &body,
        },
    );
    http.post(format!("{base}{path}"))
        .header(auth::HEADER_TIMESTAMP, ts.to_string())
        .header(auth::HEADER_SIGNATURE, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The value of a `<Parameter>` of the `<Stream>` in a voice webhook's TwiML.
pub fn stream_param(twiml: &El, name: &str) -> String {
    twiml
        .child("Connect")
        .child("Stream")
        .children
        .iter()
        .find(|p| p.attr("name") == Some(name))
        .and_then(|p| p.attr("value"))
        .unwrap_or_else(|| panic!("no <Parameter name={name:?}>"))
        .to_owned()
}

/// The voice webhook's form for `CALL` from `CALLER` to `to`, as Twilio posts it.
pub fn call_params(to: &str) -> Vec<(&str, &str)> {
    vec![
        ("CallSid", CALL),
        ("From", CALLER),
        ("To", to),
        ("AccountSid", "AC0123"),
        ("CallStatus", "ringing"),
    ]
}

pub fn pairs(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl TestApp {
    /// Posts a form to a Twilio webhook, signed as Twilio signs it (over the public URL).
    pub async fn twilio(&self, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let sig = signature::compute(AUTH_TOKEN, &format!("{PUBLIC_BASE}{path}"), &pairs(params));
        self.twilio_with(path, params, Some(&sig)).await
    }

    /// Posts a form with a given signature (or none).
    pub async fn twilio_with(
        &self,
        path: &str,
        params: &[(&str, &str)],
        sig: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(params);
        if let Some(s) = sig {
            req = req.header("X-Twilio-Signature", s);
        }
        req.send().await.unwrap()
    }

    /// Posts JSON to the relay API, signed with `secret` at the test clock's time.
    pub async fn relay_signed(
        &self,
        path: &str,
        body: &serde_json::Value,
        secret: &str,
    ) -> reqwest::Response {
        let ts = self.clock_now().as_second();
        signed_post(&self.http, &self.base, path, path, body, secret, ts).await
    }

    /// Posts `body` to `path` with the headers signed for `signed_path` (a replay elsewhere).
    pub async fn relay_signed_for(
        &self,
        signed_path: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let ts = self.clock_now().as_second();
        signed_post(
            &self.http,
            &self.base,
            signed_path,
            path,
            body,
            RELAY_SECRET,
            ts,
        )
        .await
    }

    pub async fn relay(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.relay_signed(path, body, RELAY_SECRET).await
    }

    /// The record of `CALL`, as the store reads it.
    pub async fn call_record(&self) -> salon_domain::CallRecord {
        self.store
            .call(&salon_domain::CallSid::parse(CALL).unwrap())
            .await
            .unwrap()
            .expect("the call's record")
    }

    pub fn clock_now(&self) -> Timestamp {
        use salon_domain::Clock;
        self.clock.now()
    }

    /// Opens a session for `CALL` from `caller`.
    pub async fn session(&self, caller: &str) -> serde_json::Value {
        let r = self
            .relay(&salon_wire::paths::session(CALL), &session_body(caller))
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// Calls a tool for `CALL` as the relay does: with the business and the caller ID the
    /// stream token signed.
    pub async fn tool_as(
        &self,
        caller: &str,
        name: &str,
        call_id: &str,
        arguments: serde_json::Value,
    ) -> serde_json::Value {
        self.tool_in(CALL, caller, name, call_id, arguments).await
    }

    /// Calls a tool as `tool_as` does, for the call `call`.
    pub async fn tool_in(
        &self,
        call: &str,
        caller: &str,
        name: &str,
        call_id: &str,
        arguments: serde_json::Value,
    ) -> serde_json::Value {
        let body = serde_json::json!({
            "call_id": call_id,
            "arguments": arguments.to_string(),
            "business": demo::BUSINESS_ID,
            "caller": caller,
        });
        let r = self
            .relay(&salon_wire::paths::tool(call, name), &body)
            .await;
        assert_eq!(r.status(), 200, "{name}");
        r.json().await.unwrap()
    }

    /// Calls a tool for `CALL` as a relay older than the business and caller fields did: the
    /// functions read them from the session's record.
    pub async fn tool(
        &self,
        name: &str,
        call_id: &str,
        arguments: serde_json::Value,
    ) -> serde_json::Value {
        let body = serde_json::json!({"call_id": call_id, "arguments": arguments.to_string()});
        let r = self
            .relay(&salon_wire::paths::tool(CALL, name), &body)
            .await;
        assert_eq!(r.status(), 200, "{name}");
        r.json().await.unwrap()
    }
}

/// A parsed XML element, enough to check TwiML by structure rather than by string.
#[derive(Debug)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> &El {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
    }

    pub fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Parses an XML document into elements; panics on malformed XML.
pub fn parse_xml(xml: &str) -> El {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<El> = vec![El {
        name: "#document".into(),
        attrs: vec![],
        text: String::new(),
        children: vec![],
    }];
    let element = |e: &quick_xml::events::BytesStart<'_>| El {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        text: String::new(),
        children: vec![],
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let name = String::from_utf8(r.to_vec()).unwrap();
                let ch = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                stack.last_mut().unwrap().text.push_str(ch);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

/// Asserts a caller-facing sentence is Romanian with comma-below diacritics.
pub fn assert_romanian(text: &str) {
    assert!(!text.trim().is_empty());
    assert!(
        !text.contains(['ş', 'ţ', 'Ş', 'Ţ']),
        "cedilla instead of comma below: {text}"
    );
    assert!(
        text.contains(['ă', 'â', 'î', 'ș', 'ț', 'Ă', 'Â', 'Î', 'Ș', 'Ț']),
        "no Romanian diacritics in: {text}"
    );
}
