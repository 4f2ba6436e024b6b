//! Services a salon offers: name, duration, price.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ServiceId;
use crate::text::{Match, best_match};

/// Why a service definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Durations are 5 minutes to 8 hours, in steps of 5, so a booking's slot locks fit one transaction.
    #[error("a service lasts 5 to 480 minutes in steps of 5, got {0}")]
    Duration(u16),
    /// The name is what callers say: a few words, not none.
    #[error("a service's name must be 1 to {MAX_SERVICE_NAME} characters")]
    Name,
    /// Processing must lie inside the service, apart, with work before and after each.
    #[error("processing must lie inside the service, with work before and after it")]
    Processing,
    /// A booking's time, clean-up included, must fit one transaction's slot locks.
    #[error("a booking lasts at most {0} minutes, clean-up included")]
    TooLong(u16),
    /// Stored work that does not hold together.
    #[error("the stretches a booking holds do not hold together")]
    Shape,
}

/// The longest service name.
pub const MAX_SERVICE_NAME: usize = 60;

/// The longest a booking (one service or a combination, clean-up included) can hold a
/// stylist: 8 hours, 32 lock steps of 15 minutes. A booking writes the stylist's and the
/// person's steps (64) with its keys; a move to another day also deletes the old steps (32
/// more): 100 actions, DynamoDB's limit for one transaction.
pub const MAX_MINUTES: u16 = 480;

/// A stretch of a service when the client waits and the stylist is free (hair colour
/// setting): from `after` minutes into the service, for `minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processing {
    pub after: Minutes,
    pub minutes: Minutes,
}

/// How long a service takes: 5 to 480 minutes, a multiple of 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Minutes(u16);

impl Minutes {
    /// Builds a duration, refusing anything the slot locks cannot cover.
    pub fn new(minutes: u16) -> Result<Self, ServiceError> {
        if (5..=480).contains(&minutes) && minutes.is_multiple_of(5) {
            Ok(Self(minutes))
        } else {
            Err(ServiceError::Duration(minutes))
        }
    }

    /// Returns the number of minutes.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Returns the length as an absolute duration.
    pub fn duration(self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_mins(i64::from(self.0))
    }
}

impl TryFrom<u16> for Minutes {
    type Error = ServiceError;
    fn try_from(v: u16) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Minutes> for u16 {
    fn from(m: Minutes) -> u16 {
        m.0
    }
}

/// A price in bani (1 leu = 100 bani), so no float ever rounds a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Price {
    /// The amount in bani.
    pub bani: u32,
}

impl Price {
    /// Builds a price of whole lei.
    pub const fn lei(lei: u32) -> Self {
        Self { bani: lei * 100 }
    }
}

impl fmt::Display for Price {
    /// Writes the price as a Romanian says it: "50 lei", "1 leu", "45,50 lei".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lei, bani) = (self.bani / 100, self.bani % 100);
        let unit = if lei == 1 && bani == 0 { "leu" } else { "lei" };
        if bani == 0 {
            write!(f, "{lei} {unit}")
        } else {
            write!(f, "{lei},{bani:02} {unit}")
        }
    }
}

/// A service on the salon's menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Stable id, used in storage keys.
    pub id: ServiceId,
    /// What callers say and the agent reads out ("Tuns").
    pub name: String,
    /// A family of services ("tuns", "barba", "vopsit").
    pub category: String,
    /// How long it takes.
    pub duration: Minutes,
    /// What it costs.
    pub price: Price,
    /// Inactive services stay in the history but cannot be booked.
    pub active: bool,
    /// Stretches when the client waits and the stylist is free for someone else, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processing: Vec<Processing>,
    /// Clean-up after the service: the stylist is still held, the client has gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<Minutes>,
}

impl Service {
    /// Checks what serde cannot: a name, processing inside the service with work around it,
    /// and the whole within [`MAX_MINUTES`].
    pub fn validate(&self) -> Result<(), ServiceError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_SERVICE_NAME {
            return Err(ServiceError::Name);
        }
        let mut work_from = 0;
        for p in &self.processing {
            let end = p.after.get() + p.minutes.get();
            if p.after.get() <= work_from || end >= self.duration.get() {
                return Err(ServiceError::Processing);
            }
            work_from = end;
        }
        if self.duration.get() + self.buffer_minutes() > MAX_MINUTES {
            return Err(ServiceError::TooLong(MAX_MINUTES));
        }
        Ok(())
    }

    /// The clean-up after it, in minutes (0 for none).
    pub fn buffer_minutes(&self) -> u16 {
        self.buffer.map_or(0, Minutes::get)
    }
}

