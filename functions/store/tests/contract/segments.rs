//! The time a service really takes: processing that frees the stylist, clean-up that holds
//! them after the client has gone, and combinations booked back to back as one.

use salon_domain::service::ServiceError;
use salon_domain::{Minutes, Price, Processing, Service, ServiceId, StaffId, Unavailable};
use salon_store::{BookingError, Store, StoreError, Stylist};

use super::{demo_id, dt, monday_morning, nth_phone, phone, request, seeded, service, sid, ts};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

/// Whether Ana is free for `what` at `at`.
async fn ana_free(store: &Store, what: &str, at: &str) -> Result<(), Unavailable> {
    let ana = staff("ana");
    match store
        .check(
            &demo_id(),
            &service(what),
            dt(at),
            Some(&ana),
            monday_morning(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(BookingError::Unavailable { reason, .. }) => Err(reason),
        Err(e) => panic!("{e:?}"),
    }
}

/// A perm: 60 minutes with the client, then 15 of clean-up.
fn perm() -> Service {
    Service {
        id: ServiceId::parse("permanent").unwrap(),
        name: "Permanent".into(),
        category: "coafat".into(),
        duration: Minutes::new(60).unwrap(),
        price: Price::lei(120),
        active: true,
        processing: Vec::new(),
        buffer: Minutes::new(15).ok(),
    }
}

pub(crate) async fn processing_time_goes_to_a_service_that_fits_and_clean_up_holds_the_stylist(
    store: Store,
) {
    seeded(&store).await;
    let now = monday_morning();
    // A colour with Ana at 10:00: she applies it until 10:30, it sets until 11:00 (the demo's
    // Vopsit), she finishes it until 11:30.
    let mut colour = request("0722123456", "2026-12-15T10:00", "k1");
    colour.service = service("vopsit");
    colour.staff = Some(staff("ana"));
    let colour = store.book(&colour, now).await.unwrap().appointment;
    assert_eq!(colour.end, ts("2026-12-15T11:30:00+02:00"));

    // The setting half hour: a 30-minute cut fits, a 45-minute one does not.
    assert_eq!(
        ana_free(&store, "tuns-barba", "2026-12-15T10:30").await,
        Err(Unavailable::Taken)
    );
    assert_eq!(ana_free(&store, "tuns", "2026-12-15T10:30").await, Ok(()));
    assert_eq!(
        ana_free(&store, "tuns", "2026-12-15T10:15").await,
        Err(Unavailable::Taken),
        "she is applying the colour"
    );
    let mut cut = request("0733000000", "2026-12-15T10:30", "k2");
    cut.staff = Some(staff("ana"));
    cut.call_sid = Some(sid(2));
    let cut = store.book(&cut, now).await.unwrap().appointment;
    assert_eq!(cut.staff, staff("ana"));
    // Used now: nothing else fits in it.
    assert_eq!(
        ana_free(&store, "barbierit", "2026-12-15T10:30").await,
        Err(Unavailable::Taken)
    );
    // The client stays through the setting: they cannot book themselves into it.
    let mut own = request("0722123456", "2026-12-15T10:30", "k3");
    own.service = service("barbierit");
    own.call_sid = Some(sid(3));
    assert!(matches!(
        store.book(&own, now).await,
        Err(BookingError::ClientBusy(_))
    ));

    // Moved, the colour keeps its shape: its setting time is free on the new day.
    let moved = store
        .reschedule(
            &demo_id(),
            &colour.id,
            None,
            dt("2026-12-16T10:00"),
            Stylist::Same,
            now,
        )
        .await
        .unwrap();
    assert_eq!(moved.work, colour.work);
    assert_eq!(ana_free(&store, "tuns", "2026-12-16T10:30").await, Ok(()));
    assert_eq!(
        ana_free(&store, "tuns", "2026-12-16T11:00").await,
        Err(Unavailable::Taken)
    );
    // Its old time is free again but for the cut in the middle.
    assert_eq!(ana_free(&store, "tuns", "2026-12-15T10:00").await, Ok(()));
    assert_eq!(ana_free(&store, "tuns", "2026-12-15T11:00").await, Ok(()));
    // Cancelled, it frees exactly its own steps: the cut stays.
    store
        .cancel(&demo_id(), &moved.id, None, now)
        .await
        .unwrap();
    assert_eq!(ana_free(&store, "tuns", "2026-12-16T10:00").await, Ok(()));
    assert_eq!(ana_free(&store, "tuns", "2026-12-16T11:00").await, Ok(()));
    assert_eq!(
        ana_free(&store, "tuns", "2026-12-15T10:30").await,
        Err(Unavailable::Taken)
    );

    // A perm's clean-up: the client leaves at 15:00, Ana is free at 15:15, and it must end by
    // closing, clean-up included.
    store.put_service(&demo_id(), &perm()).await.unwrap();
    let mut p = request("0744000000", "2026-12-15T14:00", "k4");
    p.service = perm().id;
    p.staff = Some(staff("ana"));
    p.call_sid = Some(sid(4));
    let booked = store.book(&p, now).await.unwrap().appointment;
    assert_eq!(booked.end, ts("2026-12-15T15:00:00+02:00"));
    assert_eq!(
        ana_free(&store, "tuns", "2026-12-15T15:00").await,
        Err(Unavailable::Taken)
    );
    assert_eq!(ana_free(&store, "tuns", "2026-12-15T15:15").await, Ok(()));
    assert_eq!(
        ana_free(&store, "permanent", "2026-12-15T17:45").await,
        Ok(())
    );
    assert_eq!(
        ana_free(&store, "permanent", "2026-12-15T18:00").await,
        Err(Unavailable::OutsideHours {
            open: jiff::civil::time(9, 0, 0, 0),
            close: jiff::civil::time(19, 0, 0, 0),
        }),
        "its clean-up would run past closing"
    );

    // Refused when written: longer than a booking can hold, or processing at the edges.
    let mut long = perm();
    long.duration = Minutes::new(480).unwrap();
    assert!(matches!(
        store.put_service(&demo_id(), &long).await,
        Err(StoreError::InvalidService(ServiceError::TooLong(480)))
    ));
    let mut edge = perm();
    edge.buffer = None;
    edge.processing = vec![Processing {
        after: Minutes::new(30).unwrap(),
        minutes: Minutes::new(30).unwrap(),
    }];
    assert!(matches!(
        store.put_service(&demo_id(), &edge).await,
        Err(StoreError::InvalidService(ServiceError::Processing))
    ));
}

pub(crate) async fn a_combination_books_one_stylist_back_to_back_or_nothing(store: Store) {
    seeded(&store).await;
    let now = monday_morning();
    // Colour then wash and style: 90 + 45 minutes with one stylist.
    let mut both = request("0722123456", "2026-12-15T10:00", "k1");
    both.service = service("vopsit");
    both.more = vec![service("spalat-coafat")];
    let booked = store.book(&both, now).await.unwrap();
    let a = &booked.appointment;
    assert_eq!(a.service_name, "Vopsit + Spălat și coafat");
    assert_eq!(a.more, [service("spalat-coafat")]);
    assert_eq!(a.end, ts("2026-12-15T12:15:00+02:00"));
    let listed = store
        .client_appointments(&demo_id(), &phone("0722123456"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "one booking");
    // Retried, it books nothing more.
    let again = store.book(&both, now).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.appointment.id, a.id);
    // The stylist is held for both, but for the colour's setting.
    let who = a.staff.clone();
    let free = |at: &'static str, what: &'static str| {
        let (store, who) = (store.clone(), who.clone());
        async move {
            store
                .check(&demo_id(), &service(what), dt(at), Some(&who), now)
                .await
                .is_ok()
        }
    };
    assert!(free("2026-12-15T10:30", "tuns").await);
    assert!(!free("2026-12-15T11:00", "tuns").await);
    assert!(!free("2026-12-15T11:45", "tuns").await);
    assert!(free("2026-12-15T12:15", "tuns").await);

    // With Ana busy at 11:45, a combination with her at 10:00 is refused whole: nothing is
    // written for its first part.
    let mut busy = request("0733000000", "2026-12-17T11:45", "k2");
    busy.staff = Some(staff("ana"));
    busy.call_sid = Some(sid(2));
    store.book(&busy, now).await.unwrap();
    let mut blocked = request("0744000000", "2026-12-17T10:00", "k3");
    blocked.service = service("vopsit");
    blocked.more = vec![service("spalat-coafat")];
    blocked.staff = Some(staff("ana"));
    blocked.call_sid = Some(sid(3));
    let refused = store.book(&blocked, now).await.unwrap_err();
    let BookingError::Unavailable {
        reason,
        alternatives,
    } = refused
    else {
        panic!("{refused:?}")
    };
    assert_eq!(reason, Unavailable::Taken);
    assert!(!alternatives.is_empty());
    assert!(
        store
            .client_appointments(&demo_id(), &phone("0744000000"))
            .await
            .unwrap()
            .is_empty()
    );
    // Anyone: another stylist does both.
    blocked.staff = None;
    let other = store.book(&blocked, now).await.unwrap().appointment;
    assert_ne!(other.staff, staff("ana"));

    // Longer than a booking can hold: refused as such.
    let mut extensions = perm();
    extensions.id = ServiceId::parse("extensii").unwrap();
    extensions.name = "Extensii".into();
    extensions.duration = Minutes::new(300).unwrap();
    store.put_service(&demo_id(), &extensions).await.unwrap();
    let mut endless = request(&nth_phone(9), "2026-12-18T09:00", "k4");
    endless.service = extensions.id.clone();
    endless.more = vec![service("suvite"), service("vopsit")];
    endless.call_sid = Some(sid(4));
    assert!(matches!(
        store.book(&endless, now).await,
        Err(BookingError::TooLong { max_minutes: 480 })
    ));
}
