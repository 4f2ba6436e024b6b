//! Free start times for a service, and the reasons a wished time cannot be had.
//!
//! Everything here is local wall-clock time of the salon: a slot is generated as "10:30 on
//! this date" and only then resolved to an instant in the salon's zone, so the grid stays on
//! the hour across the daylight-saving changes. A wall-clock time that does not exist (the
//! hour skipped in March) is never offered; one that happens twice (the hour repeated in
//! October) is taken at its first occurrence. Salons are closed at 3 a.m., so neither case
//! costs a real slot.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::AmbiguousOffset;
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use serde::Serialize;

use crate::business::{Break, Business, OpenHours, Staff};
use crate::holidays::Holidays;
use crate::ids::{AppointmentId, ServiceId, StaffId};
use crate::service::{Minutes, Service};
use crate::work::Work;

mod timeline;

use timeline::StaffBusy;

/// The granularity of slot locks in storage: a booking claims every 15-minute step it touches.
///
/// It is fixed, not the salon's grid, so changing the grid never lets two bookings miss each
/// other's locks; the grid is a multiple of it. 15 minutes keeps the longest service (8 hours,
/// 32 locks) and a move of it (64 lock writes) inside one DynamoDB transaction (100 actions).
/// A 20-minute service holds two steps: with starts on a 15-minute grid the rest of the
/// second step could not be booked anyway.
pub const LOCK_STEP: SignedDuration = SignedDuration::from_mins(15);

/// Returns the lock steps an appointment covers: every step boundary from `start` rounded
/// down to the step, up to (not including) `end`.
pub fn lock_steps(start: Timestamp, end: Timestamp) -> impl Iterator<Item = Timestamp> {
    let step = LOCK_STEP.as_secs();
    let first = start.as_second().div_euclid(step) * step;
    let end = end.as_second();
    (0..)
        .map(move |i| first + i * step)
        .take_while(move |s| *s < end)
        .map(|s| Timestamp::from_second(s).expect("a lock step lies between two valid timestamps"))
}

/// Time already taken on a staff member's book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// Whose time.
    pub staff: StaffId,
    /// From (inclusive).
    pub start: Timestamp,
    /// To (exclusive).
    pub end: Timestamp,
    /// The appointment holding it (`None` for time held by something else): a stylist's
    /// appointments on a day are counted by it.
    pub appointment: Option<AppointmentId>,
}

/// Why the salon is closed on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum ClosedReason {
    /// The salon does not open on this weekday.
    Weekday,
    /// A Romanian public holiday, by name.
    Holiday(&'static str),
    /// A date the salon closed, with its reason.
    Closure(String),
}

/// Whether the salon opens on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayStatus {
    /// Open, with these hours.
    Open(OpenHours),
    /// Closed.
    Closed(ClosedReason),
}

/// Returns whether, and when, the salon opens on a local date.
///
/// For more than one date, a [`Calendar`] computes the year's holidays only once.
pub fn day_status(business: &Business, date: Date) -> DayStatus {
    Calendar::new(business, date, date).status(date)
}

/// Returns whether the salon is open at `now`: an open day, inside its hours and not in its
/// break (a person is there to answer the phone).
pub fn open_at(business: &Business, now: Timestamp) -> bool {
    let local = now.to_zoned_datetime(business.time_zone.tz().clone());
    let DayStatus::Open(hours) = day_status(business, local.date()) else {
        return false;
    };
    let t = local.time();
    let in_break = hours.pause().is_some_and(|b| b.start <= t && t < b.end);
    hours.open() <= t && t < hours.close() && !in_break
}

/// Answers whether the salon opens on local dates, with the public holidays of the years
/// asked about computed once.
#[derive(Debug, Clone)]
pub struct Calendar<'a> {
    business: &'a Business,
    /// `None` when the salon opens on public holidays, so none are computed.
    holidays: Option<Holidays>,
}

impl<'a> Calendar<'a> {
    /// Prepares to answer for the dates from `from` to `to`, both included; other dates are
    /// answered too, but compute their year's holidays on every call.
    pub fn new(business: &'a Business, from: Date, to: Date) -> Self {
        let holidays = business
            .closures
            .romanian_holidays
            .then(|| Holidays::between(from, to));
        Self { business, holidays }
    }

