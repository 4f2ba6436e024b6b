//! The owner's edits of the salon's profile: checked as a whole, and two at once both land.

use jiff::civil::{Date, time};
use salon_domain::business::OpenHours;
use salon_domain::{ConfigError, StaffId, WeeklyHours};
use salon_store::{Store, StoreError};

use super::{demo_id, dt, monday_morning, seeded, service};

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

pub(crate) async fn the_owners_edits_are_checked_whole_and_concurrent_ones_both_land(store: Store) {
    seeded(&store).await;
    let before = store.business(&demo_id()).await.unwrap().unwrap();
    let boboteaza: Date = "2027-01-06".parse().unwrap();

    // Ana's Tuesday from 12:00 and the holiday opened, at the same time: both land.
    let mut ana_hours: WeeklyHours = before.hours.clone();
    ana_hours.tuesday = Some(OpenHours::new(time(12, 0, 0, 0), time(18, 0, 0, 0), None).unwrap());
    let id = demo_id();
    let (a, b) = tokio::join!(
        store.edit_business(&id, |b| {
            b.staff_mut(&staff("ana"))?.hours = Some(ana_hours.clone());
            Ok(())
        }),
        store.edit_business(&id, |b| {
            b.open_on(boboteaza);
            Ok(())
        }),
    );
    a.unwrap().unwrap();
    b.unwrap().unwrap();
    let after = store.business(&demo_id()).await.unwrap().unwrap();
    assert_eq!(
        after.staff_member(&staff("ana")).unwrap().hours,
        Some(ana_hours)
    );
    assert!(after.closures.open_holidays.contains(&boboteaza));
    assert_eq!(after.numbers, before.numbers);
    // Seen by the booking rules at once.
    let now = monday_morning();
    assert!(
        store
            .check(
                &demo_id(),
                &service("tuns"),
                dt("2026-12-15T10:00"),
                Some(&staff("ana")),
                now
            )
            .await
            .is_err()
    );

    // Hours outside the salon's, or a stylist it does not have: refused, nothing written.
    let mut late = after.hours.clone();
    late.monday = Some(OpenHours::new(time(6, 0, 0, 0), time(23, 0, 0, 0), None).unwrap());
    let refused = store
        .edit_business(&demo_id(), |b| {
            b.staff_mut(&staff("ion"))?.hours = Some(late.clone());
            Ok(())
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::InvalidBusiness(ConfigError::StaffHours { .. }))
        ),
        "{refused:?}"
    );
    let unknown = store
        .edit_business(&demo_id(), |b| {
            b.staff_mut(&staff("nimeni"))?.active = false;
            Ok(())
        })
        .await;
    assert!(matches!(
        unknown,
        Err(StoreError::InvalidBusiness(ConfigError::UnknownStaff(_)))
    ));
    assert_eq!(store.business(&demo_id()).await.unwrap().unwrap(), after);

    // No such salon: nothing to edit.
    let other = salon_domain::BusinessId::parse("salon-nimeni").unwrap();
    assert!(
        store
            .edit_business(&other, |_| Ok(()))
            .await
            .unwrap()
            .is_none()
    );
}
