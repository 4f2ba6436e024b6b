//! A person, or a message: `transfer_to_human` in and out of hours, `take_message`, and the
//! TwiML after a transfer (the salon's phone rung, a recorded message when nobody answers).

use jiff::SignedDuration;
use salon_domain::{BusinessId, CallEvent, CallSid, PhoneE164, demo};
use salon_functions::twilio::twiml;
use salon_wire::tools::*;
use salon_wire::{CallOutcome, CallSummary, TokenUsage};
use serde_json::json;

use crate::helpers::{CALL, CALLER, TestApp, parse_xml, spawn_app};

const SALON_PHONE: &str = "+40722999888";

/// The demo salon with a phone a person answers.
async fn with_a_person() -> TestApp {
    let app = spawn_app().await;
    let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.person_phone = Some(PhoneE164::parse(SALON_PHONE).unwrap());
    app.store.put_business(&b).await.unwrap();
    app
}

fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

#[tokio::test]
async fn a_transfer_is_allowed_in_opening_hours_to_a_salon_with_a_phone() {
    let app = with_a_person().await;
    app.session(CALLER).await;
    // Monday 08:00: the salon opens at 09:00.
    let closed = app
        .tool_as(CALLER, TRANSFER_TO_HUMAN, "call_1", json!({}))
        .await;
    assert_eq!(closed["ok"], false, "{closed}");
    assert_eq!(closed["error"]["code"], "transfer_unavailable");
    let said = closed["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("închis") && said.contains("take_message"),
        "{said}"
    );

    app.clock.advance(SignedDuration::from_hours(2));
    let open = app
        .tool_as(
            CALLER,
            TRANSFER_TO_HUMAN,
            "call_2",
            json!({"reason": "vrea un om"}),
        )
        .await;
    assert_eq!(open["ok"], true, "{open}");
    assert_eq!(open["result"][TRANSFER_FIELD], true);

    // Without a phone for it, never.
    let plain = spawn_app().await;
    plain.clock.advance(SignedDuration::from_hours(2));
    let none = plain
        .tool_as(CALLER, TRANSFER_TO_HUMAN, "call_1", json!({}))
        .await;
    assert_eq!(none["error"]["code"], "transfer_unavailable", "{none}");
    let record = app.call_record().await;
    let names: Vec<&str> = record.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [TRANSFER_TO_HUMAN, TRANSFER_TO_HUMAN],
        "recorded like any tool"
    );
}

#[tokio::test]
async fn a_message_is_kept_once_with_the_callers_number() {
    let app = spawn_app().await;
    let args = json!({"name": "Ion Popescu", "message": "Vrea să afle dacă faceți extensii."});
    for _ in 0..2 {
        // The relay repeating the same tool call.
        let r = app
            .tool_as(CALLER, TAKE_MESSAGE, "call_7", args.clone())
            .await;
        assert_eq!(r["ok"], true, "{r}");
    }
    let messages = app.store.messages(&demo_id()).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m.phone.as_ref().map(PhoneE164::as_str), Some(CALLER));
    assert_eq!(m.name.as_deref(), Some("Ion Popescu"));
    assert_eq!(
        m.text.as_deref(),
        Some("Vrea să afle dacă faceți extensii.")
    );
    assert_eq!(m.call_sid.as_str(), CALL);

    // A hidden caller ID: the number to call back is asked for.
    let hidden = app.tool_as("", TAKE_MESSAGE, "call_8", args.clone()).await;
    assert_eq!(hidden["error"]["code"], "invalid_phone", "{hidden}");
    let mut with_number = args;
    with_number["phone"] = json!("0744 123 456");
    let r = app.tool_as("", TAKE_MESSAGE, "call_9", with_number).await;
    assert_eq!(r["ok"], true, "{r}");
    let messages = app.store.messages(&demo_id()).await.unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.phone.as_ref().map(PhoneE164::as_str) == Some("+40744123456"))
    );
}

async fn ended_with(app: &TestApp, outcome: CallOutcome) -> crate::helpers::El {
    let summary = CallSummary {
        outcome,
        stream_seconds: 60,
        usage: TokenUsage::default(),
        barge_ins: 0,
        reconnects: 0,
        transcript: vec![],
    };
    app.store
        .record_call(
            &CallSid::parse(CALL).unwrap(),
            &CallEvent::Summary {
                summary,
                at: app.clock_now(),
            },
        )
        .await
        .unwrap();
    let r = app
        .twilio(
            "/api/twilio/stream-ended",
            &[("CallSid", CALL), ("CallStatus", "in-progress")],
        )
        .await;
    assert_eq!(r.status(), 200);
    parse_xml(&r.text().await.unwrap())
}

