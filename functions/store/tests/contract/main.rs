//! The store's contract: every case runs against the embedded store and against DynamoDB
//! (moto on loopback, one fresh table per test), and both must behave the same.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, time};
use salon_domain::business::{BookingRules, OpenHours};
use salon_domain::call::{CallOutcome, CallSummary, TokenUsage, ToolCallRecord};
use salon_domain::{
    AppointmentStatus, Business, BusinessId, CallEvent, CallSid, CallStatus, Client, ClientName,
    ClosedReason, IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId, Staff, StaffId, Unavailable,
    demo,
};
use salon_store::{BookingError, BookingRequest, Store, Stylist, seed};

mod caps;
mod holds;
mod messages;
mod notices;
mod races;
mod segments;
mod stylists;
mod waitlist;
use caps::*;
use holds::*;
use messages::*;
use notices::*;
use races::*;
use segments::*;
use stylists::*;
use waitlist::*;

// ---- fixtures ----

/// Monday 14 December 2026, 08:00 in Bucharest (winter time, UTC+2).
fn monday_morning() -> Timestamp {
    ts("2026-12-14T08:00:00+02:00")
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn phone(s: &str) -> PhoneE164 {
    PhoneE164::parse(s).unwrap()
}

fn demo_id() -> BusinessId {
    BusinessId::parse(demo::BUSINESS_ID).unwrap()
}

fn service(id: &str) -> ServiceId {
    ServiceId::parse(id).unwrap()
}

fn sid(n: u32) -> CallSid {
    CallSid::parse(format!("CA{n:032x}")).unwrap()
}

async fn seeded(store: &Store) {
    seed::demo_salon(store, phone(demo::DEMO_NUMBER))
        .await
        .unwrap();
}

fn request(client: &str, start: &str, key: &str) -> BookingRequest {
    BookingRequest {
        business: demo_id(),
        service: service("tuns"),
        more: Vec::new(),
        client: phone(client),
        phone_origin: PhoneOrigin::CallerId,
        client_name: Some(ClientName::parse("Ion Popescu").unwrap()),
        start: dt(start),
        staff: None,
        call_sid: Some(sid(1)),
        key: IdempotencyKey::parse(key).unwrap(),
        tool_call: None,
    }
}

/// The nth distinct Romanian mobile number.
fn nth_phone(n: u32) -> String {
    format!("0722{n:06}")
}

fn labels(slots: &[salon_domain::Slot]) -> Vec<String> {
    slots.iter().map(|s| s.label()).collect()
}

// ---- cases ----

async fn seeding_twice_changes_nothing_and_routes_the_number(store: Store) {
    seeded(&store).await;
    seeded(&store).await;
    let services = store.services(&demo_id()).await.unwrap();
    assert_eq!(services.len(), demo::services().len());
    let by_number = store
        .business_by_number(&phone("031 234 5678"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_number.name, "Salon Voice Booking");
    assert_eq!(by_number, demo::business(phone(demo::DEMO_NUMBER)));
    assert!(
        store
            .business_by_number(&phone("0722 000 000"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_number_moves_with_its_business_and_is_never_shared(store: Store) {
    seeded(&store).await;
    let mut b = store.business(&demo_id()).await.unwrap().unwrap();
    b.numbers = vec![phone("0213000000")];
    store.put_business(&b).await.unwrap();
    assert!(
        store
            .business_by_number(&phone(demo::DEMO_NUMBER))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .business_by_number(&phone("0213000000"))
            .await
            .unwrap()
            .unwrap()
            .id,
        demo_id()
    );

    let mut other = demo::business(phone("0213000000"));
    other.id = BusinessId::parse("alt-salon").unwrap();
    let err = store.put_business(&other).await.unwrap_err();
    assert!(
        matches!(err, salon_store::StoreError::NumberTaken { .. }),
        "{err:?}"
    );
}

async fn availability_lists_grid_times_inside_hours_and_outside_the_break(store: Store) {
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

async fn availability_skips_closed_days_holidays_and_the_past(store: Store) {
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

async fn each_refusal_says_why(store: Store) {
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

async fn a_booking_creates_the_client_and_holds_a_chair(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let booked = store
        .book(&request("0722 123 456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap();
    assert!(!booked.replayed);
    let a = &booked.appointment;
    assert_eq!(a.start, ts("2026-12-15T10:00:00+02:00"));
    assert_eq!(a.end, ts("2026-12-15T10:30:00+02:00"));
    assert_eq!(
        (a.service_name.as_str(), a.client_name.as_str()),
        ("Tuns", "Ion Popescu")
    );
    assert_eq!(a.call_sid, Some(sid(1)));
    assert_eq!(
        store.appointment(&demo_id(), &a.id).await.unwrap().as_ref(),
        Some(a)
    );

    let client = store
        .client(&demo_id(), &phone("+40722123456"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((client.name.as_str(), client.created), ("Ion Popescu", now));
    let listed = store
        .client_appointments(&demo_id(), &phone("0040722123456"))
        .await
        .unwrap();
    assert_eq!(listed, vec![a.clone()]);

    let slot = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:00"),
            None,
            now,
        )
        .await
        .unwrap();
    assert_eq!(slot.staff.len(), 2, "one of three chairs is taken");
    assert!(!slot.staff.contains(&a.staff));
}

async fn a_new_client_must_give_a_name_and_a_known_one_need_not(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let mut r = request("0733 000 111", "2026-12-15T10:00", "k1");
    r.client_name = None;
    assert!(matches!(
        store.book(&r, now).await,
        Err(BookingError::NameRequired)
    ));
    store
        .put_client(
            &demo_id(),
            &Client {
                phone: phone("0733000111"),
                name: "Maria Ionescu".into(),
                created: now,
            },
        )
        .await
        .unwrap();
    let booked = store.book(&r, now).await.unwrap();
    assert_eq!(booked.appointment.client_name, "Maria Ionescu");
}

async fn the_same_key_books_once(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let r = request("0722123456", "2026-12-15T10:00", "CA1:call_1");
    let first = store.book(&r, now).await.unwrap();
    let again = store.book(&r, now).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.appointment, first.appointment);
    // A retry that arrives after the time has become too soon still gets its booking back.
    let later = store
        .book(&r, ts("2026-12-15T09:45:00+02:00"))
        .await
        .unwrap();
    assert_eq!(later.appointment.id, first.appointment.id);
    assert_eq!(
        store
            .client_appointments(&demo_id(), &phone("0722123456"))
            .await
            .unwrap()
            .len(),
        1
    );

    let mut different = r.clone();
    different.start = dt("2026-12-15T11:00");
    assert!(matches!(
        store.book(&different, now).await,
        Err(BookingError::KeyReused(_))
    ));
}

async fn the_same_booking_from_the_same_call_books_once_under_a_new_key(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let first = store
        .book(
            &request("0722123456", "2026-12-15T10:00", "CA1:call_1"),
            now,
        )
        .await
        .unwrap();
    // After a reconnect the model asks again with a new call id.
    let again = store
        .book(
            &request("0722123456", "2026-12-15T10:00", "CA1:call_9"),
            now,
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.appointment.id, first.appointment.id);
    // Another time in the same call is another booking.
    let other = store
        .book(
            &request("0722123456", "2026-12-15T11:00", "CA1:call_10"),
            now,
        )
        .await
        .unwrap();
    assert_ne!(other.appointment.id, first.appointment.id);
}

async fn fifty_callers_racing_for_one_slot_get_exactly_the_free_chairs(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut r = request(&nth_phone(i), "2026-12-15T10:00", &format!("race-{i}"));
                r.call_sid = Some(sid(100 + i));
                store.book(&r, now).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(b) => won.push(b.appointment),
            Err(BookingError::Unavailable {
                reason: Unavailable::Taken,
                alternatives,
            }) => {
                assert!(!alternatives.is_empty(), "a refusal offers alternatives");
            }
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(won.len(), 3, "three chairs, three bookings");
    let staff: BTreeSet<_> = won.iter().map(|a| a.staff.clone()).collect();
    assert_eq!(staff.len(), 3, "each on a different chair");
    let taken = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:00"),
            None,
            now,
        )
        .await;
    assert!(matches!(
        taken,
        Err(BookingError::Unavailable {
            reason: Unavailable::Taken,
            ..
        })
    ));
}

async fn racing_retries_of_one_request_book_once(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .book(
                        &request("0722123456", "2026-12-15T10:00", "CA1:call_1"),
                        now,
                    )
                    .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().appointment.id);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        store
            .client_appointments(&demo_id(), &phone("0722123456"))
            .await
            .unwrap()
            .len(),
        1
    );
    let slot = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:00"),
            None,
            now,
        )
        .await
        .unwrap();
    assert_eq!(slot.staff.len(), 2, "one chair held, not more");
}

async fn a_taken_time_comes_back_with_the_nearest_free_ones(store: Store) {
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

async fn alternatives_past_a_long_closure_are_never_times_already_taken(store: Store) {
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

async fn cancelling_frees_the_time_and_keeps_the_record(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let mut r = request("0722123456", "2026-12-15T10:00", "k1");
    r.staff = Some(StaffId::parse("ana").unwrap());
    let a = store.book(&r, now).await.unwrap().appointment;
    let stranger = phone("0799999999");
    assert!(matches!(
        store.cancel(&demo_id(), &a.id, Some(&stranger), now).await,
        Err(BookingError::NotFound)
    ));

    let cancelled = store
        .cancel(&demo_id(), &a.id, Some(&phone("0722123456")), now)
        .await
        .unwrap();
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled { at: now });
    let twice = store
        .cancel(&demo_id(), &a.id, None, ts("2026-12-14T09:00:00+02:00"))
        .await
        .unwrap();
    assert_eq!(
        twice.status,
        AppointmentStatus::Cancelled { at: now },
        "cancelling again changes nothing"
    );
    assert_eq!(
        store
            .appointment(&demo_id(), &a.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        cancelled.status
    );
    assert_eq!(
        store
            .client_appointments(&demo_id(), &phone("0722123456"))
            .await
            .unwrap()[0]
            .status,
        cancelled.status
    );

    // Ana's 10:00 is free again, even for the same call asking again.
    let again = store
        .book(&request("0722123456", "2026-12-15T10:00", "k2"), now)
        .await
        .unwrap();
    assert!(!again.replayed);
    assert_ne!(again.appointment.id, a.id);
}

async fn moving_swaps_the_times_in_one_step(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let ana = StaffId::parse("ana").unwrap();
    let mut r = request("0722123456", "2026-12-15T10:00", "k1");
    r.staff = Some(ana.clone());
    let a = store.book(&r, now).await.unwrap().appointment;

    // Fifteen minutes later overlaps its own old time: allowed, it is the same appointment.
    let moved = store
        .reschedule(
            &demo_id(),
            &a.id,
            Some(&a.client),
            dt("2026-12-15T10:15"),
            Stylist::Named(&ana),
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        (moved.id.clone(), moved.start, moved.staff.clone()),
        (a.id.clone(), ts("2026-12-15T10:15:00+02:00"), ana.clone())
    );
    assert_eq!(moved.moved, Some(now));
    let free = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:00"),
            Some(&ana),
            now,
        )
        .await;
    assert!(
        matches!(
            free,
            Err(BookingError::Unavailable {
                reason: Unavailable::Taken,
                ..
            })
        ),
        "10:00-10:30 overlaps 10:15"
    );
    let later = store
        .reschedule(
            &demo_id(),
            &a.id,
            None,
            dt("2026-12-16T15:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(later.staff, ana, "keeps the stylist when free");
    assert!(
        store
            .check(
                &demo_id(),
                &service("tuns"),
                dt("2026-12-15T10:15"),
                Some(&ana),
                now
            )
            .await
            .is_ok()
    );

    // Onto someone else's time with that stylist: refused, with alternatives, nothing changes.
    let mut other = request("0733000000", "2026-12-17T11:00", "k2");
    other.staff = Some(ana.clone());
    other.call_sid = Some(sid(2));
    store.book(&other, now).await.unwrap();
    let clash = store
        .reschedule(
            &demo_id(),
            &a.id,
            None,
            dt("2026-12-17T11:00"),
            Stylist::Named(&ana),
            now,
        )
        .await
        .unwrap_err();
    let BookingError::Unavailable {
        reason,
        alternatives,
    } = clash
    else {
        panic!("{clash:?}")
    };
    assert_eq!(reason, Unavailable::Taken);
    assert!(!alternatives.is_empty());
    assert_eq!(
        store
            .appointment(&demo_id(), &a.id)
            .await
            .unwrap()
            .unwrap()
            .start,
        later.start
    );
    // Without a stylist named, onto a time its stylist is busy: the same stylist is kept, so
    // it is refused (other stylists are free then); with anyone, another one takes it.
    let kept = store
        .reschedule(
            &demo_id(),
            &a.id,
            None,
            dt("2026-12-17T11:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            kept,
            BookingError::Unavailable {
                reason: Unavailable::Taken,
                ..
            }
        ),
        "{kept:?}"
    );
    let elsewhere = store
        .reschedule(
            &demo_id(),
            &a.id,
            None,
            dt("2026-12-17T11:00"),
            Stylist::Anyone,
            now,
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.start, ts("2026-12-17T11:00:00+02:00"));
    assert_ne!(elsewhere.staff, ana, "ana is busy then");

    let stranger = phone("0799999999");
    assert!(matches!(
        store
            .reschedule(
                &demo_id(),
                &a.id,
                Some(&stranger),
                dt("2026-12-18T10:00"),
                Stylist::Same,
                now
            )
            .await,
        Err(BookingError::NotFound)
    ));
    store.cancel(&demo_id(), &a.id, None, now).await.unwrap();
    assert!(matches!(
        store
            .reschedule(
                &demo_id(),
                &a.id,
                None,
                dt("2026-12-18T10:00"),
                Stylist::Same,
                now
            )
            .await,
        Err(BookingError::Cancelled)
    ));
}

/// A salon open ten hours without a break, two stylists, and an 8-hour service (the longest there is).
fn long_day_salon() -> (Business, salon_domain::Service) {
    let mut b = demo::business(phone("0213000002"));
    b.id = BusinessId::parse("salon-lung").unwrap();
    b.staff = ["ana", "maria"]
        .map(|id| Staff::new(StaffId::parse(id).unwrap(), id))
        .to_vec();
    let day = OpenHours::new(time(8, 0, 0, 0), time(18, 0, 0, 0), None).unwrap();
    b.hours.tuesday = Some(day);
    b.hours.wednesday = Some(day);
    b.hours.thursday = Some(day);
    let mut extensions = demo::services()[0].clone();
    extensions.id = service("extensii");
    extensions.name = "Extensii".into();
    extensions.duration = salon_domain::Minutes::new(480).unwrap();
    (b, extensions)
}

async fn an_eight_hour_service_moves_to_another_day_and_leaves_its_time_to_its_person(
    store: Store,
) {
    seeded(&store).await;
    let (mut b, extensions) = long_day_salon();
    // Texts on: the move owes one in its transaction too.
    b.sms_confirmations = true;
    store.put_business(&b).await.unwrap();
    store.put_service(&b.id, &extensions).await.unwrap();
    store
        .put_service(&b.id, &demo::services()[0])
        .await
        .unwrap();
    let now = monday_morning();
    let ask = |start: &str, key: &str, service_id: &str| {
        let mut r = request("0722123456", start, key);
        r.business = b.id.clone();
        r.service = service(service_id);
        r.call_sid = None;
        r
    };
    // Booked in a call: its booking identity is one more item for the move to delete.
    let mut first = ask("2026-12-15T08:00", "k1", "extensii");
    first.call_sid = Some(sid(1));
    let long = store.book(&first, now).await.unwrap().appointment;
    // Another day, nothing in common: 32 locks out and 32 in for the stylist, 32 in for the
    // person, the appointment, its booking identity and its text: 100 writes. The person's old
    // steps and the tool call's record would pass DynamoDB's 100 actions.
    let call = ToolCallRecord {
        name: "reschedule_appointment".into(),
        call_id: "call_9".into(),
        error: None,
        at: now,
        millis: 5,
    };
    let to = salon_store::Move {
        start: dt("2026-12-16T08:00"),
        stylist: Stylist::Same,
    };
    let recording = salon_store::Recording {
        call_sid: &sid(1),
        call: &call,
    };
    let (moved, recorded) = store
        .reschedule_recorded(&b.id, &long.id, None, to, now, Some(recording))
        .await
        .unwrap();
    assert_eq!(moved.start, ts("2026-12-16T08:00:00+02:00"));
    assert!(!recorded, "the tool call is left to its caller to record");
    assert_eq!(store.waiting_sms().await.unwrap().len(), 2, "booked, moved");
    // The time it left is the person's again, and the time it holds is not.
    let tuesday = store
        .book(&ask("2026-12-15T09:00", "k2", "tuns"), now)
        .await
        .unwrap()
        .appointment;
    match store
        .book(&ask("2026-12-16T12:00", "k3", "tuns"), now)
        .await
    {
        Err(BookingError::ClientBusy(clash)) => assert_eq!(clash.appointment, long.id),
        other => panic!("expected ClientBusy, got {other:?}"),
    }
    // Back onto the Tuesday the person has since booked: refused, by that booking.
    match store
        .reschedule(
            &b.id,
            &long.id,
            None,
            dt("2026-12-15T08:00"),
            Stylist::Same,
            now,
        )
        .await
    {
        Err(BookingError::ClientBusy(clash)) => assert_eq!(clash.appointment, tuesday.id),
        other => panic!("expected ClientBusy, got {other:?}"),
    }
    // Away and back onto its own old Wednesday: what it left there is its own.
    store
        .reschedule(
            &b.id,
            &long.id,
            None,
            dt("2026-12-17T08:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    let back = store
        .reschedule(
            &b.id,
            &long.id,
            None,
            dt("2026-12-16T08:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(back.start, ts("2026-12-16T08:00:00+02:00"));
    assert!(matches!(
        store
            .book(&ask("2026-12-16T15:30", "k4", "tuns"), now)
            .await,
        Err(BookingError::ClientBusy(_))
    ));
    store
        .book(&ask("2026-12-17T10:00", "k5", "tuns"), now)
        .await
        .unwrap();
}

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

async fn the_clock_changes_of_2026_and_2027_keep_wall_clock_times(store: Store) {
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

async fn call_records_merge_events_from_every_writer(store: Store) {
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

async fn data_survives_a_restart_of_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::new(Arc::new(
            salon_store::EmbeddedTable::open(dir.path()).unwrap(),
        ));
        seeded(&store).await;
        store
            .book(
                &request("0722123456", "2026-12-15T10:00", "k1"),
                monday_morning(),
            )
            .await
            .unwrap()
            .appointment
            .id
    };
    let store = Store::new(Arc::new(
        salon_store::EmbeddedTable::open(dir.path()).unwrap(),
    ));
    assert!(store.appointment(&demo_id(), &id).await.unwrap().is_some());
    assert_eq!(
        store.services(&demo_id()).await.unwrap().len(),
        demo::services().len()
    );
}

#[tokio::test]
async fn embedded_data_survives_a_restart() {
    data_survives_a_restart_of_the_embedded_store().await;
}

async fn a_person_cannot_overlap_themselves_but_two_people_on_one_phone_can(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let first = store
        .book(&request("0722123456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap()
        .appointment;
    // The same person (the name as spoken, whatever its case), from another call, at 10:15.
    let mut again = request("0722123456", "2026-12-15T10:15", "k2");
    again.call_sid = Some(sid(2));
    again.client_name = Some(ClientName::parse("ion POPESCU").unwrap());
    match store.book(&again, now).await {
        Err(BookingError::ClientBusy(clash)) => assert_eq!(clash.appointment, first.id),
        other => panic!("expected ClientBusy, got {other:?}"),
    }
    // A child booked by a parent on the same phone, under their own name, side by side.
    let mut child = request("0722123456", "2026-12-15T10:00", "k3");
    child.client_name = Some(ClientName::parse("Matei Popescu").unwrap());
    let child = store.book(&child, now).await.unwrap().appointment;
    assert_ne!(child.staff, first.staff);
    let client = store
        .client(&demo_id(), &phone("0722123456"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.name, "Ion Popescu", "booking a child renames nobody");
    // Back to back is fine.
    let mut later = request("0722123456", "2026-12-15T10:30", "k4");
    later.call_sid = Some(sid(3));
    store.book(&later, now).await.unwrap();
    // Moving one onto another of the same person is refused; once cancelled, the time is theirs.
    match store
        .reschedule(
            &demo_id(),
            &child.id,
            None,
            dt("2026-12-15T10:00"),
            Stylist::Same,
            now,
        )
        .await
    {
        Ok(a) => assert_eq!(a.id, child.id, "moving to its own time changes nothing"),
        Err(e) => panic!("{e:?}"),
    }
    let mut noon = request("0722123456", "2026-12-15T12:00", "k5");
    noon.call_sid = Some(sid(4));
    let noon = store.book(&noon, now).await.unwrap().appointment;
    assert!(matches!(
        store
            .reschedule(
                &demo_id(),
                &noon.id,
                None,
                dt("2026-12-15T10:00"),
                Stylist::Same,
                now
            )
            .await,
        Err(BookingError::ClientBusy(_))
    ));
    store
        .cancel(&demo_id(), &first.id, None, now)
        .await
        .unwrap();
    let moved = store
        .reschedule(
            &demo_id(),
            &noon.id,
            None,
            dt("2026-12-15T10:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(moved.start, ts("2026-12-15T10:00:00+02:00"));
}

async fn one_person_racing_for_three_chairs_books_once(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..3u32 {
        let store = store.clone();
        let mut r = request("0722123456", "2026-12-15T10:00", &format!("race-{i}"));
        // Three calls at once, so none is a replay of another.
        r.call_sid = Some(sid(10 + i));
        tasks.push(tokio::spawn(async move { store.book(&r, now).await }));
    }
    let mut booked = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => booked += 1,
            Err(BookingError::ClientBusy(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(booked, 1, "one person, one chair");
    let mine = store
        .client_appointments(&demo_id(), &phone("0722123456"))
        .await
        .unwrap();
    assert_eq!(mine.iter().filter(|a| a.is_booked()).count(), 1);
}

async fn a_spoken_number_books_without_creating_or_renaming_a_client(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    store
        .put_client(
            &demo_id(),
            &Client {
                phone: phone("0733000111"),
                name: "Maria Ionescu".into(),
                created: now,
            },
        )
        .await
        .unwrap();
    let mut r = request("0733000111", "2026-12-15T10:00", "k1");
    r.phone_origin = PhoneOrigin::Spoken;
    r.client_name = None;
    assert!(
        matches!(store.book(&r, now).await, Err(BookingError::NameRequired)),
        "a spoken number never borrows its client's name"
    );
    r.client_name = Some(ClientName::parse("Ion Străinu").unwrap());
    let a = store.book(&r, now).await.unwrap().appointment;
    assert_eq!(a.phone_origin, PhoneOrigin::Spoken);
    assert_eq!(a.client_name, "Ion Străinu");
    let client = store
        .client(&demo_id(), &phone("0733000111"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.name, "Maria Ionescu", "never renamed");
    // A number nobody called from yet gets no client record from a spoken booking.
    let mut new = request("0744000222", "2026-12-15T11:00", "k2");
    new.phone_origin = PhoneOrigin::Spoken;
    store.book(&new, now).await.unwrap();
    assert!(
        store
            .client(&demo_id(), &phone("0744000222"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_call_is_claimed_by_one_stream(store: Store) {
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

async fn transcripts_expire_by_the_stores_clock_and_carry_their_ttl(store: Store) {
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

async fn tool_calls_are_recorded_alone_and_read_with_the_call(store: Store) {
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

async fn a_salons_catalogue_is_kept_a_minute_and_an_edit_here_shows_at_once(store: Store) {
    seeded(&store).await;
    // Two warm instances over one table, as two Lambda instances are.
    let clock = Arc::new(salon_domain::ManualClock::new(monday_morning()));
    let here = Store::new(store.table().clone()).with_clock(clock.clone());
    let there = Store::new(store.table().clone()).with_clock(clock.clone());
    let read = |s: Store| async move { s.business(&demo_id()).await.unwrap().unwrap().name };
    let before = read(here.clone()).await;

    let mut renamed = there.business(&demo_id()).await.unwrap().unwrap();
    renamed.name = "Salon Nou".into();
    there.put_business(&renamed).await.unwrap();
    assert_eq!(
        read(there.clone()).await,
        "Salon Nou",
        "an edit here shows at once"
    );
    assert_eq!(
        read(here.clone()).await,
        before,
        "kept from the read a moment ago"
    );
    clock.advance(jiff::SignedDuration::try_from(salon_store::CATALOG_TTL).unwrap());
    assert_eq!(
        read(here.clone()).await,
        "Salon Nou",
        "read again after a minute"
    );

    // A service edited elsewhere: the same minute.
    let mut services = there.services(&demo_id()).await.unwrap();
    let mut gone = services.remove(0);
    gone.active = false;
    there.put_service(&demo_id(), &gone).await.unwrap();
    let active = |s: Store| async move {
        s.services(&demo_id())
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.active)
            .count()
    };
    let kept = active(here.clone()).await;
    assert_eq!(active(there.clone()).await, kept - 1);
    clock.advance(jiff::SignedDuration::from_secs(61));
    assert_eq!(active(here.clone()).await, kept - 1);
}

/// Runs every case against one backend, each on a fresh store.
macro_rules! contract {
    ($backend:ident, $fresh:expr) => {
        mod $backend {

            contract!(@cases $fresh;
                seeding_twice_changes_nothing_and_routes_the_number,
                a_number_moves_with_its_business_and_is_never_shared,
                availability_lists_grid_times_inside_hours_and_outside_the_break,
                availability_skips_closed_days_holidays_and_the_past,
                each_refusal_says_why,
                a_booking_creates_the_client_and_holds_a_chair,
                a_new_client_must_give_a_name_and_a_known_one_need_not,
                the_same_key_books_once,
                the_same_booking_from_the_same_call_books_once_under_a_new_key,
                fifty_callers_racing_for_one_slot_get_exactly_the_free_chairs,
                racing_retries_of_one_request_book_once,
                a_taken_time_comes_back_with_the_nearest_free_ones,
                alternatives_past_a_long_closure_are_never_times_already_taken,
                cancelling_frees_the_time_and_keeps_the_record,
                moving_swaps_the_times_in_one_step,
                the_clock_changes_of_2026_and_2027_keep_wall_clock_times,
                call_records_merge_events_from_every_writer,
                a_person_cannot_overlap_themselves_but_two_people_on_one_phone_can,
                one_person_racing_for_three_chairs_books_once,
                a_spoken_number_books_without_creating_or_renaming_a_client,
                a_call_is_claimed_by_one_stream,
                transcripts_expire_by_the_stores_clock_and_carry_their_ttl,
                tool_calls_are_recorded_alone_and_read_with_the_call,
                a_salons_catalogue_is_kept_a_minute_and_an_edit_here_shows_at_once,
                an_eight_hour_service_moves_to_another_day_and_leaves_its_time_to_its_person,
                each_change_owes_one_text_and_a_replay_none,
                a_text_is_handed_over_at_most_once,
                a_reminder_is_queued_once_and_never_for_a_cancelled_appointment,
                a_message_is_kept_once_listed_newest_first_and_marked_read,
                stylists_do_their_own_services_in_their_own_hours,
                an_absence_closes_a_stylists_days_and_lists_what_was_booked,
                anyone_gets_the_last_stylist_else_the_least_booked_that_day,
                a_caller_cannot_cancel_or_move_inside_the_salons_cut_off,
                processing_time_goes_to_a_service_that_fits_and_clean_up_holds_the_stylist,
                a_combination_books_one_stylist_back_to_back_or_nothing,
                a_held_time_is_kept_for_its_call_until_it_books_ends_or_lapses,
                fifty_calls_racing_to_hold_and_book_one_time_book_it_once,
                fifty_callers_racing_for_combinations_get_what_the_stylists_allow,
                fifty_callers_racing_for_anyone_and_named_stylists_get_each_chair_once,
                a_stylist_takes_no_more_appointments_a_day_than_the_cap,
                fifty_callers_racing_for_one_stylists_day_get_the_cap,
                a_capped_salon_books_at_most_seven_and_three_quarter_hours,
                a_freed_time_goes_to_the_first_waiting_client_it_fits,
            );
        }
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                #[allow(unused_variables)]
                let (store, guard) = $fresh;
                super::$case(store).await;
            }
        )*
    };
}

contract!(embedded, salon_store::testing::embedded_store());
// The benchmarks' store: the embedded one held in memory, held to the same contract.
contract!(
    in_memory,
    (
        salon_store::Store::new(std::sync::Arc::new(
            salon_store::EmbeddedTable::in_memory().expect("an in-memory store opens")
        )),
        ()
    )
);
contract!(dynamodb, (salon_store::testing::dynamo_store().await, ()));
