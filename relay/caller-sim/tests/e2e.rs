//! Scripted calls, end to end and offline: the functions (Twilio webhooks and the relay API,
//! as two servers over one store, as deployed), the relay, the Realtime double and the
//! caller simulator. Each call is judged by what ends up in the store.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use salon_caller_sim::offline::*;
use salon_caller_sim::{Step, call, parse_twiml};
use salon_domain::{CallSid, IdempotencyKey, PhoneE164, ServiceId, demo};
use salon_relay::audio::AudioMode;
use salon_store::{BookingRequest, Store};
use salon_wire::CallOutcome;
use serde_json::{Value, json};

mod common;
use common::{hung_up_cleanly, sid};

/// The first tool result the relay gave the model, parsed.
fn first_tool_output(double: &salon_realtime_double::Double) -> Value {
    let output = double
        .received()
        .into_iter()
        .find(|e| {
            e["type"] == "conversation.item.create" && e["item"]["type"] == "function_call_output"
        })
        .expect("the model got a tool result");
    serde_json::from_str(output["item"]["output"].as_str().unwrap()).unwrap()
}

/// The texts the functions' sender hands to Twilio (the loopback double of its Messages API)
/// for what is in `store`, in two rounds as the schedule would run them.
async fn texts_sent(store: &Store) -> Vec<salon_twilio_double::Message> {
    texts_sent_failing(store, 0).await.0
}

/// The same, Twilio refusing the first `failures` requests with a 503; rounds a minute apart
/// (on a clock of their own) until nothing is left. Returns the texts taken and the requests.
async fn texts_sent_failing(
    store: &Store,
    failures: usize,
) -> (Vec<salon_twilio_double::Message>, usize) {
    use salon_functions::config::Secret;
    use salon_functions::sms::{MessagesApi, Sender, SmsFrom, SmsSettings};
    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    let twilio = salon_twilio_double::TwilioDouble::start(salon_twilio_double::Credentials {
        account_sid: ACCOUNT.into(),
        username: ACCOUNT.into(),
        password: "0123456789abcdef0123456789abcdef".into(),
    })
    .await
    .unwrap();
    let settings = SmsSettings {
        api_url: twilio.url(),
        account_sid: ACCOUNT.into(),
        username: ACCOUNT.into(),
        password: Secret::new("0123456789abcdef0123456789abcdef"),
        from: SmsFrom::Number(PhoneE164::parse("+40312345000").unwrap()),
    };
    for _ in 0..failures {
        twilio.fail_next(salon_twilio_double::Fault::Status(503));
    }
    // Hours on, as the evening's schedule would run: reminders queued for then are due.
    let start = Timestamp::now() + jiff::SignedDuration::from_hours(8);
    let clock = std::sync::Arc::new(salon_domain::ManualClock::new(start));
    let store = store.clone().with_clock(clock.clone());
    let sender = Sender::new(store, MessagesApi::new(settings));
    for _ in 0..5 {
        sender.round().await.unwrap();
        clock.advance(jiff::SignedDuration::from_mins(2));
    }
    (twilio.messages(), twilio.requests())
}

/// The demo salon, texting its clients.
async fn texting(store: &Store) {
    let number = PhoneE164::parse(demo::DEMO_NUMBER).unwrap();
    salon_store::seed::demo_salon_texting(store, number, Some(true))
        .await
        .unwrap();
}

fn booking_script() -> Value {
    serde_json::from_str(include_str!("../scenarios/booking.json")).unwrap()
}

