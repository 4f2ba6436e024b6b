//! Texts owed to clients: one per appointment event, handed over at most once.

use jiff::SignedDuration;
use salon_domain::sms::{NoticeKind, SmsState};
use salon_domain::{AppointmentId, demo};
use salon_store::{SENDING_LEASE, SMS_ATTEMPTS, SmsOutcome, Store, Stylist};

use super::{demo_id, dt, monday_morning, phone, request, seeded};

/// The demo salon, sending texts.
async fn texting(store: &Store) {
    seeded(store).await;
    let mut b = demo::business(phone(demo::DEMO_NUMBER));
    b.sms_confirmations = true;
    store.put_business(&b).await.unwrap();
}

async fn kinds_waiting(store: &Store) -> Vec<(NoticeKind, AppointmentId)> {
    store
        .waiting_sms()
        .await
        .unwrap()
        .iter()
        .map(|w| {
            let n = w.notice();
            (n.kind(), n.about_appointment().unwrap().id.clone())
        })
        .collect()
}

/// Claims and settles every waiting text as sent, as a sender would; returns how many.
async fn send_all(store: &Store, now: jiff::Timestamp) -> usize {
    let mut sent = 0;
    for w in store.waiting_sms().await.unwrap() {
        if let Some(c) = store.claim_sms(&w, now).await.unwrap() {
            let sid = format!("SM{sent}");
            store
                .settle_sms(c, SmsOutcome::Sent { sid }, now)
                .await
                .unwrap();
            sent += 1;
        }
    }
    sent
}

