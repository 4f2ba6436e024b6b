//! The console in a real browser: headless Chromium (Debian's `chromium`, driven by its
//! `chromedriver` over WebDriver) signs in as the owner, reads the day's book, adds a walk-in
//! and cancels it, opens the call behind an appointment, marks a caller's message done, and
//! signs out; screenshots at a phone's width and a desk's; axe-core, run in each page, finds no
//! serious or critical accessibility violation. The README's test command installs Chromium and axe-core
//! (`AXE_CORE_JS` names the script); without them this test fails with what is missing.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::console::{OWNER, PASSWORD, console_app};

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start chromedriver ({e}): run the README's test command, which installs chromium and chromium-driver")
        });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn browser(driver: &Driver) -> Client {
    // The WebDriver client's TLS (unused on loopback, but built): one provider, chosen here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Headless, sandboxless (tests run as root), and quiet: no network of its own.
    let args = json!([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        format!("--user-data-dir={}", driver._profile.path().display()),
        "--window-size=1280,900",
    ]);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
    ClientBuilder::rustls()
        .expect("a TLS configuration")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// Where screenshots go: `CONSOLE_SCREENSHOTS`, or a folder under the system's temporary one.
fn screenshots() -> PathBuf {
    let dir = std::env::var_os("CONSOLE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("salon-console-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Takes a screenshot at a width (and a height), checking it is a PNG of some size.
async fn shoot(c: &Client, name: &str, width: u32, height: u32) {
    c.set_window_size(width, height).await.unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{name}");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Runs axe-core in the page; returns the serious and critical violations.
async fn serious_violations(c: &Client) -> Vec<Value> {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        panic!("AXE_CORE_JS is not set: run the README's test command, which installs axe-core")
    });
    let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    c.execute(&axe, vec![]).await.unwrap();
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
                .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help}))))
                .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));",
            vec![],
        )
        .await
        .unwrap();
    result
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .cloned()
        .collect()
}

