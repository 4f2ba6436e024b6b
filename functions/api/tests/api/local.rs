//! The README's local stack starts from `.env.example` and answers a call.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The local stack, started from `.env.example` in a fresh directory, its output collected.
struct Local {
    child: std::process::Child,
    port: String,
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

impl Local {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// Started with these variables set beside `.env.example`'s.
    fn start_with(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.env.example");
        std::fs::copy(example, dir.path().join(".env")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_local"))
            .current_dir(dir.path())
            .env("PORT", "0")
            .env_remove("RUST_LOG")
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = stdout.lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the local stack prints its address")
                .unwrap();
            if let Some(addr) = line.trim().strip_prefix("listening on        http://") {
                break addr.rsplit(':').next().unwrap().to_owned();
            }
        };
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            port,
            output,
            dir,
        }
    }

    /// Stops the stack and returns everything it printed after its banner.
    fn stop(mut self) -> (String, tempfile::TempDir) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = self.output.lock().unwrap().join("\n");
        (out, self.dir)
    }
}

#[tokio::test]
async fn the_local_stack_starts_from_the_example_configuration() {
    let local = Local::start();
    let port = local.port.clone();
    let base = format!("http://127.0.0.1:{port}");
    // Half a request line is not held open forever.
    let mut half = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        half.write_all(b"GET /hea").await.unwrap();
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                match half.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a half-sent request was still open after 30 s"
        );
    }
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let twiml = http
        .post(format!("{base}/api/twilio/voice"))
        .form(&[
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("From", "+40722123456"),
            ("To", "+40312345678"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, dir) = local.stop();
    assert!(
        twiml.contains("<Stream url=\"ws://localhost:8081/twilio/stream\">"),
        "{twiml}"
    );
    assert!(
        dir.path().join("data/salon.redb").exists(),
        "the embedded store lives in DATA_DIR"
    );
}

/// Posts `body` to the local stack's relay API at `path`, signed as the relay signs it with
/// `.env.example`'s secret; returns the answer's text.
async fn relay_post(local: &Local, path: String, body: serde_json::Value) -> String {
    let base = format!("http://127.0.0.1:{}", local.port);
    let ts = jiff::Timestamp::now().as_second();
    let secret = example("RELAY_SECRET");
    crate::helpers::signed_post(
        &reqwest::Client::new(),
        &base,
        &path,
        &path,
        &body,
        &secret,
        ts,
    )
    .await
    .text()
    .await
    .unwrap()
}

/// Reads a variable's value from `.env.example`.
fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.env.example");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .unwrap()
}