/// Scenario 1: a new caller books a haircut for the next open day at 10:00.
async fn a_new_caller_books_a_haircut(mode: AudioMode, backend: Backend) {
    let date = next_open_day();
    let stack = Stack::start(
        mode,
        backend,
        booking_script(),
        &[("date", &date.to_string())],
    )
    .await;
    let call_sid = sid(1);
    let report = stack
        .call(
            &call_sid,
            CALLER,
            vec![say("01-cerere-tuns"), say("02-nume"), say("03-confirmare")],
        )
        .await;
    assert!(report.closed_by_relay, "the agent ended the call");
    assert!(hung_up_cleanly(&report), "{:?}", report.after_stream);
    assert!(report.heard.len() > 8000 * 5, "the caller heard the agent");

    let phone = PhoneE164::parse(CALLER).unwrap();
    let client = stack
        .store
        .client(&demo_id(), &phone)
        .await
        .unwrap()
        .expect("the client was created");
    assert_eq!(client.name, "Ion Popescu");
    let booked = stack
        .store
        .client_appointments(&demo_id(), &phone)
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "booked exactly once");
    let start = booked[0]
        .start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap());
    assert_eq!(
        (start.date(), start.strftime("%H:%M").to_string()),
        (date, "10:00".to_owned())
    );
    assert_eq!(
        booked[0].call_sid.as_ref().map(CallSid::as_str),
        Some(call_sid.as_str())
    );

    let record = stack
        .store
        .call(&CallSid::parse(&call_sid).unwrap())
        .await
        .unwrap()
        .unwrap();
    let tools: Vec<(&str, bool)> = record
        .tool_calls
        .iter()
        .map(|t| (t.name.as_str(), t.error.is_none()))
        .collect();
    assert_eq!(
        tools,
        [
            ("check_appointment_availability", true),
            ("create_voice_appointment", true)
        ]
    );
    assert_eq!(record.appointments, vec![booked[0].id.clone()]);
    assert!(
        record.duration_seconds.is_some_and(|d| d > 0),
        "Twilio's duration"
    );
    let summary = record.summary.expect("the relay's summary");
    assert_eq!(summary.outcome, CallOutcome::EndedByAgent);
    assert!(summary.usage.input_tokens > 0 && summary.usage.output_tokens > 0);
    assert!(
        summary
            .transcript
            .iter()
            .any(|l| l.text.contains("Ion Popescu")),
        "{:?}",
        summary.transcript
    );
    assert!(
        summary
            .transcript
            .iter()
            .any(|l| l.text.contains("Programarea este confirmată"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_a_new_caller_books_pcm24() {
    a_new_caller_books_a_haircut(AudioMode::Pcm24, Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_a_new_caller_books_pcmu() {
    a_new_caller_books_a_haircut(AudioMode::Pcmu, Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_on_dynamodb() {
    a_new_caller_books_a_haircut(AudioMode::Pcm24, Backend::Dynamo).await;
}

/// Books a 10:00 haircut for another client directly, to take chairs.
async fn take_chair(
    store: &Store,
    date: Date,
    phone: &str,
    key: &str,
) -> salon_domain::Appointment {
    let req = BookingRequest {
        business: demo_id(),
        service: ServiceId::parse("tuns").unwrap(),
        more: Vec::new(),
        client: Some(PhoneE164::parse(phone).unwrap()),
        phone_origin: salon_domain::PhoneOrigin::CallerId,
        client_name: Some(salon_domain::ClientName::parse("Client Ocupat").unwrap()),
        start: date.to_datetime(jiff::civil::Time::constant(10, 0, 0, 0)),
        staff: None,
        call_sid: None,
        key: IdempotencyKey::parse(key).unwrap(),
        tool_call: None,
        source: salon_domain::Source::Voice,
    };
    store
        .book(&req, Timestamp::now())
        .await
        .unwrap()
        .appointment
}

/// Scenario 2: a known caller asks for a taken time and takes the alternative offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_a_known_caller_takes_the_alternative() {
    let date = next_open_day();
    let script = json!({
        "caller_transcripts": ["Aș dori o programare pentru tuns la zece.", "Atunci la zece și jumătate e bine."],
        "responses": [
            {"say": {"text": "Bună ziua, domnule Popescu! Cu ce vă pot ajuta?", "audio": "01-salut"}},
            {"calls": [{"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00"}}]},
            {"say": {"text": "Ora zece este deja ocupată. Vă pot oferi zece și jumătate sau unsprezece și un sfert.", "audio": "05-ocupat"}},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:30"}}]},
            {"say": {"text": "Perfect! Vă așteptăm la zece și jumătate.", "ms": 1200}, "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let stack = Stack::start(
        AudioMode::Pcm24,
        Backend::Embedded,
        script,
        &[("date", &date.to_string())],
    )
    .await;
    // A known client, and every chair at 10:00 taken.
    stack
        .store
        .put_client(
            &demo_id(),
            &salon_domain::Client {
                phone: PhoneE164::parse(CALLER).unwrap(),
                name: "Ion Popescu".into(),
                created: Timestamp::now(),
            },
        )
        .await
        .unwrap();
    for i in 0..3 {
        take_chair(
            &stack.store,
            date,
            &format!("07330000{i:02}"),
            &format!("chair-{i}"),
        )
        .await;
    }
    let report = stack
        .call(
            &sid(2),
            CALLER,
            vec![say("01-cerere-tuns"), say("04-alternativa")],
        )
        .await;
    assert!(report.closed_by_relay && hung_up_cleanly(&report));
    let session = stack
        .double
        .received()
        .into_iter()
        .find(|e| e["type"] == "session.update")
        .unwrap();
    assert!(
        session["session"]["instructions"]
            .as_str()
            .unwrap()
            .contains("ca dată între ghilimele: \"Ion Popescu\"")
    );
    // The relay asked the model to greet the caller by name: the functions decided it.
    let greet = stack
        .double
        .received()
        .into_iter()
        .find(|e| e["type"] == "response.create")
        .unwrap();
    assert!(
        greet.to_string().contains("Bună ziua, Ion Popescu!"),
        "{greet}"
    );
    let reply = first_tool_output(&stack.double);
    assert_eq!(reply["error"]["code"], "unavailable");
    assert!(
        reply["error"]["alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["time"] == "10:30")
    );
    let mine = stack
        .store
        .client_appointments(&demo_id(), &PhoneE164::parse(CALLER).unwrap())
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].client_name, "Ion Popescu",
        "the known client's name"
    );
    let start = mine[0]
        .start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap());
    assert_eq!(start.strftime("%H:%M").to_string(), "10:30");
}

/// Scenario 3: a caller interrupts the greeting; the conversation carries on.
async fn a_caller_interrupts_the_greeting(mode: AudioMode) {
    let script = json!({
        "caller_transcripts": ["Stați puțin, stați puțin, nu asta am vrut să spun.", "Mulțumesc frumos, la revedere!"],
        "responses": [
            {"say": {"text": "Bună ziua! Salon Voice Booking, cu ce vă pot ajuta?", "audio": "01-salut"}},
            {"say": {"text": "Vă ascult, spuneți.", "ms": 1000}},
            {"say": {"text": "Vă mulțumim și o zi frumoasă! La revedere!", "audio": "08-la-revedere"}, "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let stack = Stack::start(mode, Backend::Embedded, script, &[]).await;
    let steps = vec![
        Step::Interrupt {
            after: Duration::from_millis(1500),
            label: "10-intrerupere".into(),
            audio: caller("10-intrerupere"),
        },
        say("09-la-revedere"),
    ];
    let report = stack.call(&sid(3), CALLER, steps).await;
    assert_eq!(report.clears, 1, "Twilio was told to drop the greeting");
    let truncate = stack
        .double
        .received()
        .into_iter()
        .find(|e| e["type"] == "conversation.item.truncate")
        .expect("a truncate");
    let end_ms = truncate["audio_end_ms"].as_u64().unwrap();
    let heard = report.heard_ms_at_clear[0];
    assert!(
        end_ms >= 1500 && end_ms <= heard && heard - end_ms <= 300,
        "truncated at {end_ms} ms; the caller had heard {heard} ms"
    );
    assert!(
        !stack.double.sent().iter().any(|e| e["type"] == "error"),
        "the double accepted every event"
    );
    assert!(
        report.closed_by_relay && hung_up_cleanly(&report),
        "the conversation carried on to a goodbye"
    );
    let record = stack
        .store
        .call(&CallSid::parse(sid(3)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.summary.unwrap().barge_ins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_a_caller_interrupts_pcm24() {
    a_caller_interrupts_the_greeting(AudioMode::Pcm24).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_a_caller_interrupts_pcmu() {
    a_caller_interrupts_the_greeting(AudioMode::Pcmu).await;
}

/// Scenario 4: the model's connection drops mid-call; the booking still lands exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_4_a_dropped_connection_still_books_once() {
    let date = next_open_day();
    let create = json!({"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "client_name": "Ion Popescu"}});
    let script = json!({
        "caller_transcripts": ["Aș dori un tuns la zece, pe numele Ion Popescu.", "Da, confirm."],
        "responses": [
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1500}},
            {"say": {"text": "Tuns la ora zece, pe numele Ion Popescu. Confirmați?", "ms": 1500}},
            {"calls": [create.clone()], "drop": "after"},
            {"calls": [create]},
            {"say": {"text": "Perfect! Programarea este confirmată.", "audio": "04-confirmare"}, "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let stack = Stack::start(
        AudioMode::Pcm24,
        Backend::Embedded,
        script,
        &[("date", &date.to_string())],
    )
    .await;
    texting(&stack.store).await;
    let report = stack
        .call(
            &sid(4),
            CALLER,
            vec![say("01-cerere-tuns"), say("03-confirmare")],
        )
        .await;
    assert_eq!(stack.double.connections(), 2, "the relay reconnected");
    assert!(report.closed_by_relay && hung_up_cleanly(&report));
    let booked = stack
        .store
        .client_appointments(&demo_id(), &PhoneE164::parse(CALLER).unwrap())
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "booked exactly once across the reconnect");
    let record = stack
        .store
        .call(&CallSid::parse(sid(4)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.summary.unwrap().reconnects, 1);
    assert_eq!(record.appointments.len(), 1);
    // Asked twice, booked once: one text owed. Twilio refusing it every time: three attempts,
    // recorded as failed, and the booking stands.
    let (texts, requests) = texts_sent_failing(&stack.store, 3).await;
    assert!(texts.is_empty(), "{texts:?}");
    assert_eq!(requests, 3, "bounded");
    let records = stack.store.sms_of(&demo_id(), &booked[0].id).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(matches!(
        records[0].state,
        salon_domain::sms::SmsState::Failed { .. }
    ));
    let still = stack
        .store
        .appointment(&demo_id(), &booked[0].id)
        .await
        .unwrap()
        .unwrap();
    assert!(still.is_booked());
}

/// Scenario 5: the model refuses the connection; the stream ends within seconds, and Twilio
/// gets the Romanian apology.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_5_a_refused_model_ends_the_stream_fast() {
    let stack = Stack::start(
        AudioMode::Pcm24,
        Backend::Embedded,
        json!({"responses": []}),
        &[],
    )
    .await;
    stack.double.refuse_next(1000);
    let began = std::time::Instant::now();
    let report = stack
        .call(&sid(5), CALLER, vec![say("01-cerere-tuns")])
        .await;
    assert!(report.closed_by_relay);
    assert!(
        began.elapsed() < Duration::from_secs(6),
        "ended after {:?}",
        began.elapsed()
    );
    let after = report.after_stream.unwrap();
    let stream = parse_twiml(&after);
    assert!(stream.is_none());
    assert!(
        after.contains("<Say language=\"ro-RO\"")
            && after.contains("Ne pare rău")
            && after.contains("<Hangup/>"),
        "{after}"
    );
}

/// Scenario 6: the functions are down during a tool call: the agent apologises, nothing is
/// booked, the call ends cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_6_functions_down_mid_call() {
    let date = next_open_day();
    let script = json!({
        "caller_transcripts": ["Aș dori un tuns la zece, pe numele Ion Popescu."],
        "responses": [
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1500}},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "client_name": "Ion Popescu"}}]},
            {"say": {"text": "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.", "audio": "06-scuze"},
             "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let stack = Stack::start(
        AudioMode::Pcmu,
        Backend::Embedded,
        script,
        &[("date", &date.to_string())],
    )
    .await;
    let relay_api = &stack.relay_api;
    let (account, double) = (stack.account.clone(), &stack.double);
    let call = tokio::spawn(async move {
        call(
            &account,
            &sid(6),
            CALLER,
            demo::DEMO_NUMBER,
            vec![say("01-cerere-tuns")],
            Duration::from_secs(60),
        )
        .await
    });
    // Once the session is up, the relay API goes down.
    double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(10))
        .await
        .expect("the call started");
    relay_api.abort();
    let report = call.await.unwrap().unwrap();
    report.print();
    let reply = first_tool_output(double);
    assert_eq!(reply["error"]["code"], "functions_unreachable");
    assert!(report.closed_by_relay, "the call ended");
    assert!(
        report.after_stream.is_some(),
        "Twilio was told what to do next"
    );
    assert!(
        stack
            .store
            .client_appointments(&demo_id(), &PhoneE164::parse(CALLER).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Scenario 7: one caller cancels an appointment, another moves one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_7_cancel_and_reschedule() {
    let date = next_open_day();
    let later = open_day_after(date);
    let prepared = prepare(Backend::Embedded).await;
    texting(&prepared.store).await;
    let (ana, bogdan) = ("+40744000001", "+40744000002");
    let to_cancel = take_chair(&prepared.store, date, ana, "a").await;
    let to_move = take_chair(&prepared.store, date, bogdan, "b").await;
    let script = json!({
        "caller_transcripts": ["Aș vrea să anulez programarea.", "Da, confirm.", "Pot să mut programarea?", "Da, confirm."],
        "responses": [
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1200}},
            {"calls": [{"name": "list_client_appointments", "arguments": {}}]},
            {"say": {"text": "Aveți tuns la ora zece. O anulez?", "ms": 1200}},
            {"calls": [{"name": "cancel_appointment", "arguments": {"appointment_id": "{cancel}"}}]},
            {"say": {"text": "Am anulat programarea. La revedere!", "ms": 1200}, "calls": [{"name": "end_call", "arguments": {}}]},
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1200}},
            {"say": {"text": "Vă pot muta la ora zece, în ziua următoare. Confirmați?", "ms": 1200}},
            {"calls": [{"name": "reschedule_appointment", "arguments": {"appointment_id": "{move}", "date": "{later}", "time": "10:00"}}]},
            {"say": {"text": "Am mutat programarea. La revedere!", "ms": 1200}, "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let later_s = later.to_string();
    let vars = [
        ("cancel", to_cancel.id.as_str()),
        ("move", to_move.id.as_str()),
        ("later", later_s.as_str()),
    ];
    let stack = prepared.run(AudioMode::Pcmu, script, &vars, false).await;

    let first = stack
        .call(&sid(71), ana, vec![say("05-anulare"), say("03-confirmare")])
        .await;
    assert!(first.closed_by_relay && hung_up_cleanly(&first));
    let cancelled = stack
        .store
        .appointment(&demo_id(), &to_cancel.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!cancelled.is_booked(), "cancelled, and kept");

    let second = stack
        .call(
            &sid(72),
            bogdan,
            vec![say("06-mutare"), say("03-confirmare")],
        )
        .await;
    assert!(second.closed_by_relay && hung_up_cleanly(&second));
    let moved = stack
        .store
        .appointment(&demo_id(), &to_move.id)
        .await
        .unwrap()
        .unwrap();
    assert!(moved.is_booked());
    let start = moved
        .start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap());
    assert_eq!(
        (start.date(), start.strftime("%H:%M").to_string()),
        (later, "10:00".to_owned())
    );
    // The reminders, queued as the evening job would (hours after the bookings): none for
    // the cancelled appointment or the day the other left, one for the day it moved to.
    let b = stack.store.business(&demo_id()).await.unwrap().unwrap();
    let evening = Timestamp::now() + jiff::SignedDuration::from_hours(7);
    assert_eq!(
        stack
            .store
            .queue_reminders(&b, date, evening)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        stack
            .store
            .queue_reminders(&b, later, evening)
            .await
            .unwrap(),
        1
    );
    let texts = texts_sent(&stack.store).await;
    let to = |who: &str| -> Vec<String> {
        texts
            .iter()
            .filter(|m| m.to == who)
            .map(|m| m.body.clone())
            .collect()
    };
    let (ana_texts, bogdan_texts) = (to(ana), to(bogdan));
    // Each: the confirmation of the chair taken before the call, then what the call did.
    assert_eq!(ana_texts.len(), 2, "{ana_texts:?}");
    assert!(ana_texts[1].contains("Programare anulata"), "{ana_texts:?}");
    assert!(
        !ana_texts.iter().any(|t| t.contains("Va asteptam maine")),
        "no reminder"
    );
    assert_eq!(bogdan_texts.len(), 3, "{bogdan_texts:?}");
    assert!(bogdan_texts.iter().any(|t| t.contains("Programare mutata")));
    assert!(bogdan_texts.iter().any(|t| t.contains("Va asteptam maine")));
}

/// Scenario 8: the relay retries a booking whose answer was lost; it books once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_8_a_retried_booking_books_once() {
    let date = next_open_day();
    let script = json!({
        "caller_transcripts": ["Aș dori un tuns la zece, pe numele Ion Popescu."],
        "responses": [
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1200}},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "client_name": "Ion Popescu"}}]},
            {"say": {"text": "Perfect! Programarea este confirmată.", "audio": "04-confirmare"}, "calls": [{"name": "end_call", "arguments": {}}]}
        ]
    });
    let prepared = prepare(Backend::Embedded).await;
    texting(&prepared.store).await;
    let stack = prepared
        .run(
            AudioMode::Pcm24,
            script,
            &[("date", &date.to_string())],
            true,
        )
        .await;
    let report = stack
        .call(&sid(8), CALLER, vec![say("01-cerere-tuns")])
        .await;
    assert!(report.closed_by_relay && hung_up_cleanly(&report));
    assert_eq!(
        stack.forwarded.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the relay sent the booking twice"
    );
    let booked = stack
        .store
        .client_appointments(&demo_id(), &PhoneE164::parse(CALLER).unwrap())
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "and it was booked once");
    let reply = first_tool_output(&stack.double);
    assert_eq!(reply["result"]["confirmat"], true);
    // And its caller gets one text.
    let texts = texts_sent(&stack.store).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].to, CALLER);
    assert!(
        texts[0].body.contains("Programare confirmata: Tuns"),
        "{}",
        texts[0].body
    );
}

/// A captured TwiML (its stream token) replayed for a second stream of the same call, through
/// the real relay and functions: refused, and no second model session is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_one_stream_a_replayed_token_opens_nothing() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let date = next_open_day();
    let stack = Stack::start(
        AudioMode::Pcmu,
        Backend::Embedded,
        booking_script(),
        &[("date", &date.to_string())],
    )
    .await;
    let call_sid = sid(21);
    let report = stack
        .call(
            &call_sid,
            CALLER,
            vec![say("01-cerere-tuns"), say("02-nume"), say("03-confirmare")],
        )
        .await;
    assert!(report.closed_by_relay);
    let sessions = stack.double.connections();
    assert_eq!(sessions, 1);
    // The same token, within its two minutes, for another stream of the call.
    let stream = parse_twiml(&report.twiml).unwrap();
    let (_tx, mut rx) =
        salon_caller_sim::open_stream(&stack.account, &stream, &call_sid, "MZ-replayed")
            .await
            .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = rx.next().await {
            assert!(
                !matches!(msg, Message::Text(_)),
                "the replayed stream heard nothing"
            );
        }
    })
    .await;
    assert!(closed.is_ok(), "the replayed stream was closed");
    assert_eq!(
        stack.double.connections(),
        sessions,
        "no second model session"
    );
    let record = stack
        .store
        .call(&CallSid::parse(&call_sid).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.stream_sid.as_deref(),
        Some("MZ00000000000000000000000000000000"),
        "the first stream keeps the call"
    );
}

