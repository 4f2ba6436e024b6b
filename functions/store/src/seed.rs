//! Writes the demo salon into a store; running it again changes nothing.

use salon_domain::{PhoneE164, demo};

use crate::store::{Store, StoreError};

/// Writes the demo salon (business, hours, staff, closures, services), answering `number`,
/// not texting its clients.
pub async fn demo_salon(store: &Store, number: PhoneE164) -> Result<(), StoreError> {
    demo_salon_texting(store, number, Some(false))
        .await
        .map(drop)
}

/// [`demo_salon`], texting its clients (`sms_confirmations`) as `sms` says, or as the stored
/// salon did when `sms` is `None`; returns whether it texts them.
pub async fn demo_salon_texting(
    store: &Store,
    number: PhoneE164,
    sms: Option<bool>,
) -> Result<bool, StoreError> {
    let mut business = demo::business(number);
    let stored = store.business(&business.id).await?;
    business.sms_confirmations = sms.or(stored.map(|b| b.sms_confirmations)).unwrap_or(false);
    store.put_business(&business).await?;
    for service in demo::services() {
        store.put_service(&business.id, &service).await?;
    }
    Ok(business.sms_confirmations)
}
