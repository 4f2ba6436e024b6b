//! Texts after the call, end to end: tool calls through the functions' HTTP API, the sender,
//! and Twilio's Messages API as a loopback double that checks what it is sent.

use std::time::Duration;

use jiff::SignedDuration;
use salon_domain::sms::SmsState;
use salon_domain::{AppointmentId, PhoneE164, demo};
use salon_functions::config::Secret;
use salon_functions::sms::{MessagesApi, Round, Sender, SmsFrom, SmsSettings, reminders};
use salon_twilio_double::{Credentials, Fault, TwilioDouble};
use salon_wire::tools::*;
use serde_json::{Value, json};

use crate::helpers::{CALLER, TestApp, spawn_app};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY_SID: &str = "SK0123456789abcdef0123456789abcdef";
const KEY_SECRET: &str = "key-secret-0123456789abcdef";
const SMS_FROM: &str = "+40312345000";

struct Texting {
    app: TestApp,
    twilio: TwilioDouble,
    sender: Sender,
}

/// The demo salon sending texts, and a sender pointed at the double with an API key.
async fn texting(timeout: Duration) -> Texting {
    let app = spawn_app().await;
    let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.sms_confirmations = true;
    app.store.put_business(&b).await.unwrap();
    let twilio = TwilioDouble::start(Credentials {
        account_sid: ACCOUNT.into(),
        username: KEY_SID.into(),
        password: KEY_SECRET.into(),
    })
    .await
    .unwrap();
    let settings = SmsSettings {
        api_url: twilio.url(),
        account_sid: ACCOUNT.into(),
        username: KEY_SID.into(),
        password: Secret::new(KEY_SECRET),
        from: SmsFrom::Number(PhoneE164::parse(SMS_FROM).unwrap()),
    };
    let sender = Sender::new(
        app.store.clone(),
        MessagesApi::with_timeout(settings, timeout),
    );
    Texting {
        app,
        twilio,
        sender,
    }
}

async fn book(app: &TestApp, caller: &str, call_id: &str, time: &str) -> Value {
    let args = json!({"service": "tuns", "date": "2026-12-15", "time": time, "client_name": "Ion Popescu"});
    app.tool_as(caller, CREATE_VOICE_APPOINTMENT, call_id, args)
        .await
}

fn booked_id(answer: &Value) -> AppointmentId {
    assert_eq!(answer["ok"], true, "{answer}");
    AppointmentId::parse(answer["result"]["id_programare"].as_str().unwrap()).unwrap()
}

async fn sms_states(t: &Texting, id: &AppointmentId) -> Vec<SmsState> {
    let business = salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap();
    t.app
        .store
        .sms_of(&business, id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect()
}

#[tokio::test]
async fn a_booking_sends_one_text_however_often_its_tool_call_is_repeated() {
    let t = texting(Duration::from_secs(5)).await;
    let first = book(&t.app, CALLER, "call_1", "10:00").await;
    // The relay's retry of the same call, and the model asking again after a reconnect.
    let again = book(&t.app, CALLER, "call_1", "10:00").await;
    let reasked = book(&t.app, CALLER, "call_2", "10:00").await;
    let id = booked_id(&first);
    assert_eq!(booked_id(&again), id);
    assert_eq!(booked_id(&reasked), id);

    let round = t.sender.round().await.unwrap();
    assert_eq!(round.sent, 1, "{round:?}");
    let messages = t.twilio.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!((m.to.as_str(), m.from.as_str()), (CALLER, SMS_FROM));
    assert_eq!(
        m.body,
        "Salon Voice Booking: Programare confirmata: Tuns cu Ana, marti, 15 decembrie, ora 10:00. Pentru anulare sau modificare sunati la 031 234 56 78."
    );
    assert!(
        matches!(&sms_states(&t, &id).await[..], [SmsState::Sent { sid, .. }] if *sid == m.sid)
    );
    // Later rounds send nothing more.
    t.app.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(t.sender.round().await.unwrap(), Round::default());
    assert_eq!(t.twilio.requests(), 1);
}

#[tokio::test]
async fn a_move_and_a_cancellation_each_send_theirs_to_the_number_that_booked() {
    let t = texting(Duration::from_secs(5)).await;
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    let moved = t
        .app
        .tool_as(
            CALLER,
            RESCHEDULE_APPOINTMENT,
            "call_2",
            json!({"appointment_id": id.as_str(), "date": "2026-12-16", "time": "11:00"}),
        )
        .await;
    assert_eq!(moved["ok"], true, "{moved}");
    let cancelled = t
        .app
        .tool_as(
            CALLER,
            CANCEL_APPOINTMENT,
            "call_3",
            json!({"appointment_id": id.as_str()}),
        )
        .await;
    assert_eq!(cancelled["ok"], true, "{cancelled}");
    assert_eq!(t.sender.round().await.unwrap().sent, 3);
    let bodies: Vec<String> = t.twilio.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies
            .iter()
            .any(|b| b
                .contains("Programare confirmata: Tuns cu Ana, marti, 15 decembrie, ora 10:00"))
    );
    assert!(
        bodies.iter().any(
            |b| b.contains("Programare mutata: Tuns cu Ana, miercuri, 16 decembrie, ora 11:00")
        )
    );
    assert!(
        bodies
            .iter()
            .any(|b| b
                .contains("Programare anulata: Tuns cu Ana, miercuri, 16 decembrie, ora 11:00"))
    );
}