/// Signs in on the sign-in page as the owner, and waits for the day's book.
async fn sign_in(c: &Client, base: &str) {
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(OWNER)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(c, "button[type=submit]").await;
    c.wait()
        .for_url(&format!("{base}/console").parse().unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_signs_in_and_reads_the_day_in_chromium() {
    let app = console_app().await;
    let left = salon_domain::message::Message {
        id: "CA0123456789abcdef0123456789abcdef:call_7".into(),
        business: salon_domain::BusinessId::parse(salon_domain::demo::BUSINESS_ID).unwrap(),
        call_sid: salon_domain::CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
        phone: Some(salon_domain::PhoneE164::parse("0744111222").unwrap()),
        name: Some("Elena Dumitru".into()),
        text: Some("Vrea să afle dacă faceți extensii.".into()),
        recording: None,
        at: "2026-12-14T09:00:00+02:00".parse().unwrap(),
        read: false,
    };
    app.store.leave_message(&left).await.unwrap();
    // The agent's call is the salon's: its session claimed it.
    app.session(crate::helpers::CALLER).await;
    // Chromium treats localhost as a secure origin: the Secure cookie is kept over HTTP.
    let base = app.base.replace("127.0.0.1", "localhost");
    let driver = driver().await;
    let c = browser(&driver).await;

    c.goto(&format!("{base}/console")).await.unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/signin")
    );
    shoot(&c, "signin-phone", 390, 844).await;
    accessible(&c, "the sign-in page").await;

    sign_in(&c, &base).await;

    // Tuesday's book: the agent's booking, under Ana.
    c.goto(&format!("{base}/console?date=2026-12-15"))
        .await
        .unwrap();
    let ana = c
        .find(Locator::Css("section[aria-labelledby=stilist-ana]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ana.contains("Ion Popescu") && ana.contains("10:00–10:30") && ana.contains("Tuns"),
        "{ana}"
    );

    // A walk-in at 11:00 with Ana, added by hand: it joins her list.
    c.find(Locator::Id("time"))
        .await
        .unwrap()
        .send_keys("1100AM")
        .await
        .unwrap();
    for option in ["#service option[value=tuns]", "#stylist option[value=ana]"] {
        c.find(Locator::Css(option))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    for (id, text) in [("client_name", "Maria Ionescu"), ("phone", "0733000111")] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    click(&c, "form[action='/console/appointments'] button").await;
    let ana = c
        .wait()
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='stilist-ana'][contains(., 'Maria Ionescu')]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ana.contains("11:00–11:30") && ana.contains("introdusă manual"),
        "{ana}"
    );
    shoot(&c, "day-phone", 390, 844).await;
    shoot(&c, "day-desktop", 1280, 900).await;
    accessible(&c, "the day's book").await;

    // Cancelled again from its row: gone from the book.
    c.find(Locator::Css(
        "button[aria-label='Anulează programarea lui Maria Ionescu de la 11:00']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    // Waited for on the page the cancellation leads to (the old one still lists her).
    let ana = c
        .wait()
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='stilist-ana'][not(contains(., 'Maria Ionescu'))]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ana.contains("Ion Popescu"), "{ana}");

    // The agent's call behind Ion's appointment, one tap away.
    click(&c, "a[aria-label='Vezi apelul lui Ion Popescu']").await;
    let heading = c
        .wait()
        .for_element(Locator::XPath("//main/h2[starts-with(., 'Apel de la')]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Apel de la 0722 123 456");
    accessible(&c, "the call").await;

    // Ana's week, from the menu: Tuesday holds Ion's cut.
    follow(&c, "Săptămâna").await;
    c.goto(&format!("{base}/console/week?stylist=ana&date=2026-12-15"))
        .await
        .unwrap();
    let tuesday = c
        .find(Locator::Css("section[aria-labelledby='zi-2026-12-15']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tuesday.contains("Ion Popescu"), "{tuesday}");
    shoot(&c, "week-phone", 390, 844).await;
    accessible(&c, "the week").await;

    // The messages: one left by a caller, marked done.
    follow(&c, "Mesaje").await;
    click(&c, "article button").await;
    let article = c
        .wait()
        .for_element(Locator::XPath("//article[contains(., 'Rezolvat.')]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(article.contains("Elena Dumitru"), "{article}");
    accessible(&c, "the messages").await;

    // Signing out lands on the sign-in page, and the book is closed again.
    click(&c, "form[action='/console/signout'] button").await;
    c.wait()
        .for_url(&format!("{base}/console/signin").parse().unwrap())
        .await
        .unwrap();
    c.goto(&format!("{base}/console?date=2026-12-15"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/signin")
    );
    c.close().await.unwrap();
}

/// Clicks what `css` finds.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Types into the field with `id`, after emptying it.
async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Follows the link with this text.
async fn follow(c: &Client, text: &str) {
    c.find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Checks that axe-core finds no serious or critical violation in the page.
async fn accessible(c: &Client, name: &str) {
    assert_eq!(serious_violations(c).await, Vec::<Value>::new(), "{name}");
}

/// Checks a page with axe-core and takes its screenshots.
async fn check_page(c: &Client, name: &str) {
    accessible(c, name).await;
    shoot(c, &format!("{name}-phone"), 390, 844).await;
    shoot(c, &format!("{name}-desktop"), 1280, 900).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_blocks_time_changes_settings_and_reads_the_phones_figures_in_chromium() {
    use salon_domain::{BusinessId, ServiceId, StaffId, demo};
    let app = console_app().await;
    let demo_id = BusinessId::parse(demo::BUSINESS_ID).unwrap();
    let agents = app
        .store
        .client_appointments(
            &demo_id,
            &salon_domain::PhoneE164::parse(crate::helpers::CALLER).unwrap(),
        )
        .await
        .unwrap()[0]
        .id
        .clone();
    let usage = json!({"input_tokens": 2000, "output_tokens": 2100, "input_audio_tokens": 1000, "output_audio_tokens": 2000, "cached_input_tokens": 0});
    for (n, at, booked) in [
        (1, "2026-12-12T08:05:00Z", Some(&agents)),
        (2, "2026-12-12T08:40:00Z", None),
        (3, "2026-12-11T15:00:00Z", None),
        (4, "2026-12-09T07:30:00Z", None),
    ] {
        crate::console_settings::seed_call(
            &app,
            n,
            demo::BUSINESS_ID,
            at,
            None,
            booked,
            usage.clone(),
        )
        .await;
    }
    let base = app.base.replace("127.0.0.1", "localhost");
    let driver = driver().await;
    let c = browser(&driver).await;
    c.goto(&format!("{base}/console")).await.unwrap();
    // Without a mouse: the login field, Tab to the password, Enter to sign in.
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(OWNER)
        .await
        .unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("password")
    );
    focused
        .send_keys(&format!("{PASSWORD}{}", Key::Enter))
        .await
        .unwrap();
    c.wait()
        .for_url(&format!("{base}/console").parse().unwrap())
        .await
        .unwrap();

    // Ana's 12:00 to 13:00 blocked on Tuesday.
    c.goto(&format!("{base}/console?date=2026-12-15"))
        .await
        .unwrap();
    click(&c, "#block-stylist option[value=ana]").await;
    type_into(&c, "block-from", "1200PM").await;
    type_into(&c, "block-to", "0100PM").await;
    type_into(&c, "block-note", "la bancă").await;
    click(&c, "form[action='/console/blocks'] button").await;
    let ana = c
        .wait()
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='stilist-ana'][contains(., 'Timp blocat')]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ana.contains("12:00–13:00 (la bancă)"), "{ana}");
    let b = app.store.business(&demo_id).await.unwrap().unwrap();
    assert_eq!(
        app.store
            .blocks_on(&b, "2026-12-15".parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );

    // The agent's 10:00 with Ana moved to 16:00 with Maria, from its row.
    c.find(Locator::XPath(
        "//tr[contains(., 'Ion Popescu')]//summary[. = 'Mută']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    type_into(&c, &format!("mut-ora-{agents}"), "0400PM").await;
    click(&c, &format!("#mut-stilist-{agents} option[value=maria]")).await;
    click(&c, "button[aria-label='Mută programarea lui Ion Popescu']").await;
    let maria = c
        .wait()
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='stilist-maria'][contains(., 'Ion Popescu')]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(maria.contains("16:00–16:30"), "{maria}");
    let moved = app
        .store
        .appointment(&demo_id, &agents)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.staff.as_str(), moved.start),
        ("maria", "2026-12-15T16:00:00+02:00".parse().unwrap())
    );

    // A cut costs 55 lei now.
    follow(&c, "Servicii").await;
    type_into(&c, "pret-tuns", "55").await;
    click(&c, "button[aria-label='Salvează Tuns']").await;
    let tuns = c
        .wait()
        .for_element(Locator::XPath(
            "//section[@aria-labelledby='serviciu-tuns'][contains(., '55 lei')]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tuns.contains("30 de minute") || tuns.contains("30 minute"),
        "{tuns}"
    );
    check_page(&c, "services").await;
    let tuns = app
        .store
        .services(&demo_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == ServiceId::parse("tuns").unwrap())
        .unwrap();
    assert_eq!(tuns.price.bani, 5500);

    // Ion starts at 12:00 on Tuesdays.
    follow(&c, "Stiliști").await;
    click(&c, "#propriu-ion").await;
    type_into(&c, "ion-tue-open", "1200PM").await;
    click(&c, "button[aria-label='Salvează programul lui Ion']").await;
    c.wait()
        .for_url(&format!("{base}/console/staff#stilist-ion").parse().unwrap())
        .await
        .unwrap();
    check_page(&c, "staff").await;
    let b = app.store.business(&demo_id).await.unwrap().unwrap();
    let ion = b.staff_member(&StaffId::parse("ion").unwrap()).unwrap();
    assert_eq!(
        ion.hours.as_ref().and_then(|h| h.tuesday).map(|d| d.open()),
        Some(jiff::civil::time(12, 0, 0, 0)),
        "{ion:?}"
    );

    // Christmas opened.
    follow(&c, "Program").await;
    click(&c, "button[aria-label='Deschide de Crăciunul']").await;
    c.wait()
        .for_element(Locator::Css("button[aria-label='Închide de Crăciunul']"))
        .await
        .unwrap();
    check_page(&c, "schedule").await;

    // The clients, and Ion's history one tap away.
    follow(&c, "Clienți").await;
    check_page(&c, "clients").await;
    follow(&c, "Ion Popescu").await;
    let history = c
        .wait()
        .for_element(Locator::Css("main table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("Tuns") && history.contains("Maria"),
        "{history}"
    );
    accessible(&c, "a client's history").await;

    // The phone's figures: charts drawn from the seeded calls.
    follow(&c, "Telefonul").await;
    follow(&c, "Ultimele 7 zile").await;
    c.wait()
        .for_url(&format!("{base}/console/analytics?days=7").parse().unwrap())
        .await
        .unwrap();
    let main = c
        .wait()
        .for_element(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        main.contains("Apeluri\n4") || main.contains("Apeluri 4"),
        "{main}"
    );
    let bars = c
        .find_all(Locator::Css("svg[aria-labelledby^=pe-zi] rect"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 7, "a bar a day");
    check_page(&c, "analytics").await;

    // The JSON API from the signed-in browser: its session cookie reaches /console/api (the
    // console's pages load nothing, so it is opened as a page of its own).
    c.goto(&format!("{base}/console/api/book?date=2026-12-15"))
        .await
        .unwrap();
    let text = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(json["blocks"][0]["note"], "la bancă", "{json}");
    assert_eq!(
        json["appointments"][0]["client_name"], "Ion Popescu",
        "{json}"
    );
    c.close().await.unwrap();
}
