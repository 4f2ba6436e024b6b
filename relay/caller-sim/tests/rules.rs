//! Scripted calls for the salon's booking rules, end to end and offline (the functions, the
//! relay, the Realtime double and simulated callers, as in `e2e.rs`): a caller who asks for a
//! stylist by name gets them, and a time one caller holds survives a rival caller who tries
//! to take it meanwhile. Each call is judged by what the functions stored.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use salon_caller_sim::Step;
use salon_caller_sim::offline::*;
use salon_domain::{
    Appointment, CallRecord, CallSid, ClientName, IdempotencyKey, PhoneE164, PhoneOrigin,
    ServiceId, StaffId,
};
use salon_relay::audio::AudioMode;
use salon_store::{BookingRequest, Store};
use serde_json::json;
use tokio::sync::Notify;

mod common;
use common::{hung_up_cleanly, sid};

/// Books a haircut for another client at `hour` on `date`, with `who` (or anyone).
async fn book_other(store: &Store, date: Date, hour: i8, who: Option<&str>, n: u32) -> StaffId {
    let req = BookingRequest {
        business: demo_id(),
        service: ServiceId::parse("tuns").unwrap(),
        more: Vec::new(),
        client: Some(PhoneE164::parse(&format!("07330000{n:02}")).unwrap()),
        phone_origin: PhoneOrigin::CallerId,
        client_name: Some(ClientName::parse("Client Ocupat").unwrap()),
        start: date.to_datetime(Time::constant(hour, 0, 0, 0)),
        staff: who.map(|w| StaffId::parse(w).unwrap()),
        call_sid: None,
        key: IdempotencyKey::parse(format!("other-{n}")).unwrap(),
        tool_call: None,
        source: salon_domain::Source::Voice,
    };
    store
        .book(&req, Timestamp::now())
        .await
        .unwrap()
        .appointment
        .staff
}

async fn record(store: &Store, call: &str) -> CallRecord {
    store
        .call(&CallSid::parse(call).unwrap())
        .await
        .unwrap()
        .expect("the call was recorded")
}

/// Each tool the call used, and whether it succeeded.
fn tools(record: &CallRecord) -> Vec<(&str, bool)> {
    record
        .tool_calls
        .iter()
        .map(|t| (t.name.as_str(), t.error.is_none()))
        .collect()
}

async fn booked(store: &Store, phone: &str) -> Vec<Appointment> {
    store
        .client_appointments(&demo_id(), &PhoneE164::parse(phone).unwrap())
        .await
        .unwrap()
}

fn local_time(a: &Appointment) -> String {
    a.start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest").unwrap())
        .strftime("%H:%M")
        .to_string()
}

/// A caller asks for Maria by name, though she is the busiest that day ("anyone" would get
/// someone else): the model passes her name on, the time is held with her, and she is booked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_asks_for_a_named_stylist() {
    let date = next_open_day();
    let prepared = prepare(Backend::Embedded).await;
    book_other(&prepared.store, date, 9, Some("maria"), 1).await;
    book_other(&prepared.store, date, 11, Some("maria"), 2).await;
    let script = json!({
        "caller_transcripts": [
            "Aș dori un tuns la zece, la Maria.",
            "Mă numesc Ion Popescu.",
            "Da, confirm."
        ],
        "responses": [
            {"say": {"text": "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?", "audio": "01-salut"}},
            {"calls": [{"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "stylist": "Maria"}}]},
            {"calls": [{"name": "hold_appointment_time", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "stylist": "Maria"}}]},
            {"say": {"text": "Maria este liberă la ora zece; v-o țin cinci minute. Pe ce nume fac programarea?", "ms": 1500}},
            {"say": {"text": "Deci, tuns la Maria, la ora zece, pe numele Ion Popescu. Confirmați?", "ms": 1500}},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "stylist": "Maria", "client_name": "Ion Popescu"}}]},
            {"say": {"text": "Perfect! Vă așteaptă Maria la ora zece. La revedere!", "ms": 1500},
             "calls": [{"name": "end_call", "arguments": {"reason": "booked"}}]}
        ]
    });
    let stack = prepared
        .run(
            AudioMode::Pcm24,
            script,
            &[("date", &date.to_string())],
            false,
        )
        .await;
    // Without the name, the least booked stylist would get the time: not Maria.
    let anyone = stack
        .store
        .check(
            &demo_id(),
            &ServiceId::parse("tuns").unwrap(),
            date.to_datetime(Time::constant(10, 0, 0, 0)),
            None,
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_ne!(anyone.staff[0].as_str(), "maria");

    let call = sid(90);
    let report = stack
        .call(
            &call,
            CALLER,
            vec![say("01-cerere-tuns"), say("02-nume"), say("03-confirmare")],
        )
        .await;
    assert!(report.closed_by_relay && hung_up_cleanly(&report));
    // The session told the model who works here and how to hold a time.
    let session = stack
        .double
        .received()
        .into_iter()
        .find(|e| e["type"] == "session.update")
        .unwrap();
    let instructions = session["session"]["instructions"].as_str().unwrap();
    assert!(instructions.contains("Maria"), "{instructions}");
    assert!(instructions.contains("hold_appointment_time"));

    let mine = booked(&stack.store, CALLER).await;
    assert_eq!(mine.len(), 1, "booked once");
    assert_eq!(mine[0].staff.as_str(), "maria");
    assert_eq!(local_time(&mine[0]), "10:00");
    assert_eq!(
        tools(&record(&stack.store, &call).await),
        [
            ("check_appointment_availability", true),
            ("hold_appointment_time", true),
            ("create_voice_appointment", true)
        ]
    );
}

