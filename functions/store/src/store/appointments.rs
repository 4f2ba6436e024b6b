//! Booked appointments: reading them, cancelling and moving them.

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};
use salon_domain::availability::lock_steps;
use salon_domain::sms::{Notice, NoticeKind};
use salon_domain::{
    Appointment, AppointmentId, AppointmentStatus, BookingRules, BusinessId, PhoneE164, StaffId,
};

use crate::calls::tool_call_write;
use crate::keys;
use crate::notices::notice_write;
use crate::table::{Cond, SkRange, TransactError, Write};

use super::availability::{Job, SlotLock, Takeable, View};
use super::caps::{Caps, Claim, token_version};
use super::person::PersonLocks;
use super::{
    BookingError, MAX_ATTEMPTS, MAX_TRANSACTION_WRITES, Recording, Store, StoreError,
    StoredAppointment, decode, jittered_pause, put,
};

impl Store {
    async fn stored_appointment(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
    ) -> Result<Option<(StoredAppointment, u64)>, StoreError> {
        match self
            .table
            .get(&keys::business(business), &keys::appointment(id))
            .await?
        {
            Some(item) => Ok(Some((decode(&item)?, item.version))),
            None => Ok(None),
        }
    }

    /// Reads an appointment.
    pub async fn appointment(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError> {
        Ok(self
            .stored_appointment(business, id)
            .await?
            .map(|(s, _)| s.appointment))
    }

    /// Lists a client's appointments, booked and cancelled, by start.
    pub async fn client_appointments(
        &self,
        business: &BusinessId,
        phone: &PhoneE164,
    ) -> Result<Vec<Appointment>, StoreError> {
        let items = self
            .table
            .query(
                &keys::client_appointments(business, phone),
                SkRange::Prefix(keys::APPOINTMENT_PREFIX),
            )
            .await?;
        let mut out = items
            .iter()
            .map(|i| decode::<StoredAppointment>(i).map(|s| s.appointment))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|a| a.start);
        Ok(out)
    }

    /// Reads an appointment for a caller, hiding those of other numbers.
    async fn owned(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
        requester: Option<&PhoneE164>,
    ) -> Result<(StoredAppointment, u64), BookingError> {
        let (stored, version) = self
            .stored_appointment(business, id)
            .await?
            .ok_or(BookingError::NotFound)?;
        // A caller reaches their own number's appointments only (never a walk-in's).
        if requester.is_some_and(|p| Some(p) != stored.appointment.client.as_ref()) {
            return Err(BookingError::NotFound);
        }
        Ok((stored, version))
    }

    /// Writes an appointment (on condition nobody changed it) and its copy under the client's
    /// number, if it has one.
    fn appointment_writes(stored: &StoredAppointment, version: u64) -> Vec<Write> {
        let a = &stored.appointment;
        let mut writes = vec![put(
            keys::business(&a.business),
            keys::appointment(&a.id),
            version + 1,
            stored,
            Cond::Version(version),
        )];
        if let Some(phone) = &a.client {
            writes.push(put(
                keys::client_appointments(&a.business, phone),
                keys::appointment(&a.id),
                version + 1,
                stored,
                Cond::Any,
            ));
        }
        writes
    }

    /// Cancels an appointment and frees its time. Cancelling twice returns the cancelled one.
    /// With a `requester`, only that number's appointments can be cancelled.
    pub async fn cancel(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
        requester: Option<&PhoneE164>,
        now: Timestamp,
    ) -> Result<Appointment, BookingError> {
        self.cancel_recorded(business, id, requester, now, None)
            .await
            .map(|(a, _)| a)
    }

