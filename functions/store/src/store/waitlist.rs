//! The waitlist, in the salon's `BIZ#{b}#WAIT` partition (`{day}#{id}`): one query reads a
//! day's entries. An entry is kept once per id (a retried tool call adds nothing) and expires
//! the day after its day (DynamoDB's TTL; the embedded store's purge). When a cancellation or
//! a move frees a time, the first entry of that day it fits is offered it: the offer is written
//! on the entry, on condition the entry is as read, with the text that tells the client in the
//! same transaction, so a time is offered once and an entry gets one offer. Only a salon that
//! sends texts keeps a waitlist: elsewhere a cancellation or a move reads nothing more.

use jiff::Timestamp;
use jiff::civil::Date;
use salon_domain::sms::Notice;
use salon_domain::{Appointment, Business, BusinessId, Offer, WaitlistEntry};

use crate::keys;
use crate::notices::notice_write;
use crate::table::{Cond, Item, SkRange, TransactError, Write};

use super::availability::View;
use super::{BookingError, Store, StoreError, decode, encode};

impl Store {
    /// Puts a client on the waitlist of a day; returns the entry as kept (an entry with the
    /// same id already kept: that one).
    pub async fn join_waitlist(
        &self,
        entry: &WaitlistEntry,
    ) -> Result<WaitlistEntry, BookingError> {
        // The services exist, are offered, and fit one booking.
        let (b, _) = self
            .job(&entry.business, &entry.service, &entry.more)
            .await?;
        let pk = keys::waitlist(&entry.business);
        let sk = keys::waitlist_entry(entry.date, &entry.id);
        let write = Write::Put {
            item: Item {
                pk: pk.clone(),
                sk: sk.clone(),
                version: 1,
                data: encode(entry),
                expires_at: Some(day_after(&b, entry.date)),
            },
            cond: Cond::Absent,
        };
        match self.table.transact(vec![write]).await {
            Ok(()) => Ok(entry.clone()),
            Err(TransactError::Backend(e)) => Err(StoreError::from(e).into()),
            // Kept before: a retried request.
            Err(_) => match self.table.get(&pk, &sk).await? {
                Some(item) => Ok(decode(&item)?),
                None => Err(StoreError::Contended.into()),
            },
        }
    }

    /// A day's waitlist, first come first (offered entries too).
    pub async fn waitlist_on(
        &self,
        business: &BusinessId,
        day: Date,
    ) -> Result<Vec<WaitlistEntry>, StoreError> {
        Ok(self
            .waitlist_items(business, day)
            .await?
            .into_iter()
            .map(|(e, _)| e)
            .collect())
    }

    async fn waitlist_items(
        &self,
        business: &BusinessId,
        day: Date,
    ) -> Result<Vec<(WaitlistEntry, u64)>, StoreError> {
        let prefix = format!("{day}#");
        let items = self
            .table
            .query(&keys::waitlist(business), SkRange::Prefix(&prefix))
            .await?;
        let mut entries = items
            .iter()
            .map(|item| Ok((decode::<WaitlistEntry>(item)?, item.version)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        entries.sort_by(|a, b| (a.0.created, &a.0.id).cmp(&(b.0.created, &b.0.id)));
        Ok(entries)
    }

    /// Offers the time `freed` held (an appointment just cancelled or moved away, as it was)
    /// to the first entry of its day still waiting that it fits: their services can start
    /// then with its stylist, inside their window, with the stylist they asked for. Returns
    /// the entry offered, if any.
    pub async fn offer_freed(
        &self,
        b: &Business,
        freed: &Appointment,
        now: Timestamp,
    ) -> Result<Option<WaitlistEntry>, StoreError> {
        // A salon that sends no texts keeps no waitlist (the offer is a text): no read.
        if !b.sms_confirmations {
            return Ok(None);
        }
        let tz = b.time_zone.tz().clone();
        let day = freed.start.to_zoned_datetime(tz.clone()).date();
        let today = now.to_zoned_datetime(tz).date();
        let view = View {
            except: None,
            call: None,
            now,
        };
        for (entry, version) in self.waitlist_items(&b.id, day).await? {
            if !entry.waiting(today) {
                continue;
            }
            // A service no longer offered, or a stylist gone: it cannot be offered anything.
            let Ok((_, job)) = self.job(&b.id, &entry.service, &entry.more).await else {
                continue;
            };
            let book = self.book_of(b, day, day, &view).await?;
            let Ok(planner) = job.planner(b, entry.staff.as_ref(), &book.busy, now) else {
                continue;
            };
            let planner = planner.with_full_days(book.caps.full_days());
            // Of the starts it fits that use the freed time, the one nearest the freed start
            // (the freed time itself, when it fits).
            let fits = planner
                .slots_on(day)
                .into_iter()
                .filter(|slot| {
                    let (start, end) = (slot.start.timestamp(), slot.end.timestamp());
                    entry.window.contains(slot.start.time())
                        && slot.staff.contains(&freed.staff)
                        && start < freed.end
                        && freed.start < end
                })
                .min_by_key(|slot| slot.start.timestamp().duration_since(freed.start).abs());
            let Some(slot) = fits else {
                continue;
            };
            let mut offered = entry.clone();
            offered.offer = Some(Offer {
                start: slot.start.timestamp(),
                staff: freed.staff.clone(),
                at: now,
            });
            let mut writes = vec![Write::Put {
                item: Item {
                    pk: keys::waitlist(&b.id),
                    sk: keys::waitlist_entry(day, &entry.id),
                    version: version + 1,
                    data: encode(&offered),
                    expires_at: Some(day_after(b, day)),
                },
                cond: Cond::Version(version),
            }];
            let expires = now.as_second() + i64::from(self.retention_days) * 86_400;
            writes.push(notice_write(
                Notice::Waitlist {
                    entry: offered.clone(),
                },
                0,
                now,
                Some(expires),
            ));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(Some(offered)),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                // Offered meanwhile (another freed time): the next entry.
                Err(_) => continue,
            }
        }
        Ok(None)
    }

    /// [`Self::offer_freed`] after a cancellation or a move, which stand whatever becomes of
    /// the offer: a failure is logged (without who), not returned.
    pub(super) async fn offer_freed_logged(
        &self,
        b: &Business,
        freed: &Appointment,
        now: Timestamp,
    ) {
        if let Err(e) = self.offer_freed(b, freed, now).await {
            tracing::warn!(error = %e, "a freed time was not offered to the waitlist");
        }
    }
}

/// When a day's entries expire: the start of the next day in the salon's zone (for the TTL).
fn day_after(b: &Business, day: Date) -> i64 {
    day.tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(b.time_zone.tz().clone()).ok())
        .map_or(i64::MAX, |z| z.timestamp().as_second())
}