    /// Returns whether, and when, the salon opens on a local date.
    pub fn status(&self, date: Date) -> DayStatus {
        let business = self.business;
        if let Some(c) = business.closures.dates.iter().find(|c| c.date == date) {
            return DayStatus::Closed(ClosedReason::Closure(c.reason.clone()));
        }
        if let Some(h) = self.holidays.as_ref().and_then(|list| list.on(date))
            && !business.closures.open_holidays.contains(&date)
        {
            return DayStatus::Closed(ClosedReason::Holiday(h.name));
        }
        match business.hours.on(date.weekday()) {
            Some(hours) => DayStatus::Open(hours),
            None => DayStatus::Closed(ClosedReason::Weekday),
        }
    }
}

/// A free start time, with the staff free for the whole service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// When it starts, in the salon's zone.
    pub start: ZonedDateTime,
    /// When the service would end.
    pub end: ZonedDateTime,
    /// Who is free, in the order "anyone" picks them: the fewest appointments that day first,
    /// the salon's order of staff on a tie (a known client's last stylist goes first: see
    /// [`prefer`]).
    pub staff: Vec<StaffId>,
}

/// Puts a client's last stylist first among those free, if they are: the one-sentence rule
/// for "anyone" is "your last stylist if free, otherwise whoever has the fewest appointments
/// that day".
pub fn prefer(staff: &mut [StaffId], last: Option<&StaffId>) {
    if let Some(i) = last.and_then(|last| staff.iter().position(|s| s == last)) {
        staff[..=i].rotate_right(1);
    }
}

impl Slot {
    /// Returns the local start time as a caller hears it ("10:30").
    pub fn label(&self) -> String {
        self.start.strftime("%H:%M").to_string()
    }
}

/// Why a wished start time cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// The time has passed.
    #[error("the time has passed")]
    InPast,
    /// Too close to now: the salon needs some notice.
    #[error("bookings need notice; the earliest is {earliest}")]
    TooSoon { earliest: Timestamp },
    /// Beyond how far ahead the salon books.
    #[error("bookings go no further than {last_day}")]
    TooFarAhead { last_day: Date },
    /// The salon is closed that day.
    #[error("closed on {date}: {reason:?}")]
    Closed { date: Date, reason: ClosedReason },
    /// Outside the day's hours, or the service would run past closing.
    #[error("outside working hours ({open} to {close})")]
    OutsideHours { open: Time, close: Time },
    /// The service would overlap the midday break.
    #[error("overlaps the break ({} to {})", .pause.start, .pause.end)]
    DuringBreak { pause: Break },
    /// Not on the salon's grid (every 15 minutes by default).
    #[error("appointments start every {grid} minutes")]
    OffGrid { grid: u16 },
    /// A wall-clock time skipped by the change to summer time.
    #[error("that local time does not exist (daylight saving change)")]
    NoSuchTime,
    /// Every staff member who could do it is busy.
    #[error("taken")]
    Taken,
    /// The staff member asked for does not exist or no longer takes bookings.
    #[error("no staff member {0} takes bookings")]
    UnknownStaff(StaffId),
    /// The stylist asked for does not do this service; `qualified` do.
    #[error("{staff} does not do this service")]
    NotQualified {
        staff: StaffId,
        qualified: Vec<StaffId>,
    },
    /// No stylist who takes bookings does this service.
    #[error("nobody does this service")]
    NobodyQualified,
    /// The stylist asked for is away that day (a holiday, a sick day), back on `back`.
    #[error("{staff} is away until {back}")]
    StaffAway { staff: StaffId, back: Date },
    /// The stylist asked for does not work on that weekday.
    #[error("{staff} does not work that day")]
    StaffOff { staff: StaffId },
    /// Outside the hours of the stylist asked for, or the service would run past them.
    #[error("outside {staff}'s hours ({open} to {close})")]
    StaffHours {
        staff: StaffId,
        open: Time,
        close: Time,
    },
    /// Nobody who does the service works that day (away or off).
    #[error("nobody who does it works that day")]
    NobodyWorks,
    /// The stylist asked for has as many appointments that day as the salon's daily cap.
    #[error("{staff} is fully booked that day")]
    StaffFull { staff: StaffId },
    /// Everyone who does the service and works that day is at the salon's daily cap.
    #[error("everyone is fully booked that day")]
    DayFull,
}

/// How a stylist stands on an open day, worked out once per day.
#[derive(Debug, Clone, Copy)]
enum Shift {
    /// Away (a holiday, a sick day), back the day after `until`.
    Away { until: Date },
    /// Not working this weekday.
    Off,
    /// Working, but with as many appointments as the salon's daily cap.
    Full,
    /// Working, with the day's boundaries resolved to instants.
    On(Hours),
}

