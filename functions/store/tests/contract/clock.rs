//! The clock changes of 2026 and 2027: bookings inside the changing hour keep their
//! wall-clock times.

use std::collections::BTreeSet;

use jiff::civil::{Date, time};
use salon_domain::business::{BookingRules, OpenHours};
use salon_domain::{Business, BusinessId, Staff, StaffId, Unavailable, demo};
use salon_store::{BookingError, Store};

use super::{demo_id, dt, labels, phone, request, seeded, service, ts};

/// A salon open through the night on Sundays, to book inside the hour the clocks change.
fn night_salon() -> Business {
    let mut b = demo::business(phone("0213000001"));
    b.id = BusinessId::parse("salon-noapte").unwrap();
    b.staff = vec![Staff::new(StaffId::parse("ana").unwrap(), "Ana")];
    b.hours.sunday = Some(OpenHours::new(time(1, 0, 0, 0), time(6, 0, 0, 0), None).unwrap());
    b.rules = BookingRules {
        slot_minutes: 15,
        min_lead_minutes: 0,
        max_days_ahead: 730,
        ..BookingRules::default()
    };
    b
}

pub(crate) async fn the_clock_changes_of_2026_and_2027_keep_wall_clock_times(store: Store) {
    seeded(&store).await;
    let b = night_salon();
    store.put_business(&b).await.unwrap();
    for s in demo::services() {
        store.put_service(&b.id, &s).await.unwrap();
    }
    let now = ts("2026-01-05T12:00:00+02:00");
    let tuns = service("tuns");
    for (spring, autumn) in [("2026-03-29", "2026-10-25"), ("2027-03-28", "2027-10-31")] {
        let spring: Date = spring.parse().unwrap();
        let autumn: Date = autumn.parse().unwrap();
        // The demo salon: 09:00 on the Saturday before and the Monday after each change, in
        // winter and in summer time (asked two days before, inside its 60-day horizon).
        let (saturday, monday) = (spring.yesterday().unwrap(), spring.tomorrow().unwrap());
        let asked = saturday
            .yesterday()
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp();
        let around = store
            .availability(&demo_id(), &tuns, saturday, monday, None, asked)
            .await
            .unwrap();
        let saturday: Vec<_> = around
            .iter()
            .filter(|s| s.start.date() == saturday)
            .collect();
        let monday: Vec<_> = around.iter().filter(|s| s.start.date() == monday).collect();
        assert_eq!(saturday[0].label(), "09:00");
        assert_eq!(
            saturday[0].start.offset().seconds(),
            2 * 3600,
            "winter time before {spring}"
        );
        assert_eq!(monday[0].label(), "09:00");
        assert_eq!(
            monday[0].start.offset().seconds(),
            3 * 3600,
            "summer time after {spring}"
        );

        // The night salon on the spring Sunday: 03:00-03:59 does not exist.
        let slots = store
            .availability(&b.id, &tuns, spring, spring, None, now)
            .await
            .unwrap();
        let l = labels(&slots);
        assert!(!l.iter().any(|t| t.starts_with("03:")), "{spring}: {l:?}");
        assert_eq!(l.len(), 19 - 4, "{spring}: {l:?}");
        let mut r = request(
            "0722123456",
            &format!("{spring}T02:45"),
            &format!("dst-{spring}"),
        );
        r.business = b.id.clone();
        let a = store.book(&r, now).await.unwrap().appointment;
        assert_eq!(a.end.duration_since(a.start).as_mins(), 30);
        // 02:45 winter time plus 30 minutes is 04:15 summer time: 04:00 is taken.
        let at_four = store
            .check(&b.id, &tuns, dt(&format!("{spring}T04:00")), None, now)
            .await;
        assert!(
            matches!(
                at_four,
                Err(BookingError::Unavailable {
                    reason: Unavailable::Taken,
                    ..
                })
            ),
            "{at_four:?}"
        );
        assert!(
            store
                .check(&b.id, &tuns, dt(&format!("{spring}T04:15")), None, now)
                .await
                .is_ok()
        );
        let gap = store
            .check(&b.id, &tuns, dt(&format!("{spring}T03:30")), None, now)
            .await;
        assert!(
            matches!(
                gap,
                Err(BookingError::Unavailable {
                    reason: Unavailable::NoSuchTime,
                    ..
                })
            ),
            "{gap:?}"
        );

        // The autumn Sunday: 03:00-03:59 happens twice; each wall-clock time is offered once.
        let slots = store
            .availability(&b.id, &tuns, autumn, autumn, None, now)
            .await
            .unwrap();
        let l = labels(&slots);
        let unique: BTreeSet<_> = l.iter().collect();
        assert_eq!((l.len(), unique.len()), (19, 19), "{autumn}: {l:?}");
        let mut r = request(
            "0722123456",
            &format!("{autumn}T03:45"),
            &format!("dst-{autumn}"),
        );
        r.business = b.id.clone();
        let a = store.book(&r, now).await.unwrap().appointment;
        // The first 03:45 is summer time (00:45 UTC); half an hour later the clocks read 03:15.
        assert_eq!(a.start, ts(&format!("{autumn}T00:45:00Z")));
        assert_eq!(a.end, ts(&format!("{autumn}T01:15:00Z")));
    }
}
