//! `PhoneE164::parse` on any text: no panic, and whatever it accepts is E.164 that parses back
//! to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_domain::PhoneE164;

fuzz_target!(|input: &str| {
    let Ok(phone) = PhoneE164::parse(input) else {
        return;
    };
    let e164 = phone.as_str();
    let digits = e164.strip_prefix('+').expect("E.164 starts with '+'");
    assert!(
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
        "{input:?} gave {e164:?}"
    );
    assert_eq!(PhoneE164::parse(e164).as_ref(), Ok(&phone), "{input:?}");
    let national = phone.national();
    assert_eq!(
        PhoneE164::parse(&national).as_ref(),
        Ok(&phone),
        "{input:?}"
    );
    assert_eq!(phone.is_romanian(), e164.starts_with("+40"));
});
