//! A stand-in for Twilio's Messages API on loopback, for tests.
//!
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` is checked as Twilio checks it (the
//! `twilio` Python package's requests are accepted, anything else refused with Twilio's error
//! shape): HTTP Basic credentials (the account SID or an API key SID, and its secret), the
//! account in the path, a form body with `To`, `From` or `MessagingServiceSid`, and `Body`
//! (at most 1,600 characters). A taken text answers 201 with its `SM…` SID and is recorded.
//! Tests can make the next requests fail with a status, stall past the client's timeout, or
//! answer 21610 for a number that replied STOP.
#![forbid(unsafe_code)]

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::json;

/// Who may send: a username (the account SID `AC…` or an API key SID `SK…`) and its secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account_sid: String,
    pub username: String,
    pub password: String,
}

/// A text the double took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub sid: String,
    pub to: String,
    /// `From`, or the `MessagingServiceSid` when that was given instead.
    pub from: String,
    pub body: String,
}

/// What the next request meets instead of being taken.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answered with this status and Twilio's error body (code 20500 for a 5xx).
    Status(u16),
    /// Answered only after this long: past a client's timeout, the text is taken all the same
    /// (as Twilio would, having received it).
    Stall(Duration),
}

#[derive(Default)]
struct Inner {
    messages: Vec<Message>,
    faults: VecDeque<Fault>,
    unsubscribed: HashSet<String>,
    requests: usize,
}

struct Shared {
    credentials: Credentials,
    inner: Mutex<Inner>,
}

/// A running double; it stops when dropped.
pub struct TwilioDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TwilioDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TwilioDouble {
    /// Serves on a free loopback port.
    pub async fn start(credentials: Credentials) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            credentials,
            inner: Mutex::default(),
        });
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(create_message),
            )
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            // Ends only when the test drops the double.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The base URL to use in place of `https://api.twilio.com`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The texts taken so far, in order.
    pub fn messages(&self) -> Vec<Message> {
        lock(&self.shared.inner).messages.clone()
    }

    /// Requests received so far, taken or not.
    pub fn requests(&self) -> usize {
        lock(&self.shared.inner).requests
    }

    /// The next request meets `fault` (queued after earlier ones).
    pub fn fail_next(&self, fault: Fault) {
        lock(&self.shared.inner).faults.push_back(fault);
    }

    /// `number` (E.164) replied STOP: texts to it are refused with 21610.
    pub fn unsubscribe(&self, number: &str) {
        lock(&self.shared.inner)
            .unsubscribed
            .insert(number.to_owned());
    }
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Twilio's error body.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

fn authorized(headers: &HeaderMap, c: &Credentials) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    decoded == format!("{}:{}", c.username, c.password).as_bytes()
}

async fn create_message(
    State(shared): State<Arc<Shared>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let fault = {
        let mut inner = lock(&shared.inner);
        inner.requests += 1;
        inner.faults.pop_front()
    };
    if !authorized(&headers, &shared.credentials) {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    if account != shared.credentials.account_sid {
        return error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return error(StatusCode::BAD_REQUEST, 20001, "Expected a form body");
    }
    let field = |name: &str| {
        form_urlencoded_pairs(&body)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
    };
    let Some(to) = field("To") else {
        return error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    if !to.starts_with('+') || to.len() < 8 || !to[1..].bytes().all(|b| b.is_ascii_digit()) {
        return error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("Invalid 'To' Phone Number: {to}"),
        );
    }
    let Some(from) = field("From").or_else(|| field("MessagingServiceSid")) else {
        return error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
        );
    };
    let Some(text) = field("Body") else {
        return error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    };
    if text.chars().count() > 1600 {
        return error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    match fault {
        Some(Fault::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, 20500, "Internal Server Error");
        }
        Some(Fault::Stall(pause)) => tokio::time::sleep(pause).await,
        None => {}
    }
    let mut inner = lock(&shared.inner);
    if inner.unsubscribed.contains(&to) {
        return error(
            StatusCode::BAD_REQUEST,
            21610,
            "Attempt to send to unsubscribed recipient",
        );
    }
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    inner.messages.push(Message {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        body: text.clone(),
    });
    let body = json!({
        "sid": sid,
        "account_sid": account,
        "to": to,
        "from": from,
        "body": text,
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{account}/Messages/{sid}.json"),
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form_urlencoded_pairs(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
