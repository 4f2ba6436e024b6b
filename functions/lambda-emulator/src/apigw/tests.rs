use super::*;

#[test]
fn a_form_post_is_an_event_as_api_gateway_sends_it() {
    let event = HttpApiRequest::new("post", "/calls/CA1/tools/x?a=1&a=2&b=%C8%99")
        .route("POST /calls/{callSid}/tools/{name}")
        .unwrap()
        .header("X-Twilio-Signature", "sig")
        .header("Cookie", "a=1; b=2")
        .form(&[("From", "+40722123456"), ("Body", "ș")])
        .to_event();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /calls/{callSid}/tools/{name}");
    assert_eq!(event["rawPath"], "/calls/CA1/tools/x");
    assert_eq!(event["rawQueryString"], "a=1&a=2&b=%C8%99");
    assert_eq!(
        event["queryStringParameters"],
        json!({"a": "1,2", "b": "ș"})
    );
    assert_eq!(
        event["pathParameters"],
        json!({"callSid": "CA1", "name": "x"})
    );
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    let headers = &event["headers"];
    assert_eq!(headers["x-twilio-signature"], "sig", "names are lower-case");
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(headers["x-forwarded-proto"], "https");
    assert!(headers.get("cookie").is_none());
    let ctx = &event["requestContext"];
    assert_eq!(ctx["stage"], "$default");
    assert_eq!(ctx["http"]["method"], "POST");
    assert_eq!(ctx["http"]["path"], "/calls/CA1/tools/x");
    assert_eq!(ctx["http"]["sourceIp"], "203.0.113.7");
    assert_eq!(headers["host"], ctx["domainName"]);
    // A form is not one of the types API Gateway passes as text.
    assert_eq!(event["isBase64Encoded"], true);
    let body = STANDARD.decode(event["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, b"From=%2B40722123456&Body=%C8%99");
    assert_eq!(headers["content-length"], body.len().to_string());
}

#[test]
fn json_passes_as_text_and_a_bodiless_request_has_no_body() {
    let event = HttpApiRequest::new("POST", "/x")
        .json(&json!({"a": 1}))
        .to_event();
    assert_eq!(
        (event["isBase64Encoded"].as_bool(), event["body"].as_str()),
        (Some(false), Some(r#"{"a":1}"#))
    );
    let event = HttpApiRequest::new("GET", "/x").to_event();
    assert!(event.get("body").is_none() && event.get("queryStringParameters").is_none());
    assert!(event.get("pathParameters").is_none() && event.get("cookies").is_none());
}

#[test]
fn a_route_must_match_the_method_and_the_path() {
    let req = || HttpApiRequest::new("POST", "/a/b");
    assert!(req().route("POST /a/b").is_ok());
    assert!(req().route("GET /a/b").is_err());
    assert!(req().route("POST /a/{x}/c").is_err());
    assert!(req().route("POST /a").is_err());
    assert!(req().route("/a/b").is_err());
    assert!(req().route("ANY /a/b").is_ok());
    // A greedy last segment takes the rest of the path, one segment or more.
    let r = req().route("ANY /a/{proxy+}").unwrap();
    assert_eq!(r.path_parameters, [("proxy".to_owned(), "b".to_owned())]);
    assert!(req().route("POST /a/b/{proxy+}").is_err());
    assert!(req().route("POST /{proxy+}").is_ok());
}

#[test]
fn a_response_is_read_as_api_gateway_reads_it() {
    let r = HttpApiResponse::parse(&json!({
        "statusCode": 200,
        "headers": {"Content-Type": "text/xml"},
        "multiValueHeaders": {},
        "body": STANDARD.encode("<Response/>"),
        "isBase64Encoded": true,
        "cookies": ["a=1"],
    }))
    .unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "<Response/>"));
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert_eq!(r.cookies, ["a=1"]);
    let empty =
        HttpApiResponse::parse(&json!({"statusCode": 204, "isBase64Encoded": false})).unwrap();
    assert!(empty.body.is_empty() && empty.headers.is_empty());
}

#[test]
fn a_response_api_gateway_would_misread_is_refused() {
    let refused = |v: Value| HttpApiResponse::parse(&v).unwrap_err().to_string();
    assert!(refused(json!({"ok": true})).contains("no statusCode"));
    assert!(refused(json!("text")).contains("no statusCode"));
    assert!(refused(json!({"statusCode": "200"})).contains("statusCode"));
    assert!(refused(json!({"statusCode": 700})).contains("statusCode"));
    assert!(refused(json!({"statusCode": 200, "headers": {"a": 1}})).contains("headers"));
    assert!(refused(json!({"statusCode": 200, "body": {"a": 1}})).contains("body"));
    assert!(
        refused(json!({"statusCode": 200, "body": "%%", "isBase64Encoded": true}))
            .contains("base64")
    );
}