    /// [`Self::cancel`], recording the tool call that asked for it in the same transaction;
    /// also says whether it was recorded (not when the appointment was cancelled already).
    pub async fn cancel_recorded(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
        requester: Option<&PhoneE164>,
        now: Timestamp,
        recording: Option<Recording<'_>>,
    ) -> Result<(Appointment, bool), BookingError> {
        // Kept by the catalogue: no request on a warm instance.
        let b = self
            .business(business)
            .await?
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        let sms = b.sms_confirmations;
        for _ in 0..MAX_ATTEMPTS {
            let (mut stored, version) = self.owned(business, id, requester).await?;
            if !stored.appointment.is_booked() {
                return Ok((stored.appointment, false));
            }
            // A caller is held to the salon's cut-off; the salon itself (no requester) is not.
            if requester.is_some() {
                too_late(&b.rules, stored.appointment.start, now)?;
            }
            let a = &stored.appointment;
            let mut writes: Vec<Write> = a
                .staff_steps()
                .into_iter()
                .map(|step| Write::Delete {
                    pk: keys::slots(business),
                    sk: keys::slot(step, &a.staff),
                    cond: Cond::Any,
                })
                .collect();
            if let Some(nat) = stored.natural_key.take() {
                writes.push(Write::Delete {
                    pk: keys::business(business),
                    sk: nat,
                    cond: Cond::Any,
                });
            }
            // Its place in the stylist's day is free again.
            if let Some(token) = stored.cap_token.take() {
                writes.push(Write::Delete {
                    pk: keys::slots(business),
                    sk: token,
                    cond: Cond::Any,
                });
            }
            writes.extend(
                PersonLocks::new(business, a.client.as_ref(), &a.client_name)
                    .release(lock_steps(a.start, a.end)),
            );
            stored.appointment.status = AppointmentStatus::Cancelled { at: now };
            writes.extend(Self::appointment_writes(&stored, version));
            if sms
                && let Some(notice) =
                    Notice::appointment(NoticeKind::Cancelled, stored.appointment.clone())
            {
                writes.push(notice_write(notice, version + 1, now, None));
            }
            // Unconditional: it never fails the transaction.
            writes.extend(recording.map(|r| tool_call_write(r.call_sid, r.call, None)));
            match self.table.transact(writes).await {
                Ok(()) => {
                    // Its time may be what someone on the waitlist is waiting for.
                    self.offer_freed_logged(&b, &stored.appointment, now).await;
                    return Ok((stored.appointment, recording.is_some()));
                }
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => continue,
            }
        }
        Err(StoreError::Contended.into())
    }

    /// Moves an appointment to a new start, keeping its service and, when free, its staff
    /// member. The old and new times are swapped in one transaction: the appointment never
    /// holds both or neither. With a `requester`, only that number's appointments can be moved.
    pub async fn reschedule(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
        requester: Option<&PhoneE164>,
        start: DateTime,
        stylist: Stylist<'_>,
        now: Timestamp,
    ) -> Result<Appointment, BookingError> {
        let to = Move { start, stylist };
        self.reschedule_recorded(business, id, requester, to, now, None)
            .await
            .map(|(a, _)| a)
    }