/// A working day's hours with their boundaries resolved to instants in the salon's zone.
#[derive(Debug, Clone, Copy)]
struct Hours {
    hours: OpenHours,
    /// When the day opens.
    open: Timestamp,
    /// When the last appointment must have ended.
    close: Timestamp,
    /// The break, with when it starts and ends.
    pause: Option<(Break, Timestamp, Timestamp)>,
}

/// An open day: the salon's hours, and each stylist's shift (in the planner's order of staff).
#[derive(Debug, Clone)]
struct OpenDay {
    salon: Hours,
    shifts: Vec<Shift>,
}

/// How telling a stylist's refusal is, when nobody works at a time: a break or the stylist's
/// hours say what to change (the hour), an absence or a day off only that the day is wrong.
/// A full day says the day is wrong, but that the stylist works it.
fn rank(why: &Unavailable) -> u8 {
    match why {
        Unavailable::DuringBreak { .. } => 4,
        Unavailable::StaffHours { .. } => 3,
        Unavailable::StaffFull { .. } => 2,
        Unavailable::StaffOff { .. } => 1,
        _ => 0,
    }
}

/// Answers availability questions for one service against a snapshot of the salon's book.
#[derive(Debug)]
pub struct Planner<'a> {
    business: &'a Business,
    /// What the booking takes: the client's time and the stretches that hold the stylist.
    work: Work,
    /// The staff who may be offered (those who do the service, or the one asked for), in the
    /// salon's order, each with their busy time: grouped once here, since every slot time
    /// weighed asks who is free.
    staff: Vec<StaffBusy<'a>>,
    /// Whether the caller asked for one stylist: refusals then speak of them.
    named: bool,
    now: Timestamp,
    /// The first instant that can be booked: `now` plus the salon's notice.
    earliest: Timestamp,
    today: Date,
    /// The last date that can be booked, fixed by `today` and the salon's horizon.
    last_day: Date,
    /// Open days from `today` to `last_day`: a day's status is asked for every slot weighed,
    /// so the holidays are computed once here rather than on each call.
    calendar: Calendar<'a>,
    /// The stylists' days at the salon's daily cap: nothing more is offered with them then.
    full: BTreeSet<(StaffId, Date)>,
}

impl<'a> Planner<'a> {
    /// Prepares to plan a time of `duration` that every stylist can fill, with one staff
    /// member if the caller asked for one, given what is already `busy` and the current
    /// instant.
    pub fn new(
        business: &'a Business,
        duration: Minutes,
        staff: Option<&StaffId>,
        busy: &'a [Busy],
        now: Timestamp,
    ) -> Result<Self, Unavailable> {
        Self::plan(business, &[], Work::plain(duration.get()), staff, busy, now)
    }

    /// Prepares to plan a service: only the stylists who do it are offered.
    pub fn for_service(
        business: &'a Business,
        service: &Service,
        staff: Option<&StaffId>,
        busy: &'a [Busy],
        now: Timestamp,
    ) -> Result<Self, Unavailable> {
        Self::plan(
            business,
            &[&service.id],
            Work::of(service),
            staff,
            busy,
            now,
        )
    }

    /// Prepares to plan `work` for `services` (a combination, or an appointment being moved,
    /// which keeps its own shape): only the stylists who do every one of them are offered.
    pub fn plan(
        business: &'a Business,
        services: &[&ServiceId],
        work: Work,
        staff: Option<&StaffId>,
        busy: &'a [Busy],
        now: Timestamp,
    ) -> Result<Self, Unavailable> {
        let does = |s: &Staff| services.iter().all(|id| s.does(id));
        let named = staff.is_some();
        let staff: Vec<&Staff> = match staff {
            Some(id) => {
                let s = business
                    .active_staff()
                    .find(|s| &s.id == id)
                    .ok_or_else(|| Unavailable::UnknownStaff(id.clone()))?;
                if !does(s) {
                    return Err(Unavailable::NotQualified {
                        staff: s.id.clone(),
                        qualified: business
                            .active_staff()
                            .filter(|s| does(s))
                            .map(|s| s.id.clone())
                            .collect(),
                    });
                }
                vec![s]
            }
            None => business.active_staff().filter(|s| does(s)).collect(),
        };
        if staff.is_empty() {
            return Err(Unavailable::NobodyQualified);
        }
        let today = now
            .to_zoned_datetime(business.time_zone.tz().clone())
            .date();
        let days = i64::from(business.rules.max_days_ahead);
        let last_day = today
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(today);
        let lead = SignedDuration::from_mins(i64::from(business.rules.min_lead_minutes));
        Ok(Self {
            business,
            work,
            staff: timeline::by_staff(staff, busy),
            named,
            now,
            earliest: now.checked_add(lead).unwrap_or(now),
            today,
            last_day,
            calendar: Calendar::new(business, today, last_day),
            full: BTreeSet::new(),
        })
    }

