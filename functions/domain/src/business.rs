//! A salon's configuration: who it is, when it is open, who works there and its booking rules.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, ServiceId, StaffId};
use crate::phone::PhoneE164;
use crate::service::MAX_MINUTES;

/// Why a business configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The IANA time zone name is not in the bundled database.
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    /// Opening hours where the salon closes before it opens.
    #[error("a day's hours must open before they close ({open} to {close})")]
    Hours { open: Time, close: Time },
    /// A break that does not lie strictly inside the day's hours.
    #[error("a break ({start} to {end}) must lie inside the day's hours")]
    Break { start: Time, end: Time },
    /// The slot grid must be a multiple of the 15-minute lock step, up to 2 hours.
    #[error("the slot grid must be 15, 30, 45, 60, 75, 90, 105 or 120 minutes, got {0}")]
    SlotGrid(u16),
    /// Nobody to book: a salon needs at least one staff member or chair.
    #[error("a business needs at least one staff member")]
    NoStaff,
    /// Two staff members with one id.
    #[error("staff id {0} appears twice")]
    DuplicateStaff(StaffId),
    /// A display name that is empty or too long to say.
    #[error("the business name must be 1 to 100 characters")]
    Name,
    /// Booking must be allowed at least one day ahead and at most two years.
    #[error("the booking horizon must be 1 to 730 days, got {0}")]
    Horizon(u16),
    /// The phone a person answers must not be a number the agent answers: a transfer would
    /// ring the agent again.
    #[error("the salon's own phone must not be one of the numbers the agent answers")]
    PersonPhone,
    /// A stylist's own hours must lie inside the salon's on that weekday: nobody works
    /// behind closed doors.
    #[error("{staff}'s hours on {day:?} must lie inside the salon's hours that day")]
    StaffHours { staff: StaffId, day: Weekday },
    /// A hold shorter than a minute lapses before the caller answers; one over half an hour
    /// keeps a time from other callers too long.
    #[error("a hold lasts 1 to 30 minutes, got {0}")]
    HoldMinutes(u16),
    /// A cap of no appointments closes the salon; one over [`MAX_DAILY_CAP`] is no cap.
    #[error("a stylist's daily cap is 1 to {MAX_DAILY_CAP} appointments, got {0}")]
    DailyCap(u8),
    /// With a daily cap a booking holds at most [`CAPPED_MAX_MINUTES`]; this service is longer.
    #[error(
        "with a daily cap a booking holds at most {CAPPED_MAX_MINUTES} minutes; {0} takes longer"
    )]
    TooLongForCap(ServiceId),
    /// A stylist listed as doing no service at all: leave the list out for "every service".
    #[error("{0} is listed as doing no service")]
    NoServices(StaffId),
    /// An absence that ends before it begins, or a reason too long to keep.
    #[error(
        "an absence must end on or after the day it begins ({from} to {to}), with a reason of at most 200 characters"
    )]
    Absence { from: Date, to: Date },
    /// A change names a stylist the salon does not have.
    #[error("no stylist {0}")]
    UnknownStaff(StaffId),
    /// A closure's reason is said to callers: a few words.
    #[error("a closure's reason must be 1 to 100 characters")]
    ClosureReason,
    /// A stylist's name is what callers ask for: a few words.
    #[error("a stylist's name must be 1 to {MAX_STAFF_NAME} characters")]
    StaffName,
}

/// The longest stylist's name.
pub const MAX_STAFF_NAME: usize = 40;

/// An IANA time zone, kept with its name so it can be stored and shown.
///
/// The zone data is bundled into the binary (`jiff`'s `tzdb-bundle-always`), because Lambda's
/// `provided.al2023` and slim images may have no `/usr/share/zoneinfo`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Looks a zone up by its IANA name.
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        let tz = jiff::tz::db()
            .get(name)
            .map_err(|_| ConfigError::TimeZone(name.to_owned()))?;
        Ok(Self {
            name: name.to_owned(),
            tz,
        })
    }

    /// Returns Europe/Bucharest, the default for a Romanian salon.
    pub fn bucharest() -> Self {
        Self::parse("Europe/Bucharest").expect("Europe/Bucharest is in the bundled tz database")
    }

    /// Returns the IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the zone for conversions.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl TryFrom<String> for Zone {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.name
    }
}

/// A stylist or a chair; appointments are held per staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// Stable id, used in storage keys.
    pub id: StaffId,
    /// What a caller can ask for ("Ana").
    pub name: String,
    /// Inactive staff keep their history but take no new bookings.
    #[serde(default = "yes")]
    pub active: bool,
    /// The services they do (not every stylist colours hair); `None` means every service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<BTreeSet<ServiceId>>,
    /// Their own weekly hours, each day inside the salon's (with their own break, if any);
    /// `None` means they work the salon's hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<WeeklyHours>,
    /// Days away (a holiday, a sick day), whole days, in order.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub absences: BTreeSet<Absence>,
}

