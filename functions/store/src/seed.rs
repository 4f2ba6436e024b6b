//! Writes the demo salon into a store; running it again changes nothing.

use salon_domain::{PhoneE164, demo};

use crate::store::{Store, StoreError};

/// Writes the demo salon (business, hours, staff, closures, services), answering `number`.
pub async fn demo_salon(store: &Store, number: PhoneE164) -> Result<(), StoreError> {
    let business = demo::business(number);
    store.put_business(&business).await?;
    for service in demo::services() {
        store.put_service(&business.id, &service).await?;
    }
    Ok(())
}
