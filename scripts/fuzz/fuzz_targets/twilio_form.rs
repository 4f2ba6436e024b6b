//! A Twilio webhook: the first line is the public URL, the rest the form body. The bounded form
//! parser never panics and keeps its limits; a signature computed for the parsed parameters
//! checks out whatever their order, and one with a byte changed does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_wire::twilio_signature::{self, FormError, MAX_FORM_BYTES, MAX_FORM_PARAMS};

const TOKEN: &str = "12345";

fuzz_target!(|input: &[u8]| {
    let (url, body) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (&b"https://voice.example.com/api/twilio/voice"[..], input),
    };
    let url = String::from_utf8_lossy(url);
    let params = match twilio_signature::parse_form(body) {
        Ok(params) => params,
        Err(FormError::TooLarge(n)) => {
            assert!(n > MAX_FORM_BYTES);
            return;
        }
        Err(FormError::TooManyParams) => {
            assert!(body.iter().filter(|&&b| b == b'&').count() >= MAX_FORM_PARAMS);
            return;
        }
        Err(e) => panic!("an unknown refusal: {e}"),
    };
    assert!(params.len() <= MAX_FORM_PARAMS);

    // Encoded again, the parameters parse to themselves.
    let again = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    if again.len() <= MAX_FORM_BYTES {
        assert_eq!(
            twilio_signature::parse_form(again.as_bytes()).as_ref(),
            Ok(&params)
        );
    }

    let signature = twilio_signature::compute(TOKEN, &url, &params);
    assert!(twilio_signature::is_valid(TOKEN, &url, &params, &signature));
    let mut reversed = params.clone();
    reversed.reverse();
    assert!(twilio_signature::is_valid(
        TOKEN, &url, &reversed, &signature
    ));

    let mut flipped = signature.clone().into_bytes();
    let at = input.len() % flipped.len();
    flipped[at] ^= 1;
    let flipped = String::from_utf8(flipped).expect("base64 is ASCII");
    assert!(!twilio_signature::is_valid(TOKEN, &url, &params, &flipped));
    assert!(!twilio_signature::is_valid(
        "54321", &url, &params, &signature
    ));
});
