//! The Lambda binaries inside the Lambda runtime protocol: each runs as a child process with
//! the deployed environment, polls a Runtime API emulator, and answers API Gateway HTTP API
//! events (payload format 2.0) over a DynamoDB table (moto). What only breaks in Lambda (a
//! panic at start, a missing variable, a response API Gateway cannot read) fails here.
//!
//! `LAMBDA_BOOTSTRAP_DIR` (`sam build`'s `.aws-sam/build`) and `LAMBDA_RUNNER` (e.g.
//! `qemu-aarch64-static`) run the arm64 artefacts instead: `scripts/lambda-arm64.sh`.

mod deployment;
mod template;

use salon_domain::{CallSid, demo};
use salon_functions::twilio::signature;
use salon_lambda_emulator::{Function, HttpApiRequest, HttpApiResponse, InvocationError};
use salon_wire::{auth, paths, token, tools};
use serde_json::{Value, json};

use deployment::{CONSOLE, Deployment, RELAY_API, SMS_SENDER, TWILIO_WEBHOOKS};

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const CALLER: &str = "+40722123456";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Twilio's form for an incoming call to the demo salon.
fn call_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", CALL),
        ("From", CALLER),
        ("To", demo::DEMO_NUMBER),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
    ]
}

/// A webhook as Twilio posts it, signed over the public URL (or with `forged`).
fn twilio(path: &str, form: &[(&str, &str)], forged: Option<&str>) -> HttpApiRequest {
    let pairs: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let url = format!("{}{path}", deployment::PUBLIC_BASE);
    let sig = forged.map_or_else(
        || signature::compute(deployment::AUTH_TOKEN, &url, &pairs),
        str::to_owned,
    );
    deployment::request(TWILIO_WEBHOOKS, "POST", path)
        .header("User-Agent", "TwilioProxy/1.1")
        .header("X-Twilio-Signature", &sig)
        .form(form)
}

/// A relay request, signed with `secret` now.
fn relay(path: &str, body: &Value, secret: &str) -> HttpApiRequest {
    let bytes = body.to_string();
    let ts = now();
    let sig = auth::sign(
        secret.as_bytes(),
        ts,
        &auth::Request {
            method: "POST",
            path,
            body: bytes.as_bytes(),
        },
    );
    deployment::request(RELAY_API, "POST", path)
        .header(auth::HEADER_TIMESTAMP, &ts.to_string())
        .header(auth::HEADER_SIGNATURE, &sig)
        .body("application/json", bytes)
}

/// Sends `req` and prints how long it took to be answered (BENCHMARKS.md: the first request
/// after init is a cold instance's).
async fn send(f: &mut Function, req: &HttpApiRequest) -> HttpApiResponse {
    let began = std::time::Instant::now();
    let response = f
        .request(req)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", f.name()));
    eprintln!(
        "{}: {} answered in {:?}",
        f.name(),
        req.route_key(),
        began.elapsed()
    );
    response
}

/// The elements of a TwiML document in order, with their attributes.
fn elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed TwiML") {
            Event::Start(e) | Event::Empty(e) => out.push((
                String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                e.attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (key, a.unescape_value().unwrap().into_owned())
                    })
                    .collect(),
            )),
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn twilio_s_webhooks_are_answered_through_the_lambda_runtime() {
    let d = Deployment::new().await;
    let mut f = d.start(TWILIO_WEBHOOKS).await;

    // A forged webhook is refused with a 403, and the function lives on.
    let forged = send(
        &mut f,
        &twilio("/api/twilio/voice", &call_form(), Some("Zm9yZ2Vk")),
    )
    .await;
    assert_eq!(forged.status, 403);

    let r = send(&mut f, &twilio("/api/twilio/voice", &call_form(), None)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let content_type = r.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    let twiml = elements(&r.text());
    let names: Vec<&str> = twiml.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..3],
        ["Response", "Connect", "Stream"],
        "{}",
        r.text()
    );
    assert_eq!(
        attr(&twiml[1].1, "action"),
        Some(format!("{}/api/twilio/stream-ended", deployment::PUBLIC_BASE).as_str())
    );
    assert_eq!(
        attr(&twiml[2].1, "url"),
        Some("wss://relay.example.com/twilio/stream")
    );
    let param = |name: &str| {
        twiml
            .iter()
            .find(|(n, a)| n == "Parameter" && attr(a, "name") == Some(name))
            .and_then(|(_, a)| attr(a, "value"))
            .unwrap_or_else(|| panic!("no <Parameter name={name:?}>"))
    };
    assert_eq!(
        param("business"),
        demo::BUSINESS_ID,
        "the salon was read from the table"
    );
    let claims = token::verify(
        deployment::STREAM_SECRET.as_bytes(),
        param("token"),
        CALL,
        now(),
    )
    .expect("a valid stream token for the call");
    assert_eq!(
        (claims.caller.as_str(), claims.dialled.as_str()),
        (CALLER, demo::DEMO_NUMBER)
    );

    // The status callback writes the call record: the function writes to the table too.
    let status = [
        ("CallSid", CALL),
        ("CallStatus", "completed"),
        ("CallDuration", "42"),
        ("SequenceNumber", "3"),
    ];
    let r = send(&mut f, &twilio("/api/twilio/status", &status, None)).await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    let record = d
        .store
        .call(&CallSid::parse(CALL).unwrap())
        .await
        .unwrap()
        .expect("a call record");
    assert_eq!(record.duration_seconds, Some(42));
}

