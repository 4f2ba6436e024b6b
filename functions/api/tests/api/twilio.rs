//! Twilio's webhooks: signatures, TwiML by structure, status callbacks, the stream's end.

use salon_domain::{CallEvent, CallSid, CallStatus, demo};
use salon_functions::twilio::twiml;
use salon_wire::{CallOutcome, CallSummary, TokenUsage, token};

use crate::helpers::*;

#[tokio::test]
async fn a_call_is_connected_to_the_relay_with_a_token_and_a_romanian_fallback() {
    let app = spawn_app().await;
    let r = app
        .twilio("/api/twilio/voice", &call_params(demo::DEMO_NUMBER))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let doc = parse_xml(&r.text().await.unwrap());
    assert_eq!(doc.name, "Response");
    assert_eq!(
        doc.names(),
        ["Connect", "Say", "Hangup"],
        "the apology follows </Connect>"
    );
    let connect = doc.child("Connect");
    assert_eq!(
        connect.attr("action"),
        Some("https://voice.example.com/api/twilio/stream-ended")
    );
    let stream = connect.child("Stream");
    assert_eq!(
        stream.attr("url"),
        Some("wss://relay.example.com/twilio/stream")
    );
    let param = |name: &str| stream_param(&doc, name);
    assert_eq!(param("business"), demo::BUSINESS_ID);
    assert_eq!(param("caller"), CALLER);
    let claims = token::verify(
        STREAM_SECRET.as_bytes(),
        &param("token"),
        CALL,
        app.clock_now().as_second(),
    )
    .unwrap();
    assert_eq!(claims.business, demo::BUSINESS_ID);
    assert_eq!(claims.caller, CALLER);
    assert_eq!(claims.dialled, demo::DEMO_NUMBER);
    assert_eq!(claims.expires_at, app.clock_now().as_second() + 120);
    let say = doc.child("Say");
    assert_eq!(say.attr("language"), Some("ro-RO"));
    assert_eq!(say.text, twiml::APOLOGY);
    assert_romanian(&say.text);
}

#[tokio::test]
async fn the_dialled_number_routes_however_it_is_written() {
    let app = spawn_app().await;
    for to in [
        "+40312345678",
        "0312345678",
        "0040 31 234 5678",
        "+40 31 234 56 78",
    ] {
        let r = app.twilio("/api/twilio/voice", &call_params(to)).await;
        let doc = parse_xml(&r.text().await.unwrap());
        assert_eq!(doc.names()[0], "Connect", "{to}");
    }
}

