//! Stylists and the salon's policy through the HTTP tools API, the session's instructions and
//! the owner's API: what the model is told, what it can ask, and what the store did.

use std::collections::BTreeSet;

use salon_domain::{Absence, Business, PhoneE164, ServiceId, StaffId, demo};
use salon_wire::tools::*;
use serde_json::{Value, json};

use crate::helpers::{CALLER, OTHER_OWNER_TOKEN, OWNER_TOKEN, TestApp, assert_romanian, spawn_app};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

/// The demo salon where Maria only cuts and shaves, Ana is away on Wednesday 16 December,
/// and changes by phone end two hours before an appointment.
async fn salon_app() -> TestApp {
    let app = spawn_app().await;
    let mut b: Business = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.staff[1].services = Some(BTreeSet::from([
        ServiceId::parse("tuns").unwrap(),
        ServiceId::parse("barbierit").unwrap(),
    ]));
    b.staff[0].absences.insert(
        Absence::new(
            "2026-12-16".parse().unwrap(),
            "2026-12-16".parse().unwrap(),
            "concediu",
        )
        .unwrap(),
    );
    b.rules.cancel_cutoff_minutes = 120;
    app.store.put_business(&b).await.unwrap();
    app
}

fn refused(answer: &Value, code: &str) -> String {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap().to_owned();
    assert_romanian(&message);
    message
}

#[tokio::test]
async fn the_tools_say_who_does_what_and_when_they_are_away() {
    let app = salon_app().await;

    // Maria does not colour: the answer says who does.
    let answer = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c1",
            json!({"service": "vopsit", "date": "2026-12-15", "time": "10:00", "stylist": "Maria"}),
        )
        .await;
    let message = refused(&answer, "unavailable");
    assert!(
        message.contains("Maria nu face acest serviciu. Îl face Ana sau Ion."),
        "{message}"
    );
    // Anyone: the free stylists are those who colour.
    let answer = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c2",
            json!({"service": "vopsit", "date": "2026-12-15", "time": "10:00", "stylist": "oricine"}),
        )
        .await;
    assert_eq!(answer["result"]["stilisti_liberi"], json!(["Ana", "Ion"]));

    // Ana is away on Wednesday, asked for a time and for the day.
    for (id, args) in [
        (
            "c3",
            json!({"service": "tuns", "date": "2026-12-16", "time": "11:00", "stylist": "Ana"}),
        ),
        (
            "c4",
            json!({"service": "tuns", "date": "2026-12-16", "stylist": "Ana"}),
        ),
    ] {
        let answer = app
            .tool_as(CALLER, CHECK_APPOINTMENT_AVAILABILITY, id, args)
            .await;
        let message = refused(&answer, "unavailable");
        assert!(
            message.starts_with("Ana nu este la salon în ziua aceea; revine joi, 17 decembrie."),
            "{message}"
        );
        assert!(!message.contains("concediu"), "the reason is the owner's");
    }

    // The session's instructions know the same.
    let session = app.session(CALLER).await;
    let instructions = session["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("  - Maria (face doar: Bărbierit și Tuns)"),
        "{instructions}"
    );
    assert!(
        instructions.contains(
            "  - Ana (nu este la salon miercuri, 16 decembrie, revine joi, 17 decembrie)"
        ),
        "{instructions}"
    );
    assert!(
        instructions.contains("Anulările și mutările prin telefon se fac cu cel puțin 2 ore"),
        "{instructions}"
    );
}