impl Staff {
    /// A stylist who works the salon's hours, does every service and is never away.
    pub fn new(id: StaffId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            active: true,
            services: None,
            hours: None,
            absences: BTreeSet::new(),
        }
    }

    /// Returns whether they do a service.
    pub fn does(&self, service: &ServiceId) -> bool {
        self.services.as_ref().is_none_or(|s| s.contains(service))
    }

    /// Returns their hours on a weekday, given the salon's (`None`: they do not work then).
    pub fn hours_on(&self, salon: &WeeklyHours, day: Weekday) -> Option<OpenHours> {
        self.hours.as_ref().unwrap_or(salon).on(day)
    }

    /// Returns the absence covering a date, if they are away that day.
    pub fn absent_on(&self, date: Date) -> Option<&Absence> {
        self.absences.iter().find(|a| a.covers(date))
    }
}

/// Whole days a stylist is away, from one date to another, both included; built only through
/// [`Absence::new`], so it never ends before it begins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "AbsenceRaw")]
pub struct Absence {
    from: Date,
    to: Date,
    /// For the owner only ("concediu", "medical"): a caller hears that the stylist is away,
    /// never why.
    reason: String,
}

#[derive(Deserialize)]
struct AbsenceRaw {
    from: Date,
    to: Date,
    #[serde(default)]
    reason: String,
}

impl TryFrom<AbsenceRaw> for Absence {
    type Error = ConfigError;
    fn try_from(raw: AbsenceRaw) -> Result<Self, Self::Error> {
        Self::new(raw.from, raw.to, raw.reason)
    }
}

impl Absence {
    /// Builds an absence, refusing one that ends before it begins or a reason over 200
    /// characters.
    pub fn new(from: Date, to: Date, reason: impl Into<String>) -> Result<Self, ConfigError> {
        let reason = reason.into().trim().to_owned();
        if to < from || reason.chars().count() > 200 {
            return Err(ConfigError::Absence { from, to });
        }
        Ok(Self { from, to, reason })
    }

    /// Returns the first day away.
    pub fn from(&self) -> Date {
        self.from
    }

    /// Returns the last day away.
    pub fn to(&self) -> Date {
        self.to
    }

    /// Returns why, for the owner.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Returns whether the stylist is away on a date.
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

fn yes() -> bool {
    true
}

/// A midday break inside a day's hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Break {
    /// When the break begins.
    pub start: Time,
    /// When work resumes.
    pub end: Time,
}

/// The hours of an open day; built only through [`OpenHours::new`], so `open < close` and the break lies inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OpenHoursRaw")]
pub struct OpenHours {
    open: Time,
    close: Time,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "break")]
    pause: Option<Break>,
}

#[derive(Deserialize)]
struct OpenHoursRaw {
    open: Time,
    close: Time,
    #[serde(default, rename = "break")]
    pause: Option<Break>,
}

impl TryFrom<OpenHoursRaw> for OpenHours {
    type Error = ConfigError;
    fn try_from(raw: OpenHoursRaw) -> Result<Self, Self::Error> {
        Self::new(raw.open, raw.close, raw.pause)
    }
}

impl OpenHours {
    /// Builds a day's hours, refusing a close before the open or a break outside them.
    pub fn new(open: Time, close: Time, pause: Option<Break>) -> Result<Self, ConfigError> {
        if open >= close {
            return Err(ConfigError::Hours { open, close });
        }
        if let Some(b) = pause
            && !(open < b.start && b.start < b.end && b.end < close)
        {
            return Err(ConfigError::Break {
                start: b.start,
                end: b.end,
            });
        }
        Ok(Self { open, close, pause })
    }

    /// Returns the opening time.
    pub fn open(&self) -> Time {
        self.open
    }

    /// Returns the closing time: the last appointment must end by then.
    pub fn close(&self) -> Time {
        self.close
    }

    /// Returns the midday break, if any.
    pub fn pause(&self) -> Option<Break> {
        self.pause
    }
}

/// Working hours for each day of the week; `None` means closed that weekday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub monday: Option<OpenHours>,
    pub tuesday: Option<OpenHours>,
    pub wednesday: Option<OpenHours>,
    pub thursday: Option<OpenHours>,
    pub friday: Option<OpenHours>,
    pub saturday: Option<OpenHours>,
    pub sunday: Option<OpenHours>,
}

