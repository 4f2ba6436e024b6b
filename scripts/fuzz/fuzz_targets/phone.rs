//! `PhoneE164::parse` and `caller_id` on any text: no panic; whatever `parse` accepts is E.164
//! that parses back to itself; a caller ID is that number, and is a caller ID again when Twilio
//! sends it as `From`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_domain::{PhoneE164, caller_id};

fuzz_target!(|input: &str| {
    let parsed = PhoneE164::parse(input);
    if let Ok(phone) = &parsed {
        let e164 = phone.as_str();
        let digits = e164.strip_prefix('+').expect("E.164 starts with '+'");
        assert!(
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
            "{input:?} gave {e164:?}"
        );
        assert_eq!(PhoneE164::parse(e164).as_ref(), Ok(phone), "{input:?}");
        assert_eq!(
            PhoneE164::parse(&phone.national()).as_ref(),
            Ok(phone),
            "{input:?}"
        );
        assert_eq!(phone.is_romanian(), e164.starts_with("+40"));
    }
    if let Some(id) = caller_id(input) {
        assert_eq!(parsed.as_ref(), Ok(&id), "{input:?}");
        assert_eq!(caller_id(id.as_str()).as_ref(), Some(&id), "{input:?}");
    }
});
