//! The relay's API: authentication, the session config, every tool, and the call summary.

use salon_domain::{CallSid, demo};
use salon_wire::{auth, paths, tools as names};
use serde_json::{Value, json};

use crate::helpers::*;

fn sid() -> CallSid {
    CallSid::parse(CALL).unwrap()
}

#[tokio::test]
async fn unsigned_forged_and_replayed_requests_get_401() {
    let app = spawn_app().await;
    let path = paths::session(CALL);
    let body = session_body(CALLER);
    assert_eq!(
        app.relay_signed(&path, &body, "a-wrong-secret-0123456789abcdef")
            .await
            .status(),
        401
    );
    let plain = app
        .http
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    // A correctly signed request from six minutes ago is a replay.
    let bytes = serde_json::to_vec(&body).unwrap();
    let old = app.clock_now().as_second() - 360;
    let replay = app
        .http
        .post(format!("{}{path}", app.base))
        .header(auth::HEADER_TIMESTAMP, old.to_string())
        .header(
            auth::HEADER_SIGNATURE,
            auth::sign(
                RELAY_SECRET.as_bytes(),
                old,
                &auth::Request {
                    method: "POST",
                    path: &path,
                    body: &bytes,
                },
            ),
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert!(
        app.store.call(&sid()).await.unwrap().is_none(),
        "nothing was recorded"
    );
}

#[tokio::test]
async fn the_session_config_is_romanian_with_today_the_menu_and_the_tools() {
    let app = spawn_app().await;
    let s = app.session(CALLER).await;
    assert_eq!(
        s["greeting"],
        "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?"
    );
    let instructions = s["instructions"].as_str().unwrap();
    assert!(instructions.contains("luni, 14 decembrie (2026-12-14), ora 08:00"));
    assert!(instructions.contains("Tuns: 30 de minute, 50 lei"));
    assert!(instructions.contains("nu este client cunoscut"));
    assert_romanian(instructions);
    assert_eq!(s["language"], "ro");
    // The relay alone owns the model and the voice (DESIGN.md's configuration table).
    assert!(s.get("model").is_none() && s.get("voice").is_none(), "{s}");
    let tools: Vec<&str> = s["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in [
        names::GET_AVAILABLE_SERVICES,
        names::CHECK_APPOINTMENT_AVAILABILITY,
        names::FIND_EXISTING_CLIENT,
        names::CREATE_VOICE_APPOINTMENT,
        names::LIST_CLIENT_APPOINTMENTS,
        names::CANCEL_APPOINTMENT,
        names::RESCHEDULE_APPOINTMENT,
        names::END_CALL,
    ] {
        assert!(tools.contains(&name), "{name}");
    }
    let record = app.store.call(&sid()).await.unwrap().unwrap();
    assert_eq!(record.business.unwrap().as_str(), demo::BUSINESS_ID);
    assert_eq!(record.from.as_deref(), Some(CALLER));
}

#[tokio::test]
async fn a_known_caller_is_greeted_by_name() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let booked = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "c1", json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"}))
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let s = app.session(CALLER).await;
    assert!(
        s["instructions"]
            .as_str()
            .unwrap()
            .contains("ca dată între ghilimele: \"Ion Popescu\"")
    );
    assert_eq!(
        s["greeting"],
        "Bună ziua, Ion Popescu! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?"
    );
}

