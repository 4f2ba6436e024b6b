//! Time the owner blocks for a stylist (a break, an errand).
//!
//! A block writes the stylist's slot locks (as blocked by it) and its own item
//! (`BLOCK#{start}#{id}` in the salon's partition) in one transaction, each lock on condition
//! that nothing holds it (or only a lapsed hold): a booking the agent has just made, or a
//! caller's live hold, makes the block fail whole. Removing it deletes both the same way.

use jiff::Timestamp;
use jiff::civil::Date;
use salon_domain::block::BlockError;
use salon_domain::{Block, Business, BusinessId, StaffId};

use crate::keys;
use crate::table::{Cond, Item, SkRange, TransactError, Write};

use super::availability::{Holder, SlotLock};
use super::{MAX_ATTEMPTS, Store, StoreError, decode, encode, jittered_pause, put};

/// Why time could not be blocked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockTimeError {
    /// No such salon, or no such stylist in it.
    #[error("no such stylist")]
    UnknownStaff,
    /// A shape the locks cannot carry.
    #[error(transparent)]
    Invalid(#[from] BlockError),
    /// Part of the time is booked, held by a caller, or blocked already.
    #[error("the time is taken")]
    Taken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Blocks a stylist's time from `start` to `end`: nobody can book it until it is removed.
    pub async fn block_time(
        &self,
        business: &BusinessId,
        staff: &StaffId,
        start: Timestamp,
        end: Timestamp,
        note: &str,
    ) -> Result<Block, BlockTimeError> {
        let b = self
            .business(business)
            .await?
            .ok_or(BlockTimeError::UnknownStaff)?;
        if b.staff_member(staff).is_none() {
            return Err(BlockTimeError::UnknownStaff);
        }
        let id = format!(
            "{}-{}",
            start.as_second(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let block = Block::new(id, staff.clone(), start, end, note)?;
        let steps = block.steps();
        for attempt in 0..MAX_ATTEMPTS {
            let now = self.clock.now();
            let (first, last) = (steps[0], *steps.last().expect("a block holds a step"));
            let mut seen = std::collections::HashMap::new();
            for lock in self.locks(business, first, last).await? {
                if &lock.staff != staff {
                    continue;
                }
                match lock.holder {
                    // A lapsed hold holds nothing.
                    Holder::Call { until, .. } if until <= now => {
                        seen.insert(lock.sk, lock.version);
                    }
                    _ => return Err(BlockTimeError::Taken),
                }
            }
            let lock = encode(&SlotLock::Blocked {
                blocked: block.id().to_owned(),
            });
            let mut writes: Vec<Write> = steps
                .iter()
                .map(|&st| {
                    let sk = keys::slot(st, staff);
                    let (version, cond) = match seen.get(&sk) {
                        Some(&v) => (v + 1, Cond::Version(v)),
                        None => (1, Cond::Absent),
                    };
                    Write::Put {
                        item: Item {
                            pk: keys::slots(business),
                            sk,
                            version,
                            data: lock.clone(),
                            expires_at: None,
                        },
                        cond,
                    }
                })
                .collect();
            writes.push(put(
                keys::business(business),
                keys::block(start, block.id()),
                1,
                &block,
                Cond::Absent,
            ));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(block),
                Err(TransactError::Backend(e)) => return Err(StoreError::from(e).into()),
                // Someone took a step meanwhile: read again (and refuse if it is held now).
                Err(_) => jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended.into())
    }

    /// The blocks of a salon that begin on a local date, by start.
    pub async fn blocks_on(&self, b: &Business, day: Date) -> Result<Vec<Block>, StoreError> {
        self.blocks_between(b, day, day).await
    }

    /// The blocks of a salon that begin on local dates `from..=to`, by start: one query.
    pub async fn blocks_between(
        &self,
        b: &Business,
        from: Date,
        to: Date,
    ) -> Result<Vec<Block>, StoreError> {
        let tz = b.time_zone.tz().clone();
        let (Ok(from), Ok(to)) = (
            from.to_zoned_datetime(tz.clone()),
            to.tomorrow().and_then(|d| d.to_zoned_datetime(tz)),
        ) else {
            return Ok(Vec::new());
        };
        let (a, z) = (
            keys::block(from.timestamp(), ""),
            keys::block(to.timestamp(), ""),
        );
        let items = self
            .table
            .query(&keys::business(&b.id), SkRange::Between(&a, &z))
            .await?;
        items
            .iter()
            .filter(|i| i.sk < z)
            .map(decode::<Block>)
            .collect()
    }

    /// Removes a block and frees its time; `false` when there is no such block.
    pub async fn unblock(&self, business: &BusinessId, id: &str) -> Result<bool, StoreError> {
        // The id begins with the block's start (its key's order), so no index is needed.
        let Some(start) = id
            .split_once('-')
            .and_then(|(s, _)| s.parse::<i64>().ok())
            .and_then(|s| Timestamp::from_second(s).ok())
        else {
            return Ok(false);
        };
        let (pk, sk) = (keys::business(business), keys::block(start, id));
        let Some(item) = self.table.get(&pk, &sk).await? else {
            return Ok(false);
        };
        let block: Block = decode(&item)?;
        let mut writes = vec![Write::Delete {
            pk,
            sk,
            cond: Cond::Version(item.version),
        }];
        // Only the locks still blocked by it: a lock is never someone else's to delete.
        let (first, last) = (block.start(), block.end());
        for lock in self.locks(business, first, last).await? {
            if let Holder::Block(b) = &lock.holder
                && b == id
                && lock.start < last
            {
                writes.push(Write::Delete {
                    pk: keys::slots(business),
                    sk: lock.sk,
                    cond: Cond::Version(lock.version),
                });
            }
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(true),
            Err(TransactError::Backend(e)) => Err(e.into()),
            Err(_) => Err(StoreError::Contended),
        }
    }
}
