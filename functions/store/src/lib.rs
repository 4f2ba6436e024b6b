//! Storage for the salon's book: one single-table interface ([`Table`]) with a DynamoDB and an
//! embedded backend, and the booking rules written once on top of it ([`Store`]).
#![forbid(unsafe_code)]

mod calls;
pub mod dynamo;
pub mod embedded;
mod keys;
mod messages;
mod notices;
mod owners;
pub mod seed;
mod store;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;

pub use calls::ClaimError;
pub use dynamo::DynamoTable;
pub use embedded::EmbeddedTable;
pub use notices::{Claimed, SENDING_LEASE, SMS_ATTEMPTS, SmsOutcome, Waiting};
pub use store::{
    ALTERNATIVES, AbsenceError, BlockTimeError, Booking, BookingError, BookingRequest, CATALOG_TTL,
    Hold, HoldRequest, Move, Recording, Store, StoreError, Stylist,
};
pub use table::{BackendError, Table};