#[tokio::test]
async fn session_errors_are_clear() {
    let app = spawn_app().await;
    let r = app
        .relay("/api/relay/calls/not-a-sid/session", &session_body(CALLER))
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .relay(
            &paths::session(CALL),
            &json!({"business": "salon-necunoscut", "caller": CALLER, "dialled": demo::DEMO_NUMBER, "stream_sid": "MZ1"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .relay(&paths::session(CALL), &json!({"caller": CALLER}))
        .await;
    assert_eq!(r.status(), 400, "a missing field");
    app.table.set_broken(true);
    let r = app
        .relay(&paths::session(CALL), &session_body(CALLER))
        .await;
    assert_eq!(r.status(), 503);
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["ok"], false, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(!message.contains(['ş', 'ţ']), "{message}");
    reply["error"]["code"].as_str().unwrap()
}

#[tokio::test]
async fn services_and_availability_read_aloud_in_romanian() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let s = app
        .tool(names::GET_AVAILABLE_SERVICES, "c1", json!({}))
        .await;
    let first = &s["result"]["servicii"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["nume"] == "Bărbierit")
        .unwrap()
        .clone();
    assert_eq!(
        (first["durata"].as_str(), first["pret"].as_str()),
        (Some("20 de minute"), Some("30 lei"))
    );

    let day = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c2",
            json!({"service": "BĂRBIERIT", "date": "2026-12-15"}),
        )
        .await;
    assert_eq!(day["result"]["spus"], "marți, 15 decembrie");
    assert_eq!(day["result"]["ore_libere"][0], "09:00");
    assert_eq!(day["result"]["intervale"][0], "09:00–12:30");

    let one = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c3",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00"}),
        )
        .await;
    assert_eq!(one["result"]["disponibil"], true);
    assert_eq!(one["result"]["spus"], "marți, 15 decembrie, la ora zece");
    assert_eq!(
        one["result"]["stilisti_liberi"],
        json!(["Ana", "Maria", "Ion"])
    );
}

#[tokio::test]
async fn bad_tool_input_gets_a_sayable_error() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let unknown = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c1",
            json!({"service": "manichiură", "date": "2026-12-15"}),
        )
        .await;
    assert_eq!(error_code(&unknown), "unknown_service");
    let msg = unknown["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Nu avem serviciul „manichiură”. Oferim:") && msg.contains("Bărbierit"),
        "{msg}"
    );

    let past = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c2",
            json!({"service": "tuns", "date": "2026-12-11", "time": "10:00"}),
        )
        .await;
    assert_eq!(error_code(&past), "unavailable");
    assert!(
        past["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Ora aceasta a trecut deja.")
    );

    let past_day = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c3",
            json!({"service": "tuns", "date": "2026-12-11"}),
        )
        .await;
    assert_eq!(error_code(&past_day), "unavailable");

    let sunday = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c4",
            json!({"service": "tuns", "date": "2026-12-20"}),
        )
        .await;
    assert_eq!(error_code(&sunday), "unavailable");
    assert!(
        sunday["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Duminică, 20 decembrie salonul este închis."),
        "{sunday}"
    );
    assert_eq!(sunday["error"]["alternatives"][0]["date"], "2026-12-21");

    let bad_date = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c5",
            json!({"service": "tuns", "date": "mâine"}),
        )
        .await;
    assert_eq!(error_code(&bad_date), "invalid_date_time");
    let body = json!({"call_id": "c6", "arguments": "{not json"});
    let r: Value = app
        .relay(&paths::tool(CALL, names::CREATE_VOICE_APPOINTMENT), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&r), "invalid_arguments");
    let missing = app
        .tool(
            names::CREATE_VOICE_APPOINTMENT,
            "c7",
            json!({"service": "tuns"}),
        )
        .await;
    assert_eq!(error_code(&missing), "invalid_arguments");
    let unknown_tool = app.tool("order_pizza", "c8", json!({})).await;
    assert_eq!(error_code(&unknown_tool), "unknown_tool");
    let nobody = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c9",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "stylist": "Gigel"}),
        )
        .await;
    assert_eq!(error_code(&nobody), "invalid_arguments");
    assert!(
        nobody["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ana, Maria și Ion")
    );
}

