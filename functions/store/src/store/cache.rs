//! What a warm instance keeps of each salon: its profile with its services, and which salon a
//! number reaches, each read at most once per [`CATALOG_TTL`]. A tool call then pays for its
//! own reads and writes only, not for the salon's every time.
//!
//! An edit through this store is seen at once (it clears what it changed); an edit through
//! another instance (another Lambda, the owner's console) is seen within [`CATALOG_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use salon_domain::{Business, BusinessId, PhoneE164, Service};

/// How long a salon's profile and services are kept before they are read again.
pub const CATALOG_TTL: Duration = Duration::from_secs(60);

/// A salon as read: its profile (none if it does not exist) and all its services.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub(crate) business: Option<Business>,
    pub(crate) services: Vec<Service>,
}

#[derive(Default)]
pub(crate) struct CatalogCache {
    salons: Mutex<HashMap<BusinessId, (Timestamp, Arc<Catalog>)>>,
    numbers: Mutex<HashMap<PhoneE164, (Timestamp, Option<BusinessId>)>>,
}

/// Whether something read at `read_at` may still be used at `now`. A clock that went back
/// (a test, a rehearsal) makes it stale too.
fn fresh(read_at: Timestamp, now: Timestamp) -> bool {
    let age = now.duration_since(read_at);
    !age.is_negative() && age.unsigned_abs() < CATALOG_TTL
}

impl CatalogCache {
    pub(crate) fn salon(&self, id: &BusinessId, now: Timestamp) -> Option<Arc<Catalog>> {
        let salons = self.salons.lock().unwrap_or_else(|e| e.into_inner());
        salons
            .get(id)
            .filter(|(at, _)| fresh(*at, now))
            .map(|(_, c)| c.clone())
    }

    pub(crate) fn keep_salon(&self, id: BusinessId, now: Timestamp, catalog: Arc<Catalog>) {
        let mut salons = self.salons.lock().unwrap_or_else(|e| e.into_inner());
        salons.insert(id, (now, catalog));
    }

    pub(crate) fn number(&self, n: &PhoneE164, now: Timestamp) -> Option<Option<BusinessId>> {
        let numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        numbers
            .get(n)
            .filter(|(at, _)| fresh(*at, now))
            .map(|(_, b)| b.clone())
    }

    pub(crate) fn keep_number(&self, n: PhoneE164, now: Timestamp, business: Option<BusinessId>) {
        let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
        numbers.insert(n, (now, business));
    }

    /// Forgets a salon and every number routed anywhere (a salon's numbers changed).
    pub(crate) fn forget(&self, id: &BusinessId) {
        self.salons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.numbers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
