//! The catalogue: seeding the demo salon, the numbers that route to a business, and the
//! catalogue kept a minute per warm instance while an edit shows at once where it was made.

use std::sync::Arc;

use salon_domain::{BusinessId, demo};
use salon_store::Store;

use super::{demo_id, monday_morning, phone, seeded};

pub(crate) async fn seeding_twice_changes_nothing_and_routes_the_number(store: Store) {
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

pub(crate) async fn a_number_moves_with_its_business_and_is_never_shared(store: Store) {
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

pub(crate) async fn a_salons_catalogue_is_kept_a_minute_and_an_edit_here_shows_at_once(
    store: Store,
) {
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
