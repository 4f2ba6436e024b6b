//! The booking domain of a salon: businesses, services, clients, appointments, availability
//! and call records, as pure types and rules.
//!
//! Nothing here does I/O: storage and HTTP depend on this crate, never the reverse. "Now" is
//! always an argument (see [`clock`]), so every rule can be tested on any day of the year.
#![forbid(unsafe_code)]

pub mod analytics;
pub mod appointment;
pub mod availability;
pub mod block;
pub mod business;
pub mod call;
pub mod clock;
pub mod demo;
pub mod holidays;
pub mod ids;
pub mod message;
pub mod name;
pub mod owner;
pub mod person;
pub mod phone;
pub mod service;
pub mod sms;
pub mod text;
pub mod waitlist;
pub mod work;

pub use appointment::{Appointment, AppointmentStatus, Client, PhoneOrigin, Source};
pub use availability::{Busy, Calendar, ClosedReason, DayStatus, Planner, Slot, Unavailable};
pub use block::Block;
pub use business::{
    Absence, BookingRules, Business, ConfigError, OpenHours, Staff, WeeklyHours, Zone,
};
pub use call::{CallEvent, CallRecord, CallStatus};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use ids::{AppointmentId, BusinessId, CallSid, IdError, IdempotencyKey, ServiceId, StaffId};
pub use name::{ClientName, NameError};
pub use person::Booked;
pub use phone::{PhoneE164, PhoneError, caller_id};
pub use service::{Minutes, Price, Processing, Service};
pub use waitlist::{Offer, WaitlistEntry, Window};
pub use work::Work;
