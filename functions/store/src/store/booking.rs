//! Booking: idempotent replays and the booking transaction.

use jiff::Timestamp;
use salon_domain::availability::{lock_steps, prefer};
use salon_domain::person::person_key;
use salon_domain::sms::{Notice, NoticeKind};
use salon_domain::{
    Appointment, AppointmentId, AppointmentStatus, BusinessId, Client, ClientName, PhoneE164,
    PhoneOrigin, StaffId,
};

use crate::keys;
use crate::notices::notice_write;
use crate::table::{Cond, Item, TransactError, Write};

use super::availability::{SlotLock, View};
use super::caps::Claim;
use super::holds;
use super::person::PersonLocks;
use super::{
    Booking, BookingError, BookingRequest, IdempotencyRecord, LockRecord, MAX_ATTEMPTS,
    MAX_TRANSACTION_WRITES, Store, StoreError, StoredAppointment, decode, encode, jittered_pause,
    put,
};

impl Store {
    /// Finds what an earlier request with this key, or the same booking from the same call
    /// (its natural key), booked.
    async fn replay(
        &self,
        req: &BookingRequest,
        natural: Option<&str>,
    ) -> Result<Option<Appointment>, BookingError> {
        let pk = keys::business(&req.business);
        if let Some(item) = self.table.get(&pk, &keys::idempotency(&req.key)).await? {
            let rec: IdempotencyRecord = decode(&item)?;
            if rec.fingerprint != req.fingerprint() {
                return Err(BookingError::KeyReused(req.key.clone()));
            }
            return Ok(self.appointment(&req.business, &rec.appointment).await?);
        }
        if let Some(nat) = natural
            && let Some(item) = self.table.get(&pk, nat).await?
        {
            let rec: LockRecord = decode(&item)?;
            return Ok(self.appointment(&req.business, &rec.appointment).await?);
        }
        Ok(None)
    }

    /// The stylist of the person's latest visit before `now` (a number and a name: a parent's
    /// last stylist is not their child's), if they have had one.
    async fn last_stylist(
        &self,
        business: &BusinessId,
        phone: &PhoneE164,
        name: &str,
        now: Timestamp,
    ) -> Result<Option<StaffId>, StoreError> {
        let person = person_key(Some(phone), name);
        Ok(self
            .client_appointments(business, phone)
            .await?
            .into_iter()
            .filter(|a| a.is_booked() && a.start < now)
            .filter(|a| person_key(a.client.as_ref(), &a.client_name) == person)
            .max_by_key(|a| a.start)
            .map(|a| a.staff))
    }

    /// The last stylist of the client known under a caller ID (the person of the client's own
    /// name), for a hold, whose caller has not said whom it is for yet.
    pub(super) async fn last_stylist_of(
        &self,
        business: &BusinessId,
        phone: &PhoneE164,
        now: Timestamp,
    ) -> Result<Option<StaffId>, StoreError> {
        match self.client(business, phone).await? {
            Some(c) => self.last_stylist(business, phone, &c.name, now).await,
            None => Ok(None),
        }
    }

