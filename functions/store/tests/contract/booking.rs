//! Booking: the client created, names required or kept, idempotent keys and calls, spoken
//! numbers, one person's overlapping bookings, and callers racing for one time.

use std::collections::BTreeSet;
use std::sync::Arc;

use salon_domain::{Client, ClientName, PhoneOrigin, Unavailable};
use salon_store::{BookingError, Store, Stylist};

use super::{demo_id, dt, monday_morning, nth_phone, phone, request, seeded, service, sid, ts};

pub(crate) async fn a_booking_creates_the_client_and_holds_a_chair(store: Store) {
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

pub(crate) async fn a_new_client_must_give_a_name_and_a_known_one_need_not(store: Store) {
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

pub(crate) async fn the_same_key_books_once(store: Store) {
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

pub(crate) async fn the_same_booking_from_the_same_call_books_once_under_a_new_key(store: Store) {
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

pub(crate) async fn fifty_callers_racing_for_one_slot_get_exactly_the_free_chairs(store: Store) {
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

pub(crate) async fn racing_retries_of_one_request_book_once(store: Store) {
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

pub(crate) async fn a_person_cannot_overlap_themselves_but_two_people_on_one_phone_can(
    store: Store,
) {
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

pub(crate) async fn one_person_racing_for_three_chairs_books_once(store: Store) {
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

pub(crate) async fn a_spoken_number_books_without_creating_or_renaming_a_client(store: Store) {
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
    // The client list holds the clients only; the book of those days holds both bookings.
    let clients = store.clients(&demo_id()).await.unwrap();
    let listed: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(listed, ["Maria Ionescu"]);
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    let booked = store
        .appointments_between(
            &b,
            "2026-12-14".parse().unwrap(),
            "2026-12-16".parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(booked.len(), 2);
    assert!(booked.iter().all(|a| a.phone_origin == PhoneOrigin::Spoken));
    assert!(booked[0].start < booked[1].start);
}

/// A walk-in the salon books without a number: by name alone, holding the chair like any
/// booking, moved and cancelled by the salon, never reachable by a caller's number and owed no
/// text even in a salon that texts.
pub(crate) async fn a_walk_in_without_a_number_is_booked_by_name_and_owed_no_text(store: Store) {
    seeded(&store).await;
    let mut b = store.business(&demo_id()).await.unwrap().unwrap();
    b.sms_confirmations = true;
    store.put_business(&b).await.unwrap();
    let now = monday_morning();
    let walk_in = |name: Option<&str>, at: &str, key: &str| {
        let mut r = request("0722000001", at, key);
        r.client = None;
        r.phone_origin = PhoneOrigin::Salon;
        r.call_sid = None;
        r.source = salon_domain::Source::Manual;
        r.client_name = name.map(|n| ClientName::parse(n).unwrap());
        r
    };
    assert!(matches!(
        store
            .book(&walk_in(None, "2026-12-15T10:00", "w0"), now)
            .await,
        Err(BookingError::NameRequired)
    ));
    let a = store
        .book(&walk_in(Some("Elena Stan"), "2026-12-15T10:00", "w1"), now)
        .await
        .unwrap()
        .appointment;
    assert_eq!(a.client, None);
    // Sent again, it books once; the same person cannot sit in two chairs at once.
    let again = store
        .book(&walk_in(Some("Elena Stan"), "2026-12-15T10:00", "w1"), now)
        .await
        .unwrap();
    assert!(again.replayed && again.appointment.id == a.id);
    assert!(matches!(
        store
            .book(&walk_in(Some("elena stan"), "2026-12-15T10:15", "w2"), now)
            .await,
        Err(BookingError::ClientBusy(_))
    ));
    store
        .book(&walk_in(Some("Dana Stan"), "2026-12-15T10:15", "w3"), now)
        .await
        .unwrap();
    assert!(
        store.waiting_sms().await.unwrap().is_empty(),
        "no number, no text"
    );
    // The chair is held: the time is not offered to callers with that stylist.
    assert!(
        store
            .check(
                &demo_id(),
                &service("tuns"),
                dt("2026-12-15T10:00"),
                Some(&a.staff),
                now
            )
            .await
            .is_err()
    );
    // A caller's number reaches no walk-in; the salon moves and cancels it.
    assert!(matches!(
        store
            .cancel(&demo_id(), &a.id, Some(&phone("0722000001")), now)
            .await,
        Err(BookingError::NotFound)
    ));
    let moved = store
        .reschedule(
            &demo_id(),
            &a.id,
            None,
            dt("2026-12-15T11:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(moved.client, None);
    let cancelled = store.cancel(&demo_id(), &a.id, None, now).await.unwrap();
    assert!(!cancelled.is_booked());
    assert!(store.waiting_sms().await.unwrap().is_empty());
}
