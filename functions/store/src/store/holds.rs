//! Holds: the time a caller picked, kept for their call for a few minutes while they decide.
//!
//! A hold is the stylist's slot locks themselves, written as held by the call until an
//! instant (and with that instant as the item's expiry, for the table's TTL): other callers'
//! reads see the time busy, and their bookings' conditional writes cannot take it. A booking
//! from the same call takes the locks over on condition of the version it read; an expired
//! hold is ignored by every read and taken over the same way by anyone. The call's holds are
//! listed under `HOLD#{call}`, so the end of the call can release them.

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use salon_domain::availability::prefer;
use salon_domain::{BusinessId, CallSid, PhoneE164, ServiceId, StaffId};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::table::{Cond, Item, TransactError, Write};

use super::availability::{Checked, SlotLock, Takeable, View};
use super::caps::Claim;
use super::{BookingError, MAX_ATTEMPTS, Store, StoreError, decode, encode, jittered_pause};

/// A request to hold a time for a call.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    pub business: BusinessId,
    pub service: ServiceId,
    /// Services right after it, for a combination.
    pub more: Vec<ServiceId>,
    /// The picked start, in the salon's local time.
    pub start: DateTime,
    /// A stylist the caller asked for.
    pub staff: Option<StaffId>,
    pub call: CallSid,
    /// The caller ID, when there is one: for "anyone", a known client's last stylist comes
    /// first, as when booking (the hold decides who the booking is with).
    pub client: Option<PhoneE164>,
}

/// A time held for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub staff: StaffId,
    pub start: ZonedDateTime,
    pub end: ZonedDateTime,
    /// When the hold lapses unless the call books.
    pub until: Timestamp,
}

/// The locks a call holds, as written, for releasing them when the call ends.
#[derive(Serialize, Deserialize)]
struct HoldIndex {
    locks: Vec<(String, u64)>,
    until: Timestamp,
}

/// Deletes the call's own holds read in `takeable` but not among `keep`, each on condition
/// it is still as read.
pub(super) fn release_unused(
    business: &BusinessId,
    takeable: &Takeable,
    keep: &[String],
) -> Vec<Write> {
    let mut own: Vec<(&String, u64)> = takeable
        .iter()
        .filter(|(sk, (_, own))| *own && !keep.contains(sk))
        .map(|(sk, (v, _))| (sk, *v))
        .collect();
    // In key order, so a transaction's writes do not depend on a map's order.
    own.sort();
    own.into_iter()
        .map(|(sk, v)| Write::Delete {
            pk: keys::slots(business),
            sk: sk.clone(),
            cond: Cond::Version(v),
        })
        .collect()
}

/// Forgets the list of a call's holds (its booking took them over or released them).
pub(super) fn forget(business: &BusinessId, call: &CallSid) -> Write {
    Write::Delete {
        pk: keys::business(business),
        sk: keys::hold(call),
        cond: Cond::Any,
    }
}

impl Store {
    /// Holds a time for a call for `minutes`: other callers do not see it and cannot book it
    /// until the call books it, ends, or the hold lapses. A call holds one time: a new hold
    /// releases the call's earlier one (when read with it; else it lapses).
    pub async fn hold(
        &self,
        req: &HoldRequest,
        minutes: u16,
        now: Timestamp,
    ) -> Result<Hold, BookingError> {
        let (b, job) = self.job(&req.business, &req.service, &req.more).await?;
        let until = now
            .checked_add(SignedDuration::from_mins(i64::from(minutes)))
            .unwrap_or(now);
        let view = View {
            except: None,
            call: Some(&req.call),
            now,
        };
        let last = match (&req.client, &req.staff) {
            (Some(phone), None) if job.qualified(&b) > 1 => {
                self.last_stylist_of(&b.id, phone, now).await?
            }
            _ => None,
        };
        for attempt in 0..MAX_ATTEMPTS {
            let Checked {
                mut slot,
                takeable,
                caps,
            } = self
                .check_with(&b, &job, req.start, req.staff.as_ref(), &view)
                .await?;
            prefer(&mut slot.staff, last.as_ref());
            let steps = job.work.staff_steps(slot.start.timestamp());
            // Already held by this call with someone: keep them.
            let staff = slot
                .staff
                .iter()
                .find(|s| {
                    steps
                        .iter()
                        .all(|&st| takeable.get(&keys::slot(st, s)).is_some_and(|t| t.1))
                })
                .unwrap_or(&slot.staff[0])
                .clone();
            // A place in the stylist's day, under the salon's daily cap.
            let token = match caps.claim(slot.start.date(), &staff) {
                Some(Claim::Take(sk)) => Some(sk),
                Some(Claim::Uncapped | Claim::Keep(_)) => None,
                None => {
                    jittered_pause(attempt).await;
                    continue;
                }
            };
            let mine: Vec<String> = steps
                .iter()
                .map(|&st| keys::slot(st, &staff))
                .chain(token)
                .collect();
            let lock = encode(&SlotLock::Held {
                held_by: req.call.clone(),
                until,
            });
            let mut writes = Vec::new();
            let mut index = Vec::new();
            for sk in &mine {
                let (version, cond) = match takeable.get(sk) {
                    Some(&(v, _)) => (v + 1, Cond::Version(v)),
                    None => (1, Cond::Absent),
                };
                index.push((sk.clone(), version));
                writes.push(Write::Put {
                    item: Item {
                        pk: keys::slots(&req.business),
                        sk: sk.clone(),
                        version,
                        data: lock.clone(),
                        expires_at: Some(until.as_second()),
                    },
                    cond,
                });
            }
            writes.extend(release_unused(&req.business, &takeable, &mine));
            writes.push(Write::Put {
                item: Item {
                    pk: keys::business(&req.business),
                    sk: keys::hold(&req.call),
                    version: 1,
                    data: encode(&HoldIndex {
                        locks: index,
                        until,
                    }),
                    expires_at: Some(until.as_second()),
                },
                cond: Cond::Any,
            });
            match self.table.transact(writes).await {
                Ok(()) => {
                    return Ok(Hold {
                        staff,
                        start: slot.start,
                        end: slot.end,
                        until,
                    });
                }
                Err(TransactError::Backend(e)) => return Err(e.into()),
                // Taken meanwhile (by a booking, or another call's hold): look again.
                Err(_) => jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended.into())
    }

    /// Releases what a call still holds (the call ended). Locks a booking took over, or that
    /// lapsed and were taken since, are left alone.
    pub async fn release_holds(
        &self,
        business: &BusinessId,
        call: &CallSid,
    ) -> Result<(), StoreError> {
        let Some(item) = self
            .table
            .get(&keys::business(business), &keys::hold(call))
            .await?
        else {
            return Ok(());
        };
        let index: HoldIndex = decode(&item)?;
        let mut locks = index.locks;
        for _ in 0..MAX_ATTEMPTS {
            let mut writes: Vec<Write> = locks
                .iter()
                .map(|(sk, v)| Write::Delete {
                    pk: keys::slots(business),
                    sk: sk.clone(),
                    cond: Cond::Version(*v),
                })
                .collect();
            writes.push(forget(business, call));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(TransactError::Conflict(failed)) => {
                    // No longer this call's: leave those.
                    let mut i = 0;
                    locks.retain(|_| {
                        i += 1;
                        !failed.contains(&(i - 1))
                    });
                }
                Err(TransactError::Contended) => jittered_pause(0).await,
            }
        }
        Err(StoreError::Contended)
    }
}
