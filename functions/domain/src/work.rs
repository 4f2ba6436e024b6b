//! The time a booking really takes: how long the client is there, and the stretches of it
//! that hold the stylist.
//!
//! A service is work, optionally with processing stretches in it (hair colour setting: the
//! client waits, the stylist is free for someone else) and a clean-up after it (the stylist
//! is still held, the client has gone). A combination ("vopsit + coafat") is its services one
//! after another with the same stylist; only the last one's clean-up is kept, since the
//! stylist goes straight on to the next service.
//!
//! The store locks a stylist in 15-minute steps ([`crate::availability::LOCK_STEP`]): a
//! stretch holds every step it touches, so a processing gap can be given to another booking in
//! whole steps only. Everything here is whole minutes, 5-minute multiples.

use serde::{Deserialize, Serialize};

use jiff::{SignedDuration, Timestamp};

use crate::availability::lock_steps;
use crate::service::{MAX_MINUTES, Service, ServiceError};

/// What a booking takes, from its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WorkRaw", into = "WorkRaw")]
pub struct Work {
    /// How long the client is there, in minutes.
    length: u16,
    /// The stretches that hold the stylist, in minutes from the start: ascending, apart from
    /// each other, the first from 0, each at least 5 minutes.
    held: Vec<(u16, u16)>,
}

#[derive(Serialize, Deserialize)]
struct WorkRaw {
    length: u16,
    held: Vec<(u16, u16)>,
}

impl TryFrom<WorkRaw> for Work {
    type Error = ServiceError;
    fn try_from(raw: WorkRaw) -> Result<Self, Self::Error> {
        Self::new(raw.length, raw.held)
    }
}

impl From<Work> for WorkRaw {
    fn from(w: Work) -> Self {
        Self {
            length: w.length,
            held: w.held,
        }
    }
}

impl Work {
    /// Checks a shape: stretches in order, apart, starting at 0, the last ending at or after
    /// the client leaves, everything within [`MAX_MINUTES`].
    fn new(length: u16, held: Vec<(u16, u16)>) -> Result<Self, ServiceError> {
        let ordered = held.windows(2).all(|w| w[0].1 < w[1].0);
        let sane = held.iter().all(|&(a, b)| a < b);
        let (first, last) = (held.first().map(|h| h.0), held.last().map(|h| h.1));
        let ends = last.unwrap_or(0);
        if !ordered || !sane || first != Some(0) || ends < length || ends > MAX_MINUTES {
            return Err(ServiceError::Shape);
        }
        Ok(Self { length, held })
    }

    /// Work without a pause: the stylist is held for `minutes`, exactly the client's time.
    pub fn plain(minutes: u16) -> Self {
        Self {
            length: minutes,
            held: vec![(0, minutes)],
        }
    }

    /// The work of one service.
    pub fn of(service: &Service) -> Self {
        let length = service.duration.get();
        let mut held = Vec::new();
        let mut from = 0;
        for p in &service.processing {
            held.push((from, p.after.get()));
            from = p.after.get() + p.minutes.get();
        }
        held.push((from, length + service.buffer_minutes()));
        Self { length, held }
    }

    /// The work of services done one after another by one stylist, refused if it would be
    /// longer than a booking can hold.
    pub fn combined(services: &[&Service]) -> Result<Self, ServiceError> {
        let mut length: u16 = 0;
        let mut held: Vec<(u16, u16)> = Vec::new();
        for (i, s) in services.iter().enumerate() {
            let last = i + 1 == services.len();
            let one = Self::of(s);
            let clean_up = if last { 0 } else { s.buffer_minutes() };
            for (n, &(a, b)) in one.held.iter().enumerate() {
                // The clean-up of all but the last service is dropped: work goes straight on.
                let b = if n + 1 == one.held.len() {
                    b - clean_up
                } else {
                    b
                };
                let (a, b) = (length + a, length + b);
                match held.last_mut() {
                    Some(prev) if prev.1 == a => prev.1 = b,
                    _ => held.push((a, b)),
                }
            }
            length = length
                .checked_add(one.length)
                .filter(|&l| l <= MAX_MINUTES)
                .ok_or(ServiceError::TooLong(MAX_MINUTES))?;
        }
        Self::new(length, held).map_err(|_| ServiceError::TooLong(MAX_MINUTES))
    }

