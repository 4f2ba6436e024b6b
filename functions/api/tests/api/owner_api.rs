//! The owner's JSON API: the console's operations under an owner token (`/api/owner`) or the
//! console's session (`/console/api`, where the session cookie's path reaches), each salon's
//! own only, judged by what the store holds.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE};
use salon_domain::{AppointmentId, BusinessId, StaffId, demo};
use serde_json::{Value, json};

use crate::console::{OTHER_OWNER, OWNER, browser, console_app, day, field, session};
use crate::helpers::{OTHER_OWNER_TOKEN, OWNER_TOKEN, TestApp};

/// How a request proves whose it is.
#[derive(Clone, Copy)]
enum As<'a> {
    Token(&'a str),
    /// A session cookie, with the CSRF header or none.
    Session(&'a str, Option<&'a str>),
    Nobody,
}

async fn call(
    app: &TestApp,
    who: As<'_>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = reqwest::Client::new().request(method, format!("{}{path}", app.base));
    r = match who {
        As::Token(t) => r.header(AUTHORIZATION, format!("Bearer {t}")),
        As::Session(c, csrf) => {
            let r = r.header(COOKIE, format!("salon_session={c}"));
            match csrf {
                Some(t) => r.header("X-CSRF-Token", t),
                None => r,
            }
        }
        As::Nobody => r,
    };
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

use reqwest::Method;

fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

#[tokio::test]
async fn the_console_operations_run_over_json_under_a_token() {
    let app = console_app().await;
    let me = As::Token(OWNER_TOKEN);
    let (s, book) = call(
        &app,
        me,
        Method::GET,
        "/api/owner/book?date=2026-12-15",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{book}");
    assert_eq!(book["appointments"][0]["client_name"], "Ion Popescu");

    // A walk-in at 11:00 with Ana; the same key again books once; her 10:00 is taken.
    let walk_in = json!({"date": "2026-12-15", "time": "11:00", "service": "tuns", "stylist": "ana", "client_name": "Maria Ionescu", "phone": "0733000111", "key": "pos-17"});
    let (s, made) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/appointments",
        Some(walk_in.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let (s, again) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/appointments",
        Some(walk_in),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["appointment"]["id"], made["appointment"]["id"]);
    let id = made["appointment"]["id"].as_str().unwrap().to_owned();
    let (s, taken) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/appointments",
        Some(json!({"date": "2026-12-15", "time": "10:00", "service": "tuns", "stylist": "ana", "client_name": "Dan Pop", "phone": "0733000112", "key": "pos-18"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        taken["error"].as_str().unwrap().contains("ocupată"),
        "{taken}"
    );

    // Moved to 12:00; then 14:00 to 15:00 blocked, and the block over 12:00 refused.
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        &format!("/api/owner/appointments/{id}/move"),
        Some(json!({"date": "2026-12-15", "time": "12:00"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let stored = app
        .store
        .appointment(&demo_id(), &AppointmentId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.start, "2026-12-15T12:00:00+02:00".parse().unwrap());
    let (s, block) = call(&app, me, Method::POST, "/api/owner/blocks", Some(json!({"stylist": "ana", "start": "2026-12-15T14:00", "end": "2026-12-15T15:00", "note": "pauză"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{block}");
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/blocks",
        Some(json!({"stylist": "ana", "start": "2026-12-15T12:00", "end": "2026-12-15T12:30"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let block_id = block["block"]["id"].as_str().unwrap().to_owned();

    // Another salon's token: their own (empty) book, and nothing of ours to change.
    let them = As::Token(OTHER_OWNER_TOKEN);
    let (_, theirs) = call(
        &app,
        them,
        Method::GET,
        "/api/owner/book?date=2026-12-15",
        None,
    )
    .await;
    assert_eq!(theirs["appointments"], json!([]));
    let (s, _) = call(
        &app,
        them,
        Method::POST,
        &format!("/api/owner/appointments/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        them,
        Method::DELETE,
        &format!("/api/owner/blocks/{block_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        them,
        Method::PUT,
        "/api/owner/services/tuns",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        As::Nobody,
        Method::GET,
        "/api/owner/book?date=2026-12-15",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Ours: the block freed, the cut's price changed, Ion's Tuesday from noon.
    let (s, _) = call(
        &app,
        me,
        Method::DELETE,
        &format!("/api/owner/blocks/{block_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        me,
        Method::PUT,
        "/api/owner/services/tuns",
        Some(json!({"price": {"bani": 6000}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let tuns = app
        .store
        .services(&demo_id())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id.as_str() == "tuns")
        .unwrap();
    assert_eq!(
        (tuns.price.bani, tuns.duration.get(), tuns.active),
        (6000, 30, true)
    );
    let tuesday = json!({"hours": {"tuesday": {"open": "12:00", "close": "19:00"}}});
    let (s, body) = call(
        &app,
        me,
        Method::PUT,
        "/api/owner/staff/ion/hours",
        Some(tuesday),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    let ion = b.staff_member(&StaffId::parse("ion").unwrap()).unwrap();
    assert!(ion.hours.as_ref().unwrap().monday.is_none());
    let (s, _) = call(
        &app,
        me,
        Method::PUT,
        "/api/owner/staff/ion/hours",
        Some(json!({"hours": {"tuesday": {"open": "05:00", "close": "19:00"}}})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(
        &app,
        me,
        Method::PUT,
        "/api/owner/staff/nimeni/hours",
        Some(json!({"hours": null})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Cancelled; the figures answer.
    let (s, cancelled) = call(
        &app,
        me,
        Method::POST,
        &format!("/api/owner/appointments/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        cancelled["appointment"]["status"]["state"], "cancelled",
        "{cancelled}"
    );
    let (_, clients) = call(&app, me, Method::GET, "/api/owner/clients", None).await;
    let names: Vec<&str> = clients["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Ion Popescu") && names.contains(&"Maria Ionescu"),
        "{clients}"
    );
    let (s, history) = call(
        &app,
        me,
        Method::GET,
        "/api/owner/clients/+40733000111",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(history["appointments"][0]["source"], "manual");
    let (s, _) = call(
        &app,
        them,
        Method::GET,
        "/api/owner/clients/+40733000111",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, figures) = call(&app, me, Method::GET, "/api/owner/analytics?days=7", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(figures["figures"]["from"], "2026-12-08");
}

#[tokio::test]
async fn under_the_consoles_session_a_change_needs_its_csrf_token() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let csrf = field(
        &day(&app, &http, &cookie, "2026-12-15")
            .await
            .text()
            .await
            .unwrap(),
        "csrf",
    );
    let (s, book) = call(
        &app,
        As::Session(&cookie, None),
        Method::GET,
        "/console/api/book?date=2026-12-15",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(book["appointments"][0]["client_name"], "Ion Popescu");

    let block = json!({"stylist": "maria", "start": "2026-12-15T09:00", "end": "2026-12-15T09:30"});
    for forged in [None, Some("forged")] {
        let (s, _) = call(
            &app,
            As::Session(&cookie, forged),
            Method::POST,
            "/console/api/blocks",
            Some(block.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    assert!(
        app.store
            .blocks_on(&b, "2026-12-15".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    let (s, _) = call(
        &app,
        As::Session(&cookie, Some(&csrf)),
        Method::POST,
        "/console/api/blocks",
        Some(block),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        app.store
            .blocks_on(&b, "2026-12-15".parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );

    // Another salon's session reads its own book.
    let other = session(&app, &http, OTHER_OWNER).await;
    let (_, theirs) = call(
        &app,
        As::Session(&other, None),
        Method::GET,
        "/console/api/book?date=2026-12-15",
        None,
    )
    .await;
    assert_eq!(theirs["appointments"], json!([]));
    assert_eq!(theirs["blocks"], json!([]));
}

#[tokio::test]
async fn the_salons_settings_change_over_json_for_its_own_salon_only() {
    let app = console_app().await;
    let me = As::Token(OWNER_TOKEN);
    let them = As::Token(OTHER_OWNER_TOKEN);

    // A new service, and one whose id is taken.
    let service = json!({"id": "tuns-barbati", "name": "Tuns bărbați", "minutes": 25, "price": {"bani": 4000}});
    let (s, made) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/services",
        Some(service.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let (s, _) = call(&app, me, Method::POST, "/api/owner/services", Some(service)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/services",
        Some(json!({"id": "x", "name": "X", "minutes": 7, "price": {"bani": 1}})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "7 minutes is no duration"
    );

    // A new stylist who only cuts; an empty list of services is refused.
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/staff",
        Some(json!({"id": "stefania", "name": "Ștefania"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(
        &app,
        me,
        Method::PATCH,
        "/api/owner/staff/stefania",
        Some(json!({"services": ["tuns"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &app,
        me,
        Method::PATCH,
        "/api/owner/staff/stefania",
        Some(json!({"services": []})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    let stefania = b
        .staff_member(&StaffId::parse("stefania").unwrap())
        .unwrap();
    assert!(stefania.does(&salon_domain::ServiceId::parse("tuns").unwrap()));
    assert!(!stefania.does(&salon_domain::ServiceId::parse("vopsit").unwrap()));
    // `null`: every service again.
    let (s, _) = call(
        &app,
        me,
        Method::PATCH,
        "/api/owner/staff/stefania",
        Some(json!({"services": null})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    assert_eq!(
        b.staff_member(&StaffId::parse("stefania").unwrap())
            .unwrap()
            .services,
        None
    );

    // Christmas opened, the 29th closed, the salon's Saturdays shortened.
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/days/2026-12-25/open",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/days/2026-12-29/close",
        Some(json!({"reason": "inventar"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut week = serde_json::to_value(&b.hours).unwrap();
    week["saturday"] = json!({"open": "09:00", "close": "13:00"});
    let (s, body) = call(&app, me, Method::PUT, "/api/owner/hours", Some(week)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    assert!(
        b.closures
            .open_holidays
            .contains(&"2026-12-25".parse().unwrap())
    );
    assert!(b.closures.dates.iter().any(|c| c.reason == "inventar"));
    assert_eq!(
        b.hours.saturday.unwrap().close(),
        jiff::civil::time(13, 0, 0, 0)
    );
    let (s, _) = call(
        &app,
        me,
        Method::POST,
        "/api/owner/holidays/2026-12-25/close",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Another salon's token changes its own salon only; nobody's changes nothing.
    let (s, _) = call(
        &app,
        them,
        Method::PATCH,
        "/api/owner/staff/stefania",
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        As::Nobody,
        Method::POST,
        "/api/owner/days/2026-12-30/close",
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let after = app.store.business(&demo_id()).await.unwrap().unwrap();
    assert!(
        after
            .staff_member(&StaffId::parse("stefania").unwrap())
            .unwrap()
            .active
    );
    assert!(
        !after
            .closures
            .open_holidays
            .contains(&"2026-12-25".parse().unwrap())
    );
    assert!(after.closures.dates.iter().all(|c| c.reason != "x"));
}