    /// Books an appointment, exactly once per key and per call, client, service and start.
    ///
    /// The appointment, its copy under the client, the idempotency and natural keys, the
    /// client (if new) and one lock per 15-minute step of the person's and of the staff
    /// member's time are written in one transaction, each lock on condition that it does not
    /// exist yet: of two racing requests for one chair, one wins and the other tries the next
    /// free staff member, or is refused with alternatives. Nothing but the day's locks is read
    /// first (and the client's name, when the request has none).
    pub async fn book(
        &self,
        req: &BookingRequest,
        now: Timestamp,
    ) -> Result<Booking, BookingError> {
        let (b, job) = self.job(&req.business, &req.service, &req.more).await?;
        let start_at = b
            .time_zone
            .tz()
            .to_ambiguous_zoned_datetime(req.start)
            .compatible()
            .ok()
            .map(|z| z.timestamp());
        let name = req.client_name.as_ref().map(ClientName::as_str);
        let spoken = req.phone_origin == PhoneOrigin::Spoken;
        let client_name = match (name, spoken) {
            (Some(n), _) => n.to_owned(),
            // A number the caller said is not theirs for sure: its client's name is not
            // theirs to borrow (or to hear in the confirmation).
            (None, true) => return Err(BookingError::NameRequired),
            (None, false) => match &req.client {
                Some(phone) => match self.client(&req.business, phone).await? {
                    Some(c) => c.name,
                    None => return Err(BookingError::NameRequired),
                },
                None => return Err(BookingError::NameRequired),
            },
        };
        // Only a caller ID may create a client (a spoken number could be anyone's), and an
        // existing client keeps their name: a parent booking a child renames nobody.
        let client_write = req
            .client
            .as_ref()
            .filter(|_| !spoken && name.is_some())
            .map(|phone| Write::Ensure {
                item: Item {
                    pk: keys::business(&req.business),
                    sk: keys::client(phone),
                    version: 1,
                    data: encode(&Client {
                        phone: phone.clone(),
                        name: client_name.clone(),
                        created: now,
                    }),
                    expires_at: None,
                },
            });
        let pk = keys::business(&req.business);
        // What this booking is, whatever key it came with: the same call, person, service and
        // start (a parent booking a child at the same time is another booking).
        let natural_at = |start| {
            req.call_sid
                .as_ref()
                .zip(req.client.as_ref())
                .map(|(c, phone)| keys::natural(c, phone, &client_name, &req.services_key(), start))
        };
        let mut person = PersonLocks::new(&req.business, req.client.as_ref(), &client_name);
        // "Anyone" for a known client: their last stylist first, when more than one stylist
        // does the service. Their history is read beside the day's book, so it costs no time.
        let choice = req.staff.is_none() && !spoken && job.qualified(&b) > 1;
        let last = async {
            match (choice, &req.client) {
                (true, Some(phone)) => {
                    self.last_stylist(&req.business, phone, &client_name, now)
                        .await
                }
                _ => Ok(None),
            }
        };
        // The call's own hold is free for it, and taken over by the booking.
        let view = View {
            except: None,
            call: req.call_sid.as_ref(),
            now,
        };
        let first = self.check_with(&b, &job, req.start, req.staff.as_ref(), &view);
        let (last, first) = tokio::join!(last, first);
        let last = last?;
        let mut first = Some(first);
        for _ in 0..MAX_ATTEMPTS {
            // A retry is not looked for first: the transaction's keys refuse a second booking,
            // and a retry is recognised where it shows (a key taken, the time already booked),
            // so a first booking pays no read for it.
            let checked = match first.take() {
                Some(checked) => checked,
                None => {
                    self.check_with(&b, &job, req.start, req.staff.as_ref(), &view)
                        .await
                }
            };
            let (mut slot, takeable, caps) = match checked {
                Ok(c) => (c.slot, c.takeable, c.caps),
                Err(refused) => {
                    // The time may be taken by this very request's earlier success.
                    if let Some(appointment) = self
                        .replay(req, start_at.and_then(natural_at).as_deref())
                        .await?
                    {
                        return Ok(Booking {
                            appointment,
                            replayed: true,
                            recorded: false,
                        });
                    }
                    return Err(refused);
                }
            };
            prefer(&mut slot.staff, last.as_ref());
            // A stylist this call holds the time with comes first: the caller was told so.
            let held = slot
                .staff
                .iter()
                .find(|s| {
                    job.work
                        .staff_steps(slot.start.timestamp())
                        .iter()
                        .all(|&step| takeable.get(&keys::slot(step, s)).is_some_and(|t| t.1))
                })
                .cloned();
            prefer(&mut slot.staff, held.as_ref());
            let start = slot.start.timestamp();
            let end = slot.end.timestamp();
            let id = AppointmentId::parse(uuid::Uuid::new_v4().simple().to_string())
                .expect("a uuid is a valid id");
            let natural = natural_at(start);
            let mut outcome = Attempt::StaffTaken;
            for staff in &slot.staff {
                // Their place in the day, under the salon's daily cap.
                let token = match caps.claim(slot.start.date(), staff) {
                    Some(Claim::Take(sk)) => Some(sk),
                    Some(Claim::Uncapped | Claim::Keep(_)) => None,
                    // Their day filled since it was read: the next one.
                    None => continue,
                };
                let appointment = Appointment {
                    id: id.clone(),
                    business: req.business.clone(),
                    client: req.client.clone(),
                    client_name: client_name.clone(),
                    service: req.service.clone(),
                    service_name: job.name(),
                    staff: staff.clone(),
                    start,
                    end,
                    status: AppointmentStatus::Booked,
                    source: req.source,
                    phone_origin: req.phone_origin,
                    call_sid: req.call_sid.clone(),
                    created: now,
                    moved: None,
                    work: (!job.work.is_plain()).then(|| job.work.clone()),
                    more: job.more(),
                };
                let stored = StoredAppointment {
                    appointment: appointment.clone(),
                    natural_key: natural.clone(),
                    cap_token: token.clone(),
                };
                let idem = IdempotencyRecord {
                    appointment: id.clone(),
                    fingerprint: req.fingerprint(),
                };
                let mut writes = vec![
                    put(
                        pk.clone(),
                        keys::idempotency(&req.key),
                        1,
                        &idem,
                        Cond::Absent,
                    ),
                    put(pk.clone(), keys::appointment(&id), 1, &stored, Cond::Absent),
                ];
                if let Some(phone) = &req.client {
                    writes.push(put(
                        keys::client_appointments(&req.business, phone),
                        keys::appointment(&id),
                        1,
                        &stored,
                        Cond::Absent,
                    ));
                }
                if let Some(nat) = &natural {
                    writes.push(put(
                        pk.clone(),
                        nat.clone(),
                        1,
                        &LockRecord {
                            appointment: id.clone(),
                        },
                        Cond::Absent,
                    ));
                }
                let key_writes = writes.len();
                // It never fails, so it never shifts which write did.
                writes.extend(client_write.clone());
                let person_from = writes.len();
                let claims = person.claim(lock_steps(start, end), &id);
                writes.extend(claims.iter().cloned());
                let locks_from = writes.len();
                let mine: Vec<String> = job
                    .work
                    .staff_steps(start)
                    .into_iter()
                    .map(|step| keys::slot(step, staff))
                    .chain(token)
                    .collect();
                for sk in &mine {
                    // A hold (this call's, or an expired one) is taken over as read.
                    let (version, cond) = match takeable.get(sk) {
                        Some(&(v, _)) => (v + 1, Cond::Version(v)),
                        None => (1, Cond::Absent),
                    };
                    writes.push(put(
                        keys::slots(&req.business),
                        sk.clone(),
                        version,
                        &SlotLock::Booked {
                            appointment: id.clone(),
                        },
                        cond,
                    ));
                }
                // The call's other holds end with its booking, when they fit the transaction
                // (else they expire within minutes).
                let releases_from = writes.len();
                let releases = holds::release_unused(&req.business, &takeable, &mine);
                if writes.len() + releases.len() + 4 <= MAX_TRANSACTION_WRITES {
                    writes.extend(releases);
                }
                let releases_to = writes.len();
                if let Some(call) = req.call_sid.as_ref().filter(|_| !takeable.is_empty()) {
                    writes.push(holds::forget(&req.business, call));
                }
                // Its condition is none, so it never shifts which write failed.
                let recorded = match (&req.call_sid, &req.tool_call) {
                    (Some(sid), Some(call)) => {
                        writes.push(crate::calls::tool_call_write(sid, call, Some(&id)));
                        true
                    }
                    _ => false,
                };
                // The text it owes, if the salon sends them (keyed by the new appointment:
                // they never fail). A replay writes nothing, so a booking owes one text.
                if b.sms_confirmations
                    && let Some(notice) =
                        Notice::appointment(NoticeKind::Booked, appointment.clone())
                {
                    writes.push(notice_write(notice, 1, now, None));
                }
                let failed = match self.table.transact(writes).await {
                    Ok(()) => {
                        return Ok(Booking {
                            appointment,
                            replayed: false,
                            recorded,
                        });
                    }
                    Err(TransactError::Backend(e)) => return Err(e.into()),
                    Err(TransactError::Contended) => {
                        outcome = Attempt::Contended;
                        break;
                    }
                    Err(TransactError::Conflict(failed)) => failed,
                };
                if failed.iter().any(|&i| i < key_writes) {
                    // A concurrent request with the same key or for the same booking won.
                    if let Some(appointment) = self.replay(req, natural.as_deref()).await? {
                        return Ok(Booking {
                            appointment,
                            replayed: true,
                            recorded: false,
                        });
                    }
                    outcome = Attempt::Contended;
                    break;
                }
                if failed
                    .iter()
                    .any(|&i| (releases_from..releases_to).contains(&i))
                {
                    // A hold of this call's expired and was taken meanwhile: read again.
                    outcome = Attempt::Again;
                    break;
                }
                let person_failed: Vec<&Write> = failed
                    .iter()
                    .filter(|&&i| (person_from..locks_from).contains(&i))
                    .map(|&i| &claims[i - person_from])
                    .collect();
                if !person_failed.is_empty() {
                    if let Some(clash) = self
                        .person_clash(&req.business, &mut person, person_failed, None)
                        .await?
                    {
                        return Err(BookingError::ClientBusy(clash));
                    }
                    // Only locks left behind: claim them over on the next round.
                    outcome = Attempt::Again;
                    break;
                }
                // Otherwise this staff member was taken: try the next one.
            }
            match outcome {
                Attempt::Again => continue,
                Attempt::Contended => jittered_pause(0).await,
                Attempt::StaffTaken => {
                    // Every staff member free a moment ago is taken now: say so, with what is
                    // left.
                    self.check_with(&b, &job, req.start, req.staff.as_ref(), &view)
                        .await?;
                    // Freed again in between (a cancellation): book on the next round.
                }
            }
        }
        Err(StoreError::Contended.into())
    }
}

/// How one round of booking attempts ended without a booking.
enum Attempt {
    /// Every staff member offered was taken meanwhile.
    StaffTaken,
    /// Another writer got in the way: pause, then start over.
    Contended,
    /// The person's time was held only by locks left behind: claim them at once.
    Again,
}
