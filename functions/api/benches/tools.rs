//! What each tool costs the functions in-process: the signed request through the one `Router`
//! (authentication, decoding, the booking core, the reply), over a store held in memory, so
//! the figure is the CPU a warm Lambda spends per tool and not the store's round trips (those
//! are counted per tool in BENCHMARKS.md) or a disk's `fsync`.
//!
//! Run with `cargo bench -p salon-functions --bench tools` (add `-- --quick` for a short run).
//!
//! The salon is the demo salon; "now" is Monday 14 December 2026, 08:00 in Bucharest; the
//! caller is a known client with one appointment on Tuesday.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use salon_domain::{Clock, ManualClock, PhoneE164, demo};
use salon_functions::config::{RelayApiSettings, Secret};
use salon_functions::{AppState, router};
use salon_store::{EmbeddedTable, Store, seed};
use salon_wire::{auth, paths};
use serde_json::{Value, json};
use tower::ServiceExt;

const RELAY_SECRET: &str = "relay-secret-0123456789abcdef0123";
const CALLER: &str = "+40722123456";

/// The functions over a fresh in-memory store with the demo salon, and their clock.
fn app(rt: &tokio::runtime::Runtime) -> (Router, Arc<ManualClock>) {
    let now: Timestamp = "2026-12-14T08:00:00+02:00"
        .parse()
        .expect("a valid instant");
    let clock = Arc::new(ManualClock::new(now));
    let table = EmbeddedTable::in_memory().expect("an in-memory store opens");
    let store = Store::new(Arc::new(table)).with_clock(clock.clone());
    rt.block_on(seed::demo_salon(
        &store,
        PhoneE164::parse(demo::DEMO_NUMBER).expect("the demo number is valid"),
    ))
    .expect("the demo salon is seeded");
    let relay = RelayApiSettings {
        relay_secret: Secret::new(RELAY_SECRET),
        transcription_model: "gpt-4o-transcribe".into(),
    };
    let state = AppState::new(store, None, Some(relay)).with_clock(clock.clone());
    (router(state), clock)
}

/// A tool call as the relay signs it, for call `call`.
fn request(
    clock: &ManualClock,
    call: &str,
    tool: &str,
    call_id: &str,
    args: Value,
) -> Request<Body> {
    let path = paths::tool(call, tool);
    let body = serde_json::to_vec(&json!({
        "call_id": call_id,
        "arguments": args.to_string(),
        "business": demo::BUSINESS_ID,
        "caller": CALLER,
    }))
    .expect("JSON serialises");
    let ts = clock.now().as_second();
    let signature = auth::sign(
        RELAY_SECRET.as_bytes(),
        ts,
        &auth::Request {
            method: "POST",
            path: &path,
            body: &body,
        },
    );
    Request::post(path)
        .header(auth::HEADER_TIMESTAMP, ts.to_string())
        .header(auth::HEADER_SIGNATURE, signature)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid request")
}

/// Sends one tool call and returns its reply, which must be a success.
async fn call(app: &Router, request: Request<Body>) -> Value {
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    let reply: Value = serde_json::from_slice(&body).expect("a JSON reply");
    assert_eq!(reply["ok"], true, "{reply}");
    reply
}

/// A call SID no other iteration uses: each booking is its own call's.
fn call_sid(n: u64) -> String {
    format!("CA{n:032x}")
}

fn tools(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (app, clock) = app(&rt);
    let first = call_sid(0);
    // The caller's existing appointment, so the lookups find something.
    rt.block_on(call(
        &app,
        request(
            &clock,
            &first,
            "create_voice_appointment",
            "setup",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"}),
        ),
    ));
    let reads: [(&str, Value); 4] = [
        ("get_available_services", json!({})),
        (
            "check_appointment_availability",
            json!({"service": "tuns", "date": "2026-12-15"}),
        ),
        ("find_existing_client", json!({})),
        ("list_client_appointments", json!({})),
    ];
    let mut group = c.benchmark_group("tool");
    for (tool, args) in reads {
        group.bench_function(tool, |b| {
            b.iter(|| {
                rt.block_on(call(
                    &app,
                    request(&clock, &first, tool, "c1", black_box(args.clone())),
                ))
            })
        });
    }
    // A booking and its cancellation, each in a call of its own, so the book is the same
    // before every iteration.
    let calls = AtomicU64::new(1);
    group.bench_function("create_voice_appointment + cancel_appointment", |b| {
        b.iter(|| {
            let sid = call_sid(calls.fetch_add(1, Ordering::Relaxed));
            rt.block_on(async {
                let booked = call(
                    &app,
                    request(
                        &clock,
                        &sid,
                        "create_voice_appointment",
                        "b1",
                        json!({"service": "tuns", "date": "2026-12-16", "time": "11:00", "client_name": "Ion Popescu"}),
                    ),
                )
                .await;
                let id = booked["result"]["id_programare"].clone();
                call(
                    &app,
                    request(&clock, &sid, "cancel_appointment", "b2", json!({"appointment_id": id})),
                )
                .await
            })
        })
    });
    group.finish();
}

criterion_group!(benches, tools);
criterion_main!(benches);
