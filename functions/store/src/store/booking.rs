//! Booking: idempotent replays, the booking transaction, and the per-person schedule item.

use jiff::Timestamp;
use salon_domain::availability::lock_steps;
use salon_domain::{
    Appointment, AppointmentId, AppointmentStatus, Booked, Client, ClientName, PersonSchedule,
    PhoneOrigin, Source,
};

use crate::keys;
use crate::table::{Cond, TransactError, Write};

use super::{
    Booking, BookingError, BookingRequest, IdempotencyRecord, LockRecord, MAX_ATTEMPTS, Store,
    StoreError, StoredAppointment, decode, jittered_pause, put,
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

    /// Books an appointment, exactly once per key and per call, client, service and start.
    ///
    /// The appointment, its copy under the client, the idempotency and natural keys and one
    /// lock per 15-minute step of the staff member's time are written in one transaction,
    /// each on condition that it does not exist yet: of two racing requests for one chair, one
    /// wins and the other tries the next free staff member, or is refused with alternatives.
    pub async fn book(
        &self,
        req: &BookingRequest,
        now: Timestamp,
    ) -> Result<Booking, BookingError> {
        let (b, service) = self
            .business_and_service(&req.business, &req.service)
            .await?;
        let start_at = b
            .time_zone
            .tz()
            .to_ambiguous_zoned_datetime(req.start)
            .compatible()
            .ok()
            .map(|z| z.timestamp());
        let name = req.client_name.as_ref().map(ClientName::as_str);
        let spoken = req.phone_origin == PhoneOrigin::Spoken;
        if spoken && name.is_none() {
            // A number the caller said is not theirs for sure: its client's name is not
            // theirs to borrow (or to hear in the confirmation).
            return Err(BookingError::NameRequired);
        }
        let pk = keys::business(&req.business);
        for _ in 0..MAX_ATTEMPTS {
            // Only a caller ID may create a client: a spoken number could be anyone's.
            let client = match spoken {
                false => self.client(&req.business, &req.client).await?,
                true => None,
            };
            let client_name = match (name, &client) {
                (Some(n), _) => n.to_owned(),
                (None, Some(c)) => c.name.clone(),
                (None, None) => return Err(BookingError::NameRequired),
            };
            // What this booking is, whatever key it came with: the same call, person, service
            // and start (a parent booking a child at the same time is another booking).
            let natural_at = |start| {
                req.call_sid
                    .as_ref()
                    .map(|c| keys::natural(c, &req.client, &client_name, &req.service, start))
            };
            // A retry is not looked for first: the transaction's keys refuse a second booking,
            // and a retry is recognised where it shows (a key taken, the person or the time
            // already booked), so a first booking pays no read for it.
            let person = keys::person(&req.client, &client_name);
            let (mut schedule, person_version, person_cond) = self.person(&pk, &person).await?;
            let slot = match self
                .check_with(&b, &service, req.start, req.staff.as_ref(), None, now)
                .await
            {
                Ok(slot) => slot,
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
            let start = slot.start.timestamp();
            let end = start
                .checked_add(service.duration.duration())
                .expect("a slot's end was computed already");
            if let Some(clash) = schedule.clash(start, end, None) {
                // A racing retry of this very request may be what clashes: that is a replay.
                if let Some(appointment) = self.replay(req, natural_at(start).as_deref()).await? {
                    return Ok(Booking {
                        appointment,
                        replayed: true,
                        recorded: false,
                    });
                }
                return Err(BookingError::ClientBusy(clash.clone()));
            }
            let id = AppointmentId::parse(uuid::Uuid::new_v4().simple().to_string())
                .expect("a uuid is a valid id");
            let natural = natural_at(start);
            let mut contended = false;
            for staff in &slot.staff {
                let appointment = Appointment {
                    id: id.clone(),
                    business: req.business.clone(),
                    client: req.client.clone(),
                    client_name: client_name.clone(),
                    service: service.id.clone(),
                    service_name: service.name.clone(),
                    staff: staff.clone(),
                    start,
                    end,
                    status: AppointmentStatus::Booked,
                    source: Source::Voice,
                    phone_origin: req.phone_origin,
                    call_sid: req.call_sid.clone(),
                    created: now,
                    moved: None,
                };
                let stored = StoredAppointment {
                    appointment: appointment.clone(),
                    natural_key: natural.clone(),
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
                    put(
                        keys::client_appointments(&req.business, &req.client),
                        keys::appointment(&id),
                        1,
                        &stored,
                        Cond::Absent,
                    ),
                ];
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
                schedule.put(
                    Booked {
                        appointment: id.clone(),
                        start,
                        end,
                    },
                    now,
                );
                let client_write = match (&client, spoken) {
                    (None, false) => Some(put(
                        pk.clone(),
                        keys::client(&req.client),
                        1,
                        &Client {
                            phone: req.client.clone(),
                            name: client_name.clone(),
                            created: now,
                        },
                        Cond::Absent,
                    )),
                    _ => None,
                };
                let key_writes = writes.len();
                writes.extend(client_write);
                // On condition nobody booked this person meanwhile: one item, whatever the length.
                writes.push(put(
                    pk.clone(),
                    person.clone(),
                    person_version,
                    &schedule,
                    person_cond,
                ));
                let locks_from = writes.len();
                for step in lock_steps(start, end) {
                    writes.push(put(
                        keys::slots(&req.business),
                        keys::slot(step, staff),
                        1,
                        &LockRecord {
                            appointment: id.clone(),
                        },
                        Cond::Absent,
                    ));
                }
                // Its condition is none, so it never shifts which write failed.
                let recorded = match (&req.call_sid, &req.tool_call) {
                    (Some(sid), Some(call)) => {
                        writes.push(crate::calls::tool_call_write(sid, call, Some(&id)));
                        true
                    }
                    _ => false,
                };
                match self.table.transact(writes).await {
                    Ok(()) => {
                        return Ok(Booking {
                            appointment,
                            replayed: false,
                            recorded,
                        });
                    }
                    Err(TransactError::Backend(e)) => return Err(e.into()),
                    Err(TransactError::Contended) => contended = true,
                    Err(TransactError::Conflict(failed)) => {
                        if failed.iter().any(|&i| i < key_writes) {
                            // A concurrent request with the same key or for the same booking won.
                            if let Some(appointment) = self.replay(req, natural.as_deref()).await? {
                                return Ok(Booking {
                                    appointment,
                                    replayed: true,
                                    recorded: false,
                                });
                            }
                            contended = true;
                        } else if failed.iter().any(|&i| i < locks_from) {
                            // The client was created, or this person booked, concurrently:
                            // start over with what is there now.
                            contended = true;
                        }
                        // Otherwise this staff member was taken: try the next one.
                    }
                }
                if contended {
                    break;
                }
            }
            if !contended {
                // Every staff member free a moment ago is taken now: say so, with what is left.
                self.check_with(&b, &service, req.start, req.staff.as_ref(), None, now)
                    .await?;
                // Freed again in between (a cancellation): book on the next round.
                continue;
            }
            jittered_pause(0).await;
        }
        Err(StoreError::Contended.into())
    }

    // ---- people ----

    /// Reads a person's schedule with the version and condition to write it back.
    async fn person(&self, pk: &str, sk: &str) -> Result<(PersonSchedule, u64, Cond), StoreError> {
        Ok(match self.table.get(pk, sk).await? {
            Some(item) => (
                decode(&item)?,
                item.version + 1,
                Cond::Version(item.version),
            ),
            None => (PersonSchedule::default(), 1, Cond::Absent),
        })
    }

    /// The write that keeps a person's schedule in step with a change to one appointment.
    pub(super) async fn person_write(
        &self,
        a: &Appointment,
        change: impl FnOnce(&mut PersonSchedule) -> Result<(), BookingError>,
    ) -> Result<Write, BookingError> {
        let (pk, sk) = (
            keys::business(&a.business),
            keys::person(&a.client, &a.client_name),
        );
        let (mut schedule, version, cond) = self.person(&pk, &sk).await?;
        change(&mut schedule)?;
        Ok(put(pk, sk, version, &schedule, cond))
    }
}
