//! API Gateway HTTP API requests as the events (payload format 2.0) it sends a Lambda
//! integration, and the responses it reads back, as AWS documents both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use salon_wire::clock::{Clock, SystemClock};
use serde_json::{Map, Value, json};

use crate::error::InvocationError;

/// The API's id in the events' domain name and request context.
const API_ID: &str = "emu0api1d2";

/// An HTTP request as API Gateway hands it to a function on the `$default` stage.
#[derive(Debug, Clone)]
pub struct HttpApiRequest {
    method: String,
    path: String,
    query: String,
    route_key: String,
    path_parameters: Vec<(String, String)>,
    /// Lower-case names, as API Gateway passes them.
    headers: Vec<(String, String)>,
    cookies: Vec<String>,
    body: Option<Vec<u8>>,
    source_ip: String,
    domain_name: String,
}

/// A route key that does not match the request's method and path.
#[derive(Debug, thiserror::Error)]
#[error("the route {route_key:?} does not match {method} {path}")]
pub struct RouteMismatch {
    pub route_key: String,
    pub method: String,
    pub path: String,
}

impl HttpApiRequest {
    /// The route that matched, as API Gateway names it (`POST /api/twilio/voice`).
    pub fn route_key(&self) -> &str {
        &self.route_key
    }

    /// A request to `path` (which may carry a `?query`), routed by the `$default` route.
    pub fn new(method: &str, path: &str) -> Self {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            route_key: "$default".into(),
            path_parameters: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            body: None,
            source_ip: "203.0.113.7".into(),
            domain_name: format!("{API_ID}.execute-api.eu-central-1.amazonaws.com"),
        }
    }

    /// Routes the request by an explicit route such as `POST /calls/{callSid}/session`,
    /// which fills `pathParameters` as API Gateway does: `ANY` matches every method, and a
    /// last segment `{name+}` (greedy) matches the rest of the path, one segment or more.
    pub fn route(mut self, route_key: &str) -> Result<Self, RouteMismatch> {
        let mismatch = || RouteMismatch {
            route_key: route_key.to_owned(),
            method: self.method.clone(),
            path: self.path.clone(),
        };
        let (method, pattern) = route_key.split_once(' ').ok_or_else(mismatch)?;
        let (want, got): (Vec<_>, Vec<_>) =
            (pattern.split('/').collect(), self.path.split('/').collect());
        if method != "ANY" && method != self.method {
            return Err(mismatch());
        }
        let greedy = want
            .last()
            .and_then(|w| w.strip_prefix('{'))
            .and_then(|w| w.strip_suffix("+}"));
        let fixed = want.len() - usize::from(greedy.is_some());
        let fits = match greedy {
            Some(_) => got.len() > fixed,
            None => got.len() == want.len(),
        };
        if !fits {
            return Err(mismatch());
        }
        let mut params = Vec::new();
        for (w, g) in want[..fixed].iter().zip(&got) {
            match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !g.is_empty() => params.push((name.to_owned(), (*g).to_owned())),
                None if w == g => {}
                _ => return Err(mismatch()),
            }
        }
        if let Some(name) = greedy {
            let rest = got[fixed..].join("/");
            if rest.is_empty() {
                return Err(mismatch());
            }
            params.push((name.to_owned(), rest));
        }
        self.route_key = route_key.to_owned();
        self.path_parameters = params;
        Ok(self)
    }

    /// Adds a header; cookies go to the event's `cookies`, as API Gateway puts them.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            self.cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
        } else {
            self.headers.push((name, value.to_owned()));
        }
        self
    }

    /// Sets a body of the given content type.
    pub fn body(self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut req = self.header("content-type", content_type);
        req.body = Some(body.into());
        req
    }

    /// Sets a form body, as Twilio posts its webhooks.
    pub fn form(self, params: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.body("application/x-www-form-urlencoded", body)
    }

    /// Sets a JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.body("application/json", body.to_string())
    }

    /// Returns the event API Gateway sends the function.
    pub fn to_event(&self) -> Value {
        // API Gateway's own stamp of when it received the request (the real time, as AWS's
        // is); the functions read their "now" from their own injected clock, never from it.
        let now = SystemClock.now();
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let user_agent = self.header_value("user-agent").unwrap_or_default();
        let mut headers = Map::new();
        let mut add = |name: &str, value: &str| {
            // Format 2.0 joins repeated headers with commas.
            match headers.get_mut(name) {
                Some(Value::String(v)) => *v = format!("{v},{value}"),
                _ => {
                    headers.insert(name.to_owned(), value.into());
                }
            }
        };
        for (name, value) in &self.headers {
            add(name, value);
        }
        // What API Gateway adds to every request it forwards.
        let length = self.body.as_ref().map_or(0, Vec::len).to_string();
        add("content-length", &length);
        add("host", &self.domain_name);
        add(
            "x-amzn-trace-id",
            &format!("Root=1-{:08x}-{}", now.as_second(), &request_id[..24]),
        );
        add("x-forwarded-for", &self.source_ip);
        add("x-forwarded-port", "443");
        add("x-forwarded-proto", "https");

        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": API_ID,
                "domainName": self.domain_name,
                "domainPrefix": API_ID,
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": user_agent,
                },
                "requestId": &request_id[..16],
                "routeKey": self.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "timeEpoch": now.as_millisecond(),
            },
            "isBase64Encoded": false,
        });
        let fields = event.as_object_mut().expect("an object");
        if !self.cookies.is_empty() {
            fields.insert("cookies".into(), json!(self.cookies));
        }
        if !self.query.is_empty() {
            fields.insert("queryStringParameters".into(), self.query_parameters());
        }
        if !self.path_parameters.is_empty() {
            let params: Map<String, Value> = self
                .path_parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().into()))
                .collect();
            fields.insert("pathParameters".into(), params.into());
        }
        if let Some(body) = &self.body {
            let (encoded, body) = match std::str::from_utf8(body) {
                Ok(text) if is_text(self.header_value("content-type")) => (false, text.to_owned()),
                _ => (true, STANDARD.encode(body)),
            };
            fields.insert("body".into(), body.into());
            fields.insert("isBase64Encoded".into(), encoded.into());
        }
        event
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Format 2.0's `queryStringParameters`: decoded, repeated names joined with commas.
    fn query_parameters(&self) -> Value {
        let mut params = Map::new();
        for (k, v) in form_urlencoded::parse(self.query.as_bytes()) {
            match params.get_mut(k.as_ref()) {
                Some(Value::String(old)) => *old = format!("{old},{v}"),
                _ => {
                    params.insert(k.into_owned(), v.into_owned().into());
                }
            }
        }
        params.into()
    }
}

