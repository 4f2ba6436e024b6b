//! The console's changes beyond appointments, over HTTP as a browser sends them: blocked time,
//! services, stylists' hours, closed days and holidays. Judged by what the store holds and by
//! what the agent's tools then do.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use salon_domain::{BusinessId, ServiceId, StaffId, demo};
use salon_wire::tools::CREATE_VOICE_APPOINTMENT;
use serde_json::json;

use crate::console::{OTHER_OWNER, OWNER, browser, console_app, day, field, post_form, session};
use crate::helpers::TestApp;

fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

async fn page(app: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> String {
    let r = http
        .get(format!("{}{path}", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn the_owner_blocks_a_stylists_time_and_the_agent_cannot_book_it() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf");
    assert!(html.contains("<label for=\"block-from\">De la ora</label>"));
    let block = |from: &'static str, to: &'static str| {
        let (app, http, cookie, csrf) = (&app, &http, &cookie, &csrf);
        async move {
            post_form(
                app,
                http,
                cookie,
                "/console/blocks",
                &[
                    ("csrf", csrf),
                    ("date", "2026-12-15"),
                    ("stylist", "ana"),
                    ("from", from),
                    ("to", to),
                    ("note", "la bancă"),
                ],
            )
            .await
        }
    };
    let r = block("11:00", "12:00").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    let blocks = app
        .store
        .blocks_on(&b, "2026-12-15".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].staff().as_str(), "ana");
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Timp blocat <span class=\"nowrap\">11:00–12:00</span> (la bancă)"),
        "{html}"
    );

    // Her week shows it on its day, beside her appointments.
    let week = page(
        &app,
        &http,
        &cookie,
        "/console/week?stylist=ana&date=2026-12-17",
    )
    .await;
    let tuesday = week
        .split("id=\"zi-2026-12-15\"")
        .nth(1)
        .and_then(|s| s.split("id=\"zi-2026-12-16\"").next())
        .unwrap();
    assert!(
        tuesday.contains("Timp blocat <span class=\"nowrap\">11:00–12:00</span> (la bancă)")
            && tuesday.contains("Ion Popescu"),
        "{tuesday}"
    );

    // The agent cannot book Ana then.
    let refused = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "b2",
            json!({"service": "tuns", "date": "2026-12-15", "time": "11:15", "stylist": "Ana", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(refused["ok"], false, "{refused}");

    // Over the agent's 10:00 booking, or a shape the book cannot hold: refused, nothing added.
    let r = block("09:45", "10:15").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Nu s-a blocat nimic"));
    assert_eq!(
        block("14:10", "15:00").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.store
            .blocks_on(&b, "2026-12-15".parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );

    // Another salon's owner cannot free it; this salon's owner can, and the agent books.
    let path = format!("/console/blocks/{}/remove", blocks[0].id());
    assert!(html.contains(&path));
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_csrf = field(
        &day(&app, &http, &other, "2026-12-15")
            .await
            .text()
            .await
            .unwrap(),
        "csrf",
    );
    let r = post_form(&app, &http, &other, &path, &[("csrf", &other_csrf)]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post_form(&app, &http, &cookie, &path, &[("csrf", "forged")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(&app, &http, &cookie, &path, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers().get(LOCATION).unwrap(),
        "/console?date=2026-12-15"
    );
    let booked = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "b3",
            json!({"service": "tuns", "date": "2026-12-15", "time": "11:15", "stylist": "Ana", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
}

#[tokio::test]
async fn the_owner_changes_a_service_and_adds_one_for_their_salon_only() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let html = page(&app, &http, &cookie, "/console/services").await;
    let csrf = field(&html, "csrf");
    assert!(html.contains("<label for=\"pret-tuns\">Prețul (lei)</label>"));

    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/services/tuns",
        &[
            ("csrf", &csrf),
            ("minutes", "45"),
            ("price", "55,50"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Barbierit no longer offered (its box unticked).
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/services/barbierit",
        &[("csrf", &csrf), ("minutes", "20"), ("price", "30")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/services",
        &[
            ("csrf", &csrf),
            ("name", "Tuns bărbați"),
            ("minutes", "25"),
            ("price", "40"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let services = app.store.services(&demo_id()).await.unwrap();
    let get = |id: &str| {
        services
            .iter()
            .find(|s| s.id == ServiceId::parse(id).unwrap())
            .unwrap_or_else(|| panic!("{id} in {services:?}"))
            .clone()
    };
    assert_eq!(
        (get("tuns").duration.get(), get("tuns").price.bani),
        (45, 5550)
    );
    assert!(!get("barbierit").active);
    let new = get("tuns-barbati");
    assert_eq!(
        (new.name.as_str(), new.duration.get(), new.active),
        ("Tuns bărbați", 25, true)
    );

    // The agent books the new service and no longer the withdrawn one.
    let booked = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "s1",
            json!({"service": "tuns bărbați", "date": "2026-12-16", "time": "10:00", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    let refused = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "s2",
            json!({"service": "bărbierit", "date": "2026-12-16", "time": "12:00"}),
        )
        .await;
    assert_eq!(refused["ok"], false, "{refused}");

    // Refused: a duration off the 5-minute steps, a price that is not one.
    for (minutes, price) in [("7", "30"), ("30", "treizeci")] {
        let r = post_form(
            &app,
            &http,
            &cookie,
            "/console/services/tuns",
            &[
                ("csrf", &csrf),
                ("minutes", minutes),
                ("price", price),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{minutes} {price}");
    }
    assert_eq!(get("tuns"), {
        let now = app.store.services(&demo_id()).await.unwrap();
        now.into_iter().find(|s| s.id.as_str() == "tuns").unwrap()
    });

    // Another salon's owner reaches no service of this salon.
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_html = page(&app, &http, &other, "/console/services").await;
    assert!(!other_html.contains("Tuns bărbați"));
    let r = post_form(
        &app,
        &http,
        &other,
        "/console/services/tuns",
        &[
            ("csrf", &field(&other_html, "csrf")),
            ("minutes", "60"),
            ("price", "1"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(get("tuns").price.bani, 5550);
}

/// A week's fields as the stylist's form sends them, with Tuesday from `tuesday_open`.
fn week_form<'a>(csrf: &'a str, tuesday_open: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", csrf), ("hours", "own"), ("active", "on")];
    for day in ["mon", "wed", "thu", "fri"] {
        form.extend([
            (leak(format!("{day}_open")), "09:00"),
            (leak(format!("{day}_close")), "18:00"),
        ]);
    }
    form.extend([("tue_open", tuesday_open), ("tue_close", "19:00")]);
    // Every service ticked, as the form shows a stylist who does them all.
    for s in demo::services() {
        form.push((leak(format!("svc_{}", s.id)), "on"));
    }
    form
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[tokio::test]
async fn a_stylists_hours_the_salons_closed_days_and_an_opened_holiday_reach_the_agent() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let html = page(&app, &http, &cookie, "/console/staff").await;
    let csrf = field(&html, "csrf");
    assert!(html.contains("Programul lui Ion"));

    // Ion works Tuesdays from 12:00, no Saturdays.
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff/ion/hours",
        &week_form(&csrf, "12:00"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    let ion = b.staff_member(&StaffId::parse("ion").unwrap()).unwrap();
    let own = ion.hours.as_ref().expect("his own hours");
    assert_eq!(own.tuesday.unwrap().open(), jiff::civil::time(12, 0, 0, 0));
    assert!(own.saturday.is_none());
    let refused = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "h1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "11:00", "stylist": "Ion", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(refused["ok"], false, "{refused}");
    // Hours before the salon opens: refused whole.
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff/ion/hours",
        &week_form(&csrf, "06:00"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.business(&demo_id()).await.unwrap().unwrap(), b);

    // A new stylist, who only cuts: the agent books her for a cut, never for colour.
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff",
        &[("csrf", &csrf), ("name", "Ștefania")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut cuts_only = vec![
        ("csrf", csrf.as_str()),
        ("hours", "salon"),
        ("active", "on"),
    ];
    cuts_only.push(("svc_tuns", "on"));
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff/stefania/hours",
        &cuts_only,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stefania = app
        .store
        .business(&demo_id())
        .await
        .unwrap()
        .unwrap()
        .staff_member(&StaffId::parse("stefania").unwrap())
        .cloned()
        .expect("added");
    assert_eq!(stefania.name, "Ștefania");
    assert!(stefania.does(&ServiceId::parse("tuns").unwrap()));
    assert!(!stefania.does(&ServiceId::parse("vopsit").unwrap()));
    let colour = app
        .tool_as(
            "+40722000113",
            CREATE_VOICE_APPOINTMENT,
            "h4",
            json!({"service": "vopsit", "date": "2026-12-16", "time": "10:00", "stylist": "Ștefania", "client_name": "Ana Pop"}),
        )
        .await;
    assert_eq!(colour["ok"], false, "{colour}");
    let cut = app
        .tool_as(
            "+40722000113",
            CREATE_VOICE_APPOINTMENT,
            "h5",
            json!({"service": "tuns", "date": "2026-12-16", "time": "10:00", "stylist": "Ștefania", "client_name": "Ana Pop"}),
        )
        .await;
    assert_eq!(cut["ok"], true, "{cut}");
    // No service ticked at all: refused.
    let none = [
        ("csrf", csrf.as_str()),
        ("hours", "salon"),
        ("active", "on"),
    ];
    let r = post_form(&app, &http, &cookie, "/console/staff/stefania/hours", &none).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Ana away on Wednesday 16, then back after all: the agent books her again.
    let away = [
        ("csrf", csrf.as_str()),
        ("from", "2026-12-16"),
        ("to", "2026-12-16"),
    ];
    let mut with_reason = away.to_vec();
    with_reason.push(("reason", "medical"));
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff/ana/absences",
        &with_reason,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ana_on_wednesday = |key: &'static str| {
        let app = &app;
        async move {
            app.tool_as(
                "+40722000114",
                CREATE_VOICE_APPOINTMENT,
                key,
                json!({"service": "tuns", "date": "2026-12-16", "time": "15:00", "stylist": "Ana", "client_name": "Ioana Pop"}),
            )
            .await
        }
    };
    assert_eq!(ana_on_wednesday("a1").await["ok"], false);
    let html = page(&app, &http, &cookie, "/console/staff").await;
    assert!(
        html.contains("/console/staff/ana/absences/remove"),
        "{html}"
    );
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/staff/ana/absences/remove",
        &away,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(ana_on_wednesday("a2").await["ok"], true);

    // Christmas (a Friday) opened, Tuesday 29 closed for inventory.
    let html = page(&app, &http, &cookie, "/console/schedule").await;
    assert!(html.contains("Crăciunul"), "{html}");
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/schedule/days/2026-12-25/open",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/schedule/days",
        &[
            ("csrf", &csrf),
            ("date", "2026-12-29"),
            ("reason", "inventar"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let christmas = app
        .tool_as(
            "+40722000111",
            CREATE_VOICE_APPOINTMENT,
            "h2",
            json!({"service": "tuns", "date": "2026-12-25", "time": "10:00", "client_name": "Maria Ionescu"}),
        )
        .await;
    assert_eq!(christmas["ok"], true, "{christmas}");
    let inventory = app
        .tool_as(
            "+40722000112",
            CREATE_VOICE_APPOINTMENT,
            "h3",
            json!({"service": "tuns", "date": "2026-12-29", "time": "10:00", "client_name": "Dan Pop"}),
        )
        .await;
    assert_eq!(inventory["ok"], false, "{inventory}");
    let html = page(&app, &http, &cookie, "/console/schedule").await;
    assert!(html.contains("/console/schedule/holidays/2026-12-25/close"));
    assert!(html.contains("(inventar)"));

    // Another salon's owner changes their own salon, never this one.
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_csrf = field(&page(&app, &http, &other, "/console/staff").await, "csrf");
    let r = post_form(
        &app,
        &http,
        &other,
        "/console/schedule/days",
        &[
            ("csrf", &other_csrf),
            ("date", "2026-12-30"),
            ("reason", "curățenie"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = app.store.business(&demo_id()).await.unwrap().unwrap();
    assert!(mine.closures.dates.iter().all(|c| c.reason != "curățenie"));
    let theirs = app
        .store
        .business(&BusinessId::parse("alt-salon").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        theirs
            .closures
            .dates
            .iter()
            .any(|c| c.reason == "curățenie")
    );

    // Without a session, the sign-in page.
    let r = http
        .get(format!("{}/console/schedule", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get(LOCATION).unwrap(), "/console/signin");
}

/// Records a finished call of `business` that began at `at`, as the webhooks, the tools and
/// the relay would have.
pub(crate) async fn seed_call(
    app: &TestApp,
    n: u32,
    business: &str,
    at: &str,
    tool_error: Option<&str>,
    booked: Option<&salon_domain::AppointmentId>,
    usage: serde_json::Value,
) -> salon_domain::CallSid {
    use salon_domain::call::{CallEvent, CallStatus, ToolCallRecord};
    let sid = salon_domain::CallSid::parse(format!("CA{n:032x}")).unwrap();
    let at: jiff::Timestamp = at.parse().unwrap();
    let started = CallEvent::Started {
        business: BusinessId::parse(business).unwrap(),
        from: "+40722000999".into(),
        to: demo::DEMO_NUMBER.into(),
        at,
    };
    app.store
        .claim_call(&sid, &started, &format!("MZ{n}"))
        .await
        .unwrap();
    let mut events = vec![CallEvent::ToolCall(ToolCallRecord {
        name: "check_availability".into(),
        call_id: format!("c{n}"),
        error: tool_error.map(str::to_owned),
        at,
        millis: 30,
    })];
    if let Some(id) = booked {
        events.push(CallEvent::Appointment(id.clone()));
    }
    let summary = serde_json::from_value(json!({
        "outcome": "ended_by_agent", "stream_seconds": 50, "usage": usage,
        "barge_ins": 3, "reconnects": 0, "transcript": []
    }))
    .unwrap();
    events.push(CallEvent::Summary { summary, at });
    events.push(CallEvent::Status {
        status: CallStatus::Completed,
        sequence: 3,
        duration_seconds: Some(if booked.is_some() { 60 } else { 120 }),
        at,
    });
    for e in &events {
        app.store.record_call(&sid, e).await.unwrap();
    }
    sid
}

#[tokio::test]
async fn the_phones_figures_come_from_the_salons_own_calls_at_the_configured_prices() {
    let app = console_app().await;
    let http = browser();
    let demo = demo_id();
    let agents = app
        .store
        .client_appointments(
            &demo,
            &salon_domain::PhoneE164::parse(crate::helpers::CALLER).unwrap(),
        )
        .await
        .unwrap()[0]
        .id
        .clone();
    let usage = json!({"input_tokens": 2000, "output_tokens": 2100, "input_audio_tokens": 1000, "output_audio_tokens": 2000, "cached_input_tokens": 0});
    let none = json!({"input_tokens": 0, "output_tokens": 0, "input_audio_tokens": 0, "output_audio_tokens": 0, "cached_input_tokens": 0});
    // Saturday 12 December at 10:05 and 10:40 local; another salon's call; one before the period.
    let booked = seed_call(
        &app,
        1,
        demo::BUSINESS_ID,
        "2026-12-12T08:05:00Z",
        None,
        Some(&agents),
        usage.clone(),
    )
    .await;
    seed_call(
        &app,
        2,
        demo::BUSINESS_ID,
        "2026-12-12T08:40:00Z",
        Some("closed"),
        None,
        none.clone(),
    )
    .await;
    seed_call(
        &app,
        3,
        "alt-salon",
        "2026-12-12T09:00:00Z",
        None,
        None,
        usage,
    )
    .await;
    seed_call(
        &app,
        4,
        demo::BUSINESS_ID,
        "2026-12-01T09:00:00Z",
        None,
        None,
        none,
    )
    .await;

    let cookie = session(&app, &http, OWNER).await;
    let get = |cookie: String, path: &'static str| {
        let (http, url) = (http.clone(), format!("{}{path}", app.base));
        async move {
            http.get(url)
                .header(COOKIE, format!("salon_session={cookie}"))
                .send()
                .await
                .unwrap()
        }
    };
    let r = get(cookie.clone(), "/console/analytics.json?days=7").await;
    assert_eq!(r.status(), StatusCode::OK);
    let j: serde_json::Value = r.json().await.unwrap();
    let f = &j["figures"];
    assert_eq!(
        (f["calls"].as_u64(), f["booked_calls"].as_u64()),
        (Some(2), Some(1)),
        "{j}"
    );
    assert_eq!(f["conversion_percent"], 50);
    assert_eq!(f["services"], json!([["Tuns", 1]]));
    assert_eq!(f["average_seconds"], 90);
    assert_eq!(f["barge_ins_per_call_centi"], 300);
    assert_eq!(f["per_hour"][5][10], 2, "Saturday, 10:00 local");
    assert_eq!(
        f["tools"],
        json!([{"name": "check_availability", "calls": 2, "succeeded": 1}])
    );
    // At the configured prices ($40 and $80 per million audio tokens, $5 and $20 text):
    // 1000 × 40 + 1000 × 5 + 2000 × 80 + 100 × 20 = 207 000 milli-dollars per million = $0.207.
    assert_eq!(f["cost_nano_dollars"], 207_000_000);
    assert_eq!(f["cost_per_booking_nano_dollars"], 207_000_000);
    assert_eq!(j["recent_calls"].as_array().unwrap().len(), 2);

    let r = get(cookie, "/console/analytics?days=7").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for shown in [
        "<svg role=\"img\"",
        "<title id=\"pe-zi-t\">Apeluri pe zi</title>",
        "Cele mai multe apeluri: sâmbătă la ora 10, 2.",
        "<dd>1 (50%)</dd>",
        "<dt>Cost OpenAI estimat</dt><dd>$0.2070</dd>",
        "<dt>Pe apel</dt><dd>$0.1035</dd>",
        "<dt>Pe programare</dt><dd>$0.2070</dd>",
        &format!("href=\"/console/calls/{booked}\""),
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }

    // Another salon's owner sees their own call only; without a session, the sign-in page.
    let other = session(&app, &http, OTHER_OWNER).await;
    let j: serde_json::Value = get(other, "/console/analytics.json?days=7")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(j["figures"]["calls"], 1);
    assert!(!j.to_string().contains(&booked.to_string()));
    let r = http
        .get(format!("{}/console/analytics.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get(LOCATION).unwrap(), "/console/signin");
}

#[tokio::test]
async fn the_client_list_their_history_and_the_bookings_to_confirm_are_the_salons_own() {
    use salon_domain::{ClientName, IdempotencyKey, PhoneE164, PhoneOrigin, Source};
    let app = console_app().await;
    let http = browser();
    // A caller booked for someone else, at a number they said aloud.
    let spoken = salon_store::BookingRequest {
        business: demo_id(),
        service: ServiceId::parse("tuns").unwrap(),
        more: Vec::new(),
        client: Some(PhoneE164::parse("0744000222").unwrap()),
        phone_origin: PhoneOrigin::Spoken,
        client_name: Some(ClientName::parse("Dan Pop").unwrap()),
        start: "2026-12-16T11:00".parse().unwrap(),
        staff: None,
        call_sid: None,
        key: IdempotencyKey::parse("spoken-1").unwrap(),
        tool_call: None,
        source: Source::Voice,
    };
    app.store
        .book(&spoken, crate::helpers::monday_morning())
        .await
        .unwrap();

    let cookie = session(&app, &http, OWNER).await;
    let html = page(&app, &http, &cookie, "/console/clients").await;
    assert!(
        html.contains("href=\"/console/clients/+40722123456\">Ion Popescu</a>"),
        "{html}"
    );
    let to_confirm = html.split("<h2>Clienți</h2>").next().unwrap();
    assert!(
        to_confirm.contains("Dan Pop") && to_confirm.contains("(neverificat)"),
        "{to_confirm}"
    );
    assert!(
        !to_confirm.contains("Ion Popescu"),
        "a caller-ID booking needs no confirming"
    );
    let clients = html.split("<h2>Clienți</h2>").nth(1).unwrap();
    assert!(
        !clients.contains("Dan Pop"),
        "a spoken number makes no client"
    );
    let found = page(&app, &http, &cookie, "/console/clients?q=popesc").await;
    assert!(found.contains(">Ion Popescu</a>"));
    let none = page(&app, &http, &cookie, "/console/clients?q=Ionescu").await;
    assert!(!none.contains(">Ion Popescu</a>"));

    let html = page(&app, &http, &cookie, "/console/clients/+40722123456").await;
    for shown in [
        "Ion Popescu",
        "0722 123 456",
        "Tuns",
        "asistentul vocal",
        "programat",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    let html = page(&app, &http, &cookie, "/console/clients/+40744000222").await;
    assert!(html.contains("număr spus, neverificat"), "{html}");

    // Another salon's owner: none of these clients.
    let other = session(&app, &http, OTHER_OWNER).await;
    let theirs = page(&app, &http, &other, "/console/clients").await;
    assert!(!theirs.contains("Ion Popescu") && !theirs.contains("Dan Pop"));
    let r = http
        .get(format!("{}/console/clients/+40722123456", app.base))
        .header(COOKIE, format!("salon_session={other}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_walk_in_is_added_by_name_alone_when_they_leave_no_number() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key) = (field(&html, "csrf"), field(&html, "key"));
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/appointments",
        &[
            ("csrf", &csrf),
            ("key", &key),
            ("date", "2026-12-15"),
            ("time", "11:00"),
            ("service", "tuns"),
            ("stylist", "maria"),
            ("client_name", "Elena Stan"),
            ("phone", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let b = app.store.business(&demo_id()).await.unwrap().unwrap();
    let booked = app
        .store
        .appointments_on(&b, "2026-12-15".parse().unwrap())
        .await
        .unwrap();
    let walk_in = booked
        .iter()
        .find(|a| a.client_name == "Elena Stan")
        .expect("booked");
    assert_eq!(walk_in.client, None);
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("fără telefon"), "{html}");
    // A number that is not one is still refused.
    let r = post_form(
        &app,
        &http,
        &cookie,
        "/console/appointments",
        &[
            ("csrf", &csrf),
            ("key", "another"),
            ("date", "2026-12-15"),
            ("time", "12:00"),
            ("service", "tuns"),
            ("stylist", ""),
            ("client_name", "Dan Stan"),
            ("phone", "12"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
