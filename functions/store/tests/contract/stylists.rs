//! Stylists as a salon has them: the services each does, their own hours and days off,
//! absences the owner adds, whom "anyone" gets, and the salon's cut-off for changes by phone.

use std::collections::BTreeSet;

use jiff::civil::{Date, time};
use jiff::{SignedDuration, Timestamp};
use salon_domain::business::OpenHours;
use salon_domain::{
    Absence, Business, ConfigError, ServiceId, Slot, StaffId, Unavailable, WeeklyHours, demo,
};
use salon_store::{AbsenceError, BookingError, BookingRequest, Store, StoreError, Stylist};

use super::{demo_id, dt, monday_morning, nth_phone, phone, request, seeded, service, sid, ts};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn demo_salon() -> Business {
    demo::business(phone(demo::DEMO_NUMBER))
}

/// The demo salon where Maria only cuts and shaves, and Ion works Tuesdays from 12:00 to
/// 19:00 without a break and not at all on Wednesdays (the salon's hours otherwise).
async fn salon_with_rules(store: &Store) -> Business {
    seeded(store).await;
    let mut b = demo_salon();
    let maria = b.staff.iter_mut().find(|s| s.id == staff("maria")).unwrap();
    maria.services = Some(BTreeSet::from([service("tuns"), service("barbierit")]));
    let mut own: WeeklyHours = b.hours.clone();
    own.tuesday = Some(OpenHours::new(time(12, 0, 0, 0), time(19, 0, 0, 0), None).unwrap());
    own.wednesday = None;
    b.staff
        .iter_mut()
        .find(|s| s.id == staff("ion"))
        .unwrap()
        .hours = Some(own);
    store.put_business(&b).await.unwrap();
    b
}