#[tokio::test]
async fn the_relay_s_session_and_tool_calls_are_answered_through_the_lambda_runtime() {
    let d = Deployment::new().await;
    let mut f = d.start(RELAY_API).await;
    let session = paths::session(CALL);
    let body = json!({"business": demo::BUSINESS_ID, "caller": CALLER, "dialled": demo::DEMO_NUMBER, "stream_sid": "MZ1"});

    let forged = send(
        &mut f,
        &relay(&session, &body, "a-wrong-secret-0123456789abcdef"),
    )
    .await;
    assert_eq!(forged.status, 401);

    let r = send(&mut f, &relay(&session, &body, deployment::RELAY_SECRET)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let config = r.json().unwrap();
    assert!(
        config["greeting"]
            .as_str()
            .unwrap()
            .contains("Salon Voice Booking"),
        "{config}"
    );
    let declared = config["tools"].to_string();
    assert!(
        declared.contains(tools::GET_AVAILABLE_SERVICES),
        "{declared}"
    );

    let call = json!({"call_id": "call_1", "arguments": "{}"});
    let path = paths::tool(CALL, tools::GET_AVAILABLE_SERVICES);
    let r = send(&mut f, &relay(&path, &call, deployment::RELAY_SECRET)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let reply = r.json().unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
    let mut listed: Vec<&str> = reply["result"]["servicii"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["nume"].as_str())
        .collect();
    let mut menu: Vec<String> = demo::services().into_iter().map(|s| s.name).collect();
    listed.sort_unstable();
    menu.sort_unstable();
    assert_eq!(
        listed, menu,
        "the demo salon's services, read from the table"
    );

    let record = d
        .store
        .call(&CallSid::parse(CALL).unwrap())
        .await
        .unwrap()
        .expect("a call record");
    assert_eq!(
        record.business.map(|b| b.as_str().to_owned()).as_deref(),
        Some(demo::BUSINESS_ID)
    );
    let recorded: Vec<&str> = record.tool_calls.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(recorded, [tools::GET_AVAILABLE_SERVICES]);
}

#[tokio::test]
async fn a_function_that_cannot_start_in_lambda_fails_its_init_and_says_why() {
    let d = Deployment::new().await;
    let mut missing = d.spec(TWILIO_WEBHOOKS);
    missing.env.retain(|(k, _)| k != "TWILIO_AUTH_TOKEN");
    // A rehearsal clock copied into a deployment is refused, in Lambda alone.
    let rehearsal = d
        .spec(RELAY_API)
        .var("CLOCK_START", "2027-10-31T08:00:00+02:00");
    for (spec, why) in [
        (missing, "TWILIO_AUTH_TOKEN is not set"),
        (rehearsal, "CLOCK_START is invalid"),
    ] {
        let mut f = Function::start(spec).await.unwrap();
        let e = f.ready().await.unwrap_err();
        assert!(matches!(e, InvocationError::Exited { .. }), "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
}

/// What the test gives a function beyond the template: Lambda's variable for the log format
/// (from `LoggingConfig`), the SDK's endpoint for moto, qemu's library prefix, and Twilio's
/// API as the loopback double.
const NOT_FROM_THE_TEMPLATE: [&str; 4] = [
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "QEMU_LD_PREFIX",
    "TWILIO_API_URL",
];

#[test]
fn each_function_gets_the_template_s_variables_and_no_others() {
    for lambda in [TWILIO_WEBHOOKS, RELAY_API, CONSOLE, SMS_SENDER] {
        let mut given: Vec<&str> = Vec::new();
        let spec = deployment::spec(lambda, "table", "http://127.0.0.1:1");
        given.extend(
            spec.env
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !NOT_FROM_THE_TEMPLATE.contains(k)),
        );
        let mut template = template::variables_of(lambda.logical_id);
        given.sort_unstable();
        template.sort_unstable();
        assert_eq!(given, template, "{}", lambda.logical_id);
    }
}

#[tokio::test]
async fn the_sms_sender_sends_what_a_booking_owes_when_its_schedule_invokes_it() {
    use salon_domain::{ClientName, IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId};
    use salon_twilio_double::{Credentials, TwilioDouble};
    let d = Deployment::new().await;
    let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
    b.sms_confirmations = true;
    d.store.put_business(&b).await.unwrap();
    let twilio = TwilioDouble::start(Credentials {
        account_sid: deployment::TWILIO_ACCOUNT.into(),
        username: deployment::TWILIO_KEY_SID.into(),
        password: deployment::TWILIO_KEY_SECRET.into(),
    })
    .await
    .unwrap();
    // A booking on the first free time from today on (the function runs on the real clock).
    let now = jiff::Timestamp::now();
    let today = now.to_zoned_datetime(b.time_zone.tz().clone()).date();
    let tuns = ServiceId::parse("tuns").unwrap();
    let horizon = today.checked_add(jiff::Span::new().days(14)).unwrap();
    let slots = d
        .store
        .availability(&b.id, &tuns, today, horizon, None, now)
        .await
        .unwrap();
    let request = salon_store::BookingRequest {
        business: b.id.clone(),
        service: tuns,
        more: Vec::new(),
        client: Some(PhoneE164::parse(CALLER).unwrap()),
        phone_origin: PhoneOrigin::CallerId,
        client_name: Some(ClientName::parse("Ion Popescu").unwrap()),
        start: slots[0].start.datetime(),
        staff: None,
        call_sid: None,
        key: IdempotencyKey::parse("sms-lambda-1").unwrap(),
        tool_call: None,
        source: salon_domain::Source::Voice,
    };
    d.store.book(&request, now).await.unwrap();

    let spec = d.spec(SMS_SENDER).var("TWILIO_API_URL", twilio.url());
    let mut f = d.start_spec(spec).await;
    // What EventBridge hands the function: the schedule's Input.
    let sent = f.invoke(&json!({"job": "send"})).await.unwrap();
    assert_eq!(sent["sent"], 1, "{sent}");
    let messages = twilio.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].to.as_str(), messages[0].from.as_str()),
        (CALLER, deployment::SMS_FROM)
    );
    assert!(
        messages[0].body.contains("Programare confirmata"),
        "{}",
        messages[0].body
    );
    let again = f.invoke(&json!({"job": "send"})).await.unwrap();
    assert_eq!(again["sent"], 0, "{again}");
    let reminded = f.invoke(&json!({"job": "remind"})).await.unwrap();
    assert!(reminded["queued"].is_u64(), "{reminded}");
}

