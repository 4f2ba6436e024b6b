//! Reads the figures of the phone (`salon_domain::analytics`) for a salon from the store: the
//! calls that began in the last days, and the services their bookings were for. The console,
//! its JSON and the owner's terminal script all read them here.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use salon_domain::analytics::{CallFacts, Figures, Prices, figures};
use salon_domain::{Business, CallRecord};
use salon_store::{Store, StoreError};

/// The most calls one view reads (about 30 a day for three months).
pub const MAX_CALLS: usize = 3000;

/// The longest view, in days.
pub const MAX_DAYS: u16 = 92;

/// The figures of the `days` local days up to `today` (both included), with the calls read,
/// newest first.
pub async fn read(
    store: &Store,
    b: &Business,
    today: Date,
    days: u16,
    prices: &Prices,
) -> Result<(Figures, Vec<CallRecord>), StoreError> {
    let days = days.clamp(1, MAX_DAYS);
    let tz = b.time_zone.tz().clone();
    let from = today
        .checked_sub(jiff::Span::new().days(i64::from(days) - 1))
        .unwrap_or(today);
    // A day before the first local midnight, so every call of `from` is read whatever the zone.
    let since = from
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
        .checked_sub(SignedDuration::from_hours(24))
        .unwrap_or(Timestamp::MIN);
    let calls = store.recent_calls(&b.id, since, MAX_CALLS).await?;
    let mut booked = Vec::with_capacity(calls.len());
    for c in &calls {
        let mut names = Vec::new();
        for id in &c.appointments {
            if let Some(a) = store.appointment(&b.id, id).await? {
                names.push(a.service_name);
            }
        }
        booked.push(names);
    }
    let facts: Vec<CallFacts<'_>> = calls
        .iter()
        .zip(booked)
        .map(|(record, booked)| CallFacts { record, booked })
        .collect();
    let f = figures(&facts, &tz, from, today, prices);
    Ok((f, calls))
}
