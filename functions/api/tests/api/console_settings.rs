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
