//! The salon's book: every rule about storing bookings, written once over a [`Table`].

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use salon_domain::availability::{LOCK_STEP, lock_steps};
use salon_domain::{
    Appointment, AppointmentId, AppointmentStatus, Booked, Business, BusinessId, Busy, CallSid,
    Client, ClientName, Clock, ConfigError, IdempotencyKey, PersonSchedule, PhoneE164, PhoneOrigin,
    Planner, Service, ServiceId, Slot, Source, StaffId, SystemClock, Unavailable,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::table::{BackendError, Cond, Item, SkRange, Table, TransactError, Write};

/// How many times a write is retried when concurrent writers got in the way.
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// How many alternatives a refused time comes back with ("10:30 sau 11:15").
pub const ALTERNATIVES: usize = 3;

/// How many days after a wished date alternatives are looked for.
const ALTERNATIVE_DAYS: i64 = 14;

/// Storage failed; nothing about the salon's rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed or could not be reached.
    #[error("storage failed")]
    Backend(#[from] BackendError),
    /// An item did not decode: written by something else, or by an incompatible version.
    /// Names the kind of item only: keys hold phone numbers, and errors are logged.
    #[error("a stored {kind} item does not decode")]
    Corrupt {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
    /// A number can route to one business only.
    #[error("number {number} already routes to business {owner}")]
    NumberTaken {
        number: PhoneE164,
        owner: BusinessId,
    },
    /// A business configuration that breaks a rule.
    #[error("invalid business configuration")]
    InvalidBusiness(#[from] ConfigError),
    /// Concurrent writers kept getting in the way; the caller may retry.
    #[error("too many concurrent writes to the same items")]
    Contended,
}

/// Why a booking, cancellation or move was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BookingError {
    /// No such business.
    #[error("unknown business {0}")]
    UnknownBusiness(BusinessId),
    /// No such service at this business.
    #[error("unknown service {0}")]
    UnknownService(ServiceId),
    /// The service is no longer offered.
    #[error("service {0} is not offered any more")]
    ServiceInactive(ServiceId),
    /// A new client must give a name.
    #[error("a new client must give a name")]
    NameRequired,
    /// The time cannot be had; the nearest free ones are offered instead.
    #[error("unavailable: {reason}")]
    Unavailable {
        reason: Unavailable,
        alternatives: Vec<Slot>,
    },
    /// The idempotency key was used for a different booking.
    #[error("idempotency key {0} was used for a different booking")]
    KeyReused(IdempotencyKey),
    /// No such appointment, or not the caller's.
    #[error("no such appointment")]
    NotFound,
    /// The appointment was cancelled and cannot be moved.
    #[error("the appointment is cancelled")]
    Cancelled,
    /// The same person (number and name) already has an appointment overlapping this time.
    #[error("the client already has an appointment at that time")]
    ClientBusy(Booked),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BackendError> for BookingError {
    fn from(e: BackendError) -> Self {
        Self::Store(e.into())
    }
}

/// A request to book, as the tools API hands it over.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub business: BusinessId,
    pub service: ServiceId,
    pub client: PhoneE164,
    /// Whether `client` is the caller ID or a number the caller said.
    pub phone_origin: PhoneOrigin,
    /// The name given on the call; required for a new client and for a spoken number.
    pub client_name: Option<ClientName>,
    /// The wished start, in the salon's local time.
    pub start: DateTime,
    /// A stylist the caller asked for.
    pub staff: Option<StaffId>,
    pub call_sid: Option<CallSid>,
    /// Makes the request safe to retry (`callSid:callId` from the relay).
    pub key: IdempotencyKey,
}

impl BookingRequest {
    /// What makes two requests with one key the same request.
    fn fingerprint(&self) -> String {
        let staff = self.staff.as_ref().map_or("", |s| s.as_str());
        format!(
            "{}|{}|{}|{}|{}",
            self.business, self.client, self.service, self.start, staff
        )
    }
}

/// A booked appointment, and whether this request only found an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub appointment: Appointment,
    /// The same request (or the same booking under a new key) had already booked it.
    pub replayed: bool,
}

/// The appointment as stored, with the natural key it holds while booked.
#[derive(Serialize, Deserialize)]
struct StoredAppointment {
    #[serde(flatten)]
    appointment: Appointment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    natural_key: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct IdempotencyRecord {
    appointment: AppointmentId,
    fingerprint: String,
}

#[derive(Serialize, Deserialize)]
struct LockRecord {
    appointment: AppointmentId,
}

#[derive(Serialize, Deserialize)]
struct NumberRecord {
    business: BusinessId,
}

pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.data).map_err(|source| StoreError::Corrupt {
        kind: kind_of(&item.sk),
        source,
    })
}

