//! The API driven by a hand-written runtime client, for what a well-behaved runtime never does.

use super::*;
use serde_json::json;

const ARN: &str = "arn:aws:lambda:eu-central-1:123456789012:function:f";

async fn api() -> (Arc<RuntimeApi>, String, reqwest::Client) {
    let api = RuntimeApi::start(ARN).await.unwrap();
    let base = format!("http://{}/2018-06-01/runtime", api.address());
    (Arc::new(api), base, reqwest::Client::new())
}

/// Invokes in the background, as API Gateway would while the runtime polls.
fn invoke(
    api: &Arc<RuntimeApi>,
    event: serde_json::Value,
    timeout: Duration,
) -> tokio::task::JoinHandle<Result<serde_json::Value, InvocationError>> {
    let api = api.clone();
    tokio::spawn(async move { api.invoke(&event, timeout).await })
}

/// Polls `/next` and returns the request id, after checking the context headers.
async fn next(http: &reqwest::Client, base: &str, event: &serde_json::Value) -> String {
    let r = http
        .get(format!("{base}/invocation/next"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let deadline: u128 = h["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        deadline > epoch_ms() && deadline <= epoch_ms() + 5_000,
        "{deadline}"
    );
    assert_eq!(h["lambda-runtime-invoked-function-arn"], ARN);
    assert!(
        h["lambda-runtime-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    let id = h["lambda-runtime-aws-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(&r.json::<serde_json::Value>().await.unwrap(), event);
    id
}

#[tokio::test]
async fn an_event_goes_out_on_a_poll_and_its_answer_comes_back() {
    let (api, base, http) = api().await;
    let event = json!({"n": 1});
    let call = invoke(&api, event.clone(), Duration::from_secs(5));
    let id = next(&http, &base, &event).await;
    api.ready(Duration::ZERO)
        .await
        .expect("the first poll ends init");
    let r = http
        .post(format!("{base}/invocation/{id}/response"))
        .body(r#"{"statusCode":200}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(call.await.unwrap().unwrap(), json!({"statusCode": 200}));
    // An answer is taken once.
    let again = http
        .post(format!("{base}/invocation/{id}/response"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn a_reported_failure_is_the_invocation_s_error() {
    let (api, base, http) = api().await;
    let call = invoke(&api, json!({}), Duration::from_secs(5));
    let id = next(&http, &base, &json!({})).await;
    http.post(format!("{base}/invocation/{id}/error"))
        .header("lambda-runtime-function-error-type", "unhandled")
        .body(r#"{"errorType":"&alloc::boxed::Box<str>","errorMessage":"it broke"}"#)
        .send()
        .await
        .unwrap();
    match call.await.unwrap() {
        Err(InvocationError::Function(e)) => assert_eq!(e.error_message, "it broke"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_init_error_fails_waiting_and_later_invocations() {
    let (api, base, http) = api().await;
    let waiting = invoke(&api, json!({}), Duration::from_secs(5));
    http.post(format!("{base}/init/error"))
        .body(r#"{"errorType":"Runtime.InitError","errorMessage":"TABLE_NAME is not set"}"#)
        .send()
        .await
        .unwrap();
    for e in [
        waiting.await.unwrap().unwrap_err(),
        api.ready(Duration::from_secs(1)).await.unwrap_err(),
        api.invoke(&json!({}), Duration::from_secs(1))
            .await
            .unwrap_err(),
    ] {
        assert!(e.to_string().contains("TABLE_NAME is not set"), "{e}");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_refused_when_it_comes() {
    let (api, base, http) = api().await;
    let call = invoke(&api, json!({}), Duration::from_millis(300));
    let id = next(&http, &base, &json!({})).await;
    assert!(matches!(
        call.await.unwrap(),
        Err(InvocationError::Timeout(_))
    ));
    let late = http
        .post(format!("{base}/invocation/{id}/response"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);
    assert!(api.ready(Duration::from_millis(50)).await.is_ok());
}

#[tokio::test]
async fn an_event_whose_caller_gave_up_is_never_handed_out() {
    let (api, base, http) = api().await;
    let gave_up = invoke(&api, json!({"n": 1}), Duration::from_millis(50));
    assert!(matches!(
        gave_up.await.unwrap(),
        Err(InvocationError::Timeout(_))
    ));
    let call = invoke(&api, json!({"n": 2}), Duration::from_secs(5));
    let id = next(&http, &base, &json!({"n": 2})).await;
    http.post(format!("{base}/invocation/{id}/response"))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(call.await.unwrap().unwrap(), json!([]));
}

#[tokio::test]
async fn an_answer_over_six_megabytes_or_not_json_is_refused() {
    let (api, base, http) = api().await;
    let call = invoke(&api, json!({}), Duration::from_secs(5));
    let id = next(&http, &base, &json!({})).await;
    let big = format!("\"{}\"", "a".repeat(MAX_RESPONSE_BYTES));
    let r = http
        .post(format!("{base}/invocation/{id}/response"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(matches!(
        call.await.unwrap(),
        Err(InvocationError::ResponseTooLarge { .. })
    ));

    let call = invoke(&api, json!({}), Duration::from_secs(5));
    let id = next(&http, &base, &json!({})).await;
    http.post(format!("{base}/invocation/{id}/response"))
        .body("<html>")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        call.await.unwrap(),
        Err(InvocationError::NotJson { .. })
    ));
}

#[tokio::test]
async fn a_runtime_that_never_polls_times_out_its_init() {
    let (api, _, _) = api().await;
    let e = api.ready(Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(e, InvocationError::InitTimeout(_)), "{e}");
}
