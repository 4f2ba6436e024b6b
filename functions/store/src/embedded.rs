//! The embedded backend: the single table in a `redb` file, for local runs with no server.
//!
//! redb runs one write transaction at a time, so checking every condition and applying every
//! write inside one write transaction gives DynamoDB's all-or-nothing, race-free transactions
//! within this process. Data survives restarts; it is not meant for several processes.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::table::{BackendError, Cond, Item, SkRange, Table, TransactError, Write};

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// What is stored under a key.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u64,
    d: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<i64>,
}

/// A single table in one file.
#[derive(Clone)]
pub struct EmbeddedTable {
    db: Arc<Database>,
}

fn err(what: &'static str) -> impl FnOnce(redb::Error) -> BackendError {
    move |e| BackendError::new(what, e)
}

impl EmbeddedTable {
    /// Opens the table in `dir` (created if missing). Expired items stay until
    /// [`Table::purge_expired`] runs with the store's clock.
    pub fn open(dir: &Path) -> Result<Self, BackendError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BackendError::new(format!("creating {}", dir.display()), e))?;
        let db = Database::create(dir.join("salon.redb"))
            .map_err(|e| err("opening the embedded store")(e.into()))?;
        Ok(Self { db: Arc::new(db) })
    }

    /// A table held in memory only, gone with the process: for measuring what the handlers
    /// and the store's logic cost without a disk's `fsync` in every write (the benchmarks).
    pub fn in_memory() -> Result<Self, BackendError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| err("opening an in-memory store")(e.into()))?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Removes items whose `expires_at` is at or before `now` (Unix seconds), as DynamoDB's
    /// TTL does.
    fn purge(&self, now: i64) -> Result<(), BackendError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| err("purging")(e.into()))?;
        {
            let mut t = txn
                .open_table(ITEMS)
                .map_err(|e| err("purging")(e.into()))?;
            t.retain(|_, v| {
                serde_json::from_slice::<Stored>(v).map_or(true, |s| s.e.is_none_or(|e| e > now))
            })
            .map_err(|e| err("purging")(e.into()))?;
        }
        txn.commit().map_err(|e| err("purging")(e.into()))
    }

    fn read(&self, pk: &str, range: SkRange<'_>) -> Result<Vec<Item>, BackendError> {
        let txn = self.db.begin_read().map_err(|e| err("reading")(e.into()))?;
        let t = match txn.open_table(ITEMS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err("reading")(e.into())),
        };
        let from = match range {
            SkRange::Prefix(p) => p,
            SkRange::Between(a, _) => a,
        };
        let mut out = Vec::new();
        for entry in t
            .range((pk, from)..)
            .map_err(|e| err("reading")(e.into()))?
        {
            let (k, v) = entry.map_err(|e| err("reading")(e.into()))?;
            let (kpk, ksk) = k.value();
            let inside = kpk == pk
                && match range {
                    SkRange::Prefix(p) => ksk.starts_with(p),
                    SkRange::Between(_, b) => ksk <= b,
                };
            if !inside {
                break;
            }
            let s: Stored = serde_json::from_slice(v.value())
                .map_err(|e| BackendError::new("decoding an item", e))?;
            out.push(Item {
                pk: kpk.to_owned(),
                sk: ksk.to_owned(),
                version: s.v,
                data: s.d,
                expires_at: s.e,
            });
        }
        Ok(out)
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), TransactError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| err("writing")(e.into()))?;
        {
            let mut t = txn
                .open_table(ITEMS)
                .map_err(|e| err("writing")(e.into()))?;
            let mut failed = Vec::new();
            for (i, w) in writes.iter().enumerate() {
                let (pk, sk, cond) = match w {
                    Write::Put { item, cond } => (item.pk.as_str(), item.sk.as_str(), *cond),
                    Write::Delete { pk, sk, cond } => (pk.as_str(), sk.as_str(), *cond),
                    Write::Ensure { .. } => continue,
                };
                let current = t
                    .get((pk, sk))
                    .map_err(|e| err("writing")(e.into()))?
                    .map(|v| serde_json::from_slice::<Stored>(v.value()))
                    .transpose()
                    .map_err(|e| BackendError::new("decoding an item", e))?;
                let holds = match cond {
                    Cond::Any => true,
                    Cond::Absent => current.is_none(),
                    Cond::Version(v) => current.is_some_and(|s| s.v == v),
                };
                if !holds {
                    failed.push(i);
                }
            }
            if !failed.is_empty() {
                // Dropping the transaction uncommitted writes nothing.
                return Err(TransactError::Conflict(failed));
            }
            for w in writes {
                let item = match w {
                    Write::Put { item, .. } => item,
                    Write::Ensure { item } => {
                        let exists = t
                            .get((item.pk.as_str(), item.sk.as_str()))
                            .map_err(|e| err("writing")(e.into()))?
                            .is_some();
                        if exists {
                            continue;
                        }
                        item
                    }
                    Write::Delete { pk, sk, .. } => {
                        t.remove((pk.as_str(), sk.as_str()))
                            .map_err(|e| err("writing")(e.into()))?;
                        continue;
                    }
                };
                let bytes = serde_json::to_vec(&Stored {
                    v: item.version,
                    d: item.data,
                    e: item.expires_at,
                })
                .map_err(|e| BackendError::new("encoding an item", e))?;
                t.insert((item.pk.as_str(), item.sk.as_str()), bytes.as_slice())
                    .map_err(|e| err("writing")(e.into()))?;
            }
        }
        txn.commit().map_err(|e| err("committing")(e.into()))?;
        Ok(())
    }
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, BackendError> {
        let this = self.clone();
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        blocking(move || {
            Ok(this
                .read(&pk, SkRange::Between(&sk, &sk))?
                .into_iter()
                .next())
        })
        .await
    }

    async fn query(&self, pk: &str, range: SkRange<'_>) -> Result<Vec<Item>, BackendError> {
        let this = self.clone();
        let pk = pk.to_owned();
        let (a, b, prefix) = match range {
            SkRange::Prefix(p) => (p.to_owned(), String::new(), true),
            SkRange::Between(a, b) => (a.to_owned(), b.to_owned(), false),
        };
        blocking(move || {
            let range = if prefix {
                SkRange::Prefix(&a)
            } else {
                SkRange::Between(&a, &b)
            };
            this.read(&pk, range)
        })
        .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TransactError> {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || this.apply(writes)).await {
            Ok(r) => r,
            Err(e) => Err(BackendError::new("the store's worker thread failed", e).into()),
        }
    }

    async fn purge_expired(&self, now: i64) -> Result<(), BackendError> {
        let this = self.clone();
        blocking(move || this.purge(now)).await
    }
}

/// Runs redb's blocking I/O off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BackendError> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackendError::new("the store's worker thread failed", e))?
}
