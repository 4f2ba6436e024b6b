//! Free time: busy intervals from the slot locks, offered slots and alternatives.

use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use salon_domain::availability::LOCK_STEP;
use std::collections::HashMap;

use salon_domain::{
    Appointment, AppointmentId, Business, BusinessId, Busy, CallSid, Planner, Service, ServiceId,
    Slot, StaffId, Unavailable, Work,
};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::table::SkRange;

use super::caps::Caps;
use super::{
    ALTERNATIVE_DAYS, ALTERNATIVES, BookingError, Store, StoreError, decode, kind_of, unavailable,
};

impl Store {
    /// Reads every slot lock between two instants: the appointments', and the calls' holds.
    pub(super) async fn locks(
        &self,
        business: &BusinessId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Lock>, StoreError> {
        let (a, b) = (keys::instant(from), format!("{}#~", keys::instant(to)));
        let items = self
            .table
            .query(&keys::slots(business), SkRange::Between(&a, &b))
            .await?;
        items
            .iter()
            .map(|item| {
                let holder = match decode::<SlotLock>(item)? {
                    SlotLock::Booked { appointment } => Holder::Appointment(appointment),
                    SlotLock::Held { held_by, until } => Holder::Call {
                        call: held_by,
                        until,
                    },
                    SlotLock::Blocked { blocked } => Holder::Block(blocked),
                };
                let (when, staff) = item.sk.split_once('#').unwrap_or((&item.sk, ""));
                let start = when.parse::<Timestamp>().ok();
                let staff = StaffId::parse(staff).ok();
                match (start, staff) {
                    (Some(start), Some(staff)) => Ok(Lock {
                        sk: item.sk.clone(),
                        version: item.version,
                        staff,
                        start,
                        holder,
                    }),
                    _ => Err(StoreError::Corrupt {
                        kind: kind_of(&item.sk),
                        source: serde::de::Error::custom("a slot lock's key is not instant#staff"),
                    }),
                }
            })
            .collect()
    }

    /// The appointments' locks between two instants, with their appointment.
    pub(super) async fn booked_locks(
        &self,
        business: &BusinessId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Lock, AppointmentId)>, StoreError> {
        Ok(self
            .locks(business, from, to)
            .await?
            .into_iter()
            .filter_map(|l| match &l.holder {
                Holder::Appointment(id) => {
                    let id = id.clone();
                    Some((l, id))
                }
                Holder::Call { .. } | Holder::Block(_) => None,
            })
            .collect())
    }

    /// Reads the book of local dates `from..=to` of the business as `view` sees it: busy
    /// time, the daily cap's tokens (in a salon with a cap, read at the same time), and the
    /// locks it may take over.
    pub(super) async fn book_of(
        &self,
        business: &Business,
        from: Date,
        to: Date,
        view: &View<'_>,
    ) -> Result<BookView, StoreError> {
        let (busy, caps) = tokio::join!(
            self.busy_on(business, from, to, view),
            self.caps(business, from, to, view)
        );
        let ((busy, mut takeable), (caps, cap_takeable)) = (busy?, caps?);
        takeable.extend(cap_takeable);
        Ok(BookView {
            busy,
            takeable,
            caps,
        })
    }

    /// Reads busy time covering local dates `from..=to` of the business, as `view` sees it,
    /// with the locks it may take over.
    async fn busy_on(
        &self,
        business: &Business,
        from: Date,
        to: Date,
        view: &View<'_>,
    ) -> Result<(Vec<Busy>, Takeable), StoreError> {
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
        let mut busy = Vec::new();
        let mut takeable = Takeable::new();
        for lock in self.locks(&business.id, start, end).await? {
            let appointment = match &lock.holder {
                Holder::Appointment(id) if Some(id) == view.except => continue,
                Holder::Appointment(id) => Some(id.clone()),
                // An expired hold holds nothing: anyone may take its lock over.
                Holder::Call { until, .. } if *until <= view.now => {
                    takeable.insert(lock.sk, (lock.version, false));
                    continue;
                }
                // This call's own hold: free for it, and its to take over.
                Holder::Call { call, .. } if Some(call) == view.call => {
                    takeable.insert(lock.sk, (lock.version, true));
                    continue;
                }
                Holder::Call { .. } | Holder::Block(_) => None,
            };
            let end = lock.start.checked_add(LOCK_STEP).unwrap_or(lock.start);
            busy.push(Busy {
                staff: lock.staff,
                start: lock.start,
                end,
                appointment,
            });
        }
        Ok((busy, takeable))
    }

    /// The appointments booked on a local date of the salon (those whose time holds one of
    /// the day's slot locks), by start.
    pub async fn appointments_on(
        &self,
        business: &Business,
        day: Date,
    ) -> Result<Vec<salon_domain::Appointment>, StoreError> {
        self.appointments_between(business, day, day).await
    }

    /// The appointments booked on local dates `from..=to` of the salon, by start: one read of
    /// the slot locks, then each appointment once.
    pub async fn appointments_between(
        &self,
        business: &Business,
        from: Date,
        to: Date,
    ) -> Result<Vec<salon_domain::Appointment>, StoreError> {
        let tz = business.time_zone.tz().clone();
        let (Ok(from), Ok(to)) = (
            from.to_zoned_datetime(tz.clone()),
            to.tomorrow().and_then(|d| d.to_zoned_datetime(tz)),
        ) else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<AppointmentId> = self
            .booked_locks(&business.id, from.timestamp(), to.timestamp())
            .await?
            .into_iter()
            .filter(|(l, _)| l.start < to.timestamp())
            .map(|(_, id)| id)
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(a) = self.appointment(&business.id, &id).await?
                && a.is_booked()
            {
                out.push(a);
            }
        }
        out.sort_by_key(|a| a.start);
        Ok(out)
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
        self.availability_of(business, service, &[], from, to, staff, None, now)
            .await
    }