    /// Offers nothing more with these stylists on these days: they have as many appointments
    /// as the salon's daily cap (read by the store, which keeps the count).
    pub fn with_full_days(mut self, full: BTreeSet<(StaffId, Date)>) -> Self {
        self.full = full;
        self
    }

    /// Returns the salon's local date of "now".
    pub fn today(&self) -> Date {
        self.today
    }

    /// Returns the last date that can be booked.
    pub fn last_day(&self) -> Date {
        self.last_day
    }

    /// Resolves a wall-clock time in the salon's zone, `None` inside the spring-forward gap.
    fn resolve(&self, at: DateTime) -> Option<ZonedDateTime> {
        let tz = self.business.time_zone.tz();
        let ambiguous = tz.to_ambiguous_zoned_datetime(at);
        if matches!(ambiguous.offset(), AmbiguousOffset::Gap { .. }) {
            return None;
        }
        // For the repeated October hour, `compatible` takes the earlier occurrence.
        ambiguous.compatible().ok()
    }

    /// The stylists free for every `held` stretch, in the order "anyone" picks them (see
    /// [`Slot::staff`]), among those working then (`working`, indices into `self.staff`).
    fn free_staff(
        &self,
        day: &OpenDay,
        working: &[usize],
        held: &[(Timestamp, Timestamp)],
    ) -> Vec<StaffId> {
        let mut free: Vec<(usize, &StaffBusy<'a>)> = working
            .iter()
            .map(|&i| &self.staff[i])
            .filter(|s| !held.iter().any(|&(a, b)| s.busy.overlaps(a, b)))
            .map(|s| (s.appointments_between(day.salon.open, day.salon.close), s))
            .collect();
        // Stable: the salon's order on a tie.
        free.sort_by_key(|(count, _)| *count);
        free.into_iter().map(|(_, s)| s.id().clone()).collect()
    }

    /// The stylists working for the whole of `held`, the stretches that hold them (indices
    /// into `self.staff`), or why nobody is. A client's processing may run through the
    /// stylist's break; their work may not.
    fn working(
        &self,
        day: &OpenDay,
        held: &[(Timestamp, Timestamp)],
    ) -> Result<Vec<usize>, Unavailable> {
        let (start, end) = match (held.first(), held.last()) {
            (Some(first), Some(last)) => (first.0, last.1),
            _ => return Ok(Vec::new()),
        };
        let mut working = Vec::with_capacity(self.staff.len());
        // The most telling refusal among the stylists': a break over an absence, say.
        let mut refusal: Option<Unavailable> = None;
        for (i, (member, shift)) in self.staff.iter().zip(&day.shifts).enumerate() {
            let id = member.id().clone();
            let why = match *shift {
                Shift::Away { until } => Unavailable::StaffAway {
                    staff: id,
                    back: until.tomorrow().unwrap_or(until),
                },
                Shift::Off => Unavailable::StaffOff { staff: id },
                Shift::Full => Unavailable::StaffFull { staff: id },
                Shift::On(h) if start < h.open || end > h.close => Unavailable::StaffHours {
                    staff: id,
                    open: h.hours.open(),
                    close: h.hours.close(),
                },
                Shift::On(Hours {
                    pause: Some((pause, b0, b1)),
                    ..
                }) if held.iter().any(|&(a, b)| a < b1 && b0 < b) => {
                    Unavailable::DuringBreak { pause }
                }
                Shift::On(_) => {
                    working.push(i);
                    continue;
                }
            };
            if refusal.as_ref().is_none_or(|r| rank(&why) > rank(r)) {
                refusal = Some(why);
            }
        }
        match refusal {
            _ if !working.is_empty() => Ok(working),
            Some(why) if self.named => Err(why),
            // Anyone: a stylist's own name is not the reason.
            Some(Unavailable::StaffHours { .. }) => Err(Unavailable::OutsideHours {
                open: day.salon.hours.open(),
                close: day.salon.hours.close(),
            }),
            Some(Unavailable::DuringBreak { pause }) => Err(Unavailable::DuringBreak { pause }),
            Some(Unavailable::StaffFull { .. }) => Err(Unavailable::DayFull),
            _ => Err(Unavailable::NobodyWorks),
        }
    }

    /// Checks every rule for a start at `at`, returning the slot with its free staff.
    pub fn check(&self, at: DateTime) -> Result<Slot, Unavailable> {
        let date = at.date();
        // The horizon first: a date years away is "we book only until …", not a closed day
        // or a time the zone cannot resolve.
        if date > self.last_day() {
            return Err(Unavailable::TooFarAhead {
                last_day: self.last_day(),
            });
        }
        if date < self.today() {
            return Err(Unavailable::InPast);
        }
        let start = self.start_at(at)?;
        let day = match self.calendar.status(date) {
            DayStatus::Open(hours) => self.open_day(date, hours),
            DayStatus::Closed(reason) => return Err(Unavailable::Closed { date, reason }),
        };
        self.check_on(&day, at, start)
    }

    /// Resolves a wished start to an instant that has not passed.
    fn start_at(&self, at: DateTime) -> Result<ZonedDateTime, Unavailable> {
        let start = self.resolve(at).ok_or(Unavailable::NoSuchTime)?;
        if start.timestamp() <= self.now {
            return Err(Unavailable::InPast);
        }
        Ok(start)
    }

    /// Checks the rules of an open day for a start at `at`, resolved to `start`: the part of
    /// [`Planner::check`] that listing a day repeats at each slot time.
    fn check_on(
        &self,
        day: &OpenDay,
        at: DateTime,
        start: ZonedDateTime,
    ) -> Result<Slot, Unavailable> {
        let hours = day.salon.hours;
        let end = start
            .timestamp()
            .checked_add(self.work.length())
            .map_err(|_| Unavailable::NoSuchTime)?;
        let held: Vec<(Timestamp, Timestamp)> = self.work.held_at(start.timestamp()).collect();
        let held_end = held.last().map_or(end, |h| h.1);
        if at.time() < hours.open()
            || start.timestamp() < day.salon.open
            || held_end > day.salon.close
        {
            return Err(Unavailable::OutsideHours {
                open: hours.open(),
                close: hours.close(),
            });
        }
        let grid = self.business.rules.slot_minutes;
        let minute_of_day = i32::from(at.hour()) * 60 + i32::from(at.minute());
        if minute_of_day % i32::from(grid) != 0 || at.second() != 0 || at.subsec_nanosecond() != 0 {
            return Err(Unavailable::OffGrid { grid });
        }
        // Who works then (hours, breaks, absences) before the notice, as the salon's break
        // always was: "that is the break" says more than "too soon".
        let working = self.working(day, &held)?;
        if start.timestamp() < self.earliest {
            return Err(Unavailable::TooSoon {
                earliest: self.earliest,
            });
        }
        let staff = self.free_staff(day, &working, &held);
        if staff.is_empty() {
            return Err(Unavailable::Taken);
        }
        let end = end.to_zoned_datetime(self.business.time_zone.tz().clone());
        Ok(Slot { start, end, staff })
    }

    /// Resolves the boundaries of an open day to instants, once for all its slot times: done
    /// per slot time, these conversions in the salon's zone were an eighth of listing a day.
    fn open_day(&self, date: Date, hours: OpenHours) -> OpenDay {
        let salon = self.hours(date, hours);
        let shifts = self
            .staff
            .iter()
            .map(|s| {
                let member = s.member;
                if let Some(a) = member.absent_on(date) {
                    return Shift::Away { until: a.to() };
                }
                if self.full.contains(&(member.id.clone(), date)) {
                    return Shift::Full;
                }
                match member.hours_on(&self.business.hours, date.weekday()) {
                    None => Shift::Off,
                    // Most stylists work the salon's hours: resolved once for all of them.
                    Some(own) if own == hours => Shift::On(salon),
                    Some(own) => Shift::On(self.hours(date, own)),
                }
            })
            .collect();
        OpenDay { salon, shifts }
    }

    fn hours(&self, date: Date, hours: OpenHours) -> Hours {
        Hours {
            hours,
            open: self.instant(date, hours.open()),
            close: self.instant(date, hours.close()),
            pause: hours
                .pause()
                .map(|p| (p, self.instant(date, p.start), self.instant(date, p.end))),
        }
    }

    /// Resolves a boundary of the day (opening, closing, break) to an instant.
    fn instant(&self, date: Date, time: Time) -> Timestamp {
        // Hours never fall in a gap in practice; `compatible` moves such a boundary forward.
        date.to_datetime(time)
            .to_zoned_datetime(self.business.time_zone.tz().clone())
            .map(|z| z.timestamp())
            .unwrap_or(self.now)
    }

    /// Returns every free start on a local date, in order.
    pub fn slots_on(&self, date: Date) -> Vec<Slot> {
        if date < self.today || date > self.last_day {
            return Vec::new();
        }
        let hours = match self.calendar.status(date) {
            DayStatus::Open(h) => h,
            DayStatus::Closed(_) => return Vec::new(),
        };
        // What `check` works out per call, once for the day: the horizon and the day's status
        // were checked just above, the boundaries are resolved here.
        let day = self.open_day(date, hours);
        let grid = i32::from(self.business.rules.slot_minutes);
        let open = i32::from(hours.open().hour()) * 60 + i32::from(hours.open().minute());
        let close = i32::from(hours.close().hour()) * 60 + i32::from(hours.close().minute());
        // First grid line at or after opening.
        let first = (open + grid - 1) / grid * grid;
        (first..close)
            .step_by(grid as usize)
            .filter_map(|m| {
                let time = Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).ok()?;
                let at = date.to_datetime(time);
                self.start_at(at)
                    .and_then(|start| self.check_on(&day, at, start))
                    .ok()
            })
            .collect()
    }