#[tokio::test]
async fn a_booking_is_recorded_on_the_call_and_a_retry_books_once() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let args = json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"});
    let first = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "call_abc", args.clone())
        .await;
    assert_eq!(first["result"]["confirmat"], true, "{first}");
    assert_eq!(first["result"]["spus"], "marți, 15 decembrie, la ora zece");
    assert_eq!(first["result"]["pret"], "50 lei");
    let again = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "call_abc", args)
        .await;
    assert_eq!(
        again["result"]["id_programare"],
        first["result"]["id_programare"]
    );

    let phone = salon_domain::PhoneE164::parse(CALLER).unwrap();
    let business = salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap();
    assert_eq!(
        app.store
            .client_appointments(&business, &phone)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.store
            .client(&business, &phone)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Ion Popescu"
    );
    let record = app.store.call(&sid()).await.unwrap().unwrap();
    assert_eq!(
        record.tool_calls.len(),
        1,
        "a retried tool call is one call"
    );
    assert!(
        record
            .tool_calls
            .iter()
            .all(|c| c.name == names::CREATE_VOICE_APPOINTMENT && c.error.is_none())
    );
    assert_eq!(record.appointments.len(), 1);
}

#[tokio::test]
async fn a_taken_time_comes_back_with_alternatives() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    // Three other callers took every chair at 10:00.
    for i in 0..3 {
        let req = salon_store::BookingRequest {
            business: salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            service: salon_domain::ServiceId::parse("tuns").unwrap(),
            more: Vec::new(),
            client: Some(salon_domain::PhoneE164::parse(&format!("07330000{i:02}")).unwrap()),
            phone_origin: salon_domain::PhoneOrigin::CallerId,
            client_name: Some(
                salon_domain::ClientName::parse(["Ana", "Bogdan", "Carmen"][i]).unwrap(),
            ),
            start: "2026-12-15T10:00".parse().unwrap(),
            staff: None,
            call_sid: None,
            key: salon_domain::IdempotencyKey::parse(format!("other-{i}")).unwrap(),
            tool_call: None,
            source: salon_domain::Source::Voice,
        };
        app.store.book(&req, app.clock_now()).await.unwrap();
    }
    let taken = app
        .tool(
            names::CHECK_APPOINTMENT_AVAILABILITY,
            "c9",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00"}),
        )
        .await;
    assert_eq!(error_code(&taken), "unavailable");
    assert_eq!(
        taken["error"]["message"],
        "Ora zece este deja ocupată. Vă pot oferi ora nouă și jumătate, ora zece și jumătate sau ora nouă și un sfert."
    );
    assert_eq!(
        taken["error"]["alternatives"][1],
        json!({"date": "2026-12-15", "time": "10:30", "spoken": "marți, 15 decembrie, la ora zece și jumătate"})
    );
    let record = app.store.call(&sid()).await.unwrap().unwrap();
    assert_eq!(
        record.tool_calls.last().unwrap().error.as_deref(),
        Some("unavailable")
    );
}

#[tokio::test]
async fn callers_list_cancel_and_move_only_their_own_appointments() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let booked = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "c1", json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"}))
        .await;
    let id = booked["result"]["id_programare"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = app
        .tool(names::LIST_CLIENT_APPOINTMENTS, "c2", json!({}))
        .await;
    assert_eq!(
        list["result"]["programari"][0]["id_programare"],
        id.as_str()
    );
    let found = app.tool(names::FIND_EXISTING_CLIENT, "c3", json!({})).await;
    assert_eq!(
        (
            found["result"]["gasit"].as_bool(),
            found["result"]["nume"].as_str()
        ),
        (Some(true), Some("Ion Popescu"))
    );

    let moved = app
        .tool(
            names::RESCHEDULE_APPOINTMENT,
            "c4",
            json!({"appointment_id": id, "date": "2026-12-16", "time": "11:00"}),
        )
        .await;
    assert_eq!(moved["result"]["mutat"], true, "{moved}");
    assert_eq!(
        moved["result"]["spus"],
        "miercuri, 16 decembrie, la ora unsprezece"
    );

    // Another caller, another call: cannot see, cancel or move it.
    let other = "CAffffffffffffffffffffffffffffffff";
    let r = app
        .relay(&paths::session(other), &session_body("0733 000 000"))
        .await;
    assert_eq!(r.status(), 200);
    let stranger = |name: &'static str, args: Value| {
        let app = &app;
        async move {
            let body = json!({"call_id": "x", "arguments": args.to_string()});
            app.relay(&paths::tool(other, name), &body)
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        stranger(names::LIST_CLIENT_APPOINTMENTS, json!({})).await["result"]["programari"],
        json!([])
    );
    assert_eq!(
        error_code(&stranger(names::CANCEL_APPOINTMENT, json!({"appointment_id": id})).await),
        "not_found"
    );
    assert_eq!(
        error_code(
            &stranger(
                names::RESCHEDULE_APPOINTMENT,
                json!({"appointment_id": id, "date": "2026-12-17", "time": "10:00"})
            )
            .await
        ),
        "not_found"
    );

    let cancelled = app
        .tool(
            names::CANCEL_APPOINTMENT,
            "c5",
            json!({"appointment_id": id}),
        )
        .await;
    assert_eq!(cancelled["result"]["anulat"], true);
    let list = app
        .tool(names::LIST_CLIENT_APPOINTMENTS, "c6", json!({}))
        .await;
    assert_eq!(list["result"]["programari"], json!([]));
    let again = app
        .tool(
            names::RESCHEDULE_APPOINTMENT,
            "c7",
            json!({"appointment_id": id, "date": "2026-12-17", "time": "10:00"}),
        )
        .await;
    assert_eq!(error_code(&again), "cancelled");
}