#[tokio::test]
async fn a_forged_or_missing_signature_gets_403_and_nothing_else() {
    let app = spawn_app().await;
    let params = call_params(demo::DEMO_NUMBER);
    let forged = app
        .twilio_with(
            "/api/twilio/voice",
            &params,
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(forged.text().await.unwrap(), "");
    let missing = app.twilio_with("/api/twilio/voice", &params, None).await;
    assert_eq!(missing.status(), 403);
    // Signed for another URL (a Host header guess) does not pass either.
    let sig = salon_functions::twilio::signature::compute(
        AUTH_TOKEN,
        &format!("{}/api/twilio/voice", app.base),
        &pairs(&params),
    );
    assert_eq!(
        app.twilio_with("/api/twilio/voice", &params, Some(&sig))
            .await
            .status(),
        403
    );
    for path in ["/api/twilio/status", "/api/twilio/stream-ended"] {
        assert_eq!(
            app.twilio_with(path, &params, Some("bad")).await.status(),
            403,
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_number_or_a_failing_store_still_answers_romanian_twiml() {
    let app = spawn_app().await;
    let check = |xml: String, said: &str| {
        let doc = parse_xml(&xml);
        assert_eq!(doc.names(), ["Say", "Hangup"]);
        assert_eq!(doc.child("Say").text, said);
        assert_eq!(doc.child("Say").attr("language"), Some("ro-RO"));
        assert_romanian(said);
    };
    let r = app
        .twilio("/api/twilio/voice", &call_params("+40219999999"))
        .await;
    assert_eq!(r.status(), 200);
    check(r.text().await.unwrap(), twiml::UNKNOWN_NUMBER);

    let r = app
        .twilio("/api/twilio/voice", &[("CallSid", CALL), ("From", CALLER)])
        .await;
    assert_eq!(r.status(), 200, "a malformed form still gets TwiML");
    check(r.text().await.unwrap(), twiml::UNAVAILABLE);

    app.table.set_broken(true);
    let r = app
        .twilio("/api/twilio/voice", &call_params(demo::DEMO_NUMBER))
        .await;
    assert_eq!(r.status(), 200);
    check(r.text().await.unwrap(), twiml::UNAVAILABLE);
}

#[tokio::test]
async fn status_callbacks_end_right_whatever_their_order() {
    let app = spawn_app().await;
    let post = |status: &'static str, seq: &'static str, duration: Option<&'static str>| {
        let mut p = vec![
            ("CallSid", CALL),
            ("CallStatus", status),
            ("SequenceNumber", seq),
        ];
        if let Some(d) = duration {
            p.push(("CallDuration", d));
        }
        p
    };
    for p in [
        post("completed", "3", Some("64")),
        post("ringing", "0", None),
        post("in-progress", "1", None),
        post("completed", "3", Some("64")),
    ] {
        assert_eq!(app.twilio("/api/twilio/status", &p).await.status(), 204);
    }
    let record = app
        .store
        .call(&CallSid::parse(CALL).unwrap())
        .await
        .unwrap()
        .unwrap();
    let seen = record.status.unwrap();
    assert_eq!((seen.status, seen.sequence), (CallStatus::Completed, 3));
    assert_eq!(record.duration_seconds, Some(64));

    assert_eq!(
        app.twilio("/api/twilio/status", &[("CallSid", CALL)])
            .await
            .status(),
        400
    );
    assert_eq!(
        app.twilio(
            "/api/twilio/status",
            &[("CallSid", CALL), ("CallStatus", "exploded")]
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        app.twilio(
            "/api/twilio/status",
            &[("CallSid", "nope"), ("CallStatus", "ringing")]
        )
        .await
        .status(),
        400
    );
    app.table.set_broken(true);
    assert_eq!(
        app.twilio("/api/twilio/status", &post("completed", "4", None))
            .await
            .status(),
        503
    );
}

#[tokio::test]
async fn the_stream_end_hangs_up_after_a_goodbye_and_apologises_otherwise() {
    let app = spawn_app().await;
    let ended = || async {
        let r = app
            .twilio(
                "/api/twilio/stream-ended",
                &[("CallSid", CALL), ("CallStatus", "in-progress")],
            )
            .await;
        assert_eq!(r.status(), 200);
        parse_xml(&r.text().await.unwrap())
    };
    let doc = ended().await;
    assert_eq!(
        doc.names(),
        ["Say", "Hangup"],
        "no summary: the relay failed"
    );
    assert_eq!(doc.child("Say").text, twiml::APOLOGY);

    let summary = CallSummary {
        outcome: CallOutcome::EndedByAgent,
        stream_seconds: 60,
        usage: TokenUsage::default(),
        barge_ins: 0,
        reconnects: 0,
        transcript: vec![],
    };
    let sid = CallSid::parse(CALL).unwrap();
    app.store
        .record_call(
            &sid,
            &CallEvent::Summary {
                summary,
                at: app.clock_now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(ended().await.names(), ["Hangup"]);

    app.table.set_broken(true);
    assert_eq!(
        ended().await.names(),
        ["Say", "Hangup"],
        "in doubt, apologise"
    );
}

#[tokio::test]
async fn a_form_over_the_limits_gets_400() {
    let app = spawn_app().await;
    let names: Vec<String> = (0..=salon_wire::twilio_signature::MAX_FORM_PARAMS)
        .map(|i| format!("P{i}"))
        .collect();
    let mut params = call_params(demo::DEMO_NUMBER);
    params.extend(names.iter().map(|n| (n.as_str(), "x")));
    assert_eq!(app.twilio("/api/twilio/voice", &params).await.status(), 400);
}

#[tokio::test]
async fn a_handler_that_panics_still_answers_twilio_with_the_romanian_apology() {
    let app = spawn_app().await;
    // A bug below the handlers, wherever it is: every store request panics.
    app.table.set_panicking(true);
    let r = app
        .twilio("/api/twilio/voice", &call_params(demo::DEMO_NUMBER))
        .await;
    assert_eq!(
        r.status(),
        200,
        "an error status makes Twilio speak English"
    );
    let twiml = r.text().await.unwrap();
    assert!(
        twiml.contains("Ne pare rău") && twiml.contains("<Hangup"),
        "{twiml}"
    );
    // The relay's side: a 500 (the relay apologises in Romanian), and the server lives on.
    let r = app
        .relay(
            &salon_wire::paths::session(CALL),
            &crate::helpers::session_body(CALLER),
        )
        .await;
    assert_eq!(r.status(), 500);
    app.table.set_panicking(false);
    let r = app
        .relay(
            &salon_wire::paths::session(CALL),
            &crate::helpers::session_body(CALLER),
        )
        .await;
    assert_eq!(r.status(), 200, "the next request is served");
}
