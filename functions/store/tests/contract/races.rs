//! Races the rules decide: fifty callers at once for combinations and for "anyone" beside
//! named stylists, repeated on fresh days; the bookings that succeed are exactly what the rules
//! allow, every round, and no stylist is ever held twice. (Holds race in `holds.rs`, one chair
//! in `main.rs`.)

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use salon_domain::{Appointment, StaffId, Unavailable};
use salon_store::{BookingError, BookingRequest, Store};

use super::{demo_id, monday_morning, nth_phone, request, seeded, service, sid};

const ROUNDS: [&str; 3] = ["2026-12-15", "2026-12-16", "2026-12-17"];

/// Books every request at once; returns what was booked. A refusal must be "taken" (never a
/// contention error or a half-written booking).
async fn race(
    store: &Arc<Store>,
    requests: Vec<BookingRequest>,
    now: Timestamp,
) -> Vec<Appointment> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move {
                (
                    r.client.clone().expect("a caller has a number"),
                    store.book(&r, now).await,
                )
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (_, Ok(b)) => won.push(b.appointment),
            (
                client,
                Err(BookingError::Unavailable {
                    reason: Unavailable::Taken,
                    ..
                }),
            ) => {
                // Refused whole: nothing of it stays in the client's list.
                let theirs = store
                    .client_appointments(&demo_id(), &client)
                    .await
                    .unwrap();
                assert!(theirs.is_empty(), "a refused booking left {theirs:?}");
            }
            (_, Err(e)) => panic!("unexpected error: {e:?}"),
        }
    }
    won
}

/// Every stylist's held 15-minute steps on `day`, as the book has them: none twice.
async fn assert_nobody_held_twice(store: &Store, day: &str) {
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    let day: Date = day.parse().unwrap();
    let mut held: BTreeMap<StaffId, BTreeSet<Timestamp>> = BTreeMap::new();
    for a in store.appointments_on(&b, day).await.unwrap() {
        for step in a.staff_steps() {
            assert!(
                held.entry(a.staff.clone()).or_default().insert(step),
                "{} held twice at {step}",
                a.staff
            );
        }
    }
}

fn at(day: &str, time: &str) -> String {
    format!("{day}T{time}")
}

pub(crate) async fn fifty_callers_racing_for_combinations_get_what_the_stylists_allow(
    store: Store,
) {
    seeded(&store).await;
    let store = Arc::new(store);
    let now = monday_morning();
    for (round, day) in ROUNDS.into_iter().enumerate() {
        // Half ask for colour and then wash and style at 10:00 (the stylist held 10:00–10:30
        // and 11:00–12:15, the colour setting between), half for a cut at 10:30, inside the
        // setting. Each of the three stylists can carry one of each: six bookings, whatever
        // the order.
        let base = 1000 * (round as u32 + 1);
        let requests = (0..50u32)
            .map(|i| {
                let n = base + i;
                let mut r = match i % 2 {
                    0 => {
                        let mut r = request(&nth_phone(n), &at(day, "10:00"), &format!("c{n}"));
                        r.service = service("vopsit");
                        r.more = vec![service("spalat-coafat")];
                        r
                    }
                    _ => request(&nth_phone(n), &at(day, "10:30"), &format!("c{n}")),
                };
                r.call_sid = Some(sid(n));
                r
            })
            .collect();
        let won = race(&store, requests, now).await;
        let combos: Vec<&Appointment> = won.iter().filter(|a| !a.more.is_empty()).collect();
        let cuts = won.len() - combos.len();
        assert_eq!(
            (combos.len(), cuts),
            (3, 3),
            "round {round}: three combinations and three cuts"
        );
        let stylists: BTreeSet<&StaffId> = combos.iter().map(|a| &a.staff).collect();
        assert_eq!(stylists.len(), 3, "round {round}: one combination each");
        assert_nobody_held_twice(&store, day).await;
    }
}

pub(crate) async fn fifty_callers_racing_for_anyone_and_named_stylists_get_each_chair_once(
    store: Store,
) {
    seeded(&store).await;
    let store = Arc::new(store);
    let now = monday_morning();
    let ana = StaffId::parse("ana").unwrap();
    for (round, day) in ROUNDS.into_iter().enumerate() {
        // Twenty ask for Ana by name, thirty for anyone, all at 10:00: three chairs, Ana's
        // taken once, by whichever request reached it first.
        let base = 5000 + 1000 * (round as u32);
        let requests = (0..50u32)
            .map(|i| {
                let n = base + i;
                let mut r = request(&nth_phone(n), &at(day, "10:00"), &format!("a{n}"));
                r.call_sid = Some(sid(n));
                if i % 5 < 2 {
                    r.staff = Some(ana.clone());
                }
                r
            })
            .collect();
        let won = race(&store, requests, now).await;
        assert_eq!(won.len(), 3, "round {round}: three chairs, three bookings");
        let stylists: BTreeSet<&StaffId> = won.iter().map(|a| &a.staff).collect();
        assert_eq!(stylists.len(), 3, "round {round}: each chair once");
        assert_nobody_held_twice(&store, day).await;
    }
}
