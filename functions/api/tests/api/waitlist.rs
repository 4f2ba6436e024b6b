//! The waitlist through the HTTP tools API: who may join, what the caller hears, and the
//! offer a cancellation makes, as stored.

use salon_domain::{Business, PhoneE164, demo};
use salon_wire::tools::*;
use serde_json::{Value, json};

use crate::helpers::{CALLER, TestApp, assert_romanian, spawn_app};

const OTHER: &str = "+40733000001";

async fn salon(texts: bool) -> TestApp {
    let app = spawn_app().await;
    let mut b: Business = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.sms_confirmations = texts;
    app.store.put_business(&b).await.unwrap();
    app
}

fn join_args() -> Value {
    json!({"service": "tuns", "date": "2026-12-15", "from": "10:00", "until": "11:00", "client_name": "Ion Popescu"})
}

fn refused(answer: &Value, code: &str) -> String {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap().to_owned();
    assert_romanian(&message);
    message
}

#[tokio::test]
async fn a_caller_joins_the_waitlist_and_a_cancellation_offers_them_the_time() {
    let app = salon(true).await;
    // The other caller has Ana's 10:00 on Tuesday.
    let booked = app
        .tool_as(
            OTHER,
            CREATE_VOICE_APPOINTMENT,
            "b1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "stylist": "Ana", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let id = booked["result"]["id_programare"]
        .as_str()
        .unwrap()
        .to_owned();

    let joined = app.tool_as(CALLER, JOIN_WAITLIST, "w1", join_args()).await;
    assert_eq!(joined["ok"], true, "{joined}");
    let said = joined["result"]["spune"].as_str().unwrap();
    assert_romanian(said);
    assert!(
        said.contains("lista de așteptare") && said.contains("SMS"),
        "{said}"
    );
    // Asked again (a retried request): still one entry.
    app.tool_as(CALLER, JOIN_WAITLIST, "w1", join_args()).await;
    let day = "2026-12-15".parse().unwrap();
    let list = app
        .store
        .waitlist_on(
            &salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            day,
        )
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].client.as_str(), CALLER);
    assert!(list[0].offer.is_none());

    // The other caller cancels: the time is offered to the waiting caller.
    let cancelled = app
        .tool_as(
            OTHER,
            CANCEL_APPOINTMENT,
            "c1",
            json!({"appointment_id": id}),
        )
        .await;
    assert_eq!(cancelled["ok"], true, "{cancelled}");
    let list = app
        .store
        .waitlist_on(
            &salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            day,
        )
        .await
        .unwrap();
    let offer = list[0].offer.as_ref().expect("offered");
    assert_eq!(offer.staff.as_str(), "ana");
    assert_eq!(offer.start, "2026-12-15T10:00:00+02:00".parse().unwrap());

    // The session tells the model it can offer the waitlist.
    let instructions = app.session(CALLER).await["instructions"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(instructions.contains("join_waitlist"), "{instructions}");
}

#[tokio::test]
async fn no_waitlist_without_texts_or_a_caller_id() {
    let app = salon(false).await;
    let answer = app.tool_as(CALLER, JOIN_WAITLIST, "w1", join_args()).await;
    let message = refused(&answer, "no_waitlist");
    assert!(
        message.starts_with("Salonul nu are listă de așteptare."),
        "{message}"
    );
    let instructions = app.session(CALLER).await["instructions"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!instructions.contains("join_waitlist"), "not offered");

    let app = salon(true).await;
    let answer = app.tool_as("", JOIN_WAITLIST, "w2", join_args()).await;
    let message = refused(&answer, "no_waitlist");
    assert!(message.contains("nu este afișat"), "{message}");
    // A window that ends before it begins is refused as such.
    let mut args = join_args();
    args["until"] = json!("09:00");
    let answer = app.tool_as(CALLER, JOIN_WAITLIST, "w3", args).await;
    refused(&answer, "invalid_date_time");
}
