//! The owner's console over HTTP, as a browser speaks to it: signing in and out, the session
//! cookie's attributes, the CSRF checks, the slowdown of failed sign-ins, and that an owner
//! sees their own salon's book only.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use salon_domain::owner::{Login, OwnerAccount};
use salon_domain::{Business, BusinessId, Clock, PhoneE164, demo};
use salon_functions::console::hash_password;
use salon_wire::tools::CREATE_VOICE_APPOINTMENT;
use serde_json::json;

use crate::helpers::{CALLER, TestApp, spawn_app};

pub(crate) const OWNER: &str = "ana@salon-demo.ro";
pub(crate) const PASSWORD: &str = "parola-lunga-de-test";
pub(crate) const OTHER_OWNER: &str = "ion@alt-salon.ro";

/// A browser without redirects followed, so each answer is seen as it is.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The demo salon with an owner account, another salon with its own, and a booking made by
/// the agent for Tuesday at 10:00.
pub(crate) async fn console_app() -> TestApp {
    let app = spawn_app().await;
    let mut other: Business = demo::business(PhoneE164::parse("+40312345000").unwrap());
    other.id = BusinessId::parse("alt-salon").unwrap();
    other.name = "Alt Salon".into();
    app.store.put_business(&other).await.unwrap();
    for (login, business) in [(OWNER, demo::BUSINESS_ID), (OTHER_OWNER, "alt-salon")] {
        let account = OwnerAccount {
            login: Login::parse(login).unwrap(),
            business: BusinessId::parse(business).unwrap(),
            password_hash: hash_password(PASSWORD).unwrap(),
            created: app.clock.now(),
        };
        assert!(app.store.create_owner(&account).await.unwrap());
    }
    let booked = app
        .tool_as(
            CALLER,
            CREATE_VOICE_APPOINTMENT,
            "b1",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "stylist": "Ana", "client_name": "Ion Popescu"}),
        )
        .await;
    assert_eq!(booked["ok"], true, "{booked}");
    app
}

/// The value a `Set-Cookie` of the answer gives `name`, with the whole header.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_owned();
            (value, v.to_owned())
        })
}