#[tokio::test]
async fn the_logs_carry_no_number_name_or_rejected_value() {
    use salon_wire::{paths, tools as names};
    use serde_json::json;
    let local = Local::start();
    let base = format!("http://127.0.0.1:{}", local.port);
    let http = reqwest::Client::new();
    let call = "CA0123456789abcdef0123456789abcdef";
    let relay = |path: String, body: serde_json::Value| relay_post(&local, path, body);
    let twiml = http
        .post(format!("{base}/api/twilio/voice"))
        .form(&[
            ("CallSid", call),
            ("From", "+40722123456"),
            ("To", "+40312345678"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(twiml.status(), 200);
    let session = relay(
        paths::session(call),
        json!({"business": "salon-demo", "caller": "+40722123456", "dialled": "+40312345678", "stream_sid": "MZ1"}),
    )
    .await;
    assert!(session.contains("instructions"), "{session}");
    // Every way a caller's data could reach a log line: a booking, a refused name, arguments
    // that do not parse around a number, a number that does not parse, an unknown tool.
    let tool = |name: &str, id: &str, args: String| {
        relay(
            paths::tool(call, name),
            json!({"call_id": id, "arguments": args}),
        )
    };
    let date = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(72))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap())
        .date();
    let booked = tool(
        names::CREATE_VOICE_APPOINTMENT,
        "c1",
        json!({"service": "tuns", "date": date.to_string(), "time": "10:00", "client_name": "Ion Popescu"}).to_string(),
    )
    .await;
    assert!(booked.contains("\"ok\""), "{booked}");
    tool(names::CREATE_VOICE_APPOINTMENT, "c2", json!({"service": "tuns", "date": "2027-01-05", "time": "10:00", "client_name": "Ion 0722123456 Popescu"}).to_string()).await;
    tool(
        names::FIND_EXISTING_CLIENT,
        "c3",
        r#"{"phone": 722123456}"#.into(),
    )
    .await;
    tool(
        names::FIND_EXISTING_CLIENT,
        "c4",
        r#"{"phone": "0722123456" "#.into(),
    )
    .await;
    tool("send_sms_to_0722123456", "c5", "{}".into()).await;
    relay(paths::summary(call), json!({"outcome": "ended_by_agent", "stream_seconds": 30, "usage": {}, "barge_ins": 0, "reconnects": 0, "transcript": [{"speaker": "caller", "text": "Sunt Ion Popescu, 0722 123 456"}]})).await;
    let (logs, _dir) = local.stop();
    assert!(logs.contains("tool call"), "the tools were logged: {logs}");
    for personal in ["722123456", "722 123 456", "Popescu"] {
        assert!(
            !logs.contains(personal),
            "{personal:?} in the logs:\n{logs}"
        );
    }
}

/// `seed --sms on|off` turns the demo salon's texts on or off; a run without it keeps them.
#[test]
fn seeding_keeps_or_sets_whether_the_demo_salon_texts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seed = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_seed"))
            .args([
                "--number",
                "+40312345678",
                "--store",
                "embedded",
                "--data-dir",
            ])
            .arg(&data)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(seed(&[]).contains("texts to clients off"));
    assert!(seed(&["--sms", "on"]).contains("texts to clients on"));
    assert!(seed(&[]).contains("texts to clients on"), "kept");
    assert!(seed(&["--sms", "off"]).contains("texts to clients off"));
    assert!(seed(&["--person-phone", "0722 999 888"]).contains("own phone +40722999888"));
    assert!(seed(&[]).contains("own phone +40722999888"), "kept");
    assert!(seed(&["--person-phone", "none"]).contains("own phone none"));
    let out = Command::new(env!("CARGO_BIN_EXE_seed"))
        .args(["--number", "+40312345678", "--sms", "maybe"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `scripts/owner.sh` (the `owner` binary) prints the day's book, the recent calls and the
/// unread messages from a store.
#[tokio::test]
async fn the_owners_terminal_view_shows_the_book_the_calls_and_the_messages() {
    use salon_domain::message::Message;
    use salon_domain::{BusinessId, CallEvent, CallSid, ClientName, IdempotencyKey, PhoneE164};
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now();
    let day = {
        let store = salon_store::Store::new(std::sync::Arc::new(
            salon_store::EmbeddedTable::open(dir.path()).unwrap(),
        ));
        salon_store::seed::demo_salon(
            &store,
            PhoneE164::parse(salon_domain::demo::DEMO_NUMBER).unwrap(),
        )
        .await
        .unwrap();
        let b = store
            .business(&BusinessId::parse("salon-demo").unwrap())
            .await
            .unwrap()
            .unwrap();
        let today = now.to_zoned_datetime(b.time_zone.tz().clone()).date();
        let horizon = today.checked_add(jiff::Span::new().days(14)).unwrap();
        let tuns = salon_domain::ServiceId::parse("tuns").unwrap();
        let slot = store
            .availability(&b.id, &tuns, today, horizon, None, now)
            .await
            .unwrap()[0]
            .clone();
        let request = salon_store::BookingRequest {
            business: b.id.clone(),
            service: tuns,
            more: Vec::new(),
            client: Some(PhoneE164::parse("0722123456").unwrap()),
            phone_origin: salon_domain::PhoneOrigin::CallerId,
            client_name: Some(ClientName::parse("Ion Popescu").unwrap()),
            start: slot.start.datetime(),
            staff: None,
            call_sid: None,
            key: IdempotencyKey::parse("owner-view-1").unwrap(),
            tool_call: None,
            source: salon_domain::Source::Voice,
        };
        store.book(&request, now).await.unwrap();
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        let started = CallEvent::Started {
            business: b.id.clone(),
            from: "+40722123456".into(),
            to: salon_domain::demo::DEMO_NUMBER.into(),
            at: now,
        };
        store.claim_call(&sid, &started, "MZ1").await.unwrap();
        let summary = serde_json::from_value(serde_json::json!({
            "outcome": "ended_by_agent", "stream_seconds": 75, "barge_ins": 2, "reconnects": 1,
            "usage": {"input_tokens": 1000, "output_tokens": 1000, "input_audio_tokens": 1000,
                      "output_audio_tokens": 1000, "cached_input_tokens": 0},
            "transcript": []
        }))
        .unwrap();
        store
            .record_call(&sid, &CallEvent::Summary { summary, at: now })
            .await
            .unwrap();
        store
            .leave_message(&Message {
                id: "m1".into(),
                business: b.id.clone(),
                call_sid: sid,
                phone: Some(PhoneE164::parse("0733000111").unwrap()),
                name: Some("Maria Ionescu".into()),
                text: Some("Vrea să afle dacă faceți extensii.".into()),
                recording: None,
                at: now,
                read: false,
            })
            .await
            .unwrap();
        slot.start.date()
    };
    let out = Command::new(env!("CARGO_BIN_EXE_owner"))
        .args(["--store", "embedded", "--data-dir"])
        .arg(dir.path())
        .args(["--date", &day.to_string(), "--days", "7"])
        // $100 and $200 per million audio tokens: 1000 of each cost $0.30.
        .env("OPENAI_PRICES", "audio_in=100,audio_out=200")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "Ion Popescu",
        "0722 123 456",
        "Tuns",
        "+40722123456",
        "Maria Ionescu",
        "Vrea să afle dacă faceți extensii.",
        "0733 000 111",
        "calls                  1",
        "average length         75 s",
        "barge-ins per call     2.00",
        "estimated OpenAI cost  $0.3000",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

/// With `SMS_FROM` set, the local stack's timer sends what a booking owes, to Twilio's API as
/// configured (here the loopback double).
#[tokio::test]
async fn the_local_stack_texts_a_booking_from_its_timer() {
    use salon_wire::{paths, tools as names};
    use serde_json::json;
    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    let twilio = salon_twilio_double::TwilioDouble::start(salon_twilio_double::Credentials {
        account_sid: ACCOUNT.into(),
        username: ACCOUNT.into(),
        password: example("TWILIO_AUTH_TOKEN"),
    })
    .await
    .unwrap();
    let url = twilio.url();
    let local = Local::start_with(&[
        ("SMS_FROM", "+40312345000"),
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_API_URL", &url),
    ]);
    let call = "CA0123456789abcdef0123456789abcdef";
    let relay = |path: String, body: serde_json::Value| relay_post(&local, path, body);
    relay(
        paths::session(call),
        json!({"business": "salon-demo", "caller": "+40722123456", "dialled": "+40312345678", "stream_sid": "MZ1"}),
    )
    .await;
    // The first open day from three days on (the stack runs on the real clock).
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap())
        .date();
    let mut booked = String::new();
    for days in 3..14 {
        let date = today.checked_add(jiff::Span::new().days(days)).unwrap();
        let args = json!({"service": "tuns", "date": date.to_string(), "time": "10:00", "client_name": "Ion Popescu"});
        booked = relay(
            paths::tool(call, names::CREATE_VOICE_APPOINTMENT),
            json!({"call_id": format!("c{days}"), "arguments": args.to_string(), "business": "salon-demo", "caller": "+40722123456"}),
        )
        .await;
        if booked.contains("\"ok\":true") {
            break;
        }
    }
    assert!(booked.contains("\"ok\":true"), "{booked}");
    // The timer's next round, within its 15 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(25);
    while twilio.messages().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (out, _dir) = local.stop();
    let messages = twilio.messages();
    assert_eq!(messages.len(), 1, "{out}");
    assert_eq!(messages[0].to, "+40722123456");
    assert!(
        messages[0].body.contains("Programare confirmata"),
        "{}",
        messages[0].body
    );
    assert!(out.contains("texts               on"), "{out}");
}
