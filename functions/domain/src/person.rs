//! One person cannot be in two places: the booked time of each person, kept per client.
//!
//! A person is a phone number and a name: a parent may book for a child on the same phone,
//! under the child's name, side by side; the same person may not overlap themselves. The
//! store claims one lock per 15-minute step of a person's time in the booking's own
//! transaction, as it does for the stylist's, so two racing bookings of one person cannot both
//! pass and a booking reads nothing to know it. A lock outlives a move away from its step (a
//! long service's move stays within DynamoDB's 100 actions per transaction): it counts only
//! while its appointment still holds the step ([`crate::Appointment::holds`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::AppointmentId;
use crate::phone::PhoneE164;
use crate::text::fold;

/// One booked appointment of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub appointment: AppointmentId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The key of a person within a business: the number and the name as compared when spoken
/// (case, diacritics and spacing do not make another person). A walk-in without a number is
/// their name alone ("-" is no number's first character).
pub fn person_key(phone: Option<&PhoneE164>, name: &str) -> String {
    match phone {
        Some(phone) => format!("{phone}#{}", fold(name)),
        None => format!("-#{}", fold(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_a_number_and_a_spoken_name() {
        let p = PhoneE164::parse("0722123456").unwrap();
        let p = Some(&p);
        assert_eq!(person_key(p, "Ion Popescu"), person_key(p, "ion  popescu"));
        assert_eq!(person_key(p, "Ștefan"), person_key(p, "Stefan"));
        assert_ne!(person_key(p, "Ion Popescu"), person_key(p, "Maria Popescu"));
        assert_ne!(person_key(p, "Ion"), person_key(None, "Ion"));
        assert_eq!(person_key(None, "Ion"), person_key(None, "ion"));
    }
}