/// The demo and the local stack can rehearse a given day: the functions, the store and the
/// relay all run on one clock that starts there (stream tokens, signatures and the calendar
/// agree), and the call books on that day's calendar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_stack_rehearses_a_given_day_on_one_clock() {
    use std::sync::Arc;

    use salon_domain::{Clock, OffsetClock};
    // Friday 26 March 2027, two days before the clock change.
    let at: Timestamp = "2027-03-26T08:00:00+02:00".parse().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(at));
    let date = next_open_day_on(clock.as_ref());
    let stack = prepare(Backend::Embedded)
        .await
        .on_clock(clock)
        .run(
            AudioMode::Pcmu,
            booking_script(),
            &[("date", &date.to_string())],
            false,
        )
        .await;
    let report = stack
        .call(
            &sid(31),
            CALLER,
            vec![say("01-cerere-tuns"), say("02-nume"), say("03-confirmare")],
        )
        .await;
    assert!(report.closed_by_relay && hung_up_cleanly(&report));
    let session = stack
        .double
        .received()
        .into_iter()
        .find(|e| e["type"] == "session.update")
        .unwrap();
    assert!(
        session["session"]["instructions"]
            .as_str()
            .unwrap()
            .contains("Astăzi este vineri, 26 martie (2027-03-26)"),
        "the functions run on the rehearsal clock"
    );
    let booked = stack
        .store
        .client_appointments(&demo_id(), &PhoneE164::parse(CALLER).unwrap())
        .await
        .unwrap();
    assert_eq!(
        booked.len(),
        1,
        "the relay and the functions agreed on the clock"
    );
    let local = booked[0]
        .start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap());
    assert_eq!(local.date(), date);
    assert_eq!(local.date().year(), 2027);
}

