//! The salon's daily cap per stylist: nobody is booked with a stylist more times a day than
//! the cap, whatever books, holds, moves or races; a cancellation or a move frees the place.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::SignedDuration;
use jiff::civil::Date;
use salon_domain::ConfigError;
use salon_domain::service::ServiceError;
use salon_domain::service::{Minutes, Price};
use salon_domain::{Appointment, Service, ServiceId, StaffId, Unavailable, demo};
use salon_store::{BookingError, HoldRequest, Store, StoreError, Stylist};

use super::{demo_id, dt, monday_morning, nth_phone, phone, request, seeded, service, sid};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

/// The demo salon with a cap of two appointments per stylist a day.
async fn capped(store: &Store) {
    seeded(store).await;
    let mut b = demo::business(phone(demo::DEMO_NUMBER));
    b.rules.daily_cap = Some(2);
    store.put_business(&b).await.unwrap();
}

/// Books a cut at `at` for the `n`th number from its own call, with `who` or anyone.
async fn book(
    store: &Store,
    n: u32,
    at: &str,
    who: Option<&str>,
) -> Result<Appointment, BookingError> {
    let mut r = request(&nth_phone(n), at, &format!("k{n}"));
    r.staff = who.map(staff);
    r.call_sid = Some(sid(n));
    store
        .book(&r, monday_morning())
        .await
        .map(|b| b.appointment)
}