    /// How long the client is there.
    pub fn length(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.length))
    }

    /// How long the client is there, in minutes.
    pub fn minutes(&self) -> u16 {
        self.length
    }

    /// When the stylist is free again, from the start (after any clean-up).
    pub fn held_until(&self) -> SignedDuration {
        let end = self.held.last().map_or(self.length, |h| h.1);
        SignedDuration::from_mins(i64::from(end))
    }

    /// Whether the stylist is held for the whole of the client's time and no longer.
    pub fn is_plain(&self) -> bool {
        self.held == [(0, self.length)]
    }

    /// The stretches that hold the stylist for a start at `start`, in order.
    pub fn held_at(&self, start: Timestamp) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let at = move |m: u16| {
            start
                .checked_add(SignedDuration::from_mins(i64::from(m)))
                .unwrap_or(Timestamp::MAX)
        };
        self.held.iter().map(move |&(a, b)| (at(a), at(b)))
    }

    /// The stylist's lock steps for a start at `start`: every step a held stretch touches,
    /// once, ascending.
    pub fn staff_steps(&self, start: Timestamp) -> Vec<Timestamp> {
        let mut steps: Vec<Timestamp> = self
            .held_at(start)
            .flat_map(|(a, b)| lock_steps(a, b))
            .collect();
        steps.dedup();
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ServiceId;
    use crate::service::{Minutes, Price, Processing};

    fn service(minutes: u16, processing: &[(u16, u16)], buffer: u16) -> Service {
        Service {
            id: ServiceId::parse("s").unwrap(),
            name: "S".into(),
            category: "c".into(),
            duration: Minutes::new(minutes).unwrap(),
            price: Price::lei(1),
            active: true,
            processing: processing
                .iter()
                .map(|&(after, m)| Processing {
                    after: Minutes::new(after).unwrap(),
                    minutes: Minutes::new(m).unwrap(),
                })
                .collect(),
            buffer: Minutes::new(buffer).ok(),
        }
    }

    #[test]
    fn a_colour_holds_the_stylist_around_its_processing_and_through_its_clean_up() {
        // 30 applying, 45 setting, 30 washing and styling, 15 cleaning up.
        let colour = Work::of(&service(105, &[(30, 45)], 15));
        assert_eq!(colour.minutes(), 105);
        assert_eq!(colour.held, [(0, 30), (75, 120)]);
        assert_eq!(colour.held_until(), SignedDuration::from_mins(120));
        assert!(!colour.is_plain());
        let start: Timestamp = "2026-12-15T08:00:00Z".parse().unwrap();
        let steps: Vec<String> = colour
            .staff_steps(start)
            .iter()
            .map(|s| s.strftime("%H:%M").to_string())
            .collect();
        assert_eq!(steps, ["08:00", "08:15", "09:15", "09:30", "09:45"]);
        assert!(Work::of(&service(30, &[], 0)).is_plain());
    }

    #[test]
    fn a_combination_runs_its_services_back_to_back_with_the_last_clean_up() {
        let colour = service(105, &[(30, 45)], 15);
        let style = service(45, &[], 10);
        let both = Work::combined(&[&colour, &style]).unwrap();
        assert_eq!(both.minutes(), 150);
        // The colour's clean-up is dropped; its last stretch runs on into the styling.
        assert_eq!(both.held, [(0, 30), (75, 160)]);
        let too_long = service(300, &[], 0);
        assert_eq!(
            Work::combined(&[&too_long, &too_long]),
            Err(ServiceError::TooLong(MAX_MINUTES))
        );
    }

    #[test]
    fn a_shape_that_does_not_hold_together_is_refused() {
        assert!(Work::new(30, vec![(0, 30)]).is_ok());
        assert!(
            Work::new(30, vec![(0, 20)]).is_err(),
            "held less than the client"
        );
        assert!(Work::new(30, vec![(5, 30)]).is_err(), "not from the start");
        assert!(
            Work::new(60, vec![(0, 30), (20, 60)]).is_err(),
            "overlapping"
        );
        assert!(Work::new(500, vec![(0, 500)]).is_err(), "too long");
        let json = serde_json::to_string(&Work::plain(30)).unwrap();
        assert_eq!(
            serde_json::from_str::<Work>(&json).unwrap(),
            Work::plain(30)
        );
        assert!(serde_json::from_str::<Work>(r#"{"length":30,"held":[]}"#).is_err());
    }
}