fn refusal<T: std::fmt::Debug>(r: Result<T, BookingError>) -> Unavailable {
    match r {
        Err(BookingError::Unavailable { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn check(
    store: &Store,
    what: &str,
    at: &str,
    who: Option<&str>,
    now: Timestamp,
) -> Result<Slot, BookingError> {
    let who = who.map(staff);
    store
        .check(&demo_id(), &service(what), dt(at), who.as_ref(), now)
        .await
}

pub(crate) async fn stylists_do_their_own_services_in_their_own_hours(store: Store) {
    let b = salon_with_rules(&store).await;
    let now = monday_morning();

    // Colour: never Maria. At 10:00 on Tuesday only Ana (Ion starts at 12:00).
    let slot = check(&store, "vopsit", "2026-12-15T10:00", None, now)
        .await
        .unwrap();
    assert_eq!(slot.staff, [staff("ana")]);
    let day = store
        .availability(
            &demo_id(),
            &service("vopsit"),
            date("2026-12-15"),
            date("2026-12-16"),
            None,
            now,
        )
        .await
        .unwrap();
    assert!(!day.is_empty());
    assert!(day.iter().all(|s| !s.staff.contains(&staff("maria"))));
    assert_eq!(
        refusal(check(&store, "vopsit", "2026-12-15T10:00", Some("maria"), now).await),
        Unavailable::NotQualified {
            staff: staff("maria"),
            qualified: vec![staff("ana"), staff("ion")],
        }
    );
    // Maria still cuts.
    assert!(
        check(&store, "tuns", "2026-12-15T10:00", Some("maria"), now)
            .await
            .is_ok()
    );

    // Ion's own hours: not before 12:00 on Tuesday, but through the salon's break (his own
    // day has none), and not at all on Wednesday.
    assert_eq!(
        refusal(check(&store, "tuns", "2026-12-15T10:00", Some("ion"), now).await),
        Unavailable::StaffHours {
            staff: staff("ion"),
            open: time(12, 0, 0, 0),
            close: time(19, 0, 0, 0),
        }
    );
    let lunch = check(&store, "tuns", "2026-12-15T13:00", None, now)
        .await
        .unwrap();
    assert_eq!(lunch.staff, [staff("ion")], "the others are on their break");
    assert_eq!(
        refusal(check(&store, "tuns", "2026-12-16T10:00", Some("ion"), now).await),
        Unavailable::StaffOff {
            staff: staff("ion"),
        }
    );
    let wednesday = store
        .availability(
            &demo_id(),
            &service("tuns"),
            date("2026-12-16"),
            date("2026-12-16"),
            None,
            now,
        )
        .await
        .unwrap();
    assert!(wednesday.iter().all(|s| !s.staff.contains(&staff("ion"))));

    // Booking Ion before his hours: refused, with his own times instead.
    let mut r = request("0722123456", "2026-12-15T10:00", "k1");
    r.staff = Some(staff("ion"));
    let Err(BookingError::Unavailable {
        reason,
        alternatives,
    }) = store.book(&r, now).await
    else {
        panic!("booked before Ion's hours")
    };
    assert!(matches!(reason, Unavailable::StaffHours { .. }));
    assert!(!alternatives.is_empty());
    for a in &alternatives {
        assert!(a.start.time() >= time(12, 0, 0, 0) || a.start.date() != date("2026-12-15"));
        assert_eq!(a.staff, [staff("ion")]);
    }
    // A colour booked for anyone is never Maria's, whoever is free.
    for (i, at) in ["2026-12-17T10:00", "2026-12-17T10:00", "2026-12-17T10:00"]
        .into_iter()
        .enumerate()
    {
        let mut r = request(&nth_phone(i as u32), at, &format!("v{i}"));
        r.service = service("vopsit");
        r.call_sid = Some(sid(100 + i as u32));
        match store.book(&r, now).await {
            Ok(booked) => assert_ne!(booked.appointment.staff, staff("maria")),
            Err(e) => assert_eq!(i, 2, "two stylists colour: {e:?}"),
        }
    }

    // Own hours outside the salon's are refused, and so is a stylist with no service.
    let mut wrong = b.clone();
    let mut early = wrong.hours.clone();
    early.tuesday = Some(OpenHours::new(time(8, 0, 0, 0), time(12, 0, 0, 0), None).unwrap());
    wrong.staff[0].hours = Some(early);
    assert!(matches!(
        store.put_business(&wrong).await,
        Err(StoreError::InvalidBusiness(ConfigError::StaffHours { .. }))
    ));
    let mut idle = b.clone();
    idle.staff[0].services = Some(BTreeSet::<ServiceId>::new());
    assert!(matches!(
        store.put_business(&idle).await,
        Err(StoreError::InvalidBusiness(ConfigError::NoServices(_)))
    ));
}

pub(crate) async fn an_absence_closes_a_stylists_days_and_lists_what_was_booked(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    let mut r = request("0722123456", "2026-12-15T10:00", "k1");
    r.staff = Some(staff("ana"));
    let booked = store.book(&r, now).await.unwrap().appointment;
    let mut other = request("0733000000", "2026-12-15T10:00", "k2");
    other.staff = Some(staff("maria"));
    other.call_sid = Some(sid(2));
    store.book(&other, now).await.unwrap();

    // Ana is away on Tuesday and Wednesday: her Tuesday booking is listed (and stays booked),
    // Maria's is not.
    let away = Absence::new(date("2026-12-15"), date("2026-12-16"), "concediu").unwrap();
    let listed = store
        .add_absence(&demo_id(), &staff("ana"), away.clone())
        .await
        .unwrap();
    let ids: Vec<_> = listed.iter().map(|a| &a.id).collect();
    assert_eq!(ids, [&booked.id]);
    let kept = store.appointment(&demo_id(), &booked.id).await.unwrap();
    assert!(kept.unwrap().is_booked());
    let profile = store.business(&demo_id()).await.unwrap().unwrap();
    assert!(profile.staff[0].absences.contains(&away));

    assert_eq!(
        refusal(check(&store, "tuns", "2026-12-16T11:00", Some("ana"), now).await),
        Unavailable::StaffAway {
            staff: staff("ana"),
            back: date("2026-12-17"),
        }
    );
    let anyone = check(&store, "tuns", "2026-12-16T11:00", None, now)
        .await
        .unwrap();
    assert_eq!(anyone.staff, [staff("maria"), staff("ion")]);
    assert!(
        check(&store, "tuns", "2026-12-17T11:00", Some("ana"), now)
            .await
            .is_ok(),
        "back on Thursday"
    );

    // Everybody away on Friday: nobody works, whatever the time.
    for who in ["maria", "ion", "ana"] {
        let friday = Absence::new(date("2026-12-18"), date("2026-12-18"), "").unwrap();
        store
            .add_absence(&demo_id(), &staff(who), friday)
            .await
            .unwrap();
    }
    assert_eq!(
        refusal(check(&store, "tuns", "2026-12-18T11:00", None, now).await),
        Unavailable::NobodyWorks
    );
    assert!(matches!(
        store
            .add_absence(&demo_id(), &staff("nimeni"), away.clone())
            .await,
        Err(AbsenceError::UnknownStaff)
    ));
    assert!(Absence::new(date("2026-12-16"), date("2026-12-15"), "").is_err());
}

/// Books `who` (or anyone) at `at` on a fresh number, from a fresh call.
async fn book_at(store: &Store, n: u32, at: &str, who: Option<&str>, now: Timestamp) -> StaffId {
    let mut r = request(&nth_phone(n), at, &format!("k{n}"));
    r.staff = who.map(staff);
    r.call_sid = Some(sid(n));
    store.book(&r, now).await.unwrap().appointment.staff
}

pub(crate) async fn anyone_gets_the_last_stylist_else_the_least_booked_that_day(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    // Tuesday: Ana has two appointments, Maria one, Ion none.
    book_at(&store, 1, "2026-12-15T09:00", Some("ana"), now).await;
    book_at(&store, 2, "2026-12-15T11:00", Some("ana"), now).await;
    book_at(&store, 3, "2026-12-15T09:00", Some("maria"), now).await;
    // New clients, anyone: Ion (none), then Maria (one, and before Ion in the salon's order).
    assert_eq!(
        book_at(&store, 4, "2026-12-15T15:00", None, now).await,
        staff("ion")
    );
    assert_eq!(
        book_at(&store, 5, "2026-12-15T16:00", None, now).await,
        staff("maria")
    );
    // The check lists them in the order they are picked: Ion (one), then Ana and Maria (two
    // each) in the salon's order.
    let slot = check(&store, "tuns", "2026-12-15T17:00", None, now)
        .await
        .unwrap();
    assert_eq!(slot.staff, [staff("ion"), staff("ana"), staff("maria")]);

    // A client who was with Ana on Monday gets Ana again, though she is the busiest.
    let regular = "0744000001";
    let mut first = request(regular, "2026-12-14T10:00", "r1");
    first.staff = Some(staff("ana"));
    first.call_sid = Some(sid(50));
    store.book(&first, now).await.unwrap();
    let later = ts("2026-12-14T12:00:00+02:00");
    // Their call holds the time first (as the agent does): the hold is with Ana, and so is
    // the booking that takes it over. A caller unknown by number is held with Ion.
    let hold = |call: u32, client: Option<&str>| salon_store::HoldRequest {
        business: demo_id(),
        service: service("tuns"),
        more: Vec::new(),
        start: dt("2026-12-15T17:00"),
        staff: None,
        call: sid(call),
        client: client.map(phone),
    };
    let held = store.hold(&hold(60, None), 5, later).await.unwrap();
    assert_eq!(held.staff, staff("ion"));
    store.release_holds(&demo_id(), &sid(60)).await.unwrap();
    let held = store
        .hold(&hold(51, Some(regular)), 5, later)
        .await
        .unwrap();
    assert_eq!(held.staff, staff("ana"));
    let mut again = request(regular, "2026-12-15T17:00", "r2");
    again.call_sid = Some(sid(51));
    let booked = store.book(&again, later).await.unwrap().appointment;
    assert_eq!(booked.staff, staff("ana"));
    // Another person on the same phone (a child) has no history of their own.
    let mut child: BookingRequest = request(regular, "2026-12-15T18:00", "r3");
    child.client_name = Some(salon_domain::ClientName::parse("Andrei Popescu").unwrap());
    child.call_sid = Some(sid(52));
    let booked = store.book(&child, later).await.unwrap().appointment;
    assert_eq!(
        booked.staff,
        staff("ion"),
        "the least booked, not the parent's"
    );
    // When the last stylist is busy then, the least booked.
    let mut busy = request(regular, "2026-12-15T09:00", "r4");
    busy.call_sid = Some(sid(53));
    let booked = store.book(&busy, later).await.unwrap().appointment;
    assert_eq!(booked.staff, staff("ion"));
}

pub(crate) async fn a_caller_cannot_cancel_or_move_inside_the_salons_cut_off(store: Store) {
    seeded(&store).await;
    let mut b = demo_salon();
    b.rules.cancel_cutoff_minutes = 120;
    store.put_business(&b).await.unwrap();
    let now = monday_morning();
    let a = store
        .book(&request("0722123456", "2026-12-15T10:00", "k1"), now)
        .await
        .unwrap()
        .appointment;
    let client = a.client.clone().unwrap();

    // 121 minutes before: a move is still allowed (to 10:15, so 10:00 stays the test).
    let early = ts("2026-12-15T07:59:00+02:00");
    let moved = store
        .reschedule(
            &demo_id(),
            &a.id,
            Some(&client),
            dt("2026-12-15T10:15"),
            Stylist::Same,
            early,
        )
        .await
        .unwrap();
    // 90 minutes before its new start: the caller can neither cancel nor move it.
    let late = moved.start - SignedDuration::from_mins(90);
    let too_late = |r: Result<salon_domain::Appointment, BookingError>| match r {
        Err(BookingError::TooLate { cutoff_minutes }) => assert_eq!(cutoff_minutes, 120),
        other => panic!("expected too late, got {other:?}"),
    };
    too_late(store.cancel(&demo_id(), &a.id, Some(&client), late).await);
    too_late(
        store
            .reschedule(
                &demo_id(),
                &a.id,
                Some(&client),
                dt("2026-12-16T10:00"),
                Stylist::Same,
                late,
            )
            .await,
    );
    let unchanged = store.appointment(&demo_id(), &a.id).await.unwrap().unwrap();
    assert!(unchanged.is_booked());
    assert_eq!(unchanged.start, moved.start);
    // The salon itself (no caller) still can.
    let cancelled = store.cancel(&demo_id(), &a.id, None, late).await.unwrap();
    assert!(!cancelled.is_booked());
}