    /// Returns every free start from `from` to `to`, both included, within the booking horizon.
    pub fn slots_between(&self, from: Date, to: Date) -> Vec<Slot> {
        let from = from.max(self.today);
        let to = to.min(self.last_day());
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            out.extend(self.slots_on(day));
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        out
    }

    /// Returns up to `limit` free starts nearest to a wished time: that day's closest first,
    /// then the earliest of the following days up to `until`, the last day whose busy time
    /// this planner was given (a later day would look free whatever is booked on it).
    pub fn alternatives(&self, wished: DateTime, limit: usize, until: Date) -> Vec<Slot> {
        let wished_at = self
            .resolve(wished)
            .map(|z| z.timestamp())
            .unwrap_or_else(|| self.instant(wished.date(), wished.time()));
        let mut same_day = self.slots_on(wished.date());
        same_day.retain(|s| s.start.timestamp() != wished_at);
        same_day.sort_by_key(|s| {
            let d = s.start.timestamp().duration_since(wished_at);
            // Nearest first; on a tie the earlier one, which callers usually prefer.
            (d.abs(), d > SignedDuration::ZERO)
        });
        let mut out: Vec<Slot> = same_day.into_iter().take(limit).collect();
        // The following days, or from today on if the wished day has passed.
        let mut day = match wished.date().tomorrow() {
            Ok(next) => next.max(self.today),
            Err(_) => return out,
        };
        while out.len() < limit && day <= self.last_day().min(until) {
            for slot in self.slots_on(day) {
                if out.len() == limit {
                    break;
                }
                out.push(slot);
            }
            day = match day.tomorrow() {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::phone::PhoneE164;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn salon() -> Business {
        demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap())
    }

    fn staff(id: &str) -> StaffId {
        StaffId::parse(id).unwrap()
    }

    #[test]
    fn lock_steps_cover_every_quarter_hour_touched() {
        let steps: Vec<_> =
            lock_steps(ts("2026-12-15T08:00:00Z"), ts("2026-12-15T08:20:00Z")).collect();
        assert_eq!(
            steps,
            [ts("2026-12-15T08:00:00Z"), ts("2026-12-15T08:15:00Z")]
        );
        let off: Vec<_> =
            lock_steps(ts("2026-12-15T08:10:00Z"), ts("2026-12-15T08:30:00Z")).collect();
        assert_eq!(
            off,
            [ts("2026-12-15T08:00:00Z"), ts("2026-12-15T08:15:00Z")]
        );
    }

    #[test]
    fn a_busy_stylist_is_left_out_and_the_others_offered() {
        let b = salon();
        let busy = [Busy {
            staff: staff("ana"),
            start: ts("2026-12-15T10:00:00+02:00"),
            end: ts("2026-12-15T10:30:00+02:00"),
            appointment: None,
        }];
        let now = ts("2026-12-14T08:00:00+02:00");
        let p = Planner::new(&b, Minutes::new(30).unwrap(), None, &busy, now).unwrap();
        let slot = p.check("2026-12-15T10:00".parse().unwrap()).unwrap();
        assert_eq!(slot.staff, [staff("maria"), staff("ion")]);
        let only_ana = Planner::new(
            &b,
            Minutes::new(30).unwrap(),
            Some(&staff("ana")),
            &busy,
            now,
        )
        .unwrap();
        assert_eq!(
            only_ana.check("2026-12-15T10:00".parse().unwrap()),
            Err(Unavailable::Taken)
        );
        assert_eq!(
            only_ana
                .alternatives(
                    "2026-12-15T10:00".parse().unwrap(),
                    2,
                    Date::constant(2026, 12, 15)
                )
                .iter()
                .map(Slot::label)
                .collect::<Vec<_>>(),
            ["09:30", "10:30"]
        );
    }

    #[test]
    fn nothing_is_offered_in_the_past_or_beyond_the_horizon() {
        let b = salon();
        let now = ts("2026-12-15T12:10:00+02:00");
        let p = Planner::new(&b, Minutes::new(30).unwrap(), None, &[], now).unwrap();
        let today = p.slots_on(now.to_zoned_datetime(b.time_zone.tz().clone()).date());
        assert_eq!(
            today.first().map(Slot::label).as_deref(),
            Some("14:00"),
            "13:15 is the break"
        );
        assert!(p.slots_on("2026-12-14".parse().unwrap()).is_empty());
        assert!(p.slots_on(p.last_day().tomorrow().unwrap()).is_empty());
        assert_eq!(p.last_day(), "2027-02-13".parse().unwrap());
    }

    #[test]
    fn a_calendar_answers_like_day_status_closures_first() {
        let mut b = salon();
        b.closures.dates.insert(crate::business::Closure {
            date: "2026-12-25".parse().unwrap(),
            reason: "inventar".to_owned(),
        });
        let calendar = Calendar::new(
            &b,
            "2026-12-20".parse().unwrap(),
            "2027-01-10".parse().unwrap(),
        );
        // Across the new year, and past both ends of the range the calendar was built for.
        let mut day: Date = "2026-12-01".parse().unwrap();
        while day <= "2027-01-31".parse().unwrap() {
            assert_eq!(calendar.status(day), day_status(&b, day), "{day}");
            day = day.tomorrow().unwrap();
        }
        assert_eq!(
            calendar.status("2026-12-25".parse().unwrap()),
            DayStatus::Closed(ClosedReason::Closure("inventar".to_owned()))
        );
        assert_eq!(
            calendar.status("2027-01-06".parse().unwrap()),
            DayStatus::Closed(ClosedReason::Holiday("Boboteaza"))
        );

        // A salon that works on public holidays: Wednesday 6 January is an ordinary day.
        b.closures.romanian_holidays = false;
        let calendar = Calendar::new(
            &b,
            "2027-01-01".parse().unwrap(),
            "2027-01-31".parse().unwrap(),
        );
        assert!(matches!(
            calendar.status("2027-01-06".parse().unwrap()),
            DayStatus::Open(_)
        ));
    }

    #[test]
    fn the_owner_opens_one_holiday_and_closes_a_day_of_their_own() {
        let mut b = salon();
        let (boboteaza, sfantul_ion) =
            ("2027-01-06".parse().unwrap(), "2027-01-07".parse().unwrap());
        b.open_on(boboteaza);
        assert!(matches!(day_status(&b, boboteaza), DayStatus::Open(_)));
        assert_eq!(
            day_status(&b, sfantul_ion),
            DayStatus::Closed(ClosedReason::Holiday("Sfântul Ioan Botezătorul")),
            "only the holiday opened"
        );
        b.close_holiday(boboteaza);
        assert!(matches!(day_status(&b, boboteaza), DayStatus::Closed(_)));

        let inventory: Date = "2027-01-12".parse().unwrap();
        b.close_on(inventory, " inventar ").unwrap();
        assert_eq!(
            day_status(&b, inventory),
            DayStatus::Closed(ClosedReason::Closure("inventar".to_owned()))
        );
        assert!(b.close_on(inventory, "  ").is_err());
        b.open_on(inventory);
        assert!(matches!(day_status(&b, inventory), DayStatus::Open(_)));
        // An ordinary day opened is no holiday kept open.
        assert!(b.closures.open_holidays.is_empty());
    }

    /// Returns the times `check` accepts on a date, trying every quarter hour of the day.
    fn checked_one_by_one(p: &Planner<'_>, date: Date) -> Vec<Slot> {
        (0..24 * 4)
            .filter_map(|q| p.check(date.at(q / 4, (q % 4) * 15, 0, 0)).ok())
            .collect()
    }

    #[test]
    fn a_day_listed_offers_exactly_the_times_check_accepts() {
        // Arrange: a book with back-to-back, overlapping and nested busy time, and "now" late
        // on a Tuesday morning so that the first day has passed and too-soon times.
        let b = salon();
        let lock = |who: &str, from: &str, to: &str| Busy {
            staff: staff(who),
            start: ts(from),
            end: ts(to),
            appointment: None,
        };
        let busy = [
            lock(
                "ana",
                "2026-12-15T14:00:00+02:00",
                "2026-12-15T14:15:00+02:00",
            ),
            lock(
                "ana",
                "2026-12-15T14:15:00+02:00",
                "2026-12-15T14:30:00+02:00",
            ),
            lock(
                "ion",
                "2026-12-15T15:00:00+02:00",
                "2026-12-15T18:00:00+02:00",
            ),
            lock(
                "ion",
                "2026-12-15T15:30:00+02:00",
                "2026-12-15T15:45:00+02:00",
            ),
            lock(
                "maria",
                "2026-12-15T14:00:00+02:00",
                "2026-12-15T16:00:00+02:00",
            ),
            lock(
                "maria",
                "2026-12-16T09:00:00+02:00",
                "2026-12-16T19:00:00+02:00",
            ),
            lock(
                "nobody",
                "2026-12-16T09:00:00+02:00",
                "2026-12-16T19:00:00+02:00",
            ),
        ];
        let now = ts("2026-12-15T11:20:00+02:00");

        for minutes in [15, 30, 90] {
            let p = Planner::new(&b, Minutes::new(minutes).unwrap(), None, &busy, now).unwrap();
            // Act and assert: a fortnight with a Sunday, Christmas and a Saturday.
            let mut day: Date = "2026-12-14".parse().unwrap();
            while day <= "2026-12-28".parse().unwrap() {
                assert_eq!(
                    p.slots_on(day),
                    checked_one_by_one(&p, day),
                    "{day} {minutes}"
                );
                day = day.tomorrow().unwrap();
            }
        }
    }

    #[test]
    fn a_night_listed_across_a_daylight_saving_change_matches_check() {
        // Arrange: a salon open from 01:00 to 06:00 on the Sundays the clocks change, when
        // 03:00 to 04:00 is skipped (March) or repeated (October).
        let mut b = salon();
        b.hours.sunday = Some(
            OpenHours::new(
                Time::constant(1, 0, 0, 0),
                Time::constant(6, 0, 0, 0),
                Some(Break {
                    start: Time::constant(2, 30, 0, 0),
                    end: Time::constant(3, 30, 0, 0),
                }),
            )
            .unwrap(),
        );
        for (now, day) in [
            ("2027-03-27T12:00:00+02:00", "2027-03-28"),
            ("2027-10-30T12:00:00+03:00", "2027-10-31"),
        ] {
            let day: Date = day.parse().unwrap();
            let p = Planner::new(&b, Minutes::new(45).unwrap(), None, &[], ts(now)).unwrap();

            // Act
            let listed = p.slots_on(day);

            // Assert
            assert!(!listed.is_empty(), "{day}");
            assert_eq!(listed, checked_one_by_one(&p, day), "{day}");
        }
    }

    #[test]
    fn a_date_beyond_the_horizon_is_too_far_ahead_whatever_the_day() {
        let b = salon();
        let now = ts("2026-12-15T12:10:00+02:00");
        let p = Planner::new(&b, Minutes::new(30).unwrap(), None, &[], now).unwrap();
        let last_day = p.last_day();
        // A Sunday, a holiday, the skipped DST hour and the end of time, all years away.
        for at in [
            "2031-06-15T10:00",
            "2030-12-25T10:00",
            "2030-03-31T03:30",
            "9999-12-31T23:30",
        ] {
            assert_eq!(
                p.check(at.parse().unwrap()),
                Err(Unavailable::TooFarAhead { last_day }),
                "{at}"
            );
        }
        assert_eq!(
            p.check("2019-03-31T03:30".parse().unwrap()),
            Err(Unavailable::InPast)
        );
    }

    #[test]
    fn the_salon_is_open_inside_its_hours_and_outside_its_break() {
        let b = salon();
        for (at, open) in [
            ("2026-12-15T10:00:00+02:00", true),
            ("2026-12-15T08:59:00+02:00", false),
            ("2026-12-15T13:30:00+02:00", false),
            ("2026-12-15T18:59:00+02:00", true),
            ("2026-12-15T19:00:00+02:00", false),
            ("2026-12-13T11:00:00+02:00", false),
            ("2026-12-25T11:00:00+02:00", false),
        ] {
            assert_eq!(open_at(&b, ts(at)), open, "{at}");
        }
    }
}
