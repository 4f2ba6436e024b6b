//! The single table both backends implement: items under a partition and a sort key, read
//! consistently, written in all-or-nothing conditional transactions.
//!
//! Every rule about bookings lives once, in [`crate::Store`], on top of this interface; the
//! DynamoDB and embedded backends only store items and enforce conditions, so they cannot
//! drift apart in behaviour.

use async_trait::async_trait;

/// One stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Partition key (`BIZ#salon-demo`).
    pub pk: String,
    /// Sort key (`APPT#…`).
    pub sk: String,
    /// Bumped on every write, for optimistic concurrency ([`Cond::Version`]).
    pub version: u64,
    /// The entity, as JSON.
    pub data: String,
    /// Unix seconds after which the item is gone (DynamoDB TTL; the embedded store purges too).
    pub expires_at: Option<i64>,
}

/// What must hold for a write to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// Nothing.
    Any,
    /// The item does not exist: claims a slot or a key.
    Absent,
    /// The item exists at this version: nobody changed it since it was read.
    Version(u64),
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Create or replace an item.
    Put { item: Item, cond: Cond },
    /// Remove an item.
    Delete { pk: String, sk: String, cond: Cond },
    /// Create an item unless it exists; an existing one is left as it is, and the write never
    /// fails the transaction (a new client, created without reading whether it exists).
    Ensure { item: Item },
}

/// Which sort keys a query returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkRange<'a> {
    /// Sort keys starting with this prefix.
    Prefix(&'a str),
    /// Sort keys between these two, both included.
    Between(&'a str, &'a str),
}

/// A backend failed: the request may not have been carried out.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct BackendError {
    what: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl BackendError {
    /// Wraps a backend's own error, saying what was being done.
    pub fn new(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Describes a failure that has no underlying error.
    pub fn msg(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }
}

/// Why a transaction wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum TransactError {
    /// These writes' conditions failed (indexes into the transaction).
    #[error("conditions failed on writes {0:?}")]
    Conflict(Vec<usize>),
    /// Another transaction touched the same items at the same moment; retrying may succeed.
    #[error("contended by a concurrent transaction")]
    Contended,
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// A single table of items.
#[async_trait]
pub trait Table: Send + Sync + 'static {
    /// Reads one item, strongly consistent.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, BackendError>;

    /// Reads a partition's items in a sort-key range, in sort-key order, strongly consistent.
    async fn query(&self, pk: &str, range: SkRange<'_>) -> Result<Vec<Item>, BackendError>;

    /// Applies every write or none. At most 100 writes, each on a different item.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TransactError>;

    /// Deletes items whose `expires_at` is at or before `now` (Unix seconds). Reads return
    /// expired items until then, as DynamoDB's TTL, which deletes late, does: the store hides
    /// them by its clock. DynamoDB deletes by itself, so the default does nothing.
    async fn purge_expired(&self, _now: i64) -> Result<(), BackendError> {
        Ok(())
    }
}