#[tokio::test]
async fn a_failing_provider_never_fails_the_booking_and_the_failure_is_recorded() {
    let t = texting(Duration::from_secs(5)).await;
    for _ in 0..3 {
        t.twilio.fail_next(Fault::Status(503));
    }
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    for _ in 0..2 {
        assert_eq!(t.sender.round().await.unwrap().retried, 1);
        // Not due again yet: nothing is sent.
        assert_eq!(t.sender.round().await.unwrap(), Round::default());
        t.app.clock.advance(SignedDuration::from_mins(2));
    }
    assert_eq!(t.sender.round().await.unwrap().failed, 1);
    assert_eq!(t.twilio.requests(), 3, "bounded: three attempts");
    assert!(matches!(
        &sms_states(&t, &id).await[..],
        [SmsState::Failed { code: None, .. }]
    ));
    // The booking stands, and nothing more is tried.
    let business = salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap();
    let a = t
        .app
        .store
        .appointment(&business, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(a.is_booked());
    t.app.clock.advance(SignedDuration::from_mins(10));
    t.sender.round().await.unwrap();
    assert_eq!(t.twilio.requests(), 3);
}

#[tokio::test]
async fn a_number_that_replied_stop_is_recorded_and_not_tried_again() {
    let t = texting(Duration::from_secs(5)).await;
    t.twilio.unsubscribe(CALLER);
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    assert_eq!(t.sender.round().await.unwrap().failed, 1);
    assert!(matches!(
        &sms_states(&t, &id).await[..],
        [SmsState::Failed {
            code: Some(21610),
            ..
        }]
    ));
    t.app.clock.advance(SignedDuration::from_mins(10));
    t.sender.round().await.unwrap();
    assert_eq!(t.twilio.requests(), 1);
}

#[tokio::test]
async fn a_text_never_answered_is_not_sent_twice() {
    let t = texting(Duration::from_millis(300)).await;
    t.twilio.fail_next(Fault::Stall(Duration::from_secs(1)));
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    assert_eq!(t.sender.round().await.unwrap().unknown, 1);
    assert!(matches!(
        &sms_states(&t, &id).await[..],
        [SmsState::Unknown { .. }]
    ));
    t.app.clock.advance(SignedDuration::from_mins(10));
    t.sender.round().await.unwrap();
    assert_eq!(t.twilio.requests(), 1, "at most once");
}

#[tokio::test]
async fn a_spoken_number_gets_the_confirmation_of_a_booking_under_it() {
    let t = texting(Duration::from_secs(5)).await;
    let args = json!({"service": "tuns", "date": "2026-12-15", "time": "10:00",
                      "client_name": "Ion Popescu", "phone": "0744 555 666"});
    let answer = t
        .app
        .tool_as("", CREATE_VOICE_APPOINTMENT, "call_1", args)
        .await;
    booked_id(&answer);
    t.sender.round().await.unwrap();
    let to: Vec<String> = t.twilio.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(to, ["+40744555666"], "the number's owner learns of it");
}

#[tokio::test]
async fn the_day_before_a_booked_appointment_gets_one_reminder_and_a_cancelled_one_none() {
    let t = texting(Duration::from_secs(5)).await;
    const OTHER: &str = "+40733000111";
    book(&t.app, CALLER, "call_1", "10:00").await;
    let cancelled = booked_id(&book(&t.app, OTHER, "call_2", "11:00").await);
    let answer = t
        .app
        .tool_as(
            OTHER,
            CANCEL_APPOINTMENT,
            "call_3",
            json!({"appointment_id": cancelled.as_str()}),
        )
        .await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(t.sender.round().await.unwrap().sent, 3);

    // Monday 17:30: not yet the reminder hour.
    t.app.clock.advance(SignedDuration::from_mins(9 * 60 + 30));
    assert_eq!(
        reminders::queue_due(&t.app.store, t.app.clock_now())
            .await
            .unwrap(),
        0
    );
    // 18:30, and every hour after: one reminder, for the appointment still booked.
    t.app.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(
        reminders::queue_due(&t.app.store, t.app.clock_now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(t.sender.round().await.unwrap().sent, 1);
    t.app.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(
        reminders::queue_due(&t.app.store, t.app.clock_now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(t.sender.round().await.unwrap(), Round::default());
    // A Wednesday booked this morning: at 21:30 on Tuesday nobody is texted any more, at
    // 18:30 they are.
    let wednesday = json!({"service": "tuns", "date": "2026-12-16", "time": "12:00", "client_name": "Ion Popescu"});
    let answer = t
        .app
        .tool_as(
            "+40755000222",
            CREATE_VOICE_APPOINTMENT,
            "call_4",
            wednesday,
        )
        .await;
    booked_id(&answer);
    t.sender.round().await.unwrap();
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    for (when, queued) in [
        ("2026-12-15T21:30:00+02:00", 0),
        ("2026-12-15T18:30:00+02:00", 1),
    ] {
        t.app.clock.set(at(when));
        let n = reminders::queue_due(&t.app.store, t.app.clock_now())
            .await
            .unwrap();
        assert_eq!(n, queued, "{when}");
    }
    let reminders: Vec<_> = t
        .twilio
        .messages()
        .into_iter()
        .filter(|m| m.body.contains("Va asteptam maine"))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].to, CALLER);
    assert!(
        reminders[0].body.contains("ora 10:00"),
        "{}",
        reminders[0].body
    );
}

/// The double takes what the `twilio` package sends and answers what it understands, so its
/// checks are Twilio's shape and not ours; our client's request is taken the same way.
#[tokio::test]
async fn the_double_and_the_twilio_package_agree_and_our_client_sends_what_it_sends() {
    use std::io::Write;
    let t = texting(Duration::from_secs(5)).await;
    t.twilio.unsubscribe("+40744000999");
    let body = "Salon Voice Booking: Programare confirmata: Tuns, marti, 15 decembrie, ora 10:00.";
    let request = json!({
        "base_url": t.twilio.url(),
        "account_sid": ACCOUNT, "username": KEY_SID, "password": KEY_SECRET,
        "messages": [
            {"to": CALLER, "from": SMS_FROM, "body": body},
            {"to": "+40744000999", "from": SMS_FROM, "body": body},
        ],
    });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/oracles/twilio_send.py");
    let out = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(crate::oracle::python())
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect(
                "the twilio oracle runs; the README's test command installs it (never skipped)",
            );
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.to_string().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "the oracle failed");
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let taken = t.twilio.messages();
    assert_eq!(taken.len(), 1);
    assert_eq!(results[0]["sid"], taken[0].sid.as_str());
    assert_eq!(results[0]["body"], body);
    assert_eq!(results[1], json!({"status": 400, "code": 21610}));

    // Ours, for the same text: the same fields reach the double.
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    t.sender.round().await.unwrap();
    let ours = &t.twilio.messages()[1];
    assert_eq!(
        (ours.to.as_str(), ours.from.as_str()),
        (taken[0].to.as_str(), taken[0].from.as_str())
    );
    assert!(matches!(
        &sms_states(&t, &id).await[..],
        [SmsState::Sent { .. }]
    ));
}

/// A message left for a salon that texts and has its own phone is texted to that phone, once.
#[tokio::test]
async fn a_message_left_for_the_salon_is_texted_to_its_own_phone_once() {
    let t = texting(Duration::from_secs(5)).await;
    let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.sms_confirmations = true;
    b.person_phone = Some(PhoneE164::parse("+40722999888").unwrap());
    t.app.store.put_business(&b).await.unwrap();
    let args = json!({"name": "Maria Ionescu", "message": "Vrea să afle dacă faceți extensii."});
    for _ in 0..2 {
        let r = t
            .app
            .tool_as(CALLER, TAKE_MESSAGE, "call_1", args.clone())
            .await;
        assert_eq!(r["ok"], true, "{r}");
    }
    assert_eq!(t.sender.round().await.unwrap().sent, 1);
    let messages = t.twilio.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "+40722999888");
    // It holds the message (personal data): its record goes when the message goes.
    use salon_store::Table as _;
    let pointer_and_record = t
        .app
        .table
        .query(
            &format!("BIZ#{}", demo::BUSINESS_ID),
            salon_store::table::SkRange::Prefix("SMS#MSG#"),
        )
        .await
        .unwrap();
    assert_eq!(pointer_and_record.len(), 1);
    assert!(
        pointer_and_record[0].expires_at.is_some(),
        "the text's record expires"
    );
    assert_eq!(
        messages[0].body,
        "Salon Voice Booking: mesaj nou. Maria Ionescu (0722 123 456) a lasat \"Vrea sa afle daca faceti extensii.\". Sunati inapoi."
    );
}

/// A reminder queued before its appointment was cancelled is withdrawn, not sent.
#[tokio::test]
async fn a_reminder_of_an_appointment_cancelled_since_it_was_queued_is_not_sent() {
    let t = texting(Duration::from_secs(5)).await;
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    assert_eq!(t.sender.round().await.unwrap().sent, 1);
    // Monday 18:30: the reminder is queued; the client cancels before the round.
    t.app.clock.advance(SignedDuration::from_mins(10 * 60 + 30));
    assert_eq!(
        reminders::queue_due(&t.app.store, t.app.clock_now())
            .await
            .unwrap(),
        1
    );
    let cancelled = t
        .app
        .tool_as(
            CALLER,
            CANCEL_APPOINTMENT,
            "call_2",
            json!({"appointment_id": id.as_str()}),
        )
        .await;
    assert_eq!(cancelled["ok"], true, "{cancelled}");
    let round = t.sender.round().await.unwrap();
    assert_eq!((round.sent, round.withdrawn), (1, 1), "{round:?}");
    let bodies: Vec<String> = t.twilio.messages().into_iter().map(|m| m.body).collect();
    assert!(
        bodies.iter().all(|b| !b.contains("Va asteptam maine")),
        "{bodies:?}"
    );
    assert!(bodies[1].contains("Programare anulata"), "{bodies:?}");
}

/// Texts reach the client in the order their events happened.
#[tokio::test]
async fn a_move_then_a_cancellation_are_texted_in_that_order() {
    let t = texting(Duration::from_secs(5)).await;
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    t.app.clock.advance(SignedDuration::from_secs(30));
    let moved = t
        .app
        .tool_as(
            CALLER,
            RESCHEDULE_APPOINTMENT,
            "call_2",
            json!({"appointment_id": id.as_str(), "date": "2026-12-16", "time": "11:00"}),
        )
        .await;
    assert_eq!(moved["ok"], true, "{moved}");
    t.app.clock.advance(SignedDuration::from_secs(30));
    t.app
        .tool_as(
            CALLER,
            CANCEL_APPOINTMENT,
            "call_3",
            json!({"appointment_id": id.as_str()}),
        )
        .await;
    assert_eq!(t.sender.round().await.unwrap().sent, 3);
    let order: Vec<&str> = t
        .twilio
        .messages()
        .iter()
        .map(|m| {
            ["confirmata", "mutata", "anulata"]
                .into_iter()
                .find(|w| m.body.contains(w))
                .unwrap()
        })
        .collect();
    assert_eq!(order, ["confirmata", "mutata", "anulata"]);
}

/// A server error other than "unavailable" may come after Twilio took the text: never sent
/// twice. A text not sent within a day is withdrawn, not sent late.
#[tokio::test]
async fn a_twilio_error_after_the_text_may_have_gone_is_not_retried_and_old_texts_are_withdrawn() {
    let t = texting(Duration::from_secs(5)).await;
    t.twilio.fail_next(Fault::Status(500));
    let id = booked_id(&book(&t.app, CALLER, "call_1", "10:00").await);
    assert_eq!(t.sender.round().await.unwrap().unknown, 1);
    t.app.clock.advance(SignedDuration::from_mins(10));
    t.sender.round().await.unwrap();
    assert_eq!(t.twilio.requests(), 1);
    assert!(matches!(
        &sms_states(&t, &id).await[..],
        [SmsState::Unknown { .. }]
    ));

    let late = booked_id(&book(&t.app, "+40733000111", "call_2", "11:00").await);
    t.app.clock.advance(SignedDuration::from_hours(25));
    let round = t.sender.round().await.unwrap();
    assert_eq!(round.withdrawn, 1, "{round:?}");
    assert_eq!(t.twilio.requests(), 1, "not sent a day late");
    assert!(matches!(
        &sms_states(&t, &late).await[..],
        [SmsState::Withdrawn { .. }]
    ));
}
