//! Call records: events merged from every writer, a call claimed by one stream, transcripts
//! that expire with their TTL, and tool calls recorded alone and read with the call.

use std::sync::Arc;

use jiff::Timestamp;
use salon_domain::call::{CallOutcome, CallSummary, TokenUsage, ToolCallRecord};
use salon_domain::{CallEvent, CallSid, CallStatus, demo};
use salon_store::Store;

use super::{demo_id, monday_morning, seeded, sid};

pub(crate) async fn call_records_merge_events_from_every_writer(store: Store) {
    let call = sid(7);
    let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
    let status = |status, sequence, s| CallEvent::Status {
        status,
        sequence,
        duration_seconds: (status == CallStatus::Completed).then_some(95),
        at: at(s),
    };
    store
        .record_call(&call, &status(CallStatus::Completed, 2, 95))
        .await
        .unwrap();
    store
        .record_call(&call, &status(CallStatus::InProgress, 1, 1))
        .await
        .unwrap();
    store
        .record_call(
            &call,
            &CallEvent::Started {
                business: demo_id(),
                from: "+40722123456".into(),
                to: demo::DEMO_NUMBER.into(),
                at: at(0),
            },
        )
        .await
        .unwrap();

    // Twenty tool calls recorded at once, as parallel tool calls would be: none is lost.
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let record = ToolCallRecord {
                    name: "check_appointment_availability".into(),
                    call_id: format!("call_{i}"),
                    error: None,
                    at: at(10 + i),
                    millis: 5,
                };
                store
                    .record_call(&call, &CallEvent::ToolCall(record))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let summary = CallSummary {
        outcome: CallOutcome::EndedByAgent,
        stream_seconds: 93,
        usage: TokenUsage {
            input_tokens: 1200,
            output_tokens: 800,
            ..TokenUsage::default()
        },
        barge_ins: 1,
        reconnects: 0,
        transcript: Vec::new(),
    };
    store
        .record_call(
            &call,
            &CallEvent::Summary {
                summary: summary.clone(),
                at: at(94),
            },
        )
        .await
        .unwrap();

    let r = store.call(&call).await.unwrap().unwrap();
    assert_eq!(r.status.unwrap().status, CallStatus::Completed);
    assert_eq!(r.duration_seconds, Some(95));
    assert_eq!(r.business, Some(demo_id()));
    assert_eq!((r.started, r.ended), (Some(at(0)), Some(at(94))));
    assert_eq!(r.tool_calls.len(), 20);
    assert_eq!(r.summary, Some(summary));
    assert!(store.call(&sid(8)).await.unwrap().is_none());
}

