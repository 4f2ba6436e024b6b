//! Holds: the time a caller picked is kept for their call while they decide, taken over by
//! its booking, released when the call ends, and ignored once it lapses; races included.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use salon_domain::{CallSid, StaffId, Unavailable};
use salon_store::{BookingError, HoldRequest, Store};

use super::{demo_id, dt, monday_morning, nth_phone, request, seeded, service, sid};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

fn hold_request(call: &CallSid, at: &str, who: Option<&str>) -> HoldRequest {
    HoldRequest {
        business: demo_id(),
        service: service("tuns"),
        more: Vec::new(),
        start: dt(at),
        staff: who.map(staff),
        call: call.clone(),
        client: None,
    }
}

/// Books `who` at `at` for a fresh number from `call`.
async fn book(
    store: &Store,
    n: u32,
    call: &CallSid,
    at: &str,
    who: Option<&str>,
    now: Timestamp,
) -> Result<StaffId, BookingError> {
    let mut r = request(&nth_phone(n), at, &format!("k{n}"));
    r.staff = who.map(staff);
    r.call_sid = Some(call.clone());
    store.book(&r, now).await.map(|b| b.appointment.staff)
}

fn taken(r: Result<StaffId, BookingError>) {
    match r {
        Err(BookingError::Unavailable {
            reason: Unavailable::Taken,
            ..
        }) => {}
        other => panic!("expected taken, got {other:?}"),
    }
}

pub(crate) async fn a_held_time_is_kept_for_its_call_until_it_books_ends_or_lapses(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let (a, rival) = (sid(1), sid(2));

    // Call A holds Ion at 10:00 on Tuesday (anyone would get Ana: Ion is the caller's pick).
    let held = store
        .hold(&hold_request(&a, "2026-12-15T10:00", Some("ion")), 5, now)
        .await
        .unwrap();
    assert_eq!(held.staff, staff("ion"));
    assert_eq!(held.until, now + SignedDuration::from_mins(5));
    // Its lock and the call's list of holds carry the lapse as their expiry, for the TTL.
    let expiry = |pk: &str, sk: String| {
        let (store, pk) = (store.clone(), pk.to_owned());
        async move {
            let item = store.table().get(&pk, &sk).await.unwrap();
            item.expect("written").expires_at
        }
    };
    let lapse = Some(held.until.as_second());
    assert_eq!(
        expiry("BIZ#salon-demo#SLOTS", "2026-12-15T08:00:00Z#ion".into()).await,
        lapse
    );
    assert_eq!(expiry("BIZ#salon-demo", format!("HOLD#{a}")).await, lapse);
    // Nobody else sees it or can take it.
    let ion = staff("ion");
    let rival_sees = store
        .check_of(
            &demo_id(),
            &service("tuns"),
            &[],
            dt("2026-12-15T10:00"),
            Some(&ion),
            Some(&rival),
            now,
        )
        .await;
    assert!(matches!(
        rival_sees,
        Err(BookingError::Unavailable {
            reason: Unavailable::Taken,
            ..
        })
    ));
    taken(book(&store, 2, &rival, "2026-12-15T10:00", Some("ion"), now).await);
    let listed = store
        .availability_of(
            &demo_id(),
            &service("tuns"),
            &[],
            dt("2026-12-15T10:00").date(),
            dt("2026-12-15T10:00").date(),
            Some(&ion),
            Some(&rival),
            now,
        )
        .await
        .unwrap();
    assert!(listed.iter().all(|s| s.label() != "10:00"));
    // The call itself sees it free, and its booking for anyone takes the held stylist.
    assert!(
        store
            .check_of(
                &demo_id(),
                &service("tuns"),
                &[],
                dt("2026-12-15T10:00"),
                Some(&ion),
                Some(&a),
                now,
            )
            .await
            .is_ok()
    );
    assert_eq!(
        book(&store, 1, &a, "2026-12-15T10:00", None, now)
            .await
            .unwrap(),
        ion
    );

    // A hold that lapsed holds nothing: a rival books it.
    let c = sid(3);
    store
        .hold(&hold_request(&c, "2026-12-16T11:00", Some("ana")), 5, now)
        .await
        .unwrap();
    let later = now + SignedDuration::from_mins(6);
    taken(book(&store, 3, &rival, "2026-12-16T11:00", Some("ana"), now).await);
    assert_eq!(
        book(&store, 4, &rival, "2026-12-16T11:00", Some("ana"), later)
            .await
            .unwrap(),
        staff("ana")
    );
    // ...and the late caller hears it is taken, with alternatives.
    taken(book(&store, 5, &c, "2026-12-16T11:00", Some("ana"), later).await);

    // The call ends: its hold is released at once.
    let d = sid(4);
    store
        .hold(&hold_request(&d, "2026-12-17T10:00", Some("maria")), 5, now)
        .await
        .unwrap();
    taken(book(&store, 6, &rival, "2026-12-17T10:00", Some("maria"), now).await);
    store.release_holds(&demo_id(), &d).await.unwrap();
    store.release_holds(&demo_id(), &d).await.unwrap();
    assert_eq!(
        book(&store, 7, &rival, "2026-12-17T10:00", Some("maria"), now)
            .await
            .unwrap(),
        staff("maria")
    );

    // A call holds one time: picking another releases the first.
    let e = sid(5);
    for at in ["2026-12-18T10:00", "2026-12-18T11:00"] {
        store
            .hold(&hold_request(&e, at, Some("ana")), 5, now)
            .await
            .unwrap();
    }
    assert!(
        book(&store, 8, &rival, "2026-12-18T10:00", Some("ana"), now)
            .await
            .is_ok()
    );
    // Booking another time than the held one ends the hold too.
    assert!(
        book(&store, 9, &e, "2026-12-18T15:00", Some("ana"), now)
            .await
            .is_ok()
    );
    assert!(
        book(&store, 10, &rival, "2026-12-18T11:00", Some("ana"), now)
            .await
            .is_ok()
    );
}