impl WeeklyHours {
    /// Returns the hours of a weekday, or `None` when closed.
    pub fn on(&self, day: Weekday) -> Option<OpenHours> {
        match day {
            Weekday::Monday => self.monday,
            Weekday::Tuesday => self.tuesday,
            Weekday::Wednesday => self.wednesday,
            Weekday::Thursday => self.thursday,
            Weekday::Friday => self.friday,
            Weekday::Saturday => self.saturday,
            Weekday::Sunday => self.sunday,
        }
    }
}

/// A date the salon is closed besides its weekly closed days.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Closure {
    /// The local date.
    pub date: Date,
    /// Why, for the owner and the agent ("inventar", "concediu").
    pub reason: String,
}

/// Days the salon is closed: specific dates, and Romania's public holidays unless turned off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closures {
    /// Close on Romania's legal holidays (Law 53/2003 art. 139); on by default.
    #[serde(default = "yes")]
    pub romanian_holidays: bool,
    /// Extra closed dates.
    #[serde(default)]
    pub dates: BTreeSet<Closure>,
    /// Public holidays the salon opens on after all (its usual hours that weekday).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub open_holidays: BTreeSet<Date>,
}

impl Default for Closures {
    fn default() -> Self {
        Self {
            romanian_holidays: true,
            dates: BTreeSet::new(),
            open_holidays: BTreeSet::new(),
        }
    }
}

/// The booking rules of a salon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRules {
    /// Appointments start on this grid, in minutes from midnight (default 15).
    pub slot_minutes: u16,
    /// How long before its start an appointment can still be made, in minutes.
    pub min_lead_minutes: u32,
    /// How many days ahead one can book (today counts as day 0).
    pub max_days_ahead: u16,
    /// How long before its start an appointment can still be cancelled or moved by phone, in
    /// minutes (0: until it starts); closer than that, the agent offers a person instead.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cancel_cutoff_minutes: u32,
    /// How long a time a caller picked is held for their call while they decide, in minutes.
    #[serde(default = "five")]
    pub hold_minutes: u16,
    /// The most appointments one stylist takes in a day (none: no cap). Kept atomically with
    /// one token per appointment, so a booking carries two more writes and holds at most
    /// [`CAPPED_MAX_MINUTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u8>,
}

/// The most one stylist can be capped to in a day.
pub const MAX_DAILY_CAP: u8 = 40;

/// The longest booking in a salon with a daily cap: a move to another day writes its cap token
/// and deletes the old one besides the slot locks, and DynamoDB's 100 actions per transaction
/// leave room for 31 lock steps, not 32.
pub const CAPPED_MAX_MINUTES: u16 = MAX_MINUTES - 15;

impl BookingRules {
    /// The longest a booking may hold the stylist, clean-up included, in minutes.
    pub fn max_booking_minutes(&self) -> u16 {
        match self.daily_cap {
            Some(_) => CAPPED_MAX_MINUTES,
            None => MAX_MINUTES,
        }
    }
}

fn five() -> u16 {
    5
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            slot_minutes: 15,
            min_lead_minutes: 60,
            max_days_ahead: 60,
            cancel_cutoff_minutes: 0,
            hold_minutes: 5,
            daily_cap: None,
        }
    }
}

/// A salon: the tenant every other record belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    /// Stable id, used in storage keys.
    pub id: BusinessId,
    /// The name the agent says ("Salon Voice Booking").
    pub name: String,
    /// The numbers it answers: a call is routed by the number dialled.
    pub numbers: Vec<PhoneE164>,
    /// Its time zone; every time a caller hears is local to it.
    #[serde(default = "Zone::bucharest")]
    pub time_zone: Zone,
    /// Stylists or chairs.
    pub staff: Vec<Staff>,
    /// Slot grid, lead time and horizon.
    #[serde(default)]
    pub rules: BookingRules,
    /// Weekly working hours.
    pub hours: WeeklyHours,
    /// Closed dates and holidays.
    #[serde(default)]
    pub closures: Closures,
    /// Send an SMS confirmation after a booking.
    #[serde(default)]
    pub sms_confirmations: bool,
    /// The salon's own phone, where a person answers (not a number the agent answers): a
    /// caller who asks for a person is put through to it during opening hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_phone: Option<PhoneE164>,
    /// The salon's own greeting; the default one is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
}