fn refused(r: Result<Appointment, BookingError>) -> (Unavailable, Vec<salon_domain::Slot>) {
    match r {
        Err(BookingError::Unavailable {
            reason,
            alternatives,
        }) => (reason, alternatives),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn on(day: &str, a: &salon_domain::Slot) -> bool {
    a.start.date() == day.parse::<Date>().unwrap()
}

pub(crate) async fn a_stylist_takes_no_more_appointments_a_day_than_the_cap(store: Store) {
    capped(&store).await;
    let now = monday_morning();
    // Tuesday: Ana twice, then full.
    let first = book(&store, 1, "2026-12-15T09:00", Some("ana"))
        .await
        .unwrap();
    let second = book(&store, 2, "2026-12-15T10:00", Some("ana"))
        .await
        .unwrap();
    let (reason, alternatives) = refused(book(&store, 3, "2026-12-15T11:00", Some("ana")).await);
    assert_eq!(
        reason,
        Unavailable::StaffFull {
            staff: staff("ana")
        }
    );
    assert!(!alternatives.is_empty());
    assert!(
        alternatives.iter().all(|a| !on("2026-12-15", a)),
        "nothing more with Ana that day: {alternatives:?}"
    );
    let with_ana = store
        .availability(
            &demo_id(),
            &service("tuns"),
            "2026-12-15".parse().unwrap(),
            "2026-12-15".parse().unwrap(),
            Some(&staff("ana")),
            now,
        )
        .await
        .unwrap();
    assert!(with_ana.is_empty(), "{with_ana:?}");
    // Anyone is still booked that day, with someone else.
    let other = book(&store, 4, "2026-12-15T11:00", None).await.unwrap();
    assert_ne!(other.staff, staff("ana"));

    // A cancellation frees a place.
    store
        .cancel(&demo_id(), &first.id, None, now)
        .await
        .unwrap();
    let third = book(&store, 5, "2026-12-15T11:00", Some("ana"))
        .await
        .unwrap();
    // Moving within her day keeps its place; moving to another day frees it.
    let moved = store
        .reschedule(
            &demo_id(),
            &second.id,
            None,
            dt("2026-12-15T12:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(moved.staff, staff("ana"));
    store
        .reschedule(
            &demo_id(),
            &second.id,
            None,
            dt("2026-12-16T12:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    book(&store, 6, "2026-12-15T15:00", Some("ana"))
        .await
        .unwrap();
    // Full again: another stylist's appointment cannot move to her that day.
    let (reason, _) = match store
        .reschedule(
            &demo_id(),
            &other.id,
            None,
            dt("2026-12-15T16:00"),
            Stylist::Named(&staff("ana")),
            now,
        )
        .await
    {
        Err(BookingError::Unavailable {
            reason,
            alternatives,
        }) => (reason, alternatives),
        r => panic!("{r:?}"),
    };
    assert_eq!(
        reason,
        Unavailable::StaffFull {
            staff: staff("ana")
        }
    );
    let _ = third;

    // Thursday: a call's hold takes a place too, and its booking keeps it.
    let hold = |call: u32, at: &str| HoldRequest {
        business: demo_id(),
        service: service("tuns"),
        more: Vec::new(),
        start: dt(at),
        staff: Some(staff("ion")),
        call: sid(call),
        client: None,
    };
    store
        .hold(&hold(20, "2026-12-17T10:00"), 5, now)
        .await
        .unwrap();
    book(&store, 21, "2026-12-17T11:00", Some("ion"))
        .await
        .unwrap();
    let (reason, _) = refused(book(&store, 22, "2026-12-17T12:00", Some("ion")).await);
    assert_eq!(
        reason,
        Unavailable::StaffFull {
            staff: staff("ion")
        }
    );
    let mut r = request(&nth_phone(20), "2026-12-17T10:00", "k20");
    r.staff = Some(staff("ion"));
    r.call_sid = Some(sid(20));
    assert_eq!(
        store.book(&r, now).await.unwrap().appointment.staff,
        staff("ion")
    );
    // A hold that lapsed holds no place: its time and place go to whoever comes.
    store
        .cancel(
            &demo_id(),
            &store
                .client_appointments(&demo_id(), &phone(&nth_phone(21)))
                .await
                .unwrap()[0]
                .id,
            None,
            now,
        )
        .await
        .unwrap();
    store
        .hold(&hold(23, "2026-12-17T14:00"), 5, now)
        .await
        .unwrap();
    let later = now + SignedDuration::from_mins(6);
    let mut r = request(&nth_phone(24), "2026-12-17T16:00", "k24");
    r.staff = Some(staff("ion"));
    r.call_sid = Some(sid(24));
    assert_eq!(
        store.book(&r, later).await.unwrap().appointment.staff,
        staff("ion")
    );

    // Friday: everyone at the cap, so anyone hears the day is full.
    for (n, at) in (30..36).zip(["09:00", "09:00", "09:00", "10:00", "10:00", "10:00"]) {
        book(&store, n, &format!("2026-12-18T{at}"), None)
            .await
            .unwrap();
    }
    let (reason, alternatives) = refused(book(&store, 36, "2026-12-18T11:00", None).await);
    assert_eq!(reason, Unavailable::DayFull);
    assert!(alternatives.iter().all(|a| !on("2026-12-18", a)));
}

pub(crate) async fn fifty_callers_racing_for_one_stylists_day_get_the_cap(store: Store) {
    capped(&store).await;
    let store = Arc::new(store);
    // Three rounds on fresh days: fifty callers ask for Ana at eight different times.
    for (round, day) in ["2026-12-15", "2026-12-16", "2026-12-17"]
        .into_iter()
        .enumerate()
    {
        let tasks: Vec<_> = (0..50u32)
            .map(|i| {
                let store = store.clone();
                let n = 100 * (round as u32 + 1) + i;
                let at = format!("{day}T{:02}:{:02}", 9 + (i % 8) / 2, (i % 2) * 30);
                tokio::spawn(async move { book(&store, n, &at, Some("ana")).await })
            })
            .collect();
        let mut won = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(a) => won.push(a),
                Err(BookingError::Unavailable {
                    reason: Unavailable::StaffFull { .. } | Unavailable::Taken,
                    ..
                }) => {}
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(won.len(), 2, "round {round}: the cap, every time");
        let starts: BTreeSet<_> = won.iter().map(|a| a.start).collect();
        assert_eq!(starts.len(), 2, "round {round}: at two times");
    }
}

pub(crate) async fn a_capped_salon_books_at_most_seven_and_three_quarter_hours(store: Store) {
    capped(&store).await;
    let long = Service {
        id: ServiceId::parse("extensii").unwrap(),
        name: "Extensii".into(),
        category: "coafat".into(),
        duration: Minutes::new(330).unwrap(),
        price: Price::lei(900),
        active: true,
        processing: Vec::new(),
        buffer: None,
    };
    store.put_service(&demo_id(), &long).await.unwrap();
    // A service longer than a capped salon books is refused when written...
    let mut longer = long.clone();
    longer.id = ServiceId::parse("extensii-lungi").unwrap();
    longer.duration = Minutes::new(470).unwrap();
    assert!(matches!(
        store.put_service(&demo_id(), &longer).await,
        Err(StoreError::InvalidService(ServiceError::TooLong(465)))
    ));
    // ...and so is a cap in a salon that offers one.
    let mut b = demo::business(phone(demo::DEMO_NUMBER));
    store.put_business(&b).await.unwrap();
    store.put_service(&demo_id(), &longer).await.unwrap();
    b.rules.daily_cap = Some(2);
    assert!(matches!(
        store.put_business(&b).await,
        Err(StoreError::InvalidBusiness(ConfigError::TooLongForCap(id))) if id == longer.id
    ));
    // Offered no more, it is no obstacle.
    longer.active = false;
    store.put_service(&demo_id(), &longer).await.unwrap();
    store.put_business(&b).await.unwrap();
    let mut r = request(&nth_phone(9), "2026-12-15T09:00", "k9");
    r.service = long.id.clone();
    r.more = vec![service("suvite"), service("barbierit")];
    assert!(matches!(
        store.book(&r, monday_morning()).await,
        Err(BookingError::TooLong { max_minutes: 465 })
    ));
}
