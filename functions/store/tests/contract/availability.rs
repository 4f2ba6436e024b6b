//! Availability: the grid times listed inside opening hours, the days skipped, why a time
//! is refused, and the nearest free times offered instead.

use std::collections::BTreeSet;

use jiff::civil::Date;
use salon_domain::{ClosedReason, StaffId, Unavailable};
use salon_store::{BookingError, Store};

use super::{demo_id, dt, labels, monday_morning, nth_phone, request, seeded, service, sid, ts};

pub(crate) async fn availability_lists_grid_times_inside_hours_and_outside_the_break(store: Store) {
    seeded(&store).await;
    let tuesday = Date::constant(2026, 12, 15);
    let slots = store
        .availability(
            &demo_id(),
            &service("tuns"),
            tuesday,
            tuesday,
            None,
            monday_morning(),
        )
        .await
        .unwrap();
    let l = labels(&slots);
    assert_eq!(l.first().map(String::as_str), Some("09:00"));
    assert_eq!(
        l.last().map(String::as_str),
        Some("18:30"),
        "a 30-minute service must end by 19:00"
    );
    assert!(
        l.contains(&"12:30".to_owned()) && !l.contains(&"12:45".to_owned()),
        "ends by the 13:00 break: {l:?}"
    );
    assert!(
        !l.iter().any(|t| t.starts_with("13:")),
        "no start during the break: {l:?}"
    );
    assert!(l.contains(&"14:00".to_owned()));
    assert_eq!(slots[0].staff.len(), 3, "three stylists are free");
    assert_eq!(
        slots[0].start.offset().seconds(),
        2 * 3600,
        "winter time in Bucharest"
    );
}

pub(crate) async fn availability_skips_closed_days_holidays_and_the_past(store: Store) {
    seeded(&store).await;
    // Sunday 2026-11-29 is closed weekly; Monday 30 November and Tuesday 1 December are holidays.
    let now = ts("2026-11-28T12:00:00+02:00");
    let slots = store
        .availability(
            &demo_id(),
            &service("tuns"),
            Date::constant(2026, 11, 27),
            Date::constant(2026, 12, 2),
            None,
            now,
        )
        .await
        .unwrap();
    let days: BTreeSet<Date> = slots.iter().map(|s| s.start.date()).collect();
    assert_eq!(
        days,
        BTreeSet::from([Date::constant(2026, 11, 28), Date::constant(2026, 12, 2)])
    );
    // Saturday closes at 15:00, and with an hour's notice from noon the first start is 13:00.
    let saturday: Vec<String> = slots
        .iter()
        .filter(|s| s.start.date().day() == 28)
        .map(|s| s.label())
        .collect();
    assert_eq!(saturday.first().map(String::as_str), Some("13:00"));
    assert_eq!(saturday.last().map(String::as_str), Some("14:30"));
}

