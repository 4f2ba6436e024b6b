//! Persistence: the embedded store's data survives a restart.

use std::sync::Arc;

use salon_domain::demo;
use salon_store::Store;

use super::{demo_id, monday_morning, request, seeded};

pub(crate) async fn data_survives_a_restart_of_the_embedded_store() {
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