#[tokio::test]
async fn the_console_signs_the_owner_in_through_the_lambda_runtime() {
    use salon_domain::owner::{Login, OwnerAccount};
    let d = Deployment::new().await;
    let account = OwnerAccount {
        login: Login::parse("ana@salon-demo.ro").unwrap(),
        business: salon_domain::BusinessId::parse(demo::BUSINESS_ID).unwrap(),
        password_hash: salon_functions::console::hash_password("parola-lunga-de-test").unwrap(),
        created: jiff::Timestamp::now(),
    };
    assert!(d.store.create_owner(&account).await.unwrap());
    let mut f = d.start(CONSOLE).await;
    let cookie = |r: &HttpApiResponse, name: &str| {
        r.cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .cloned()
    };
    // No session: the sign-in page, with its CSRF cookie.
    let r = send(&mut f, &deployment::request(CONSOLE, "GET", "/console")).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/console/signin"));
    let r = send(
        &mut f,
        &deployment::request(CONSOLE, "GET", "/console/signin"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let csrf = cookie(&r, "salon_csrf").expect("a CSRF cookie");
    let token = csrf["salon_csrf=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Signed in: a Secure session cookie, and the day's book.
    let form = format!("login=ana%40salon-demo.ro&password=parola-lunga-de-test&csrf={token}");
    let req = deployment::request(CONSOLE, "POST", "/console/signin")
        .header("cookie", &format!("salon_csrf={token}"))
        .body("application/x-www-form-urlencoded", form);
    let r = send(&mut f, &req).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let session = cookie(&r, "salon_session").expect("a session cookie");
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    let value = session["salon_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let req = deployment::request(CONSOLE, "GET", "/console")
        .header("cookie", &format!("salon_session={value}"));
    let r = send(&mut f, &req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Programările din"), "{}", r.text());
    // Every other page through the console's one greedy route.
    let req = deployment::request(CONSOLE, "GET", "/console/services")
        .header("cookie", &format!("salon_session={value}"));
    let r = send(&mut f, &req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Serviciu nou"), "{}", r.text());

    // The owner's JSON API, served by this function: under the session, or the salon's token.
    let req = deployment::request(CONSOLE, "GET", "/console/api/services")
        .header("cookie", &format!("salon_session={value}"));
    let r = send(&mut f, &req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json().unwrap()["services"].as_array().unwrap().len(),
        demo::services().len()
    );
    let owner = |token: &str| {
        deployment::request(CONSOLE, "GET", "/api/owner/messages")
            .header("authorization", &format!("Bearer {token}"))
    };
    let r = send(&mut f, &owner("owner-token-0123456789abcdef0123456789")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().unwrap(), json!({"messages": []}));
    let r = send(&mut f, &owner("a-wrong-token-0123456789abcdef0123456789")).await;
    assert_eq!(r.status, 401);
}