pub(crate) async fn a_call_is_claimed_by_one_stream(store: Store) {
    let started = CallEvent::Started {
        business: demo_id(),
        from: "+40722123456".into(),
        to: "+40312345678".into(),
        at: monday_morning(),
    };
    let record = store.claim_call(&sid(1), &started, "MZ1").await.unwrap();
    assert_eq!(record.stream_sid.as_deref(), Some("MZ1"));
    assert_eq!(record.to.as_deref(), Some("+40312345678"));
    // The relay retrying its request is the same claim, and the call is listed once.
    store.claim_call(&sid(1), &started, "MZ1").await.unwrap();
    let retried = CallEvent::Started {
        business: demo_id(),
        from: "+40722123456".into(),
        to: "+40312345678".into(),
        at: monday_morning() + jiff::SignedDuration::from_secs(5),
    };
    store.claim_call(&sid(1), &retried, "MZ1").await.unwrap();
    let since = monday_morning() - jiff::SignedDuration::from_hours(1);
    let listed = store.recent_calls(&demo_id(), since, 10).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(matches!(
        store.claim_call(&sid(1), &started, "MZ2").await,
        Err(salon_store::ClaimError::AlreadyStreaming(_))
    ));
    // Racing streams of another call: exactly one wins.
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (store, started) = (store.clone(), started.clone());
            tokio::spawn(async move {
                store
                    .claim_call(&sid(2), &started, &format!("MZ-race-{i}"))
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

pub(crate) async fn transcripts_expire_by_the_stores_clock_and_carry_their_ttl(store: Store) {
    let at = monday_morning();
    let clock = Arc::new(salon_domain::ManualClock::new(at));
    let store = store
        .with_clock(clock.clone())
        .with_transcript_retention_days(30);
    let call = sid(5);
    let summary = CallSummary {
        outcome: CallOutcome::EndedByAgent,
        stream_seconds: 42,
        usage: TokenUsage::default(),
        barge_ins: 0,
        reconnects: 0,
        transcript: vec![salon_domain::call::TranscriptLine {
            speaker: salon_domain::call::Speaker::Caller,
            text: "Sunt Ion Popescu".into(),
        }],
    };
    store
        .record_call(&call, &CallEvent::Summary { summary, at })
        .await
        .unwrap();
    // The transcript item carries its expiry (DynamoDB's TTL attribute) 30 days on.
    let item = store
        .table()
        .get(&format!("CALL#{call}"), "TRANSCRIPT")
        .await
        .unwrap()
        .expect("the transcript is stored apart");
    assert_eq!(item.expires_at, Some(at.as_second() + 30 * 86_400));
    let read = |store: Store| async move { store.call(&sid(5)).await.unwrap().unwrap() };
    assert_eq!(
        read(store.clone()).await.summary.unwrap().transcript.len(),
        1
    );

    // A second before and after: reads hide it by the clock, whether or not it is deleted yet.
    clock.advance(jiff::SignedDuration::from_secs(30 * 86_400 - 1));
    assert_eq!(
        read(store.clone()).await.summary.unwrap().transcript.len(),
        1
    );
    clock.advance(jiff::SignedDuration::from_secs(1));
    let record = read(store.clone()).await;
    let kept = record.summary.expect("the rest of the record stays");
    assert!(kept.transcript.is_empty());
    assert_eq!(kept.outcome, CallOutcome::EndedByAgent);
    store.purge_expired().await.unwrap();
    assert!(read(store).await.summary.unwrap().transcript.is_empty());
}

pub(crate) async fn tool_calls_are_recorded_alone_and_read_with_the_call(store: Store) {
    seeded(&store).await;
    let call = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
    let at = |s: i64| monday_morning() + jiff::SignedDuration::from_secs(s);
    store
        .record_call(
            &call,
            &CallEvent::Started {
                business: demo_id(),
                from: "+40722123456".into(),
                to: demo::DEMO_NUMBER.into(),
                at: at(0),
            },
        )
        .await
        .unwrap();
    // Twenty at once, as parallel tool calls are, each in one write: none lost, none retried.
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let record = ToolCallRecord {
                    name: "create_voice_appointment".into(),
                    call_id: format!("call_{i}"),
                    error: None,
                    at: at(100 - i),
                    millis: 5,
                };
                let booked = salon_domain::AppointmentId::parse(format!("appt{i}")).unwrap();
                store
                    .record_tool_call(&call, &record, (i % 2 == 0).then_some(&booked))
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // A retried call replaces its earlier outcome.
    let retried = ToolCallRecord {
        name: "create_voice_appointment".into(),
        call_id: "call_3".into(),
        error: Some("store_unavailable".into()),
        at: at(200),
        millis: 7,
    };
    store.record_tool_call(&call, &retried, None).await.unwrap();
    let record = store.call(&call).await.unwrap().unwrap();
    assert_eq!(record.business, Some(demo_id()));
    assert_eq!(record.tool_calls.len(), 20);
    let times: Vec<Timestamp> = record.tool_calls.iter().map(|c| c.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in the order they ran"
    );
    assert_eq!(
        record.tool_calls.iter().find(|c| c.call_id == "call_3"),
        Some(&retried)
    );
    assert_eq!(record.appointments.len(), 10);
}

/// A salon's recent calls, read many at once: newest first, at most the limit, none before
/// `since`, none of another salon.
pub(crate) async fn recent_calls_come_newest_first_up_to_the_limit(store: Store) {
    let at = |n: i64| monday_morning() + jiff::SignedDuration::from_mins(n);
    for n in 0..40u32 {
        let started = CallEvent::Started {
            business: demo_id(),
            from: "+40722123456".into(),
            to: "+40312345678".into(),
            at: at(i64::from(n)),
        };
        store
            .claim_call(&sid(100 + n), &started, &format!("MZ{n}"))
            .await
            .unwrap();
    }
    let other = CallEvent::Started {
        business: salon_domain::BusinessId::parse("alt-salon").unwrap(),
        from: "+40722123456".into(),
        to: "+40312345000".into(),
        at: at(50),
    };
    store.claim_call(&sid(999), &other, "MZx").await.unwrap();
    let listed = store.recent_calls(&demo_id(), at(2), 35).await.unwrap();
    let sids: Vec<_> = listed.iter().map(|c| c.call_sid.clone()).collect();
    let expected: Vec<_> = (3..40u32).rev().take(35).map(|n| sid(100 + n)).collect();
    assert_eq!(sids, expected);
}