pub(crate) async fn each_change_owes_one_text_and_a_replay_none(store: Store) {
    texting(&store).await;
    let now = monday_morning();
    let booked = store
        .book(&request("0722123456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap()
        .appointment;
    // The same request again, and the same booking under a new key: no second text.
    store
        .book(&request("0722123456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap();
    store
        .book(&request("0722123456", "2026-12-15T10:00", "k2"), now)
        .await
        .unwrap();
    assert_eq!(
        kinds_waiting(&store).await,
        [(NoticeKind::Booked, booked.id.clone())]
    );
    let waiting = &store.waiting_sms().await.unwrap()[0];
    assert_eq!(
        waiting.notice().about_appointment(),
        Some(&booked),
        "what it tells"
    );

    let moved = store
        .reschedule(
            &demo_id(),
            &booked.id,
            None,
            dt("2026-12-16T11:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    store
        .cancel(&demo_id(), &booked.id, None, now)
        .await
        .unwrap();
    // Cancelling twice changes nothing, and owes nothing more.
    store
        .cancel(&demo_id(), &booked.id, None, now)
        .await
        .unwrap();
    let mut kinds: Vec<NoticeKind> = kinds_waiting(&store).await.iter().map(|k| k.0).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(
        kinds,
        [NoticeKind::Booked, NoticeKind::Cancelled, NoticeKind::Moved]
    );
    assert_eq!(send_all(&store, now).await, 3);
    assert!(store.waiting_sms().await.unwrap().is_empty());
    let records = store.sms_of(&demo_id(), &booked.id).await.unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| matches!(r.state, SmsState::Sent { .. }))
    );
    let told_moved = records
        .iter()
        .find(|r| r.notice.kind() == NoticeKind::Moved)
        .unwrap();
    assert_eq!(
        told_moved.notice.about_appointment().unwrap().start,
        moved.start
    );

    // A salon that does not send texts owes none.
    seeded(&store).await;
    store
        .book(&request("0733000000", "2026-12-17T10:00", "k3"), now)
        .await
        .unwrap();
    assert!(store.waiting_sms().await.unwrap().is_empty());
}

pub(crate) async fn a_text_is_handed_over_at_most_once(store: Store) {
    texting(&store).await;
    let now = monday_morning();
    let booked = store
        .book(&request("0722123456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap()
        .appointment;
    let waiting = store.waiting_sms().await.unwrap().remove(0);
    // Two senders at once: one claim wins.
    let (a, b) = tokio::join!(
        store.claim_sms(&waiting, now),
        store.claim_sms(&waiting, now)
    );
    let claims: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(claims.len(), 1, "claimed once");
    assert!(store.claim_sms(&waiting, now).await.unwrap().is_none());

    // Refused for now: tried again later, then given up after the attempts.
    let mut claim = claims.into_iter().next().unwrap();
    let mut at = now;
    for attempt in 1..=SMS_ATTEMPTS {
        let retry = SmsOutcome::Retry {
            reason: "503".into(),
            after: SignedDuration::from_mins(1),
        };
        let record = store.settle_sms(claim, retry, at).await.unwrap();
        if attempt == SMS_ATTEMPTS {
            assert!(
                matches!(record.state, SmsState::Failed { code: None, .. }),
                "{record:?}"
            );
            break;
        }
        assert!(
            store.claim_sms(&waiting, at).await.unwrap().is_none(),
            "not due yet"
        );
        at += SignedDuration::from_mins(2);
        claim = store.claim_sms(&waiting, at).await.unwrap().expect("due");
    }
    assert!(store.waiting_sms().await.unwrap().is_empty(), "given up");
    let records = store.sms_of(&demo_id(), &booked.id).await.unwrap();
    assert_eq!(records[0].attempts, SMS_ATTEMPTS);

    // A sender that stopped mid-send: the text may have gone, and is never sent again.
    let other = store
        .book(&request("0744000000", "2026-12-15T11:00", "k2"), now)
        .await
        .unwrap()
        .appointment;
    let waiting = store.waiting_sms().await.unwrap().remove(0);
    store
        .claim_sms(&waiting, now)
        .await
        .unwrap()
        .expect("claimed");
    let later = now + SENDING_LEASE + SignedDuration::from_secs(1);
    assert!(store.claim_sms(&waiting, later).await.unwrap().is_none());
    assert!(store.waiting_sms().await.unwrap().is_empty());
    let records = store.sms_of(&demo_id(), &other.id).await.unwrap();
    assert!(
        matches!(records[0].state, SmsState::Unknown { .. }),
        "{records:?}"
    );

    // Refused for good (a number that replied STOP): recorded, not tried again.
    let third = store
        .book(&request("0755000000", "2026-12-15T12:00", "k3"), now)
        .await
        .unwrap()
        .appointment;
    let waiting = store.waiting_sms().await.unwrap().remove(0);
    let claim = store.claim_sms(&waiting, now).await.unwrap().unwrap();
    let refused = SmsOutcome::Refused {
        code: Some(21610),
        reason: "unsubscribed".into(),
    };
    store.settle_sms(claim, refused, now).await.unwrap();
    assert!(store.waiting_sms().await.unwrap().is_empty());
    let records = store.sms_of(&demo_id(), &third.id).await.unwrap();
    assert!(matches!(
        records[0].state,
        SmsState::Failed {
            code: Some(21610),
            ..
        }
    ));
}

pub(crate) async fn a_reminder_is_queued_once_and_never_for_a_cancelled_appointment(store: Store) {
    texting(&store).await;
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    assert!(store.business_ids().await.unwrap().contains(&demo_id()));
    let now = monday_morning();
    let book = |client: &str, start: &str, key: &str, at| {
        let store = &store;
        let r = request(client, start, key);
        async move { store.book(&r, at).await.unwrap().appointment }
    };
    let kept = book("0722000001", "2026-12-15T10:00", "k1", now).await;
    let cancelled = book("0722000002", "2026-12-15T11:00", "k2", now).await;
    let wednesday = book("0722000003", "2026-12-16T10:00", "k3", now).await;
    store
        .cancel(&demo_id(), &cancelled.id, None, now)
        .await
        .unwrap();
    let evening = now + SignedDuration::from_hours(10);
    // Booked an hour ago: its confirmation is fresh, no reminder.
    let fresh = book(
        "0722000004",
        "2026-12-15T12:00",
        "k4",
        evening - SignedDuration::from_hours(1),
    )
    .await;
    send_all(&store, evening).await;

    let tuesday: jiff::civil::Date = "2026-12-15".parse().unwrap();
    assert_eq!(
        store.queue_reminders(&b, tuesday, evening).await.unwrap(),
        1
    );
    assert_eq!(
        kinds_waiting(&store).await,
        [(NoticeKind::Reminder, kept.id.clone())]
    );
    // Every later run, before and after it is sent: nothing more.
    assert_eq!(
        store.queue_reminders(&b, tuesday, evening).await.unwrap(),
        0
    );
    assert_eq!(send_all(&store, evening).await, 1);
    let later = evening + SignedDuration::from_hours(1);
    assert_eq!(store.queue_reminders(&b, tuesday, later).await.unwrap(), 0);
    for (id, reminded) in [
        (&kept.id, true),
        (&cancelled.id, false),
        (&wednesday.id, false),
        (&fresh.id, false),
    ] {
        let reminders = store
            .sms_of(&demo_id(), id)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.notice.kind() == NoticeKind::Reminder)
            .count();
        assert_eq!(reminders, usize::from(reminded), "{id}");
    }
}