/// The sign-in form's CSRF token, from its cookie (the form holds the same).
async fn signin_form(app: &TestApp, http: &reqwest::Client) -> String {
    let r = http
        .get(format!("{}/console/signin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (token, _) = set_cookie(&r, "salon_csrf").expect("a CSRF cookie");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
    assert!(html.contains("<label for=\"login\">Adresa de e-mail</label>"));
    token
}

async fn sign_in(
    app: &TestApp,
    http: &reqwest::Client,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let token = signin_form(app, http).await;
    http.post(format!("{}/console/signin", app.base))
        .header(COOKIE, format!("salon_csrf={token}"))
        .form(&[("login", login), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

/// Signs in and returns the session cookie's value.
pub(crate) async fn session(app: &TestApp, http: &reqwest::Client, login: &str) -> String {
    let r = sign_in(app, http, login, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    set_cookie(&r, "salon_session").expect("a session cookie").0
}

pub(crate) async fn day(
    app: &TestApp,
    http: &reqwest::Client,
    cookie: &str,
    date: &str,
) -> reqwest::Response {
    http.get(format!("{}/console?date={date}", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_owner_signs_in_sees_the_days_book_and_signs_out() {
    let app = console_app().await;
    let http = browser();
    // No session: the sign-in page.
    let r = http
        .get(format!("{}/console", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/console/signin");

    let r = sign_in(&app, &http, "  Ana@Salon-Demo.ro ", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/console");
    let (cookie, header) = set_cookie(&r, "salon_session").unwrap();
    assert_eq!(cookie.len(), 64, "256 random bits");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(header.contains(attribute), "{header}");
    }
    // The store keeps the session under a hash, never the cookie itself.
    assert!(
        app.store
            .console_session(&cookie, app.clock.now())
            .await
            .unwrap()
            .is_none()
    );

    let r = day(&app, &http, &cookie, "2026-12-15").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ro\">"));
    assert!(
        html.contains("Programările din marți, 15 decembrie"),
        "{html}"
    );
    for shown in [
        "Ion Popescu",
        "0722 123 456",
        "Tuns",
        "10:00–10:30",
        "asistentul vocal",
        "programat",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    // Another day: nothing booked.
    let html = day(&app, &http, &cookie, "2026-12-16")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Ion Popescu"));

    // Signing out ends the session: its cookie opens nothing any more.
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{}/console/signout", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/console/signin");
    let r = day(&app, &http, &cookie, "2026-12-15").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn another_salons_owner_sees_nothing_of_this_salon() {
    let app = console_app().await;
    let http = browser();
    let theirs = session(&app, &http, OTHER_OWNER).await;
    let html = day(&app, &http, &theirs, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Alt Salon"));
    assert!(
        !html.contains("Ion Popescu") && !html.contains("0722 123 456"),
        "{html}"
    );
    // Nothing in the request picks the salon: a made-up cookie is no session.
    let r = day(&app, &http, &"0".repeat(64), "2026-12-15").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_cross_site_form_is_refused() {
    let app = console_app().await;
    let http = browser();
    // A sign-in posted from elsewhere carries no CSRF cookie (SameSite=Strict, and another
    // site cannot set it).
    let r = http
        .post(format!("{}/console/signin", app.base))
        .form(&[("login", OWNER), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&r, "salon_session").is_none());
    // A sign-out with the session's cookie but without its form token changes nothing.
    let cookie = session(&app, &http, OWNER).await;
    for csrf in ["", "not-the-token"] {
        let r = http
            .post(format!("{}/console/signout", app.base))
            .header(COOKIE, format!("salon_session={cookie}"))
            .form(&[("csrf", csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        day(&app, &http, &cookie, "2026-12-15").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_passwords_slow_down_further_attempts() {
    let app = console_app().await;
    let http = browser();
    for _ in 0..5 {
        let r = sign_in(&app, &http, OWNER, "parola-gresita").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Adresa sau parola nu sunt corecte."),
            "{html}"
        );
    }
    // Then even the right password must wait a second, refused without a look at it.
    let r = sign_in(&app, &http, OWNER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&r, "salon_session").is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Prea multe încercări greșite.")
    );
    // Each further wrong one doubles the wait: two seconds after the sixth.
    app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        sign_in(&app, &http, OWNER, "parola-gresita").await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        sign_in(&app, &http, OWNER, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // An unknown login is answered as a wrong password, and counted alike.
    let r = sign_in(&app, &http, "nimeni@salon-demo.ro", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Once the wait is over, the right password signs in (and the count starts again).
    app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        sign_in(&app, &http, OWNER, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let failures = app
        .store
        .signin_failures(&Login::parse(OWNER).unwrap())
        .await
        .unwrap();
    assert_eq!(failures.count, 0);
}

/// A hidden field's value in a page.
pub(crate) fn field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        .to_owned()
}

pub(crate) async fn post_form(
    app: &TestApp,
    http: &reqwest::Client,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(format!("{}{path}", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_owner_adds_and_cancels_by_hand_under_the_same_rules() {
    use salon_domain::{PhoneOrigin, Source};
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key) = (field(&html, "csrf"), field(&html, "key"));
    assert!(html.contains("<label for=\"client_name\">Numele clientului</label>"));
    let walk_in = |time: &'static str, key: String, csrf: String| {
        vec![
            ("csrf", csrf),
            ("key", key),
            ("date", "2026-12-15".to_owned()),
            ("time", time.to_owned()),
            ("service", "tuns".to_owned()),
            ("stylist", "ana".to_owned()),
            ("client_name", "Maria Ionescu".to_owned()),
            ("phone", "0733 000 111".to_owned()),
        ]
    };
    let form = walk_in("11:00", key.clone(), csrf.clone());
    // Sent twice (a double click): one appointment.
    for _ in 0..2 {
        let r = http
            .post(format!("{}/console/appointments", app.base))
            .header(COOKIE, format!("salon_session={cookie}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/console?date=2026-12-15");
    }
    let maria = PhoneE164::parse("0733000111").unwrap();
    let demo = BusinessId::parse(demo::BUSINESS_ID).unwrap();
    let theirs = app.store.client_appointments(&demo, &maria).await.unwrap();
    assert_eq!(theirs.len(), 1, "booked once");
    let added = &theirs[0];
    assert_eq!(
        (added.source, added.phone_origin, added.staff.as_str()),
        (Source::Manual, PhoneOrigin::Salon, "ana")
    );
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Maria Ionescu") && html.contains("introdusă manual"));

    // Ana's 10:00 is the agent's: refused with the agent's own sentence, nothing written.
    let r = http
        .post(format!("{}/console/appointments", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .form(&walk_in("10:00", "k2".into(), csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let text = r.text().await.unwrap();
    assert!(text.contains("este deja ocupată"), "{text}");
    assert_eq!(
        app.store
            .client_appointments(&demo, &maria)
            .await
            .unwrap()
            .len(),
        1
    );
    // Without the session's token: refused, nothing written.
    let r = http
        .post(format!("{}/console/appointments", app.base))
        .header(COOKIE, format!("salon_session={cookie}"))
        .form(&walk_in("15:00", "k3".into(), "forged".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .client_appointments(&demo, &maria)
            .await
            .unwrap()
            .len(),
        1
    );

    // Another salon's owner cannot cancel it: no such appointment in their salon.
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_html = day(&app, &http, &other, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let path = format!("/console/appointments/{}/cancel", added.id);
    let r = post_form(
        &app,
        &http,
        &other,
        &path,
        &[("csrf", &field(&other_html, "csrf"))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        app.store
            .appointment(&demo, &added.id)
            .await
            .unwrap()
            .unwrap()
            .is_booked()
    );
    // Its owner can.
    let r = post_form(&app, &http, &cookie, &path, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        !app.store
            .appointment(&demo, &added.id)
            .await
            .unwrap()
            .unwrap()
            .is_booked()
    );
}

#[tokio::test]
async fn messages_are_read_and_marked_done_by_their_salons_owner_only() {
    use salon_domain::message::Message;
    let app = console_app().await;
    let http = browser();
    let message = |id: &str, business: &str, name: &str| Message {
        id: id.into(),
        business: BusinessId::parse(business).unwrap(),
        call_sid: salon_domain::CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
        phone: Some(PhoneE164::parse("0744111222").unwrap()),
        name: Some(name.into()),
        text: Some("Vrea să afle dacă faceți extensii.".into()),
        recording: None,
        at: app.clock.now(),
        read: false,
    };
    let ours = message(
        "CA0123456789abcdef0123456789abcdef:call_7",
        demo::BUSINESS_ID,
        "Elena Dumitru",
    );
    app.store.leave_message(&ours).await.unwrap();
    app.store
        .leave_message(&message("CA1:call_1", "alt-salon", "Radu Stan"))
        .await
        .unwrap();

    let cookie = session(&app, &http, OWNER).await;
    let page = |cookie: String| {
        let (http, base) = (http.clone(), app.base.clone());
        async move {
            let r = http
                .get(format!("{base}/console/messages"))
                .header(COOKIE, format!("salon_session={cookie}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let html = page(cookie.clone()).await;
    assert!(
        html.contains("Un mesaj nou.") && html.contains("Elena Dumitru"),
        "{html}"
    );
    assert!(html.contains("Vrea să afle dacă faceți extensii.") && html.contains("0744 111 222"));
    assert!(!html.contains("Radu Stan"), "another salon's message");
    let action = "/console/messages/CA0123456789abcdef0123456789abcdef%3Acall_7/done";
    assert!(html.contains(action), "{html}");

    // Another salon's owner cannot mark it done: not theirs.
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_csrf = field(&page(other.clone()).await, "csrf");
    let r = post_form(&app, &http, &other, action, &[("csrf", &other_csrf)]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Without the token: refused.
    let r = post_form(&app, &http, &cookie, action, &[("csrf", "forged")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let demo = BusinessId::parse(demo::BUSINESS_ID).unwrap();
    assert!(!app.store.messages(&demo).await.unwrap()[0].read);
    // Its owner marks it done.
    let csrf = field(&html, "csrf");
    let r = post_form(&app, &http, &cookie, action, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.messages(&demo).await.unwrap()[0].read);
    let html = page(cookie).await;
    assert!(html.contains("Niciun mesaj nou.") && html.contains("Rezolvat."));
}

#[tokio::test]
async fn the_owner_moves_an_appointment_and_a_taken_time_is_refused() {
    let app = console_app().await;
    let http = browser();
    let demo = BusinessId::parse(demo::BUSINESS_ID).unwrap();
    let ion = PhoneE164::parse(CALLER).unwrap();
    let agents = app.store.client_appointments(&demo, &ion).await.unwrap()[0].clone();
    let cookie = session(&app, &http, OWNER).await;
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf");
    let path = format!("/console/appointments/{}/move", agents.id);
    assert!(html.contains(&path), "{html}");
    // To 12:00 the same day, with Maria.
    let r = post_form(
        &app,
        &http,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("date", "2026-12-15"),
            ("time", "12:00"),
            ("stylist", "maria"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let moved = app
        .store
        .appointment(&demo, &agents.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.staff.as_str(), "maria");
    assert_eq!(moved.start, "2026-12-15T12:00:00+02:00".parse().unwrap());
    // Onto Ana's break: refused with the rule, left where it is.
    let r = post_form(
        &app,
        &http,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("date", "2026-12-15"),
            ("time", "13:00"),
            ("stylist", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("pauza de prânz"));
    assert_eq!(
        app.store
            .appointment(&demo, &agents.id)
            .await
            .unwrap()
            .unwrap()
            .start,
        moved.start
    );
    // Another salon's owner: no such appointment.
    let other = session(&app, &http, OTHER_OWNER).await;
    let other_csrf = field(
        &day(&app, &http, &other, "2026-12-15")
            .await
            .text()
            .await
            .unwrap(),
        "csrf",
    );
    let r = post_form(
        &app,
        &http,
        &other,
        &path,
        &[
            ("csrf", &other_csrf),
            ("date", "2026-12-16"),
            ("time", "12:00"),
            ("stylist", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_call_is_one_tap_from_its_appointment_for_its_salons_owner_only() {
    use crate::helpers::CALL;
    let app = console_app().await;
    let http = browser();
    app.session(CALLER).await;
    let summary = json!({
        "outcome": "ended_by_agent",
        "stream_seconds": 83,
        "usage": {"input_tokens": 1500, "output_tokens": 900, "input_audio_tokens": 1200, "output_audio_tokens": 800, "cached_input_tokens": 0},
        "barge_ins": 0,
        "reconnects": 0,
        "transcript": [{"speaker": "agent", "text": "Bună ziua! Cu ce vă pot ajuta?"}, {"speaker": "caller", "text": "Aș dori un tuns marți la zece."}]
    });
    let r = app.relay(&salon_wire::paths::summary(CALL), &summary).await;
    assert_eq!(r.status(), 204);

    let cookie = session(&app, &http, OWNER).await;
    let html = day(&app, &http, &cookie, "2026-12-15")
        .await
        .text()
        .await
        .unwrap();
    let link = format!("/console/calls/{CALL}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    let get = |cookie: String| {
        let (http, url) = (http.clone(), format!("{}{link}", app.base));
        async move {
            http.get(url)
                .header(COOKIE, format!("salon_session={cookie}"))
                .send()
                .await
                .unwrap()
        }
    };
    let r = get(cookie).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for shown in [
        "Apel de la 0722 123 456",
        "încheiat de asistent",
        "create_voice_appointment",
        "reușit",
        "Asistent: </strong>Bună ziua! Cu ce vă pot ajuta?",
        "Apelant: </strong>Aș dori un tuns marți la zece.",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    // Another salon's owner: no such call.
    let other = session(&app, &http, OTHER_OWNER).await;
    let r = get(other).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("Aș dori un tuns"));
}

#[tokio::test]
async fn a_stylists_week_shows_their_days_for_their_salons_owner() {
    let app = console_app().await;
    let http = browser();
    let cookie = session(&app, &http, OWNER).await;
    let week = |cookie: String, query: &str| {
        let (http, url) = (http.clone(), format!("{}/console/week?{query}", app.base));
        async move {
            let r = http
                .get(url)
                .header(COOKIE, format!("salon_session={cookie}"))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    // Any day of the week shows it from its Monday: Ana's Tuesday has the agent's booking.
    let (status, html) = week(cookie.clone(), "stylist=ana&date=2026-12-17").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Săptămâna lui Ana"), "{html}");
    assert!(html.contains("luni, 14 decembrie") && html.contains("duminică, 20 decembrie"));
    let tuesday = html.split("id=\"zi-2026-12-15\"").nth(1).unwrap();
    let tuesday = tuesday.split("<section").next().unwrap();
    assert!(
        tuesday.contains("10:00–10:30") && tuesday.contains("Ion Popescu, Tuns"),
        "{tuesday}"
    );
    // Maria's week is empty; an unknown stylist is a clear error.
    let (_, html) = week(cookie.clone(), "stylist=maria&date=2026-12-15").await;
    assert!(!html.contains("Ion Popescu"));
    let (status, _) = week(cookie, "stylist=nimeni").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Another salon's owner sees their own salon's stylists only.
    let other = session(&app, &http, OTHER_OWNER).await;
    let (_, html) = week(other, "stylist=ana&date=2026-12-15").await;
    assert!(
        html.contains("Alt Salon") && !html.contains("Ion Popescu"),
        "{html}"
    );
}