impl Business {
    /// Checks what serde cannot: staff, grid and horizon.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ConfigError::Name);
        }
        if self.staff.is_empty() {
            return Err(ConfigError::NoStaff);
        }
        let mut seen = BTreeSet::new();
        for s in &self.staff {
            if !seen.insert(&s.id) {
                return Err(ConfigError::DuplicateStaff(s.id.clone()));
            }
            self.validate_staff(s)?;
        }

        let g = self.rules.slot_minutes;
        if !(15..=120).contains(&g) || !g.is_multiple_of(15) {
            return Err(ConfigError::SlotGrid(g));
        }
        if !(1..=730).contains(&self.rules.max_days_ahead) {
            return Err(ConfigError::Horizon(self.rules.max_days_ahead));
        }
        if !(1..=30).contains(&self.rules.hold_minutes) {
            return Err(ConfigError::HoldMinutes(self.rules.hold_minutes));
        }
        if let Some(cap) = self.rules.daily_cap
            && !(1..=MAX_DAILY_CAP).contains(&cap)
        {
            return Err(ConfigError::DailyCap(cap));
        }
        if self
            .person_phone
            .as_ref()
            .is_some_and(|p| self.numbers.contains(p))
        {
            return Err(ConfigError::PersonPhone);
        }
        Ok(())
    }

    /// Checks one stylist: services listed, and own hours inside the salon's.
    fn validate_staff(&self, s: &Staff) -> Result<(), ConfigError> {
        if s.services.as_ref().is_some_and(BTreeSet::is_empty) {
            return Err(ConfigError::NoServices(s.id.clone()));
        }
        let Some(own) = &s.hours else {
            return Ok(());
        };
        for day in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ] {
            let inside = match (own.on(day), self.hours.on(day)) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(mine), Some(salon)) => {
                    salon.open() <= mine.open() && mine.close() <= salon.close()
                }
            };
            if !inside {
                return Err(ConfigError::StaffHours {
                    staff: s.id.clone(),
                    day,
                });
            }
        }
        Ok(())
    }

    /// Returns the staff member with this id, active or not.
    pub fn staff_member(&self, id: &StaffId) -> Option<&Staff> {
        self.staff.iter().find(|s| &s.id == id)
    }

    /// Returns the staff who take new bookings.
    pub fn active_staff(&self) -> impl Iterator<Item = &Staff> {
        self.staff.iter().filter(|s| s.active)
    }

    /// Returns a stylist to change, or why not.
    pub fn staff_mut(&mut self, id: &StaffId) -> Result<&mut Staff, ConfigError> {
        self.staff
            .iter_mut()
            .find(|s| &s.id == id)
            .ok_or_else(|| ConfigError::UnknownStaff(id.clone()))
    }

    /// Adds a stylist who works the salon's hours and does every service, refusing an id the
    /// salon already has or a name callers could not say.
    pub fn add_staff(&mut self, id: StaffId, name: &str) -> Result<(), ConfigError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_STAFF_NAME {
            return Err(ConfigError::StaffName);
        }
        if self.staff_member(&id).is_some() {
            return Err(ConfigError::DuplicateStaff(id));
        }
        self.staff.push(Staff::new(id, name));
        Ok(())
    }

    /// Closes the salon on a date (replacing an earlier reason for it).
    pub fn close_on(&mut self, date: Date, reason: &str) -> Result<(), ConfigError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 100 {
            return Err(ConfigError::ClosureReason);
        }
        self.closures.dates.retain(|c| c.date != date);
        self.closures.dates.insert(Closure {
            date,
            reason: reason.to_owned(),
        });
        Ok(())
    }

    /// Opens the salon on a date it closed, or on a public holiday (its usual hours that
    /// weekday); a date that was open stays open.
    pub fn open_on(&mut self, date: Date) {
        self.closures.dates.retain(|c| c.date != date);
        if crate::holidays::holiday_on(date).is_some() {
            self.closures.open_holidays.insert(date);
        }
    }

    /// Closes a public holiday again after it was opened.
    pub fn close_holiday(&mut self, date: Date) {
        self.closures.open_holidays.remove(&date);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn a_stylist_is_added_under_a_new_id_with_a_name_callers_can_say() {
        let mut b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
        let id = StaffId::parse("stefania").unwrap();
        b.add_staff(id.clone(), " Ștefania ").unwrap();
        let added = b.staff_member(&id).unwrap();
        assert_eq!(added.name, "Ștefania");
        assert!(added.active && added.services.is_none() && added.hours.is_none());
        assert_eq!(
            b.add_staff(id.clone(), "Alta"),
            Err(ConfigError::DuplicateStaff(id))
        );
        let other = StaffId::parse("altcineva").unwrap();
        for name in ["  ", &"x".repeat(MAX_STAFF_NAME + 1)] {
            assert_eq!(
                b.add_staff(other.clone(), name),
                Err(ConfigError::StaffName)
            );
        }
        b.validate().unwrap();
    }
}
