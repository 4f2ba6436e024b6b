//! `ServerEvent::parse` (OpenAI Realtime server events) on any text: no panic, oversized text
//! refused, and a parsed event's borrowed text is part of what was parsed or its unescaping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salon_relay_protocol::realtime::{MAX_EVENT_BYTES, ServerEvent};

fuzz_target!(|text: &str| {
    let parsed = ServerEvent::parse(text);
    if text.len() > MAX_EVENT_BYTES {
        assert!(parsed.is_err());
    }
    if let Ok(ServerEvent::AudioDelta { item_id, delta }) = &parsed {
        // Nothing the relay forwards is longer than the event it came in.
        assert!(item_id.len() + delta.len() <= text.len());
    }
});