/// Whether API Gateway passes a body of this type as text. AWS documents only that binary
/// bodies are base64-encoded; checked against real HTTP APIs, text means `text/*`, JSON, XML
/// and JavaScript, and everything else (a form, or no content type) is encoded.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || [
            "application/json",
            "application/xml",
            "application/javascript",
        ]
        .contains(&essence.as_str())
}

/// A function's response as API Gateway reads it (payload format 2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// Each becomes a `set-cookie` header.
    pub cookies: Vec<String>,
    /// Decoded when the function sent it base64-encoded.
    pub body: Vec<u8>,
}

/// A response API Gateway would not read as the function meant it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Without a `statusCode`, API Gateway guesses: a 200 with the whole answer as its JSON
    /// body, which is never what an HTTP function meant.
    #[error(
        "the response has no statusCode, so API Gateway would answer 200 with it as the body: {0}"
    )]
    NoStatusCode(Value),
    #[error("the response's {field} is malformed: {value}")]
    Malformed { field: &'static str, value: Value },
    #[error("the response's body is not valid base64")]
    Base64(#[source] base64::DecodeError),
}

impl HttpApiResponse {
    /// Reads a function's answer, refusing what API Gateway would misread.
    pub fn parse(answer: &Value) -> Result<Self, ResponseError> {
        let malformed = |field, value: &Value| ResponseError::Malformed {
            field,
            value: value.clone(),
        };
        let Some(fields) = answer.as_object().filter(|o| o.contains_key("statusCode")) else {
            return Err(ResponseError::NoStatusCode(answer.clone()));
        };
        let code = &fields["statusCode"];
        let status = code
            .as_u64()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| malformed("statusCode", code))? as u16;
        let mut headers = Vec::new();
        match fields.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (name, value) in h {
                    let v = value.as_str().ok_or_else(|| malformed("headers", value))?;
                    headers.push((name.to_ascii_lowercase(), v.to_owned()));
                }
            }
            Some(other) => return Err(malformed("headers", other)),
        }
        let cookies = match fields.get("cookies") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(c)) => c
                .iter()
                .map(|c| {
                    c.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| malformed("cookies", c))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(malformed("cookies", other)),
        };
        let encoded = match fields.get("isBase64Encoded") {
            None | Some(Value::Null) => false,
            Some(v) => v.as_bool().ok_or_else(|| malformed("isBase64Encoded", v))?,
        };
        let body = match fields.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(b)) if encoded => {
                STANDARD.decode(b).map_err(ResponseError::Base64)?
            }
            Some(Value::String(b)) => b.clone().into_bytes(),
            Some(other) => return Err(malformed("body", other)),
        };
        Ok(Self {
            status,
            headers,
            cookies,
            body,
        })
    }

    /// Returns a header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Returns the body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Returns the body as JSON.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Why a request through a function gave no HTTP response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    #[error(transparent)]
    Response(#[from] ResponseError),
}

#[cfg(test)]
mod tests;