    /// [`Self::reschedule`], recording the tool call that asked for it in the same
    /// transaction; also says whether it was recorded (not when nothing had to move).
    pub async fn reschedule_recorded(
        &self,
        business: &BusinessId,
        id: &AppointmentId,
        requester: Option<&PhoneE164>,
        to: Move<'_>,
        now: Timestamp,
        recording: Option<Recording<'_>>,
    ) -> Result<(Appointment, bool), BookingError> {
        let Move { start, stylist } = to;
        let b = self
            .business(business)
            .await?
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        // The stylist's new time is first claimed without reading the day's bookings: the
        // transaction's locks refuse it if taken, and only then are they read, to find another
        // stylist or the nearest free times.
        // In a salon with a daily cap the day's tokens are read too: a move may need a place.
        let mut read_busy = b.rules.daily_cap.is_some();
        // The locks the last read found free to take over (expired holds), and the cap tokens.
        let mut takeable = Takeable::new();
        let mut caps = Caps::default();
        let mut person: Option<PersonLocks> = None;
        for _ in 0..MAX_ATTEMPTS {
            let (mut stored, version) = self.owned(business, id, requester).await?;
            let old = stored.appointment.clone();
            if !old.is_booked() {
                return Err(BookingError::Cancelled);
            }
            if requester.is_some() {
                too_late(&b.rules, old.start, now)?;
            }
            // The same stylist unless the caller asked for another, or for anyone.
            let staff = match stylist {
                Stylist::Same => Some(&old.staff),
                Stylist::Anyone => None,
                Stylist::Named(s) => Some(s),
            };
            let new_start = b
                .time_zone
                .tz()
                .to_ambiguous_zoned_datetime(start)
                .compatible()
                .ok()
                .map(|z| z.timestamp());
            if new_start == Some(old.start) && staff.is_none_or(|s| s == &old.staff) {
                return Ok((old, false));
            }
            // The appointment keeps its own services and shape, even if the services have
            // changed since.
            let job = Job::of_appointment(&old);
            let unread = match read_busy {
                false => job
                    .planner(&b, staff, &[], now)
                    .ok()
                    .and_then(|p| p.check(start).ok())
                    // Not the stylist's hours: read who else is free.
                    .filter(|slot| staff.is_some() || slot.staff.contains(&old.staff)),
                true => None,
            };
            read_busy |= unread.is_none();
            let slot = match unread {
                Some(slot) => slot,
                None => {
                    let view = View {
                        except: Some(id),
                        call: None,
                        now,
                    };
                    let checked = self.check_with(&b, &job, start, staff, &view).await?;
                    takeable = checked.takeable;
                    caps = checked.caps;
                    checked.slot
                }
            };
            let new_staff = if slot.staff.contains(&old.staff) {
                old.staff.clone()
            } else {
                slot.staff[0].clone()
            };
            let (new_start, new_end) = (slot.start.timestamp(), slot.end.timestamp());
            // The person's steps cover the client's time; the stylist's, what holds them.
            let old_steps: Vec<Timestamp> = old.person_steps().collect();
            let new_steps: Vec<Timestamp> = lock_steps(new_start, new_end).collect();
            let old_locks: Vec<String> = old
                .staff_steps()
                .into_iter()
                .map(|s| keys::slot(s, &old.staff))
                .collect();
            let new_locks: Vec<String> = job
                .work
                .staff_steps(new_start)
                .into_iter()
                .map(|s| keys::slot(s, &new_staff))
                .collect();
            let mut writes = Vec::new();
            for sk in new_locks.iter().filter(|k| !old_locks.contains(k)) {
                // An expired hold is taken over as read.
                let (version, cond) = match takeable.get(sk) {
                    Some(&(v, _)) => (v + 1, Cond::Version(v)),
                    None => (1, Cond::Absent),
                };
                writes.push(put(
                    keys::slots(business),
                    sk.clone(),
                    version,
                    &SlotLock::Booked {
                        appointment: id.clone(),
                    },
                    cond,
                ));
            }
            // Its place in the new day, under the salon's daily cap: kept when the stylist and
            // day stay, else a new one taken and the old one freed.
            let freed_token = match caps.claim(slot.start.date(), &new_staff) {
                // Their day filled since it was read: read again.
                None => {
                    jittered_pause(0).await;
                    continue;
                }
                Some(Claim::Uncapped | Claim::Keep(_)) => None,
                Some(Claim::Take(sk)) => {
                    let (version, cond) = token_version(&takeable, &sk);
                    writes.push(put(
                        keys::slots(business),
                        sk.clone(),
                        version,
                        &SlotLock::Booked {
                            appointment: id.clone(),
                        },
                        cond,
                    ));
                    stored.cap_token.replace(sk)
                }
            };
            let staff_claims = writes.len();
            let person = person.get_or_insert_with(|| {
                PersonLocks::new(business, old.client.as_ref(), &old.client_name)
            });
            let claims = person.claim(
                new_steps.iter().copied().filter(|s| !old_steps.contains(s)),
                id,
            );
            writes.extend(claims.iter().cloned());
            let person_claims = writes.len();
            // No lock is claimed from here on: the appointment's own write fails only if it
            // changed meanwhile, and the rest are unconditional.
            stored.appointment.start = new_start;
            stored.appointment.end = new_end;
            stored.appointment.staff = new_staff;
            stored.appointment.moved = Some(now);
            let natural = stored.natural_key.take();
            writes.extend(Self::appointment_writes(&stored, version));
            if b.sms_confirmations
                && let Some(notice) =
                    Notice::appointment(NoticeKind::Moved, stored.appointment.clone())
            {
                writes.push(notice_write(notice, version + 1, now, None));
            }
            for sk in old_locks.iter().filter(|k| !new_locks.contains(k)) {
                writes.push(Write::Delete {
                    pk: keys::slots(business),
                    sk: sk.clone(),
                    cond: Cond::Any,
                });
            }
            if let Some(token) = freed_token {
                writes.push(Write::Delete {
                    pk: keys::slots(business),
                    sk: token,
                    cond: Cond::Any,
                });
            }
            if let Some(nat) = natural {
                writes.push(Write::Delete {
                    pk: keys::business(business),
                    sk: nat,
                    cond: Cond::Any,
                });
            }
            // The tool call's record when it fits (an 8-hour service moved to another day
            // fills the transaction: the caller records it alone then).
            let recording = recording.filter(|_| writes.len() < MAX_TRANSACTION_WRITES);
            writes.extend(recording.map(|r| tool_call_write(r.call_sid, r.call, Some(id))));
            // The person's old steps are freed when they fit: otherwise they are left behind,
            // and count for nothing (`PersonLocks`).
            let released =
                person.release(old_steps.iter().copied().filter(|s| !new_steps.contains(s)));
            if writes.len() + released.len() <= MAX_TRANSACTION_WRITES {
                writes.extend(released);
            }
            let failed = match self.table.transact(writes).await {
                Ok(()) => {
                    // The time it left may be what someone on the waitlist is waiting for.
                    self.offer_freed_logged(&b, &old, now).await;
                    return Ok((stored.appointment, recording.is_some()));
                }
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(TransactError::Contended) => {
                    jittered_pause(0).await;
                    continue;
                }
                Err(TransactError::Conflict(failed)) => failed,
            };
            let person_failed: Vec<&Write> = failed
                .iter()
                .filter(|&&i| (staff_claims..person_claims).contains(&i))
                .map(|&i| &claims[i - staff_claims])
                .collect();
            if !person_failed.is_empty() {
                if let Some(clash) = self
                    .person_clash(business, person, person_failed, Some(id))
                    .await?
                {
                    return Err(BookingError::ClientBusy(clash));
                }
                // Only locks left behind: claim them over at once.
                continue;
            }
            if failed.iter().any(|&i| i < staff_claims) && !read_busy {
                // The stylist is busy then: read who else is free.
                read_busy = true;
                continue;
            }
            // The appointment changed, or the time was taken meanwhile.
            jittered_pause(0).await;
        }
        Err(StoreError::Contended.into())
    }
}

/// Where an appointment moves: a new start, and with whom.
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub start: DateTime,
    pub stylist: Stylist<'a>,
}

/// Who does a moved appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stylist<'a> {
    /// The stylist it was booked with: a move keeps them unless the caller asks otherwise.
    Same,
    /// Whoever is free (the one it was booked with first).
    Anyone,
    /// The stylist the caller asked for.
    Named(&'a StaffId),
}

/// Refuses a change a caller asks for closer to the start than the salon's cut-off allows.
fn too_late(rules: &BookingRules, start: Timestamp, now: Timestamp) -> Result<(), BookingError> {
    let cutoff = rules.cancel_cutoff_minutes;
    if cutoff > 0 && start.duration_since(now) < SignedDuration::from_mins(i64::from(cutoff)) {
        return Err(BookingError::TooLate {
            cutoff_minutes: cutoff,
        });
    }
    Ok(())
}
