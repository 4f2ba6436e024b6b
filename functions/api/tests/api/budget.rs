//! How many DynamoDB requests each webhook and tool costs, counted on the wire by the
//! DynamoDB-compatible server (moto) while a caller books, looks up, moves and cancels.
//!
//! Every request is a network round trip from Lambda, so a tool's latency is mostly its
//! request count. The budgets are one table: work that needs more (an SMS outbox item, a hold)
//! amends its line and says why.

use std::sync::Arc;

use salon_store::testing::{BreakableTable, MotoServer, RequestCounts};
use salon_wire::{paths, tools::*};
use serde_json::{Value, json};

use crate::helpers::{CALL, CALLER, TestApp, call_params, session_body, spawn_app_on};

/// What one step may cost: requests in all, and transactions among them.
struct Budget {
    step: &'static str,
    requests: u64,
    transactions: u64,
}

/// The budget of each step of the call below, in its order (one table: a change that needs
/// more amends its line and says why).
#[rustfmt::skip]
const BUDGETS: &[Budget] = &[
    Budget { step: "voice webhook", requests: 2, transactions: 0 },
    // The call's claim also lists it under its salon for the owner (issue 15): one write of
    // two items, so a transaction instead of a PutItem, no request more.
    Budget { step: "session", requests: 3, transactions: 1 },
    Budget { step: GET_AVAILABLE_SERVICES, requests: 1, transactions: 0 },
    Budget { step: CHECK_APPOINTMENT_AVAILABILITY, requests: 2, transactions: 0 },
    Budget { step: FIND_EXISTING_CLIENT, requests: 2, transactions: 0 },
    // With the client's name given, as the prompt asks; a returning client booked without
    // one costs one read more, for the name.
    // For anyone, the person's last stylist goes first (issue 16): their history is read
    // beside the day's book, at the same time, so one request more and no time more.
    Budget { step: CREATE_VOICE_APPOINTMENT, requests: 3, transactions: 1 },
    Budget { step: LIST_CLIENT_APPOINTMENTS, requests: 2, transactions: 0 },
    // To a time its stylist works: one who is busy then costs a query more, for the others.
    Budget { step: RESCHEDULE_APPOINTMENT, requests: 2, transactions: 1 },
    Budget { step: CANCEL_APPOINTMENT, requests: 2, transactions: 1 },
];

fn budget(step: &str) -> &'static Budget {
    BUDGETS
        .iter()
        .find(|b| b.step == step)
        .unwrap_or_else(|| panic!("no budget for {step}"))
}

/// Runs one step and returns what it cost.
async fn counted<F: std::future::Future<Output = Value>>(
    moto: &MotoServer,
    step: F,
) -> (Value, RequestCounts) {
    moto.take_request_counts();
    let answer = step.await;
    (answer, moto.take_request_counts())
}

async fn tool(app: &TestApp, name: &str, id: &str, args: Value) -> Value {
    // A second between steps, as a conversation has: the record orders calls by when they ran.
    app.clock.advance(jiff::SignedDuration::from_secs(1));
    let answer = app.tool_as(CALLER, name, id, args).await;
    assert_eq!(answer["ok"], true, "{name}: {answer}");
    answer
}

#[tokio::test]
async fn every_step_of_a_call_stays_within_its_request_budget() {
    // A server of its own: the counts are this test's requests alone.
    let moto = MotoServer::start();
    let table = BreakableTable::new(Arc::new(moto.fresh_table().await));
    let app = spawn_app_on(table, None).await;
    let mut costs: Vec<(&str, RequestCounts)> = Vec::new();

    let (_, cost) = counted(&moto, async {
        let r = app
            .twilio(
                "/api/twilio/voice",
                &call_params(salon_domain::demo::DEMO_NUMBER),
            )
            .await;
        assert_eq!(r.status(), 200);
        let twiml = r.text().await.unwrap();
        assert!(twiml.contains("<Connect"), "{twiml}");
        Value::Null
    })
    .await;
    costs.push(("voice webhook", cost));

    let (_, cost) = counted(&moto, async {
        let r = app
            .relay(&paths::session(CALL), &session_body(CALLER))
            .await;
        assert_eq!(r.status(), 200);
        Value::Null
    })
    .await;
    costs.push(("session", cost));

    let steps: [(&str, Value); 3] = [
        (GET_AVAILABLE_SERVICES, json!({})),
        (
            CHECK_APPOINTMENT_AVAILABILITY,
            json!({"service": "tuns", "date": "2026-12-15"}),
        ),
        (FIND_EXISTING_CLIENT, json!({})),
    ];
    for (i, (name, args)) in steps.into_iter().enumerate() {
        let (_, cost) = counted(&moto, tool(&app, name, &format!("c{i}"), args)).await;
        costs.push((name, cost));
    }
    let (booked, cost) = counted(
        &moto,
        tool(
            &app,
            CREATE_VOICE_APPOINTMENT,
            "c10",
            json!({"service": "tuns", "date": "2026-12-15", "time": "10:00", "client_name": "Ion Popescu"}),
        ),
    )
    .await;
    costs.push((CREATE_VOICE_APPOINTMENT, cost));
    let id = booked["result"]["id_programare"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cost) = counted(
        &moto,
        tool(&app, LIST_CLIENT_APPOINTMENTS, "c11", json!({})),
    )
    .await;
    costs.push((LIST_CLIENT_APPOINTMENTS, cost));
    let (_, cost) = counted(
        &moto,
        tool(
            &app,
            RESCHEDULE_APPOINTMENT,
            "c12",
            json!({"appointment_id": id, "date": "2026-12-16", "time": "11:00"}),
        ),
    )
    .await;
    costs.push((RESCHEDULE_APPOINTMENT, cost));
    let (_, cost) = counted(
        &moto,
        tool(
            &app,
            CANCEL_APPOINTMENT,
            "c13",
            json!({"appointment_id": id}),
        ),
    )
    .await;
    costs.push((CANCEL_APPOINTMENT, cost));

    // The table BENCHMARKS.md quotes, printed for `--nocapture`.
    for (step, cost) in &costs {
        println!("{step:32} {cost}");
    }
    let over: Vec<String> = costs
        .iter()
        .filter_map(|(step, cost)| {
            let b = budget(step);
            let tx = cost.of("TransactWriteItems");
            (cost.total() > b.requests || tx > b.transactions).then(|| {
                format!(
                    "{step}: {cost}; budget {} requests, {} transactions",
                    b.requests, b.transactions
                )
            })
        })
        .collect();
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));

    // Cheaper, and nothing lost: every tool call is on the call's record, the booking's (made
    // in the booking's own transaction) with what it booked.
    let record = app.call_record().await;
    let recorded: Vec<&str> = record.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        recorded,
        costs[2..].iter().map(|(step, _)| *step).collect::<Vec<_>>(),
        "in the order they ran"
    );
    assert!(record.tool_calls.iter().all(|c| c.error.is_none()));
    assert_eq!(
        record.appointments.len(),
        1,
        "booked and moved: one appointment"
    );
    assert_eq!(record.appointments[0].as_str(), id);
}