/// The kind of an item from its sort key (`CLIENT#+40…` is a `CLIENT`), without its identity.
pub(crate) fn kind_of(sk: &str) -> String {
    let kind = sk.split('#').next().unwrap_or_default();
    if kind.chars().all(|c| c.is_ascii_uppercase()) {
        kind.to_owned()
    } else {
        "slot lock".to_owned()
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain types serialise to JSON")
}

pub(crate) fn put(
    pk: String,
    sk: String,
    version: u64,
    value: &impl Serialize,
    cond: Cond,
) -> Write {
    Write::Put {
        item: Item {
            pk,
            sk,
            version,
            data: encode(value),
            expires_at: None,
        },
        cond,
    }
}

/// The salon's book over a single table.
#[derive(Clone)]
pub struct Store {
    pub(crate) table: Arc<dyn Table>,
    /// Every "now" of the store: transcript expiry, and hiding what has expired.
    pub(crate) clock: Arc<dyn Clock>,
    /// How long call transcripts (personal data) are kept.
    pub(crate) retention_days: u32,
}

impl Store {
    /// Wraps a table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            clock: Arc::new(SystemClock),
            retention_days: 30,
        }
    }

    /// Replaces the clock (tests; the local stack's rehearsal clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Returns the table underneath, for tests that look at items as stored.
    #[cfg(feature = "testing")]
    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    /// Returns the store's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Deletes what has expired by the store's clock (the embedded backend; DynamoDB's TTL
    /// does it by itself).
    pub async fn purge_expired(&self) -> Result<(), StoreError> {
        Ok(self
            .table
            .purge_expired(self.clock.now().as_second())
            .await?)
    }

    /// Keeps call transcripts for `days` (`TRANSCRIPT_RETENTION_DAYS`); the rest of a call
    /// record stays.
    pub fn with_transcript_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    // ---- businesses and services ----

    /// Writes a business and routes its numbers to it; numbers it no longer has stop routing.
    pub async fn put_business(&self, business: &Business) -> Result<(), StoreError> {
        business.validate()?;
        for attempt in 0.. {
            let pk = keys::business(&business.id);
            let old = self.table.get(&pk, keys::PROFILE).await?;
            let mut writes = Vec::new();
            let (version, cond) = match &old {
                Some(item) => {
                    let old: Business = decode(item)?;
                    for n in old.numbers.iter().filter(|n| !business.numbers.contains(n)) {
                        let (npk, nsk) = keys::number(n);
                        writes.push(Write::Delete {
                            pk: npk,
                            sk: nsk,
                            cond: Cond::Any,
                        });
                    }
                    (item.version + 1, Cond::Version(item.version))
                }
                None => (1, Cond::Absent),
            };
            for n in &business.numbers {
                let (npk, nsk) = keys::number(n);
                if let Some(item) = self.table.get(&npk, &nsk).await? {
                    let owner = decode::<NumberRecord>(&item)?.business;
                    if owner != business.id {
                        return Err(StoreError::NumberTaken {
                            number: n.clone(),
                            owner,
                        });
                    }
                }
                writes.push(put(
                    npk,
                    nsk,
                    1,
                    &NumberRecord {
                        business: business.id.clone(),
                    },
                    Cond::Any,
                ));
            }
            writes.push(put(pk, keys::PROFILE.to_owned(), version, business, cond));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) if attempt + 1 < MAX_ATTEMPTS => continue,
                Err(_) => break,
            }
        }
        Err(StoreError::Contended)
    }

    /// Reads a business.
    pub async fn business(&self, id: &BusinessId) -> Result<Option<Business>, StoreError> {
        let item = self.table.get(&keys::business(id), keys::PROFILE).await?;
        item.as_ref().map(decode).transpose()
    }

    /// Finds the business that answers a dialled number.
    pub async fn business_by_number(
        &self,
        number: &PhoneE164,
    ) -> Result<Option<Business>, StoreError> {
        let (pk, sk) = keys::number(number);
        match self.table.get(&pk, &sk).await? {
            Some(item) => {
                self.business(&decode::<NumberRecord>(&item)?.business)
                    .await
            }
            None => Ok(None),
        }
    }

    /// Writes a service (creating or replacing it).
    pub async fn put_service(
        &self,
        business: &BusinessId,
        service: &Service,
    ) -> Result<(), StoreError> {
        let w = put(
            keys::business(business),
            keys::service(&service.id),
            1,
            service,
            Cond::Any,
        );
        self.table.transact(vec![w]).await.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }

    /// Lists a business's services, active or not, by category then name.
    pub async fn services(&self, business: &BusinessId) -> Result<Vec<Service>, StoreError> {
        let items = self
            .table
            .query(
                &keys::business(business),
                SkRange::Prefix(keys::SERVICE_PREFIX),
            )
            .await?;
        let mut out = items
            .iter()
            .map(decode)
            .collect::<Result<Vec<Service>, _>>()?;
        out.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
        Ok(out)
    }

    async fn business_and_service(
        &self,
        business: &BusinessId,
        service: &ServiceId,
    ) -> Result<(Business, Service), BookingError> {
        let b = self
            .business(business)
            .await?
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        let item = self
            .table
            .get(&keys::business(business), &keys::service(service))
            .await?;
        let s: Service = item
            .as_ref()
            .map(decode)
            .transpose()?
            .ok_or_else(|| BookingError::UnknownService(service.clone()))?;
        if !s.active {
            return Err(BookingError::ServiceInactive(service.clone()));
        }
        Ok((b, s))
    }

    // ---- clients ----

    /// Reads a client by number.
    pub async fn client(
        &self,
        business: &BusinessId,
        phone: &PhoneE164,
    ) -> Result<Option<Client>, StoreError> {
        let item = self
            .table
            .get(&keys::business(business), &keys::client(phone))
            .await?;
        item.as_ref().map(decode).transpose()
    }

    /// Creates or renames a client, keeping when they were first recorded.
    pub async fn put_client(
        &self,
        business: &BusinessId,
        client: &Client,
    ) -> Result<Client, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let (pk, sk) = (keys::business(business), keys::client(&client.phone));
            let old = self.table.get(&pk, &sk).await?;
            let (stored, version, cond) = match &old {
                Some(item) => {
                    let old: Client = decode(item)?;
                    let stored = Client {
                        name: client.name.clone(),
                        ..old
                    };
                    (stored, item.version + 1, Cond::Version(item.version))
                }
                None => (client.clone(), 1, Cond::Absent),
            };
            match self
                .table
                .transact(vec![put(pk, sk, version, &stored, cond)])
                .await
            {
                Ok(()) => return Ok(stored),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => continue,
            }
        }
        Err(StoreError::Contended)
    }

    // ---- availability ----

    /// Reads the busy time of every staff member between two instants, from the slot locks.
    async fn busy(
        &self,
        business: &BusinessId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Busy, AppointmentId)>, StoreError> {
        let (a, b) = (keys::instant(from), format!("{}#~", keys::instant(to)));
        let items = self
            .table
            .query(&keys::slots(business), SkRange::Between(&a, &b))
            .await?;
        items
            .iter()
            .map(|item| {
                let lock: LockRecord = decode(item)?;
                let (when, staff) = item.sk.split_once('#').unwrap_or((&item.sk, ""));
                let start = when.parse::<Timestamp>().ok();
                let staff = StaffId::parse(staff).ok();
                match (start, staff) {
                    (Some(start), Some(staff)) => {
                        let end = start.checked_add(LOCK_STEP).unwrap_or(start);
                        Ok((Busy { staff, start, end }, lock.appointment))
                    }
                    _ => Err(StoreError::Corrupt {
                        kind: kind_of(&item.sk),
                        source: serde::de::Error::custom("a slot lock's key is not instant#staff"),
                    }),
                }
            })
            .collect()
    }

    /// Reads busy time covering local dates `from..=to` of the business.
    async fn busy_on(
        &self,
        business: &Business,
        from: Date,
        to: Date,
        except: Option<&AppointmentId>,
    ) -> Result<Vec<Busy>, StoreError> {
        let tz = business.time_zone.tz().clone();
        let start = from
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MIN);
        let end = to
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned_datetime(tz).ok())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        Ok(self
            .busy(&business.id, start, end)
            .await?
            .into_iter()
            .filter(|(_, id)| Some(id) != except)
            .map(|(b, _)| b)
            .collect())
    }

    /// Lists the free starts for a service on local dates `from..=to`.
    pub async fn availability(
        &self,
        business: &BusinessId,
        service: &ServiceId,
        from: Date,
        to: Date,
        staff: Option<&StaffId>,
        now: Timestamp,
    ) -> Result<Vec<Slot>, BookingError> {
        let (b, s) = self.business_and_service(business, service).await?;
        let busy = self.busy_on(&b, from, to, None).await?;
        let planner = Planner::new(&b, s.duration, staff, &busy, now).map_err(unavailable)?;
        Ok(planner.slots_between(from, to))
    }

    /// Checks a wished start: the free slot, or why not with the nearest alternatives.
    pub async fn check(
        &self,
        business: &BusinessId,
        service: &ServiceId,
        at: DateTime,
        staff: Option<&StaffId>,
        now: Timestamp,
    ) -> Result<Slot, BookingError> {
        let (b, s) = self.business_and_service(business, service).await?;
        self.check_with(&b, &s, at, staff, None, now).await
    }

    async fn check_with(
        &self,
        b: &Business,
        s: &Service,
        at: DateTime,
        staff: Option<&StaffId>,
        except: Option<&AppointmentId>,
        now: Timestamp,
    ) -> Result<Slot, BookingError> {
        let today = now.to_zoned_datetime(b.time_zone.tz().clone()).date();
        let from = at.date().max(today);
        let to = from
            .checked_add(jiff::Span::new().days(ALTERNATIVE_DAYS))
            .unwrap_or(from);
        let busy = self.busy_on(b, from, to, except).await?;
        let planner = Planner::new(b, s.duration, staff, &busy, now).map_err(unavailable)?;
        planner.check(at).map_err(|reason| {
            let alternatives = match reason {
                Unavailable::UnknownStaff(_) => Vec::new(),
                _ => planner.alternatives(at, ALTERNATIVES),
            };
            BookingError::Unavailable {
                reason,
                alternatives,
            }
        })
    }

    // ---- booking ----

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
        if let Some(appointment) = self.replay(req, None).await? {
            return Ok(Booking {
                appointment,
                replayed: true,
            });
        }
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
            if let Some(appointment) = self
                .replay(req, start_at.and_then(natural_at).as_deref())
                .await?
            {
                return Ok(Booking {
                    appointment,
                    replayed: true,
                });
            }
            let person = keys::person(&req.client, &client_name);
            let (mut schedule, person_version, person_cond) = self.person(&pk, &person).await?;
            let slot = self
                .check_with(&b, &service, req.start, req.staff.as_ref(), None, now)
                .await?;
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
                match self.table.transact(writes).await {
                    Ok(()) => {
                        return Ok(Booking {
                            appointment,
                            replayed: false,
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
    async fn person_write(
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

    // ---- appointments ----

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
        if requester.is_some_and(|p| p != &stored.appointment.client) {
            return Err(BookingError::NotFound);
        }
        Ok((stored, version))
    }

    /// Writes an appointment and its copy under the client, on condition nobody changed it.
    fn appointment_writes(stored: &StoredAppointment, version: u64) -> Vec<Write> {
        let a = &stored.appointment;
        vec![
            put(
                keys::business(&a.business),
                keys::appointment(&a.id),
                version + 1,
                stored,
                Cond::Version(version),
            ),
            put(
                keys::client_appointments(&a.business, &a.client),
                keys::appointment(&a.id),
                version + 1,
                stored,
                Cond::Any,
            ),
        ]
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
        for _ in 0..MAX_ATTEMPTS {
            let (mut stored, version) = self.owned(business, id, requester).await?;
            if !stored.appointment.is_booked() {
                return Ok(stored.appointment);
            }
            let a = &stored.appointment;
            let mut writes: Vec<Write> = lock_steps(a.start, a.end)
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
            let id = a.id.clone();
            writes.push(
                self.person_write(a, |s| {
                    s.remove(&id);
                    Ok(())
                })
                .await?,
            );
            stored.appointment.status = AppointmentStatus::Cancelled { at: now };
            writes.extend(Self::appointment_writes(&stored, version));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(stored.appointment),
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
        staff: Option<&StaffId>,
        now: Timestamp,
    ) -> Result<Appointment, BookingError> {
        let b = self
            .business(business)
            .await?
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        for _ in 0..MAX_ATTEMPTS {
            let (mut stored, version) = self.owned(business, id, requester).await?;
            let old = stored.appointment.clone();
            if !old.is_booked() {
                return Err(BookingError::Cancelled);
            }
            let new_start = b
                .time_zone
                .tz()
                .to_ambiguous_zoned_datetime(start)
                .compatible()
                .ok()
                .map(|z| z.timestamp());
            if new_start == Some(old.start) && staff.is_none_or(|s| s == &old.staff) {
                return Ok(old);
            }
            // The appointment keeps its own length, even if the service's has changed since.
            let minutes = old.end.duration_since(old.start).as_mins();
            let duration = salon_domain::Minutes::new(u16::try_from(minutes).unwrap_or(u16::MAX))
                .unwrap_or(salon_domain::Minutes::new(30).expect("30 is a valid duration"));
            let service = Service {
                id: old.service.clone(),
                name: old.service_name.clone(),
                category: String::new(),
                duration,
                price: salon_domain::Price { bani: 0 },
                active: true,
            };
            let slot = self
                .check_with(&b, &service, start, staff, Some(id), now)
                .await?;
            let new_staff = if slot.staff.contains(&old.staff) {
                old.staff.clone()
            } else {
                slot.staff[0].clone()
            };
            let (new_start, new_end) = (slot.start.timestamp(), slot.end.timestamp());
            let old_locks: Vec<String> = lock_steps(old.start, old.end)
                .map(|s| keys::slot(s, &old.staff))
                .collect();
            let new_locks: Vec<String> = lock_steps(new_start, new_end)
                .map(|s| keys::slot(s, &new_staff))
                .collect();
            let mut writes = Vec::new();
            for sk in old_locks.iter().filter(|k| !new_locks.contains(k)) {
                writes.push(Write::Delete {
                    pk: keys::slots(business),
                    sk: sk.clone(),
                    cond: Cond::Any,
                });
            }
            for sk in new_locks.iter().filter(|k| !old_locks.contains(k)) {
                writes.push(put(
                    keys::slots(business),
                    sk.clone(),
                    1,
                    &LockRecord {
                        appointment: id.clone(),
                    },
                    Cond::Absent,
                ));
            }
            if let Some(nat) = stored.natural_key.take() {
                writes.push(Write::Delete {
                    pk: keys::business(business),
                    sk: nat,
                    cond: Cond::Any,
                });
            }
            let moved = Booked {
                appointment: id.clone(),
                start: new_start,
                end: new_end,
            };
            writes.push(
                self.person_write(&old, |s| match s.clash(new_start, new_end, Some(id)) {
                    Some(clash) => Err(BookingError::ClientBusy(clash.clone())),
                    None => {
                        s.put(moved, now);
                        Ok(())
                    }
                })
                .await?,
            );
            stored.appointment.start = new_start;
            stored.appointment.end = new_end;
            stored.appointment.staff = new_staff;
            stored.appointment.moved = Some(now);
            writes.extend(Self::appointment_writes(&stored, version));
            match self.table.transact(writes).await {
                Ok(()) => return Ok(stored.appointment),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => jittered_pause(0).await,
            }
        }
        Err(StoreError::Contended.into())
    }
}

/// Sleeps a random time that grows with the attempt (up to about 50 ms), to break up writers
/// that keep colliding on one item.
pub(crate) async fn jittered_pause(attempt: usize) {
    let ceiling = 2u64 << attempt.min(5);
    let millis = (uuid::Uuid::new_v4().as_u128() % u128::from(ceiling)) as u64 + 1;
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

fn unavailable(reason: Unavailable) -> BookingError {
    BookingError::Unavailable {
        reason,
        alternatives: Vec::new(),
    }
}
