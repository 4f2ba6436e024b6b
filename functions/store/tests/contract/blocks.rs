//! Time the owner blocks for a stylist: nobody books it, it conflicts with what is booked or
//! held, and removing it frees it.

use jiff::civil::Date;
use salon_domain::StaffId;
use salon_store::{BlockTimeError, BookingError, HoldRequest, Store};

use super::{demo_id, dt, monday_morning, request, seeded, service, sid, ts};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

fn tuesday() -> Date {
    "2026-12-15".parse().unwrap()
}

pub(crate) async fn blocked_time_is_nobodys_and_conflicts_change_nothing(store: Store) {
    seeded(&store).await;
    let b = store.business(&demo_id()).await.unwrap().unwrap();
    let now = monday_morning();
    let (ten, eleven) = (
        ts("2026-12-15T10:00:00+02:00"),
        ts("2026-12-15T11:00:00+02:00"),
    );

    let block = store
        .block_time(&demo_id(), &staff("ana"), ten, eleven, "la bancă")
        .await
        .unwrap();
    let listed = store.blocks_on(&b, tuesday()).await.unwrap();
    assert_eq!(listed, vec![block.clone()]);
    assert_eq!(listed[0].note(), "la bancă");
    assert!(
        store
            .blocks_on(&b, "2026-12-16".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    // Ana is not bookable then; anyone else is, and the block is no appointment.
    let mut r = request("0722000001", "2026-12-15T10:30", "k1");
    r.staff = Some(staff("ana"));
    assert!(matches!(
        store.book(&r, now).await,
        Err(BookingError::Unavailable { .. })
    ));
    let slot = store
        .check(
            &demo_id(),
            &service("tuns"),
            dt("2026-12-15T10:30"),
            None,
            now,
        )
        .await
        .unwrap();
    assert!(!slot.staff.contains(&staff("ana")));
    assert!(
        store
            .check(
                &demo_id(),
                &service("tuns"),
                dt("2026-12-15T11:00"),
                Some(&staff("ana")),
                now
            )
            .await
            .is_ok(),
        "the block ends at 11:00"
    );
    assert!(
        store
            .appointments_on(&b, tuesday())
            .await
            .unwrap()
            .is_empty()
    );

    // Over a booking, over a caller's hold, or over itself: refused whole, nothing written.
    let mut r = request("0722000002", "2026-12-15T14:00", "k2");
    r.staff = Some(staff("ana"));
    store.book(&r, now).await.unwrap();
    let over_booking = store
        .block_time(
            &demo_id(),
            &staff("ana"),
            ts("2026-12-15T13:00:00+02:00"),
            ts("2026-12-15T14:15:00+02:00"),
            "",
        )
        .await;
    assert!(
        matches!(over_booking, Err(BlockTimeError::Taken)),
        "{over_booking:?}"
    );
    store
        .hold(
            &HoldRequest {
                business: demo_id(),
                service: service("tuns"),
                more: Vec::new(),
                start: dt("2026-12-15T16:00"),
                staff: Some(staff("ana")),
                call: sid(7),
                client: None,
            },
            // Held well past the store's own clock, whatever day the test runs.
            60 * 24 * 30,
            now,
        )
        .await
        .unwrap();
    for (from, to) in [
        ("2026-12-15T10:45:00+02:00", "2026-12-15T11:30:00+02:00"),
        ("2026-12-15T16:00:00+02:00", "2026-12-15T16:15:00+02:00"),
    ] {
        let r = store
            .block_time(&demo_id(), &staff("ana"), ts(from), ts(to), "")
            .await;
        assert!(matches!(r, Err(BlockTimeError::Taken)), "{from}: {r:?}");
    }
    assert_eq!(store.blocks_on(&b, tuesday()).await.unwrap().len(), 1);
    // Ana's 11:00 step was not written by the refused block.
    assert!(
        store
            .check(
                &demo_id(),
                &service("tuns"),
                dt("2026-12-15T11:00"),
                Some(&staff("ana")),
                now
            )
            .await
            .is_ok()
    );

    // A stylist the salon does not have, or a shape the locks cannot carry.
    assert!(matches!(
        store
            .block_time(&demo_id(), &staff("nimeni"), ten, eleven, "")
            .await,
        Err(BlockTimeError::UnknownStaff)
    ));
    assert!(matches!(
        store
            .block_time(
                &demo_id(),
                &staff("ion"),
                ten,
                ts("2026-12-15T10:10:00+02:00"),
                ""
            )
            .await,
        Err(BlockTimeError::Invalid(_))
    ));

    // Removed, the time is Ana's to book again; removed twice, there is nothing to remove.
    assert!(store.unblock(&demo_id(), block.id()).await.unwrap());
    assert!(!store.unblock(&demo_id(), block.id()).await.unwrap());
    assert!(!store.unblock(&demo_id(), "not-a-block").await.unwrap());
    assert!(store.blocks_on(&b, tuesday()).await.unwrap().is_empty());
    let mut r = request("0722000003", "2026-12-15T10:00", "k3");
    r.staff = Some(staff("ana"));
    let booked = store.book(&r, now).await.unwrap();
    assert_eq!(booked.appointment.staff, staff("ana"));
}