    /// Lists the free starts for services done one after another (a combination, or one
    /// service) on local dates `from..=to`, as `call` sees them (its own hold is free).
    #[allow(clippy::too_many_arguments)]
    pub async fn availability_of(
        &self,
        business: &BusinessId,
        service: &ServiceId,
        more: &[ServiceId],
        from: Date,
        to: Date,
        staff: Option<&StaffId>,
        call: Option<&CallSid>,
        now: Timestamp,
    ) -> Result<Vec<Slot>, BookingError> {
        let (b, job) = self.job(business, service, more).await?;
        let view = View {
            except: None,
            call,
            now,
        };
        let book = self.book_of(&b, from, to, &view).await?;
        let planner = job
            .planner(&b, staff, &book.busy, now)?
            .with_full_days(book.caps.full_days());
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
        self.check_of(business, service, &[], at, staff, None, now)
            .await
    }

    /// Checks a wished start for services done one after another, as `call` sees it (its
    /// own hold is free).
    #[allow(clippy::too_many_arguments)]
    pub async fn check_of(
        &self,
        business: &BusinessId,
        service: &ServiceId,
        more: &[ServiceId],
        at: DateTime,
        staff: Option<&StaffId>,
        call: Option<&CallSid>,
        now: Timestamp,
    ) -> Result<Slot, BookingError> {
        let (b, job) = self.job(business, service, more).await?;
        let view = View {
            except: None,
            call,
            now,
        };
        self.check_with(&b, &job, at, staff, &view)
            .await
            .map(|c| c.slot)
    }

    /// The salon and what booking `service` and then `more` takes, each service offered.
    pub(super) async fn job(
        &self,
        business: &BusinessId,
        service: &ServiceId,
        more: &[ServiceId],
    ) -> Result<(Business, Job), BookingError> {
        let catalog = self.catalog(business).await?;
        let b = catalog
            .business
            .clone()
            .ok_or_else(|| BookingError::UnknownBusiness(business.clone()))?;
        let mut found = Vec::with_capacity(1 + more.len());
        for id in std::iter::once(service).chain(more) {
            let s = catalog
                .services
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| BookingError::UnknownService(id.clone()))?;
            if !s.active {
                return Err(BookingError::ServiceInactive(id.clone()));
            }
            found.push(s.clone());
        }
        let refs: Vec<&Service> = found.iter().collect();
        // A salon with a daily cap carries a little less (its tokens take two of a move's
        // writes).
        let max_minutes = b.rules.max_booking_minutes();
        let too_long = || BookingError::TooLong { max_minutes };
        let work = match refs.as_slice() {
            [one] => Work::of(one),
            many => Work::combined(many).map_err(|_| too_long())?,
        };
        if work.held_until() > SignedDuration::from_mins(i64::from(max_minutes)) {
            return Err(too_long());
        }
        Ok((
            b,
            Job {
                services: found,
                work,
            },
        ))
    }

    /// Checks a wished start as `view` sees the book: the slot with the locks it may take
    /// over, or why not with the nearest alternatives.
    pub(super) async fn check_with(
        &self,
        b: &Business,
        s: &Job,
        at: DateTime,
        staff: Option<&StaffId>,
        view: &View<'_>,
    ) -> Result<Checked, BookingError> {
        let now = view.now;
        let today = now.to_zoned_datetime(b.time_zone.tz().clone()).date();
        let from = at.date().max(today);
        let to = from
            .checked_add(jiff::Span::new().days(ALTERNATIVE_DAYS))
            .unwrap_or(from);
        let BookView {
            busy,
            takeable,
            caps,
        } = self.book_of(b, from, to, view).await?;
        let planner = s
            .planner(b, staff, &busy, now)?
            .with_full_days(caps.full_days());
        let reason = match planner.check(at) {
            Ok(slot) => {
                return Ok(Checked {
                    slot,
                    takeable,
                    caps,
                });
            }
            Err(reason) => reason,
        };
        if matches!(reason, Unavailable::UnknownStaff(_)) {
            return Err(BookingError::Unavailable {
                reason,
                alternatives: Vec::new(),
            });
        }
        let mut alternatives = planner.alternatives(at, ALTERNATIVES, to);
        // Too few within the days read (a long closure, a full fortnight): read the next
        // days' bookings before offering any of their times, up to the booking horizon.
        let mut read_to = to;
        while alternatives.len() < ALTERNATIVES && read_to < planner.last_day() {
            let (Ok(next_from), Ok(next_to)) = (
                read_to.tomorrow(),
                read_to.checked_add(jiff::Span::new().days(ALTERNATIVE_DAYS)),
            ) else {
                break;
            };
            let book = self.book_of(b, next_from, next_to, view).await?;
            let later = s
                .planner(b, staff, &book.busy, now)?
                .with_full_days(book.caps.full_days());
            alternatives.extend(
                later
                    .slots_between(next_from, next_to)
                    .into_iter()
                    .take(ALTERNATIVES - alternatives.len()),
            );
            read_to = next_to;
        }
        Err(BookingError::Unavailable {
            reason,
            alternatives,
        })
    }
}

