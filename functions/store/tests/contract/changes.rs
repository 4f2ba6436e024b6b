//! Changing a booking: cancelling frees the time and keeps the record, moving swaps the
//! times in one step, and an eight-hour service moves to another day.

use jiff::civil::time;
use salon_domain::business::OpenHours;
use salon_domain::call::ToolCallRecord;
use salon_domain::{AppointmentStatus, Business, BusinessId, Staff, StaffId, Unavailable, demo};
use salon_store::{BookingError, Store, Stylist};

use super::{demo_id, dt, monday_morning, phone, request, seeded, service, sid, ts};

pub(crate) async fn cancelling_frees_the_time_and_keeps_the_record(store: Store) {
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

pub(crate) async fn moving_swaps_the_times_in_one_step(store: Store) {
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
            a.client.as_ref(),
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

pub(crate) async fn an_eight_hour_service_moves_to_another_day_and_leaves_its_time_to_its_person(
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
