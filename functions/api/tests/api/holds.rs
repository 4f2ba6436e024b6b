//! Holding a picked time through the HTTP tools API: what the caller's call keeps, what a
//! rival call hears, and the status callback that frees it when the call ends.

use salon_wire::tools::*;
use serde_json::{Value, json};

use crate::helpers::{CALL, CALLER, assert_romanian, spawn_app};

const RIVAL: &str = "CAfedcba9876543210fedcba9876543210";
const RIVAL_CALLER: &str = "+40733111222";

fn taken(answer: &Value) {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"]["code"], "unavailable", "{answer}");
    assert_romanian(answer["error"]["message"].as_str().unwrap());
}

#[tokio::test]
async fn a_held_time_is_the_callers_until_they_book_or_hang_up() {
    let app = spawn_app().await;
    // The call is live: its session ties it to the salon, and tells the model to hold the
    // time the caller picks, for how long.
    let session = app.session(CALLER).await;
    let instructions = session["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("ține-o imediat cu hold_appointment_time")
            && instructions.contains("timp de 5 minute"),
        "{instructions}"
    );

    let ana_at = |time: &str| json!({"service": "tuns", "date": "2026-12-15", "time": time, "stylist": "Ana"});
    let held = app
        .tool_as(CALLER, HOLD_APPOINTMENT_TIME, "h1", ana_at("10:00"))
        .await;
    assert_eq!(held["ok"], true, "{held}");
    let result = &held["result"];
    assert_eq!(result["tinut"], true);
    assert_eq!(result["stilist"], "Ana");
    assert_eq!(result["ora"], "10:00");
    assert_eq!(result["minute"], 5);
    assert_romanian(result["spus"].as_str().unwrap());

    // Another call neither sees it nor books it.
    let checked = app
        .tool_in(
            RIVAL,
            RIVAL_CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "r1",
            ana_at("10:00"),
        )
        .await;
    taken(&checked);
    let mut rival_booking = ana_at("10:00");
    rival_booking["client_name"] = json!("Maria Ionescu");
    taken(
        &app.tool_in(
            RIVAL,
            RIVAL_CALLER,
            CREATE_VOICE_APPOINTMENT,
            "r2",
            rival_booking,
        )
        .await,
    );
    // The holding call books it, with Ana, even asking for anyone.
    let mut own = ana_at("10:00");
    own["stylist"] = json!("oricine");
    own["client_name"] = json!("Ion Popescu");
    let booked = app
        .tool_as(CALLER, CREATE_VOICE_APPOINTMENT, "h2", own)
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    assert_eq!(booked["result"]["stilist"], "Ana", "{booked}");

    // It holds 11:00 and hangs up: the completed call frees it for the rival at once.
    let held = app
        .tool_as(CALLER, HOLD_APPOINTMENT_TIME, "h3", ana_at("11:00"))
        .await;
    assert_eq!(held["ok"], true, "{held}");
    taken(
        &app.tool_in(
            RIVAL,
            RIVAL_CALLER,
            CHECK_APPOINTMENT_AVAILABILITY,
            "r3",
            ana_at("11:00"),
        )
        .await,
    );
    let r = app
        .twilio(
            "/api/twilio/status",
            &[
                ("CallSid", CALL),
                ("CallStatus", "completed"),
                ("SequenceNumber", "4"),
            ],
        )
        .await;
    assert_eq!(r.status(), 204);
    let mut rival_booking = ana_at("11:00");
    rival_booking["client_name"] = json!("Maria Ionescu");
    let booked = app
        .tool_in(
            RIVAL,
            RIVAL_CALLER,
            CREATE_VOICE_APPOINTMENT,
            "r4",
            rival_booking,
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
}

#[tokio::test]
async fn holding_a_time_already_taken_offers_the_nearest_free_ones() {
    let app = spawn_app().await;
    let args = json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "stylist": "Ana", "client_name": "Maria Ionescu"});
    let booked = app
        .tool_in(
            RIVAL,
            RIVAL_CALLER,
            CREATE_VOICE_APPOINTMENT,
            "r1",
            args.clone(),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let held = app.tool_as(CALLER, HOLD_APPOINTMENT_TIME, "h1", args).await;
    taken(&held);
    let alternatives = held["error"]["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty(), "{held}");
    // A hold for a service nobody does, or a day in the past, is refused in Romanian too.
    let bad = app
        .tool_as(
            CALLER,
            HOLD_APPOINTMENT_TIME,
            "h2",
            json!({"service": "manichiură", "date": "2026-12-15", "time": "10:00"}),
        )
        .await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_romanian(bad["error"]["message"].as_str().unwrap());
}
