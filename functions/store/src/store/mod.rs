//! The salon's book: every rule about storing bookings, written once over a [`Table`].
//!
//! [`Store`] and its errors and records live here; its methods are split by what they are
//! about: the catalogue and clients, free time, booking, and booked appointments (calls are in
//! `crate::calls`).

use std::sync::Arc;

use jiff::civil::DateTime;
use salon_domain::call::ToolCallRecord;
use salon_domain::{
    Appointment, AppointmentId, Booked, BusinessId, CallSid, ClientName, Clock, ConfigError,
    IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId, Slot, StaffId, SystemClock, Unavailable,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::table::{BackendError, Cond, Item, Table, Write};

mod appointments;
pub use appointments::{Move, Stylist};
mod availability;
mod blocks;
pub use blocks::BlockTimeError;
mod booking;
mod cache;
mod caps;
mod catalog;
mod holds;
mod person;
mod staff;
mod waitlist;
pub use holds::{Hold, HoldRequest};
pub use staff::AbsenceError;

pub use cache::CATALOG_TTL;
use cache::CatalogCache;

/// How many times a write is retried when concurrent writers got in the way.
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// The most writes one transaction may hold (DynamoDB's limit on `TransactWriteItems`).
pub(crate) const MAX_TRANSACTION_WRITES: usize = 100;

/// How many alternatives a refused time comes back with ("10:30 sau 11:15").
pub const ALTERNATIVES: usize = 3;

/// How many days after a wished date alternatives are looked for.
const ALTERNATIVE_DAYS: i64 = 14;

/// Storage failed; nothing about the salon's rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed or could not be reached.
    #[error("storage failed")]
    Backend(#[from] BackendError),
    /// An item did not decode: written by something else, or by an incompatible version.
    /// Names the kind of item only: keys hold phone numbers, and errors are logged.
    #[error("a stored {kind} item does not decode")]
    Corrupt {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
    /// A number can route to one business only.
    #[error("number {number} already routes to business {owner}")]
    NumberTaken {
        number: PhoneE164,
        owner: BusinessId,
    },
    /// A business configuration that breaks a rule.
    #[error("invalid business configuration")]
    InvalidBusiness(#[from] ConfigError),
    /// A service that does not hold together, or is longer than a booking can hold.
    #[error("invalid service")]
    InvalidService(#[from] salon_domain::service::ServiceError),
    /// Concurrent writers kept getting in the way; the caller may retry.
    #[error("too many concurrent writes to the same items")]
    Contended,
}

/// Why a booking, cancellation or move was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BookingError {
    /// No such business.
    #[error("unknown business {0}")]
    UnknownBusiness(BusinessId),
    /// No such service at this business.
    #[error("unknown service {0}")]
    UnknownService(ServiceId),
    /// The service is no longer offered.
    #[error("service {0} is not offered any more")]
    ServiceInactive(ServiceId),
    /// A new client must give a name.
    #[error("a new client must give a name")]
    NameRequired,
    /// The time cannot be had; the nearest free ones are offered instead.
    #[error("unavailable: {reason}")]
    Unavailable {
        reason: Unavailable,
        alternatives: Vec<Slot>,
    },
    /// The idempotency key was used for a different booking.
    #[error("idempotency key {0} was used for a different booking")]
    KeyReused(IdempotencyKey),
    /// No such appointment, or not the caller's.
    #[error("no such appointment")]
    NotFound,
    /// The appointment was cancelled and cannot be moved.
    #[error("the appointment is cancelled")]
    Cancelled,
    /// The same person (number and name) already has an appointment overlapping this time.
    #[error("the client already has an appointment at that time")]
    ClientBusy(Booked),
    /// Services one after another that would take longer than a booking can hold.
    #[error("a booking lasts at most {max_minutes} minutes")]
    TooLong { max_minutes: u16 },
    /// Too close to the appointment for a caller to cancel or move it (the salon's cut-off).
    #[error("changes by phone end {cutoff_minutes} minutes before the appointment")]
    TooLate { cutoff_minutes: u32 },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BackendError> for BookingError {
    fn from(e: BackendError) -> Self {
        Self::Store(e.into())
    }
}

/// A request to book, as the tools API hands it over.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub business: BusinessId,
    pub service: ServiceId,
    /// Services done right after `service` by the same stylist, in one booking (a
    /// combination); usually none.
    pub more: Vec<ServiceId>,
    /// Their number: none only for a walk-in the salon books (a call always has one).
    pub client: Option<PhoneE164>,
    /// Whether `client` is the caller ID or a number the caller said.
    pub phone_origin: PhoneOrigin,
    /// The name given on the call; required for a new client and for a spoken number.
    pub client_name: Option<ClientName>,
    /// The wished start, in the salon's local time.
    pub start: DateTime,
    /// A stylist the caller asked for.
    pub staff: Option<StaffId>,
    pub call_sid: Option<CallSid>,
    /// Makes the request safe to retry (`callSid:callId` from the relay).
    pub key: IdempotencyKey,
    /// The tool call asking for it: recorded on the call (`call_sid`) in the booking's own
    /// transaction, so a booking costs no separate write for its record.
    pub tool_call: Option<ToolCallRecord>,
    /// Who books it: the voice agent, or the salon in its console.
    pub source: salon_domain::Source,
}

impl BookingRequest {
    /// What makes two requests with one key the same request.
    fn fingerprint(&self) -> String {
        let staff = self.staff.as_ref().map_or("", |s| s.as_str());
        format!(
            "{}|{}|{}|{}|{}",
            self.business,
            self.client.as_ref().map_or("-", PhoneE164::as_str),
            self.services_key(),
            self.start,
            staff
        )
    }

    /// Its services, as one key: `tuns`, or `vopsit+spalat-coafat` for a combination.
    pub(crate) fn services_key(&self) -> String {
        std::iter::once(self.service.as_str())
            .chain(self.more.iter().map(ServiceId::as_str))
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// A tool call to record on its call in the same transaction as the change it made, so the
/// change costs no separate write for its record.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    pub call_sid: &'a CallSid,
    pub call: &'a ToolCallRecord,
}

/// A booked appointment, and whether this request only found an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub appointment: Appointment,
    /// The same request (or the same booking under a new key) had already booked it.
    pub replayed: bool,
    /// The request's `tool_call` was recorded with the booking (not when it was replayed).
    pub recorded: bool,
}

/// The appointment as stored, with the natural key it holds while booked.
#[derive(Serialize, Deserialize)]
struct StoredAppointment {
    #[serde(flatten)]
    appointment: Appointment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    natural_key: Option<String>,
    /// Its place in its stylist's day, in a salon with a daily cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cap_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct IdempotencyRecord {
    appointment: AppointmentId,
    fingerprint: String,
}

#[derive(Serialize, Deserialize)]
struct LockRecord {
    appointment: AppointmentId,
}

#[derive(Serialize, Deserialize)]
struct NumberRecord {
    business: BusinessId,
}

pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.data).map_err(|source| StoreError::Corrupt {
        kind: kind_of(&item.sk),
        source,
    })
}

/// The kind of an item from its sort key (`CLIENT#+40…` is a `CLIENT`), without its identity.
pub(crate) fn kind_of(sk: &str) -> String {
    let kind = sk.split('#').next().unwrap_or_default();
    if kind.chars().all(|c| c.is_ascii_uppercase()) {
        kind.to_owned()
    } else {
        "slot lock".to_owned()
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain types serialise to JSON")
}

pub(crate) fn put(
    pk: String,
    sk: String,
    version: u64,
    value: &impl Serialize,
    cond: Cond,
) -> Write {
    Write::Put {
        item: Item {
            pk,
            sk,
            version,
            data: encode(value),
            expires_at: None,
        },
        cond,
    }
}

/// The salon's book over a single table.
#[derive(Clone)]
pub struct Store {
    pub(crate) table: Arc<dyn Table>,
    /// Every "now" of the store: transcript expiry, and hiding what has expired.
    pub(crate) clock: Arc<dyn Clock>,
    /// How long call transcripts (personal data) are kept.
    pub(crate) retention_days: u32,
    /// The salons' profiles and services, shared by the store's clones.
    pub(crate) catalog: Arc<CatalogCache>,
}

impl Store {
    /// Wraps a table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            clock: Arc::new(SystemClock),
            retention_days: 30,
            catalog: Arc::default(),
        }
    }

    /// Replaces the clock (tests; the local stack's rehearsal clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Returns the table underneath, for tests that look at items as stored.
    #[cfg(feature = "testing")]
    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    /// Returns the store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Deletes what has expired by the store's clock (the embedded backend; DynamoDB's TTL
    /// does it by itself).
    pub async fn purge_expired(&self) -> Result<(), StoreError> {
        Ok(self
            .table
            .purge_expired(self.clock.now().as_second())
            .await?)
    }

    /// Keeps call transcripts for `days` (`TRANSCRIPT_RETENTION_DAYS`); the rest of a call
    /// record stays.
    /// How many days transcripts and messages are kept.
    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    pub fn with_transcript_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }
}

/// Sleeps a random time that grows with the attempt (up to about 50 ms), to break up writers
/// that keep colliding on one item.
pub(crate) async fn jittered_pause(attempt: usize) {
    let ceiling = 2u64 << attempt.min(5);
    let millis = (uuid::Uuid::new_v4().as_u128() % u128::from(ceiling)) as u64 + 1;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

fn unavailable(reason: Unavailable) -> BookingError {
    BookingError::Unavailable {
        reason,
        alternatives: Vec::new(),
    }
}