/// The demo salon with a phone a person answers, on a clock at `at`; a call from `CALLER`.
async fn handover_stack(at: &str, script: Value) -> Stack {
    use std::sync::Arc;

    use salon_domain::{Clock, OffsetClock};
    let at: Timestamp = at.parse().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(OffsetClock::starting_at(at));
    let prepared = prepare(Backend::Embedded).await.on_clock(clock);
    let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.person_phone = Some(PhoneE164::parse(SALON_PHONE).unwrap());
    prepared.store.put_business(&b).await.unwrap();
    prepared.run(AudioMode::Pcmu, script, &[], false).await
}

const SALON_PHONE: &str = "+40722999888";

/// The script of a caller who asks for a person: the model asks the functions, then says what
/// their answer says (put through; or, refused, it takes a message and says goodbye).
fn asks_for_a_person() -> Value {
    json!({
        "caller_transcripts": ["Aș vrea să vorbesc cu cineva de la salon."],
        "responses": [
            {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1200}},
            {"calls": [{"name": "transfer_to_human", "arguments": {"reason": "a cerut un om"}}]},
            {"say": {"text": "Vă fac legătura cu salonul, vă rog să rămâneți la telefon.", "ms": 1200}}
        ],
        "asides": [
            {"when": "transfer_unavailable",
             "say": {"text": "Salonul este închis acum. Vă notez un mesaj: Ion Popescu, vreți să aflați dacă faceți extensii.", "ms": 1200},
             "calls": [{"name": "take_message", "arguments": {"name": "Ion Popescu", "message": "Vrea să afle dacă faceți extensii."}}]},
            {"when": "\"notat\":true",
             "say": {"text": "Am notat, salonul vă sună înapoi. La revedere!", "ms": 1200},
             "calls": [{"name": "end_call", "arguments": {}}]},
            {"when": "tasta 0",
             "calls": [{"name": "transfer_to_human", "arguments": {"reason": "a apăsat 0"}}]}
        ]
    })
}

