//! The waitlist: a caller who cannot get the day they want asks to be told if a time frees up
//! that day (a service, a stylist or anyone, a window of the day). When a cancellation or a
//! move frees a time that fits, the first waiting entry it fits is offered it: the offer is
//! recorded on the entry and texted to the client. An entry ends with its day.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, CallSid, ServiceId, StaffId};
use crate::phone::PhoneE164;

/// A window of a day in which a waiting client can start, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WindowRaw", into = "WindowRaw")]
pub struct Window {
    from: Time,
    until: Time,
}

#[derive(Serialize, Deserialize)]
struct WindowRaw {
    from: Time,
    until: Time,
}

/// A window that ends before it begins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a window must not end before it begins ({from} to {until})")]
pub struct WindowError {
    pub from: Time,
    pub until: Time,
}

impl Window {
    pub fn new(from: Time, until: Time) -> Result<Self, WindowError> {
        // One start only ("at ten, or not at all") is a window too.
        if until < from {
            return Err(WindowError { from, until });
        }
        Ok(Self { from, until })
    }

    /// The whole day.
    pub fn all_day() -> Self {
        Self {
            from: Time::midnight(),
            until: Time::MAX,
        }
    }

    pub fn from(&self) -> Time {
        self.from
    }

    pub fn until(&self) -> Time {
        self.until
    }

    /// Whether a start at `t` (the salon's local time) falls inside.
    pub fn contains(&self, t: Time) -> bool {
        self.from <= t && t <= self.until
    }
}

impl TryFrom<WindowRaw> for Window {
    type Error = WindowError;
    fn try_from(raw: WindowRaw) -> Result<Self, Self::Error> {
        Self::new(raw.from, raw.until)
    }
}

impl From<Window> for WindowRaw {
    fn from(w: Window) -> Self {
        Self {
            from: w.from,
            until: w.until,
        }
    }
}

/// One client waiting for a time on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    /// Unique within the salon: the call and the tool call that asked for it, so a retried
    /// request adds nothing.
    pub id: String,
    pub business: BusinessId,
    /// The number the offer is texted to: the caller ID.
    pub client: PhoneE164,
    pub client_name: String,
    /// The service, and any after it in the same visit.
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<ServiceId>,
    /// Their names as the client hears them ("Vopsit + Spălat și coafat").
    pub service_name: String,
    /// A stylist they asked for; none: anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffId>,
    /// The salon's local date they want.
    pub date: Date,
    pub window: Window,
    pub call_sid: CallSid,
    pub created: Timestamp,
    /// The time offered to them, once one freed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<Offer>,
}

/// A freed time offered to a waiting client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub start: Timestamp,
    pub staff: StaffId,
    /// When it was offered.
    pub at: Timestamp,
}

impl WaitlistEntry {
    /// Whether it still waits on `today` (the salon's local date): not offered yet, and its
    /// day not past.
    pub fn waiting(&self, today: Date) -> bool {
        self.offer.is_none() && self.date >= today
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn a_window_holds_its_ends_and_never_ends_before_it_begins() {
        let w = Window::new(time(10, 0, 0, 0), time(12, 0, 0, 0)).unwrap();
        assert!(w.contains(time(10, 0, 0, 0)) && w.contains(time(12, 0, 0, 0)));
        assert!(!w.contains(time(12, 15, 0, 0)) && !w.contains(time(9, 45, 0, 0)));
        assert!(Window::new(time(12, 0, 0, 0), time(10, 0, 0, 0)).is_err());
        assert!(Window::new(time(12, 0, 0, 0), time(12, 0, 0, 0)).is_ok());
        let json = r#"{"from":"12:00:00","until":"10:00:00"}"#;
        assert!(
            serde_json::from_str::<Window>(json).is_err(),
            "checked when read too"
        );
        assert!(Window::all_day().contains(time(23, 59, 0, 0)));
    }
}
