//! The tool-argument parser (`salon_wire::tool_args::parse`) for every tool, then the domain's
//! checks on what a booking takes from it (name, number): no panic; every string within its
//! bound; errors never carry what was refused (no run of digits from a number).
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_domain::{ClientName, PhoneE164};
use salon_wire::tool_args::{
    self, ArgsError, CancelAppointment, CheckAvailability, CreateAppointment, FindClient,
    MAX_ARGUMENTS_BYTES, MAX_TEXT_CHARS, NoArguments, RescheduleAppointment, Text,
};

fn bounded(t: &Text) {
    assert!(t.as_str().chars().count() <= MAX_TEXT_CHARS);
}

fn quiet(e: &ArgsError) {
    let shown = e.to_string();
    let longest_digits = shown
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    // Line and column numbers of a 4 KiB text have at most four digits.
    assert!(longest_digits <= 4, "{shown}");
}

fn check<T: serde::de::DeserializeOwned>(text: &str, each: impl FnOnce(T)) {
    match tool_args::parse::<T>(text) {
        Ok(args) => each(args),
        Err(e) => quiet(&e),
    }
}

fuzz_target!(|text: &str| {
    if text.len() > MAX_ARGUMENTS_BYTES {
        assert_eq!(
            tool_args::parse::<NoArguments>(text).unwrap_err(),
            ArgsError::TooLong
        );
        return;
    }
    check::<NoArguments>(text, |_| {});
    check::<FindClient>(text, |a| a.phone.iter().for_each(bounded));
    check::<CheckAvailability>(text, |a| {
        bounded(&a.service);
        bounded(&a.date);
        a.time.iter().chain(&a.stylist).for_each(bounded);
    });
    check::<CancelAppointment>(text, |a| bounded(&a.appointment_id));
    check::<RescheduleAppointment>(text, |a| {
        [&a.appointment_id, &a.date, &a.time]
            .into_iter()
            .for_each(bounded);
    });
    check::<CreateAppointment>(text, |a| {
        [&a.service, &a.date, &a.time].into_iter().for_each(bounded);
        if let Some(name) = &a.client_name {
            bounded(name);
            if let Ok(n) = ClientName::parse(name.as_str()) {
                let s = n.as_str();
                assert!(!s.contains(['\n', '\r', '"', ':']) && !s.chars().any(char::is_control));
                assert!(s.chars().count() <= salon_domain::name::MAX_NAME_CHARS);
                assert_eq!(ClientName::parse(s).as_ref(), Ok(&n), "{s:?}");
            }
        }
        if let Some(phone) = &a.phone {
            let _ = PhoneE164::parse(phone.as_str());
        }
    });
});