/// What a booking is for: its services, done one after another by one stylist, and the time
/// that takes.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) services: Vec<Service>,
    pub(crate) work: Work,
}

impl Job {
    /// An appointment being moved: its own services and shape, even if the services changed
    /// since.
    pub(crate) fn of_appointment(a: &Appointment) -> Self {
        let service = Service {
            id: a.service.clone(),
            name: a.service_name.clone(),
            category: String::new(),
            duration: salon_domain::Minutes::new(30).expect("30 is a valid duration"),
            price: salon_domain::Price { bani: 0 },
            active: true,
            processing: Vec::new(),
            buffer: None,
        };
        let more = a.more.iter().map(|id| Service {
            id: id.clone(),
            ..service.clone()
        });
        let services = std::iter::once(service.clone()).chain(more).collect();
        Self {
            services,
            work: a.work(),
        }
    }

    /// Its name as the caller hears it: "Vopsit + Spălat și coafat".
    pub(crate) fn name(&self) -> String {
        let names: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
        names.join(" + ")
    }

    /// How many active stylists do every one of its services.
    pub(crate) fn qualified(&self, b: &Business) -> usize {
        b.active_staff()
            .filter(|s| self.services.iter().all(|svc| s.does(&svc.id)))
            .count()
    }

    /// The services after the first.
    pub(crate) fn more(&self) -> Vec<ServiceId> {
        self.services.iter().skip(1).map(|s| s.id.clone()).collect()
    }

    pub(crate) fn planner<'a>(
        &self,
        b: &'a Business,
        staff: Option<&StaffId>,
        busy: &'a [Busy],
        now: Timestamp,
    ) -> Result<Planner<'a>, BookingError> {
        let ids: Vec<&ServiceId> = self.services.iter().map(|s| &s.id).collect();
        Planner::plan(b, &ids, self.work.clone(), staff, busy, now).map_err(unavailable)
    }
}

/// Who holds a slot lock.
#[derive(Debug, Clone)]
pub(crate) enum Holder {
    /// A booked appointment (or one moved or cancelled since: its lock is left behind).
    Appointment(AppointmentId),
    /// A call, while the caller decides, until `until`.
    Call { call: CallSid, until: Timestamp },
    /// Time the owner blocked (its id).
    Block(String),
}

/// A slot lock as read: one 15-minute step of one stylist.
#[derive(Debug, Clone)]
pub(crate) struct Lock {
    pub(crate) sk: String,
    pub(crate) version: u64,
    pub(crate) staff: StaffId,
    pub(crate) start: Timestamp,
    pub(crate) holder: Holder,
}

/// A slot lock as stored: `{"appointment": …}` (as it always was), a call's hold, or time the
/// owner blocked.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum SlotLock {
    Booked { appointment: AppointmentId },
    Held { held_by: CallSid, until: Timestamp },
    Blocked { blocked: String },
}

/// Locks a write may take over, by sort key: the version read, and whether the hold is the
/// reader's own (else it expired).
pub(crate) type Takeable = HashMap<String, (u64, bool)>;

/// Who reads the book: an appointment being moved sees its own time free, a call its own
/// holds, and everybody sees expired holds as free.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) except: Option<&'a AppointmentId>,
    pub(crate) call: Option<&'a CallSid>,
    pub(crate) now: Timestamp,
}

/// A free slot, the locks of it its writer may take over, and the cap tokens read with it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) slot: Slot,
    pub(crate) takeable: Takeable,
    pub(crate) caps: Caps,
}

/// The book of some days as one reader sees it.
pub(super) struct BookView {
    pub(super) busy: Vec<Busy>,
    pub(super) takeable: Takeable,
    pub(super) caps: Caps,
}
