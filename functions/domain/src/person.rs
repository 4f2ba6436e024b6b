//! One person cannot be in two places: the booked time of each person, kept per client.
//!
//! A person is a phone number and a name: a parent may book for a child on the same phone,
//! under the child's name, side by side; the same person may not overlap themselves. The
//! store keeps one [`PersonSchedule`] item per person and writes it in the same transaction as
//! the booking, on condition that nobody changed it since it was read, so two racing bookings
//! of one person cannot both pass (one item per person, not one lock per step, so a long
//! service's move stays within DynamoDB's 100 actions per transaction).

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

/// A person's booked appointments that have not ended yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSchedule {
    #[serde(default)]
    pub booked: Vec<Booked>,
}

impl PersonSchedule {
    /// Returns an appointment of this person that overlaps `start..end`, other than `except`
    /// (the appointment being moved).
    pub fn clash(
        &self,
        start: Timestamp,
        end: Timestamp,
        except: Option<&AppointmentId>,
    ) -> Option<&Booked> {
        self.booked
            .iter()
            .filter(|b| Some(&b.appointment) != except)
            .find(|b| b.start < end && start < b.end)
    }

    /// Records `booked` (replacing an earlier entry of the same appointment) and forgets what
    /// ended before `now`, so the item stays small.
    pub fn put(&mut self, booked: Booked, now: Timestamp) {
        self.booked
            .retain(|b| b.appointment != booked.appointment && b.end > now);
        self.booked.push(booked);
        self.booked.sort_by_key(|b| b.start);
    }

    /// Forgets an appointment (cancelled).
    pub fn remove(&mut self, id: &AppointmentId) {
        self.booked.retain(|b| &b.appointment != id);
    }
}

/// The key of a person within a business: the number and the name as compared when spoken
/// (case, diacritics and spacing do not make another person).
pub fn person_key(phone: &PhoneE164, name: &str) -> String {
    format!("{phone}#{}", fold(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + h * 900).unwrap()
    }

    fn booked(id: &str, from: i64, to: i64) -> Booked {
        Booked {
            appointment: AppointmentId::parse(id).unwrap(),
            start: at(from),
            end: at(to),
        }
    }

    #[test]
    fn overlaps_clash_and_touching_times_do_not() {
        let mut s = PersonSchedule::default();
        s.put(booked("a", 4, 6), at(0));
        assert!(s.clash(at(5), at(7), None).is_some());
        assert!(s.clash(at(3), at(5), None).is_some());
        assert!(s.clash(at(2), at(8), None).is_some());
        assert!(
            s.clash(at(6), at(8), None).is_none(),
            "back to back is fine"
        );
        assert!(s.clash(at(2), at(4), None).is_none());
        let a = AppointmentId::parse("a").unwrap();
        assert!(
            s.clash(at(5), at(7), Some(&a)).is_none(),
            "a move does not clash with itself"
        );
        s.remove(&a);
        assert!(s.clash(at(5), at(7), None).is_none());
    }

    #[test]
    fn ended_appointments_are_forgotten_and_moves_replace() {
        let mut s = PersonSchedule::default();
        s.put(booked("old", 0, 2), at(0));
        s.put(booked("a", 4, 6), at(3));
        assert_eq!(s.booked.len(), 1, "the ended one is gone");
        s.put(booked("a", 8, 10), at(3));
        assert_eq!(s.booked, vec![booked("a", 8, 10)]);
    }

    #[test]
    fn a_person_is_a_number_and_a_spoken_name() {
        let p = PhoneE164::parse("0722123456").unwrap();
        assert_eq!(
            person_key(&p, "Ion Popescu"),
            person_key(&p, "ion  popescu")
        );
        assert_eq!(person_key(&p, "Ștefan"), person_key(&p, "Stefan"));
        assert_ne!(
            person_key(&p, "Ion Popescu"),
            person_key(&p, "Maria Popescu")
        );
    }
}
