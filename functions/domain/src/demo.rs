//! The demo salon: what a fresh local run and the tests start from.

use std::collections::BTreeSet;

use jiff::civil::time;

use crate::business::{
    BookingRules, Break, Business, Closures, OpenHours, Staff, WeeklyHours, Zone,
};
use crate::ids::{BusinessId, ServiceId, StaffId};
use crate::phone::PhoneE164;
use crate::service::{Minutes, Price, Processing, Service};

/// The demo salon's id.
pub const BUSINESS_ID: &str = "salon-demo";

/// The demo salon's Twilio number unless a deployment configures its own.
pub const DEMO_NUMBER: &str = "+40312345678";

fn hours(open: i8, close: i8, pause: Option<(i8, i8)>) -> Option<OpenHours> {
    let pause = pause.map(|(a, b)| Break {
        start: time(a, 0, 0, 0),
        end: time(b, 0, 0, 0),
    });
    Some(
        OpenHours::new(time(open, 0, 0, 0), time(close, 0, 0, 0), pause)
            .expect("demo hours are valid"),
    )
}

/// Returns the demo salon, answering `number`: three named stylists, Monday to Saturday.
pub fn business(number: PhoneE164) -> Business {
    let staff = [("ana", "Ana"), ("maria", "Maria"), ("ion", "Ion")]
        .into_iter()
        .map(|(id, name)| Staff::new(StaffId::parse(id).expect("demo ids are valid"), name))
        .collect();
    let weekday = hours(9, 19, Some((13, 14)));
    Business {
        id: BusinessId::parse(BUSINESS_ID).expect("demo id is valid"),
        name: "Salon Voice Booking".to_owned(),
        numbers: vec![number],
        time_zone: Zone::bucharest(),
        staff,
        rules: BookingRules::default(),
        hours: WeeklyHours {
            monday: weekday,
            tuesday: weekday,
            wednesday: weekday,
            thursday: weekday,
            friday: weekday,
            saturday: hours(9, 15, None),
            sunday: None,
        },
        closures: Closures {
            romanian_holidays: true,
            dates: BTreeSet::new(),
            open_holidays: BTreeSet::new(),
        },
        sms_confirmations: false,
        person_phone: None,
        greeting: None,
    }
}

fn processing(after: u16, minutes: u16) -> Processing {
    Processing {
        after: Minutes::new(after).expect("demo processing is valid"),
        minutes: Minutes::new(minutes).expect("demo processing is valid"),
    }
}

/// Returns the demo salon's menu: colours have processing time.
pub fn services() -> Vec<Service> {
    [
        ("tuns", "Tuns", "tuns", 30, 50),
        ("barbierit", "Bărbierit", "barba", 20, 30),
        ("tuns-copii", "Tuns copii", "tuns", 20, 35),
        ("tuns-barba", "Tuns + barbă", "tuns", 45, 70),
        ("spalat-coafat", "Spălat și coafat", "coafat", 45, 60),
        ("vopsit", "Vopsit", "vopsit", 90, 150),
        ("suvite", "Șuvițe", "vopsit", 120, 200),
    ]
    .into_iter()
    .map(|(id, name, category, minutes, lei)| Service {
        id: ServiceId::parse(id).expect("demo ids are valid"),
        name: name.to_owned(),
        category: category.to_owned(),
        duration: Minutes::new(minutes).expect("demo durations are valid"),
        price: Price::lei(lei),
        active: true,
        // Colour sets while the client waits: the stylist is free for someone else.
        processing: match id {
            "vopsit" => vec![processing(30, 30)],
            "suvite" => vec![processing(45, 30)],
            _ => Vec::new(),
        },
        buffer: None,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_salon_is_valid_and_round_trips() {
        let b = business(PhoneE164::parse(DEMO_NUMBER).unwrap());
        b.validate().unwrap();
        let json = serde_json::to_string(&b).unwrap();
        let back: Business = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn the_menu_has_the_basics_with_romanian_names() {
        let s = services();
        let tuns = s.iter().find(|s| s.id.as_str() == "tuns").unwrap();
        assert_eq!((tuns.duration.get(), tuns.price), (30, Price::lei(50)));
        let b = s.iter().find(|s| s.id.as_str() == "barbierit").unwrap();
        assert_eq!(
            (b.name.as_str(), b.category.as_str(), b.duration.get()),
            ("Bărbierit", "barba", 20)
        );
        for svc in &s {
            assert!(!svc.name.contains(['ş', 'ţ', 'Ş', 'Ţ']), "{}", svc.name);
            svc.validate().unwrap();
        }
    }
}