pub(crate) async fn fifty_calls_racing_to_hold_and_book_one_time_book_it_once(store: Store) {
    seeded(&store).await;
    let store = Arc::new(store);
    let now = monday_morning();
    // Three rounds, each on its own day: every call holds Ana's 10:00, then books it.
    for (round, day) in ["2026-12-15", "2026-12-16", "2026-12-17"]
        .into_iter()
        .enumerate()
    {
        let at = format!("{day}T10:00");
        let tasks: Vec<_> = (0..50u32)
            .map(|i| {
                let (store, at) = (store.clone(), at.clone());
                let n = 1000 * (round as u32 + 1) + i;
                tokio::spawn(async move {
                    let call = sid(n);
                    let held = store
                        .hold(&hold_request(&call, &at, Some("ana")), 5, now)
                        .await;
                    let booked = book(&store, n, &call, &at, Some("ana"), now).await;
                    (held.is_ok(), booked.is_ok())
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let holds = outcomes.iter().filter(|(h, _)| *h).count();
        let bookings: Vec<_> = outcomes.iter().filter(|(_, b)| *b).collect();
        assert_eq!(holds, 1, "round {round}: one hold");
        assert_eq!(bookings.len(), 1, "round {round}: one booking");
        assert!(bookings[0].0, "round {round}: the holder booked it");
    }

    // A hold lapsing mid-race: its call and fifty rivals book the time six minutes on.
    let holder = sid(9000);
    store
        .hold(
            &hold_request(&holder, "2026-12-18T10:00", Some("ana")),
            5,
            now,
        )
        .await
        .unwrap();
    let later = now + SignedDuration::from_mins(6);
    let tasks: Vec<_> = (0..51u32)
        .map(|i| {
            let store = store.clone();
            let call = if i == 50 {
                holder.clone()
            } else {
                sid(9001 + i)
            };
            tokio::spawn(async move {
                book(
                    &store,
                    9001 + i,
                    &call,
                    "2026-12-18T10:00",
                    Some("ana"),
                    later,
                )
                .await
                .is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one booking of a lapsed hold");
}