/// One chair is left at 10:00. The first caller holds it and, while they give their name, a
/// second caller asks for the same time and tries to book it: they are refused (with other
/// times), and the first caller books the chair they held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_time_survives_a_rival_caller() {
    const RIVAL: &str = "+40744555666";
    let date = next_open_day();
    let prepared = prepare(Backend::Embedded).await;
    let taken = [
        book_other(&prepared.store, date, 10, None, 1).await,
        book_other(&prepared.store, date, 10, None, 2).await,
    ];
    // One script for both calls, played in turn: the first caller's opening and hold, the
    // rival's whole call, then the rest of the first caller's.
    let script = json!({
        "caller_transcripts": [
            "Aș dori un tuns la zece.",
            "Aș dori un tuns la zece.",
            "Mă numesc Ion Popescu.",
            "Da, confirm."
        ],
        "responses": [
            {"say": {"text": "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?", "audio": "01-salut"}},
            {"calls": [{"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00"}}]},
            {"calls": [{"name": "hold_appointment_time", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00"}}]},
            {"say": {"text": "Vă țin ora zece cinci minute. Pe ce nume fac programarea?", "ms": 1500}},

            {"say": {"text": "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?", "ms": 1500}},
            {"calls": [{"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00"}}]},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "client_name": "Maria Ionescu"}}]},
            {"say": {"text": "Ora zece nu mai este liberă. Vă rog să ne sunați din nou. La revedere!", "ms": 1500},
             "calls": [{"name": "end_call", "arguments": {"reason": "refused"}}]},

            {"say": {"text": "Deci, tuns la ora zece, pe numele Ion Popescu. Confirmați?", "ms": 1500}},
            {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns", "date": "{date}", "time": "10:00", "client_name": "Ion Popescu"}}]},
            {"say": {"text": "Perfect! Vă așteptăm la ora zece. La revedere!", "ms": 1500},
             "calls": [{"name": "end_call", "arguments": {"reason": "booked"}}]}
        ]
    });
    let stack = prepared
        .run(
            AudioMode::Pcm24,
            script,
            &[("date", &date.to_string())],
            false,
        )
        .await;
    let (first, rival) = (sid(91), sid(92));
    let go_on = Arc::new(Notify::new());
    let first_call = stack.call(
        &first,
        CALLER,
        vec![
            say("01-cerere-tuns"),
            Step::Until(go_on.clone()),
            say("02-nume"),
            say("03-confirmare"),
        ],
    );
    let meanwhile = async {
        // Once the first caller has been asked for their name (the time held)...
        stack
            .double
            .wait_for_sent(
                |e| e.to_string().contains("Pe ce nume fac programarea"),
                Duration::from_secs(30),
            )
            .await
            .expect("the first caller was asked for their name");
        let so_far = record(&stack.store, &first).await;
        assert_eq!(
            tools(&so_far),
            [
                ("check_appointment_availability", true),
                ("hold_appointment_time", true)
            ]
        );
        // ...the rival calls, asks for 10:00 and tries to book it.
        let report = stack.call(&rival, RIVAL, vec![say("01-cerere-tuns")]).await;
        go_on.notify_one();
        report
    };
    let (first_report, rival_report) = tokio::join!(first_call, meanwhile);
    assert!(rival_report.closed_by_relay && hung_up_cleanly(&rival_report));
    assert!(first_report.closed_by_relay && hung_up_cleanly(&first_report));

    // The rival was refused both times, with other times offered, and booked nothing.
    let rival_record = record(&stack.store, &rival).await;
    assert_eq!(
        tools(&rival_record),
        [
            ("check_appointment_availability", false),
            ("create_voice_appointment", false)
        ]
    );
    assert!(booked(&stack.store, RIVAL).await.is_empty());
    let refusal = stack
        .double
        .received()
        .into_iter()
        .filter(|e| e["item"]["type"] == "function_call_output")
        .map(|e| e["item"]["output"].as_str().unwrap().to_owned())
        .nth(2)
        .expect("the rival's check was answered");
    assert!(refusal.contains("\"alternatives\""), "{refusal}");

    // The first caller booked the chair they held: the one left.
    let mine = booked(&stack.store, CALLER).await;
    assert_eq!(mine.len(), 1, "booked once");
    assert_eq!(local_time(&mine[0]), "10:00");
    assert!(!taken.contains(&mine[0].staff), "the free chair");
    assert_eq!(
        tools(&record(&stack.store, &first).await),
        [
            ("check_appointment_availability", true),
            ("hold_appointment_time", true),
            ("create_voice_appointment", true)
        ]
    );
}