fn tool_names(record: &salon_domain::CallRecord) -> Vec<&str> {
    record.tool_calls.iter().map(|t| t.name.as_str()).collect()
}

/// In opening hours, a caller who asks for a person is put through: the stream ends with a
/// transfer and Twilio is told to ring the salon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_asks_for_a_person_in_hours_is_put_through() {
    // Tuesday 15 December 2026, 11:00.
    let stack = handover_stack("2026-12-15T11:00:00+02:00", asks_for_a_person()).await;
    let report = stack
        .call(
            &sid(40),
            CALLER,
            vec![say("01-cerere-tuns"), Step::Wait(Duration::from_secs(4))],
        )
        .await;
    assert!(report.closed_by_relay, "the relay ended the stream");
    let after = report
        .after_stream
        .as_deref()
        .expect("stream-ended was asked");
    assert!(after.contains("<Dial"), "{after}");
    assert!(after.contains(SALON_PHONE), "{after}");
    assert!(!after.contains("<Say"), "no apology: {after}");
    let record = stack
        .store
        .call(&CallSid::parse(sid(40)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.summary.as_ref().unwrap().outcome,
        CallOutcome::Transferred
    );
    assert_eq!(tool_names(&record), ["transfer_to_human"]);
}

/// Outside opening hours nobody can take the call: the agent takes a message, kept once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_asks_for_a_person_after_hours_leaves_a_message() {
    // Tuesday 15 December 2026, 20:30: closed since 19:00.
    let stack = handover_stack("2026-12-15T20:30:00+02:00", asks_for_a_person()).await;
    let report = stack
        .call(
            &sid(41),
            CALLER,
            vec![say("01-cerere-tuns"), Step::Wait(Duration::from_secs(6))],
        )
        .await;
    assert!(
        report.closed_by_relay && hung_up_cleanly(&report),
        "{:?}",
        report.after_stream
    );
    let messages = stack.store.messages(&demo_id()).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].name.as_deref(), Some("Ion Popescu"));
    assert_eq!(
        messages[0].phone.as_ref().map(PhoneE164::as_str),
        Some(CALLER)
    );
    let record = stack
        .store
        .call(&CallSid::parse(sid(41)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tool_names(&record), ["transfer_to_human", "take_message"]);
    assert_eq!(
        record.summary.as_ref().unwrap().outcome,
        CallOutcome::EndedByAgent
    );
}

/// Pressing 0 asks for a person the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_presses_zero_is_put_through() {
    let mut script = asks_for_a_person();
    // The caller says nothing: the key is the request.
    script["caller_transcripts"] = json!([]);
    script["responses"] = json!([
        {"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 1200}},
        {"say": {"text": "Vă fac legătura cu salonul, vă rog să rămâneți la telefon.", "ms": 1200}}
    ]);
    let stack = handover_stack("2026-12-15T11:00:00+02:00", script).await;
    let report = stack
        .call(
            &sid(42),
            CALLER,
            vec![
                Step::Wait(Duration::from_secs(2)),
                Step::Dtmf('0'),
                Step::Wait(Duration::from_secs(4)),
            ],
        )
        .await;
    let after = report
        .after_stream
        .as_deref()
        .expect("stream-ended was asked");
    assert!(
        after.contains("<Dial") && after.contains(SALON_PHONE),
        "{after}"
    );
    let record = stack
        .store
        .call(&CallSid::parse(sid(42)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.summary.as_ref().unwrap().outcome,
        CallOutcome::Transferred
    );
}
