//! `Inbound::parse` (Twilio Media Streams) on any text: no panic; oversized text and media are
//! refused; what parses serialises back to JSON that parses to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_relay_protocol::twilio::{Inbound, MAX_MEDIA_PAYLOAD_CHARS, MAX_MESSAGE_BYTES};

fuzz_target!(|text: &str| {
    let parsed = Inbound::parse(text);
    if text.len() > MAX_MESSAGE_BYTES {
        assert!(parsed.is_err());
    }
    if let Ok(msg) = parsed {
        if let Inbound::Media { media } = &msg {
            assert!(media.payload.len() <= MAX_MEDIA_PAYLOAD_CHARS);
        }
        let again = serde_json::to_string(&msg).expect("a parsed message serialises");
        if again.len() <= MAX_MESSAGE_BYTES {
            assert_eq!(Inbound::parse(&again).ok().as_ref(), Some(&msg), "{text:?}");
        }
    }
});
