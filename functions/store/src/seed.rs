//! Writes the demo salon into a store; running it again changes nothing.

use salon_domain::{Business, PhoneE164, demo};

use crate::store::{Store, StoreError};

/// Writes the demo salon (business, hours, staff, closures, services), answering `number`,
/// as it comes: not texting its clients, with no phone of its own.
pub async fn demo_salon(store: &Store, number: PhoneE164) -> Result<(), StoreError> {
    let settings = DemoSettings {
        sms: Some(false),
        person_phone: Some(None),
    };
    demo_salon_with(store, number, settings).await.map(drop)
}

/// What to set on the demo salon; `None` keeps what the stored salon has.
#[derive(Debug, Clone, Default)]
pub struct DemoSettings {
    /// Text its clients (`sms_confirmations`).
    pub sms: Option<bool>,
    /// Its own phone, where a person answers transfers (`Some(None)` removes it).
    pub person_phone: Option<Option<PhoneE164>>,
}

/// [`demo_salon`], texting its clients (`sms_confirmations`) as `sms` says, or as the stored
/// salon did when `sms` is `None`; returns whether it texts them.
pub async fn demo_salon_texting(
    store: &Store,
    number: PhoneE164,
    sms: Option<bool>,
) -> Result<bool, StoreError> {
    let settings = DemoSettings {
        sms,
        person_phone: None,
    };
    Ok(demo_salon_with(store, number, settings)
        .await?
        .sms_confirmations)
}

/// Writes the demo salon answering `number`, with `settings` (the rest as stored before);
/// returns it as written.
pub async fn demo_salon_with(
    store: &Store,
    number: PhoneE164,
    settings: DemoSettings,
) -> Result<Business, StoreError> {
    let mut business = demo::business(number);
    let stored = store.business(&business.id).await?;
    business.sms_confirmations = settings
        .sms
        .or(stored.as_ref().map(|b| b.sms_confirmations))
        .unwrap_or(false);
    business.person_phone = settings
        .person_phone
        .unwrap_or_else(|| stored.and_then(|b| b.person_phone));
    store.put_business(&business).await?;
    for service in demo::services() {
        store.put_service(&business.id, &service).await?;
    }
    Ok(business)
}
