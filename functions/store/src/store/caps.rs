//! The salon's daily cap per stylist, kept atomically: a stylist-day has at most `cap` tokens,
//! `CAP#{day}#{staff}#{k}` for `k` below the cap, in the slots partition. A booking writes
//! one on condition that it does not exist (or is the version read), in the same transaction
//! as its slot locks, so two racing bookings cannot both take the last place; a hold takes one
//! for its call the same way, a cancellation deletes its appointment's, a move to another
//! stylist or day swaps them. Tokens are read with the slot locks, and only in a salon with a
//! cap.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;
use salon_domain::{Business, StaffId};

use crate::keys;
use crate::table::{Cond, SkRange};

use super::availability::{SlotLock, Takeable, View};
use super::{Store, StoreError, decode, kind_of};

/// The cap tokens of some days, as one reader sees them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caps {
    /// The salon's cap (none: nothing is counted).
    cap: Option<u8>,
    /// Per stylist-day, the token numbers held by others: appointments, and live holds of
    /// other calls.
    used: HashMap<(Date, StaffId), BTreeSet<u8>>,
    /// Per stylist-day, the token the reader holds already: its call's hold, or the token of
    /// the appointment being moved.
    mine: HashMap<(Date, StaffId), String>,
    /// Of those, the moved appointment's own tokens (kept, not written).
    kept: BTreeSet<String>,
}

/// The token a write needs for a stylist-day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// No cap: nothing to write.
    Uncapped,
    /// The appointment being moved keeps its own token there.
    Keep(String),
    /// This token, taken over as read (`Takeable`) or written anew.
    Take(String),
}

impl Caps {
    /// The stylist-days that have as many tokens held by others as the cap.
    pub(crate) fn full_days(&self) -> BTreeSet<(StaffId, Date)> {
        let Some(cap) = self.cap else {
            return BTreeSet::new();
        };
        self.used
            .iter()
            .filter(|(key, used)| !self.mine.contains_key(key) && used.len() >= usize::from(cap))
            .map(|((day, staff), _)| (staff.clone(), *day))
            .collect()
    }

    /// The token a booking, hold or move with `staff` on `day` writes, or `None` when the day
    /// is full for them. A free place is picked at random, so racing writers seldom meet on
    /// one while others are left.
    pub(crate) fn claim(&self, day: Date, staff: &StaffId) -> Option<Claim> {
        let Some(cap) = self.cap else {
            return Some(Claim::Uncapped);
        };
        let key = (day, staff.clone());
        if let Some(sk) = self.mine.get(&key) {
            return Some(match self.kept.contains(sk) {
                true => Claim::Keep(sk.clone()),
                false => Claim::Take(sk.clone()),
            });
        }
        let used = self.used.get(&key);
        let free: Vec<u8> = (0..cap)
            .filter(|k| used.is_none_or(|u| !u.contains(k)))
            .collect();
        if used.is_some_and(|u| u.len() >= usize::from(cap)) || free.is_empty() {
            return None;
        }
        let pick = (uuid::Uuid::new_v4().as_u128() % free.len() as u128) as usize;
        Some(Claim::Take(keys::cap(day, staff, free[pick])))
    }
}

impl Store {
    /// Reads the cap tokens of local dates `from..=to` as `view` sees them, with those it may
    /// take over (its call's holds, expired holds).
    pub(super) async fn caps(
        &self,
        b: &Business,
        from: Date,
        to: Date,
        view: &View<'_>,
    ) -> Result<(Caps, Takeable), StoreError> {
        let mut caps = Caps {
            cap: b.rules.daily_cap,
            ..Caps::default()
        };
        let mut takeable = Takeable::new();
        if caps.cap.is_none() {
            return Ok((caps, takeable));
        }
        let (a, z) = (
            format!("{}{from}", keys::CAP_PREFIX),
            format!("{}{to}#~", keys::CAP_PREFIX),
        );
        let items = self
            .table
            .query(&keys::slots(&b.id), SkRange::Between(&a, &z))
            .await?;
        for item in items {
            let Some((day, staff, k)) = keys::parse_cap(&item.sk) else {
                return Err(StoreError::Corrupt {
                    kind: kind_of(&item.sk),
                    source: serde::de::Error::custom("a cap token's key is not CAP#day#staff#k"),
                });
            };
            let key = (day, staff);
            match decode::<SlotLock>(&item)? {
                SlotLock::Booked { appointment } if Some(&appointment) == view.except => {
                    caps.kept.insert(item.sk.clone());
                    caps.mine.insert(key, item.sk);
                }
                SlotLock::Booked { .. } => {
                    caps.used.entry(key).or_default().insert(k);
                }
                // An expired hold holds no place: anyone may take it over.
                SlotLock::Held { until, .. } if until <= view.now => {
                    takeable.insert(item.sk, (item.version, false));
                }
                SlotLock::Held { held_by, .. } if Some(&held_by) == view.call => {
                    takeable.insert(item.sk.clone(), (item.version, true));
                    caps.mine.insert(key, item.sk);
                }
                // A block never writes a token; were one found, its place is used.
                SlotLock::Held { .. } | SlotLock::Blocked { .. } => {
                    caps.used.entry(key).or_default().insert(k);
                }
            }
        }
        Ok((caps, takeable))
    }
}

/// The write of a claimed token: its version and condition, as `takeable` read it.
pub(crate) fn token_version(takeable: &Takeable, sk: &str) -> (u64, Cond) {
    match takeable.get(sk) {
        Some(&(v, _)) => (v + 1, Cond::Version(v)),
        None => (1, Cond::Absent),
    }
}