#[tokio::test]
async fn after_a_transfer_the_salon_rings_and_nobody_answering_leaves_a_recorded_message() {
    let app = with_a_person().await;
    // The call's session: its record knows the salon and the caller.
    app.session(CALLER).await;
    let doc = ended_with(&app, CallOutcome::Transferred).await;
    assert_eq!(doc.names(), ["Dial"]);
    let dial = doc.child("Dial");
    assert_eq!(dial.text, SALON_PHONE);
    assert_eq!(dial.attr("timeout"), Some(twiml::DIAL_TIMEOUT_SECS));
    assert_eq!(
        dial.attr("action"),
        Some("https://voice.example.com/api/twilio/dial-ended")
    );

    // Answered and talked: the call ends when they hang up.
    let talked = app
        .twilio(
            "/api/twilio/dial-ended",
            &[("CallSid", CALL), ("DialCallStatus", "completed")],
        )
        .await;
    assert_eq!(parse_xml(&talked.text().await.unwrap()).names(), ["Hangup"]);
    // Nobody answered: a short message, recorded.
    let missed = app
        .twilio(
            "/api/twilio/dial-ended",
            &[("CallSid", CALL), ("DialCallStatus", "no-answer")],
        )
        .await;
    let doc = parse_xml(&missed.text().await.unwrap());
    assert_eq!(doc.names(), ["Say", "Record", "Say", "Hangup"]);
    assert_eq!(doc.child("Say").text, twiml::NOBODY_ANSWERED);
    let record = doc.child("Record");
    assert_eq!(record.attr("maxLength"), Some(twiml::MESSAGE_MAX_SECS));
    assert_eq!(
        record.attr("action"),
        Some("https://voice.example.com/api/twilio/recorded")
    );
    let url = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";
    let form = [
        ("CallSid", CALL),
        ("RecordingUrl", url),
        ("RecordingDuration", "14"),
    ];
    for _ in 0..2 {
        // Twilio may repeat a webhook: kept once.
        let r = app.twilio("/api/twilio/recorded", &form).await;
        let doc = parse_xml(&r.text().await.unwrap());
        assert_eq!(doc.child("Say").text, twiml::MESSAGE_TAKEN);
    }
    let messages = app.store.messages(&demo_id()).await.unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    let recording = m.recording.as_ref().unwrap();
    assert_eq!((recording.url.as_str(), recording.seconds), (url, 14));
    assert_eq!(m.phone.as_ref().map(PhoneE164::as_str), Some(CALLER));
    // Not Twilio's address: not kept.
    let forged = app
        .twilio(
            "/api/twilio/recorded",
            &[
                ("CallSid", CALL),
                ("RecordingUrl", "https://evil.example.com/x"),
                ("RecordingDuration", "3"),
            ],
        )
        .await;
    assert_eq!(
        parse_xml(&forged.text().await.unwrap()).child("Say").text,
        twiml::NO_MESSAGE
    );
    for text in [
        twiml::NOBODY_ANSWERED,
        twiml::MESSAGE_TAKEN,
        twiml::NO_MESSAGE,
    ] {
        crate::helpers::assert_romanian(text);
    }
}

/// The owner reads the salon's messages with the salon's token, and only them.
#[tokio::test]
async fn the_owner_reads_the_salons_messages_with_its_token_and_marks_them_read() {
    use crate::helpers::{OTHER_OWNER_TOKEN, OWNER_TOKEN};
    let app = spawn_app().await;
    for (i, what) in ["Vrea extensii.", "Întreabă de prețuri."]
        .iter()
        .enumerate()
    {
        app.clock.advance(SignedDuration::from_mins(1));
        let args = json!({"name": "Ion Popescu", "message": what});
        let r = app
            .tool_as(CALLER, TAKE_MESSAGE, &format!("call_{i}"), args)
            .await;
        assert_eq!(r["ok"], true, "{r}");
    }
    let get = |token: Option<&'static str>, query: &'static str| {
        let req = app
            .http
            .get(format!("{}/api/owner/messages{query}", app.base));
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };
    assert_eq!(get(None, "").await.status(), 401);
    assert_eq!(
        get(Some("not-a-token-0123456789abcdef0123456789"), "")
            .await
            .status(),
        401
    );
    let other: serde_json::Value = get(Some(OTHER_OWNER_TOKEN), "").await.json().await.unwrap();
    assert_eq!(
        other["messages"],
        json!([]),
        "another salon sees none of them"
    );

    let listed: serde_json::Value = get(Some(OWNER_TOKEN), "").await.json().await.unwrap();
    let texts: Vec<&str> = listed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Întreabă de prețuri.", "Vrea extensii."],
        "newest first"
    );
    assert_eq!(listed["messages"][0]["phone"], CALLER);
    let id = listed["messages"][1]["id"].as_str().unwrap().to_owned();
    let read = |token: &'static str, id: String| {
        let req = app
            .http
            .post(format!("{}/api/owner/messages/{id}/read", app.base))
            .bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(
        read(OTHER_OWNER_TOKEN, id.clone()).await,
        404,
        "not another salon's to mark"
    );
    assert_eq!(read(OWNER_TOKEN, id.clone()).await, 204);
    assert_eq!(read(OWNER_TOKEN, "nope".into()).await, 404);
    let unread: serde_json::Value = get(Some(OWNER_TOKEN), "?unread=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["messages"].as_array().unwrap().len(), 1);
    assert_eq!(unread["messages"][0]["text"], "Întreabă de prețuri.");
}
