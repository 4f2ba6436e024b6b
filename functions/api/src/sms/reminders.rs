//! The day-before reminders: queued from the salon's reminder hour on, for the next day's
//! appointments, once each (the store keeps them from being queued twice).

use jiff::Timestamp;
use salon_store::{Store, StoreError};

/// The local hours in which the next day's reminders are queued: a run every hour, as the
/// schedule does, queues them between 18:00 and 19:00, and later bookings (old enough to want
/// one) at the next runs; nobody gets a text after 21:00.
pub const REMINDER_HOURS: std::ops::Range<i8> = 18..21;

/// Queues what is due in every salon that sends texts; returns how many were queued.
pub async fn queue_due(store: &Store, now: Timestamp) -> Result<usize, StoreError> {
    let mut queued = 0;
    for id in store.business_ids().await? {
        let Some(b) = store.business(&id).await? else {
            continue;
        };
        if !b.sms_confirmations {
            continue;
        }
        let local = now.to_zoned_datetime(b.time_zone.tz().clone());
        if !REMINDER_HOURS.contains(&local.hour()) {
            continue;
        }
        let Ok(tomorrow) = local.date().tomorrow() else {
            continue;
        };
        queued += store.queue_reminders(&b, tomorrow, now).await?;
    }
    Ok(queued)
}