pub(crate) async fn each_refusal_says_why(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let check = |at: &str| {
        let store = store.clone();
        let at = dt(at);
        async move {
            store
                .check(&demo_id(), &service("tuns"), at, None, now)
                .await
        }
    };
    let reason = |r: Result<salon_domain::Slot, BookingError>| match r {
        Err(BookingError::Unavailable { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(reason(check("2026-12-11T10:00").await), Unavailable::InPast);
    let soon = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-14T09:15"),
            None,
            ts("2026-12-14T08:30:00+02:00"),
        )
        .await;
    assert_eq!(
        reason(soon),
        Unavailable::TooSoon {
            earliest: ts("2026-12-14T09:30:00+02:00")
        }
    );
    assert!(matches!(
        reason(check("2026-12-13T10:00").await),
        Unavailable::InPast
    ));
    assert_eq!(
        reason(check("2026-12-20T10:00").await),
        Unavailable::Closed {
            date: Date::constant(2026, 12, 20),
            reason: ClosedReason::Weekday
        }
    );
    assert_eq!(
        reason(check("2026-12-25T10:00").await),
        Unavailable::Closed {
            date: Date::constant(2026, 12, 25),
            reason: ClosedReason::Holiday("Crăciunul")
        }
    );
    assert!(matches!(
        reason(check("2026-12-15T08:00").await),
        Unavailable::OutsideHours { .. }
    ));
    assert!(matches!(
        reason(check("2026-12-15T18:45").await),
        Unavailable::OutsideHours { .. }
    ));
    assert!(matches!(
        reason(check("2026-12-15T12:45").await),
        Unavailable::DuringBreak { .. }
    ));
    assert_eq!(
        reason(check("2026-12-15T10:10").await),
        Unavailable::OffGrid { grid: 15 }
    );
    assert!(matches!(
        reason(check("2027-06-02T10:00").await),
        Unavailable::TooFarAhead { .. }
    ));
    assert!(check("2026-12-15T10:00").await.is_ok());

    let unknown = store
        .check(
            &demo_id(),
            &service("manichiura"),
            dt("2026-12-15T10:00"),
            None,
            now,
        )
        .await;
    assert!(
        matches!(unknown, Err(BookingError::UnknownService(_))),
        "{unknown:?}"
    );
    let nobody = StaffId::parse("nimeni").unwrap();
    let staff = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:00"),
            Some(&nobody),
            now,
        )
        .await;
    assert!(matches!(
        staff,
        Err(BookingError::Unavailable {
            reason: Unavailable::UnknownStaff(_),
            ..
        })
    ));
}

pub(crate) async fn a_taken_time_comes_back_with_the_nearest_free_ones(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    for i in 0..3 {
        let mut r = request(&nth_phone(i), "2026-12-15T10:00", &format!("k{i}"));
        r.call_sid = Some(sid(10 + i));
        store.book(&r, now).await.unwrap();
    }
    let err = store
        .book(&request("0744111222", "2026-12-15T10:00", "late"), now)
        .await
        .unwrap_err();
    let BookingError::Unavailable {
        reason,
        alternatives,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(reason, Unavailable::Taken);
    // 10:15 would overlap the 10:00 haircuts; 09:30 and 10:30 are 30 minutes away, earlier first.
    assert_eq!(labels(&alternatives), ["09:30", "10:30", "09:15"]);

    // A closed day's alternatives come from the following open days.
    let err = store
        .book(&request("0744111222", "2026-12-20T10:00", "sunday"), now)
        .await
        .unwrap_err();
    let BookingError::Unavailable { alternatives, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(alternatives[0].start.date(), Date::constant(2026, 12, 21));
    assert_eq!(labels(&alternatives), ["09:00", "09:15", "09:30"]);
}

pub(crate) async fn alternatives_past_a_long_closure_are_never_times_already_taken(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    // Closed for three weeks from Wednesday 16 December (the owner's holiday): the first open
    // day after (6 and 7 January are holidays) is Friday 8 January, well past the days whose
    // bookings a check reads.
    let mut b = store.business(&demo_id()).await.unwrap().unwrap();
    let mut day = Date::constant(2026, 12, 16);
    while day < Date::constant(2027, 1, 8) {
        b.closures.dates.insert(salon_domain::business::Closure {
            date: day,
            reason: "concediu".into(),
        });
        day = day.tomorrow().unwrap();
    }
    store.put_business(&b).await.unwrap();
    // Every stylist is taken at that day's first times.
    let mut booked = BTreeSet::new();
    for i in 0..9 {
        let start = ["2027-01-08T09:00", "2027-01-08T09:30", "2027-01-08T10:00"][i as usize / 3];
        let mut r = request(&nth_phone(i), start, &format!("k{i}"));
        r.call_sid = Some(sid(20 + i));
        let a = store.book(&r, now).await.unwrap().appointment;
        booked.insert(a.start);
    }
    // A wish for a closed day: what is offered instead is free, whatever day it is on.
    let err = store
        .book(&request("0744111222", "2026-12-17T10:00", "closed"), now)
        .await
        .unwrap_err();
    let BookingError::Unavailable { alternatives, .. } = err else {
        panic!("{err:?}")
    };
    // Three are still offered, from the first open day, read before it is offered from.
    assert_eq!(alternatives.len(), 3, "{alternatives:?}");
    assert!(
        alternatives
            .iter()
            .all(|a| a.start.date() == Date::constant(2027, 1, 8))
    );
    for alt in &alternatives {
        let at = alt.start.timestamp();
        assert!(
            !booked
                .iter()
                .any(|b| *b <= at && at < *b + jiff::SignedDuration::from_mins(30)),
            "offered {} on {}, which is taken",
            alt.label(),
            alt.start.date()
        );
    }
}