#[tokio::test]
async fn anyone_is_named_a_move_keeps_the_stylist_and_the_cut_off_offers_a_person() {
    let app = salon_app().await;
    // Ana takes someone else at 11:00 on Thursday.
    let other = salon_store::BookingRequest {
        business: salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
        service: ServiceId::parse("tuns").unwrap(),
        more: Vec::new(),
        client: Some(PhoneE164::parse("0733000000").unwrap()),
        phone_origin: salon_domain::PhoneOrigin::CallerId,
        client_name: Some(salon_domain::ClientName::parse("Maria Ionescu").unwrap()),
        start: "2026-12-17T11:00".parse().unwrap(),
        staff: Some(staff("ana")),
        call_sid: None,
        key: salon_domain::IdempotencyKey::parse("other").unwrap(),
        tool_call: None,
        source: salon_domain::Source::Voice,
    };
    app.store.book(&other, app.clock_now()).await.unwrap();

    // Anyone, on a quiet Tuesday: the answer names who it is (Ana, first in the salon's order).
    let booked = app
        .tool_as(
            CALLER,
            CREATE_VOICE_APPOINTMENT,
            "c1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    assert_eq!(booked["result"]["stilist"], "Ana");
    let id = booked["result"]["id_programare"]
        .as_str()
        .unwrap()
        .to_owned();

    // Moved onto Ana's busy Thursday 11:00 without naming anyone: refused, Ana is kept.
    let kept = app
        .tool_as(
            CALLER,
            RESCHEDULE_APPOINTMENT,
            "c2",
            json!({"appointment_id": id, "date": "2026-12-17", "time": "11:00"}),
        )
        .await;
    refused(&kept, "unavailable");
    let stored = app
        .store
        .appointment(
            &other.business,
            &salon_domain::AppointmentId::parse(&id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.staff, staff("ana"));
    assert_eq!(stored.start, "2026-12-15T10:00:00+02:00".parse().unwrap());
    // "Oricine": another stylist takes it.
    let moved = app
        .tool_as(
            CALLER,
            RESCHEDULE_APPOINTMENT,
            "c3",
            json!({"appointment_id": id, "date": "2026-12-17", "time": "11:00", "stylist": "oricine"}),
        )
        .await;
    assert_eq!(moved["ok"], true, "{moved}");
    assert_eq!(moved["result"]["stilist"], "Maria");

    // Ninety minutes before: neither cancelled nor moved by phone; a person is offered.
    app.clock.set("2026-12-17T09:30:00+02:00".parse().unwrap());
    let answer = app
        .tool_as(
            CALLER,
            CANCEL_APPOINTMENT,
            "c4",
            json!({"appointment_id": id}),
        )
        .await;
    let message = refused(&answer, "too_late");
    assert!(
        message.contains("cu cel puțin 2 ore înainte") && message.contains("Vă pot face legătura"),
        "{message}"
    );
    let answer = app
        .tool_as(
            CALLER,
            RESCHEDULE_APPOINTMENT,
            "c5",
            json!({"appointment_id": id, "date": "2026-12-18", "time": "11:00"}),
        )
        .await;
    refused(&answer, "too_late");
    let stored = app
        .store
        .appointment(
            &other.business,
            &salon_domain::AppointmentId::parse(&id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_booked());
    assert_eq!(stored.start, "2026-12-17T11:00:00+02:00".parse().unwrap());
}

#[tokio::test]
async fn the_owner_adds_an_absence_and_hears_what_was_booked_then() {
    let app = spawn_app().await;
    let booked = app
        .tool_as(
            CALLER,
            CREATE_VOICE_APPOINTMENT,
            "c1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu", "stylist": "Ion"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let post = |token: Option<&'static str>, who: &'static str, body: Value| {
        let req = app
            .http
            .post(format!("{}/api/owner/staff/{who}/absences", app.base))
            .json(&body);
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };
    let away = json!({"from": "2026-12-15", "to": "2026-12-16", "reason": "medical"});
    assert_eq!(post(None, "ion", away.clone()).await.status(), 401);
    assert_eq!(
        post(Some(OTHER_OWNER_TOKEN), "ion", away.clone())
            .await
            .status(),
        404,
        "another salon's stylist"
    );
    assert_eq!(
        post(
            Some(OWNER_TOKEN),
            "ion",
            json!({"from": "2026-12-16", "to": "2026-12-15"})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        post(Some(OWNER_TOKEN), "nimeni", away.clone())
            .await
            .status(),
        404
    );
    let r = post(Some(OWNER_TOKEN), "ion", away).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["booked"][0]["id"], booked["result"]["id_programare"],
        "{body}"
    );

    // Nobody can book Ion on those days now.
    let answer = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c2",
            json!({"service": "tuns", "date": "2026-12-16", "time": "11:00", "stylist": "Ion"}),
        )
        .await;
    let message = refused(&answer, "unavailable");
    assert!(message.starts_with("Ion nu este la salon"), "{message}");
}

#[tokio::test]
async fn a_combination_is_checked_and_booked_as_one_visit() {
    let app = spawn_app().await;
    let args = json!({"service": "vopsit și coafat", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"});
    let checked = app
        .tool_as(CALLER, CHECK_APPOINTMENT_AVAILABILITY, "c1", args.clone())
        .await;
    assert_eq!(checked["ok"], true, "{checked}");
    assert_eq!(checked["result"]["serviciu"], "Vopsit + Spălat și coafat");
    let booked = app
        .tool_as(CALLER, CREATE_VOICE_APPOINTMENT, "c2", args)
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let result = &booked["result"];
    assert_eq!(result["serviciu"], "Vopsit + Spălat și coafat");
    assert_eq!(result["durata"], "2 ore și 15 minute");
    assert_eq!(result["pret"], "210 lei");
    // One appointment in the book, for both services, with one stylist.
    let stored = app
        .store
        .client_appointments(
            &salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            &PhoneE164::parse(CALLER).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].service, ServiceId::parse("vopsit").unwrap());
    assert_eq!(stored[0].more, [ServiceId::parse("spalat-coafat").unwrap()]);
    assert_eq!(stored[0].end, "2026-12-15T12:15:00+02:00".parse().unwrap());

    // The salon's own "Tuns + barbă" stays one service; the same service twice is asked about.
    let own = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c3",
            json!({"service": "tuns și barbă", "date": "2026-12-15", "time": "15:00"}),
        )
        .await;
    assert_eq!(own["result"]["serviciu"], "Tuns + barbă", "{own}");
    let twice = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c4",
            json!({"service": "tuns + tuns", "date": "2026-12-15"}),
        )
        .await;
    refused(&twice, "invalid_arguments");
}

#[tokio::test]
async fn the_daily_cap_is_said_aloud_and_in_the_instructions() {
    let app = spawn_app().await;
    let mut b: Business = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.rules.daily_cap = Some(1);
    app.store.put_business(&b).await.unwrap();
    let booked = app
        .tool_as(
            CALLER,
            CREATE_VOICE_APPOINTMENT,
            "b1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "stylist": "Ana", "client_name": "Ion Popescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    // Ana has had her one appointment that Tuesday: asked for again, the rule is said.
    let answer = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "15:00", "stylist": "Ana"}),
        )
        .await;
    let message = refused(&answer, "unavailable");
    assert!(
        message
            .starts_with("Ana are deja toate programările pe care le poate primi în ziua aceea."),
        "{message}"
    );
    // Anyone is still free then.
    let answer = app
        .tool_as(
            CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "c2",
            json!({"service": "tuns", "date": "2026-12-15", "time": "15:00"}),
        )
        .await;
    assert_eq!(answer["ok"], true, "{answer}");
    let instructions = app.session(CALLER).await["instructions"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        instructions.contains("Fiecare stilist primește cel mult 1 programare pe zi"),
        "{instructions}"
    );
}
