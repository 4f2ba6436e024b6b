//! Messages for the salon: kept once, listed newest first, marked read, gone when expired.

use std::sync::Arc;

use jiff::SignedDuration;
use salon_domain::ManualClock;
use salon_domain::message::Message;
use salon_store::Store;

use super::{demo_id, monday_morning, phone, sid};

fn message(id: &str, at: jiff::Timestamp) -> Message {
    Message {
        id: id.into(),
        business: demo_id(),
        call_sid: sid(1),
        phone: Some(phone("0722123456")),
        name: Some("Ion Popescu".into()),
        text: Some("Vrea să afle dacă faceți extensii.".into()),
        recording: None,
        at,
        read: false,
    }
}

pub(crate) async fn a_message_is_kept_once_listed_newest_first_and_marked_read(store: Store) {
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let store = store
        .with_clock(clock.clone())
        .with_transcript_retention_days(30);
    let now = monday_morning();
    assert!(store.leave_message(&message("a", now)).await.unwrap());
    // Repeated (a retried tool call): the first stays.
    let mut again = message("a", now);
    again.text = Some("altceva".into());
    assert!(!store.leave_message(&again).await.unwrap());
    let later = now + SignedDuration::from_mins(5);
    assert!(store.leave_message(&message("b", later)).await.unwrap());
    let listed = store.messages(&demo_id()).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(
        listed[1].text.as_deref(),
        Some("Vrea să afle dacă faceți extensii.")
    );
    assert!(store.mark_message_read(&demo_id(), "a").await.unwrap());
    assert!(!store.mark_message_read(&demo_id(), "nope").await.unwrap());
    let read: Vec<bool> = store
        .messages(&demo_id())
        .await
        .unwrap()
        .iter()
        .map(|m| m.read)
        .collect();
    assert_eq!(read, [false, true]);
    // Personal data: gone after the retention period.
    clock.advance(SignedDuration::from_hours(24 * 30 + 1));
    assert!(store.messages(&demo_id()).await.unwrap().is_empty());
}