#[tokio::test]
async fn a_hidden_caller_id_books_with_the_number_they_say_in_any_spelling() {
    let app = spawn_app().await;
    app.session("").await;
    let no_number = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "c0", json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ana Pop"}))
        .await;
    assert_eq!(error_code(&no_number), "invalid_phone");
    let bad = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "c1", json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ana Pop", "phone": "0722 12"}))
        .await;
    assert_eq!(error_code(&bad), "invalid_phone");
    let booked = app
        .tool(names::CREATE_VOICE_APPOINTMENT, "c2", json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ana Pop", "phone": "0040 722-123-456"}))
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let mine = app
        .store
        .client_appointments(
            &salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
            &salon_domain::PhoneE164::parse("+40722123456").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "booked under the number said, normalised");
    assert_eq!(mine[0].phone_origin, salon_domain::PhoneOrigin::Spoken);
}

#[tokio::test]
async fn a_failing_store_gets_a_sayable_apology_and_tools_need_a_session() {
    let app = spawn_app().await;
    let body = json!({"call_id": "c1", "arguments": "{}"});
    let r = app
        .relay(&paths::tool(CALL, names::GET_AVAILABLE_SERVICES), &body)
        .await;
    assert_eq!(r.status(), 404, "no session yet");
    app.session(CALLER).await;
    app.table.set_broken(true);
    let down = app
        .tool(names::GET_AVAILABLE_SERVICES, "c2", json!({}))
        .await;
    assert_eq!(error_code(&down), "store_unavailable");
    assert_romanian(down["error"]["message"].as_str().unwrap());
}

#[tokio::test]
async fn the_summary_completes_the_record_and_its_transcript_is_kept_apart() {
    let app = spawn_app().await;
    app.session(CALLER).await;
    let summary = json!({
        "outcome": "ended_by_agent",
        "stream_seconds": 83,
        "usage": {"input_tokens": 1500, "output_tokens": 900, "input_audio_tokens": 1200, "output_audio_tokens": 800, "cached_input_tokens": 0},
        "barge_ins": 1,
        "reconnects": 0,
        "transcript": [{"speaker": "agent", "text": "Bună ziua!"}, {"speaker": "caller", "text": "Aș dori un tuns."}]
    });
    let r = app.relay(&paths::summary(CALL), &summary).await;
    assert_eq!(r.status(), 204);
    let record = app.store.call(&sid()).await.unwrap().unwrap();
    let s = record.summary.unwrap();
    assert_eq!(
        (s.stream_seconds, s.barge_ins, s.usage.input_tokens),
        (83, 1, 1500)
    );
    assert_eq!(s.transcript.len(), 2);
    assert_eq!(
        app.relay(&paths::summary(CALL), &json!({"outcome": "nope"}))
            .await
            .status(),
        400
    );
    app.table.set_broken(true);
    assert_eq!(
        app.relay(&paths::summary(CALL), &summary).await.status(),
        503
    );
}