/// Why a spoken service name found no single service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindServiceError {
    /// Nothing offered sounds like it; `offered` lists what the salon does.
    #[error("unknown service; offered: {}", .offered.join(", "))]
    Unknown { offered: Vec<String> },
    /// Several services fit; the agent should ask which.
    #[error("which one: {}", .candidates.join(", "))]
    Ambiguous { candidates: Vec<String> },
}

/// Finds the active service a caller named, by name or id, ignoring case, diacritics and
/// cedillas ("barbierit", "BĂRBIERIT" and "bărbierit" typed with ş all find "Bărbierit").
pub fn find_service<'a>(
    services: &'a [Service],
    query: &str,
) -> Result<&'a Service, FindServiceError> {
    let active: Vec<&Service> = services.iter().filter(|s| s.active).collect();
    match best_match(query, &active, |s| [s.name.as_str(), s.id.as_str()]) {
        Match::Exact(s) | Match::Unique(s) => Ok(s),
        Match::Ambiguous(c) => Err(FindServiceError::Ambiguous {
            candidates: c.into_iter().map(|s| s.name.clone()).collect(),
        }),
        Match::None => Err(FindServiceError::Unknown {
            offered: active.iter().map(|s| s.name.clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn services_are_found_the_way_callers_say_them() {
        let menu = demo::services();
        for q in [
            "barbierit",
            "BĂRBIERIT",
            "bărbierit",
            "b\u{103}rbierit",
            "Bărbierit ",
            "barbierit",
        ] {
            assert_eq!(
                find_service(&menu, q).unwrap().id.as_str(),
                "barbierit",
                "{q}"
            );
        }
        assert_eq!(
            find_service(&menu, "b\u{103}rbierit").unwrap().name,
            "Bărbierit"
        );
        assert_eq!(
            find_service(&menu, "tuns").unwrap().id.as_str(),
            "tuns",
            "not Tuns copii"
        );
        assert_eq!(
            find_service(&menu, "tuns si barba").unwrap().id.as_str(),
            "tuns-barba"
        );
        assert_eq!(find_service(&menu, "suvite").unwrap().id.as_str(), "suvite");
        assert_eq!(
            find_service(&menu, "\u{15f}uvi\u{163}e")
                .unwrap()
                .id
                .as_str(),
            "suvite",
            "cedilla forms"
        );
    }

    #[test]
    fn an_unknown_service_lists_what_is_offered() {
        let mut menu = demo::services();
        menu.iter_mut()
            .find(|s| s.id.as_str() == "vopsit")
            .unwrap()
            .active = false;
        let Err(FindServiceError::Unknown { offered }) = find_service(&menu, "manichiură") else {
            panic!()
        };
        assert!(offered.contains(&"Tuns".to_owned()) && offered.contains(&"Bărbierit".to_owned()));
        assert!(
            !offered.contains(&"Vopsit".to_owned()),
            "inactive services are not offered"
        );
        assert!(find_service(&menu, "vopsit").is_err());
    }

    #[test]
    fn durations_are_multiples_of_five_up_to_eight_hours() {
        assert!(Minutes::new(20).is_ok());
        assert_eq!(Minutes::new(7), Err(ServiceError::Duration(7)));
        assert_eq!(Minutes::new(0), Err(ServiceError::Duration(0)));
        assert_eq!(Minutes::new(485), Err(ServiceError::Duration(485)));
    }

    #[test]
    fn a_services_name_is_a_few_words() {
        let mut s = crate::demo::services()[0].clone();
        assert_eq!(s.validate(), Ok(()));
        for name in [" ".to_owned(), "x".repeat(MAX_SERVICE_NAME + 1)] {
            s.name = name;
            assert_eq!(s.validate(), Err(ServiceError::Name));
        }
    }

    #[test]
    fn prices_read_as_romanians_say_them() {
        assert_eq!(Price::lei(50).to_string(), "50 lei");
        assert_eq!(Price::lei(1).to_string(), "1 leu");
        assert_eq!(Price { bani: 4550 }.to_string(), "45,50 lei");
    }
}
