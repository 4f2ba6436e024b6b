//! A person's time: one lock per 15-minute step, claimed in the same transaction as the
//! booking or the move, so nothing is read to know whether a person is free.
//!
//! A move leaves its old locks behind when deleting them would take the transaction past
//! DynamoDB's 100 actions (an 8-hour service moved to another day), so a lock is not proof: a
//! transaction that meets one reads its appointment, and a lock whose appointment no longer
//! holds the step is overwritten on condition of the version seen (of two bookings racing for
//! it, one wins).

use std::collections::HashMap;

use jiff::Timestamp;
use salon_domain::availability::LOCK_STEP;
use salon_domain::{AppointmentId, Booked, BusinessId, PhoneE164};

use crate::keys;
use crate::table::{Cond, Item, Write};

use super::{LockRecord, Store, StoreError, decode, encode};

/// One person's locks, and those of them found left behind.
pub(super) struct PersonLocks {
    pk: String,
    /// Locks whose appointment no longer holds their step, by sort key: the version seen, to
    /// overwrite on condition nobody claimed them meanwhile.
    stale: HashMap<String, u64>,
}

impl PersonLocks {
    pub(super) fn new(business: &BusinessId, phone: Option<&PhoneE164>, name: &str) -> Self {
        Self {
            pk: keys::person(business, phone, name),
            stale: HashMap::new(),
        }
    }

    /// Claims `steps` for `appointment`: each on condition it is free (or is a stale lock
    /// nobody touched since). Each lock expires when its step ends, so the partition does
    /// not grow with the past.
    pub(super) fn claim(
        &self,
        steps: impl IntoIterator<Item = Timestamp>,
        appointment: &AppointmentId,
    ) -> Vec<Write> {
        let data = encode(&LockRecord {
            appointment: appointment.clone(),
        });
        steps
            .into_iter()
            .map(|step| {
                let sk = keys::instant(step);
                let (version, cond) = match self.stale.get(&sk) {
                    Some(&v) => (v + 1, Cond::Version(v)),
                    None => (1, Cond::Absent),
                };
                let expires = step.checked_add(LOCK_STEP).unwrap_or(step).as_second();
                Write::Put {
                    item: Item {
                        pk: self.pk.clone(),
                        sk,
                        version,
                        data: data.clone(),
                        expires_at: Some(expires),
                    },
                    cond,
                }
            })
            .collect()
    }

    /// Frees `steps` (they are the appointment's own while it holds them).
    pub(super) fn release(&self, steps: impl IntoIterator<Item = Timestamp>) -> Vec<Write> {
        steps
            .into_iter()
            .map(|step| Write::Delete {
                pk: self.pk.clone(),
                sk: keys::instant(step),
                cond: Cond::Any,
            })
            .collect()
    }
}

impl Store {
    /// Looks at the locks of `person` a transaction failed on (its `claims`, by index): the
    /// appointment of this person that holds one of their steps, if any. Every other lock is
    /// marked stale, or free if it is gone, for the next attempt.
    pub(super) async fn person_clash(
        &self,
        business: &BusinessId,
        person: &mut PersonLocks,
        failed: impl IntoIterator<Item = &Write>,
        me: Option<&AppointmentId>,
    ) -> Result<Option<Booked>, StoreError> {
        for write in failed {
            let Write::Put { item: claim, .. } = write else {
                continue;
            };
            let Some(item) = self.table.get(&person.pk, &claim.sk).await? else {
                person.stale.remove(&claim.sk);
                continue;
            };
            let lock: LockRecord = decode(&item)?;
            let step = claim.sk.parse::<Timestamp>().ok();
            if Some(&lock.appointment) != me
                && let Some(step) = step
                && let Some(a) = self.appointment(business, &lock.appointment).await?
                && a.holds(step)
            {
                return Ok(Some(Booked {
                    appointment: a.id,
                    start: a.start,
                    end: a.end,
                }));
            }
            // Left behind by a move or a cancellation (or by this appointment's earlier time).
            person.stale.insert(claim.sk.clone(), item.version);
        }
        Ok(None)
    }
}
