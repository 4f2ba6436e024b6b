//! A narrow door to one call's core from outside the crate, for the allocation test
//! (`tests/no_alloc_call.rs`) and the benchmarks (`benches/call.rs`): each is its own crate, and
//! the call's state machine is `pub(crate)`. Hidden from the docs; nothing in the relay uses it.
//!
//! [`CallCore`] is what the driver does between the sockets, minus the sockets: message text
//! in, parsed and fed to the machine, every output serialised to the text the driver would
//! send. Only the set-up that no text can reach (the call's configuration, the Realtime
//! connection opening) is done here by hand.

use std::sync::Arc;
use std::time::Duration;

use salon_relay_protocol::realtime::ServerEvent;
use salon_wire::SessionConfig;
use tokio::time::Instant;

use super::machine::{Call, Input, Output, Setup};
use crate::audio::AudioMode;
use crate::metrics::Metrics;
use crate::turn::TurnDetection;
use crate::twilio::Inbound;

/// Which socket a text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    Twilio,
    Realtime,
}

/// One call's state machine, fed message texts and giving back the texts to send.
pub struct CallCore {
    /// The call, exactly as the driver holds it.
    call: Call,
    /// The machine's outputs, emptied after every input and reused, as the driver does.
    out: Vec<Output>,
}

impl CallCore {
    /// Builds a call in `mode` whose Realtime connection has just opened: its `session.update`
    /// goes to `sink`. Feed it `session.updated` next.
    pub fn connected(mode: AudioMode, mut sink: impl FnMut(To, &str)) -> Self {
        let metrics = Arc::new(Metrics::default());
        let setup = Setup {
            stream_sid: "MZ00000000000000000000000000000000".into(),
            session: SessionConfig {
                instructions: "Ești asistentul virtual al salonului.".into(),
                greeting: "Bună ziua!".into(),
                transcription_model: "gpt-4o-transcribe".into(),
                language: "ro".into(),
                tools: Vec::new(),
            },
            model: "gpt-realtime".into(),
            voice: "marin".into(),
            mode,
            turn_detection: TurnDetection::default(),
            silence: Duration::from_secs(3600),
            max_call: Duration::from_secs(3600),
            metrics,
        };
        let mut core = Self {
            call: Call::new(setup, Instant::now()),
            out: Vec::with_capacity(16),
        };
        core.call.start(&mut core.out);
        core.out.clear();
        core.handle(Input::Connected, &mut sink);
        core
    }

    /// Feeds one text from Twilio, as the driver reads it; what is refused is ignored.
    pub fn twilio(&mut self, text: &str, mut sink: impl FnMut(To, &str)) {
        if let Ok(msg) = Inbound::parse(text) {
            self.handle(Input::Twilio(msg), &mut sink);
        }
    }

    /// Feeds one text from the Realtime API, as the driver reads it; what is refused is ignored.
    pub fn realtime(&mut self, text: &str, mut sink: impl FnMut(To, &str)) {
        if let Ok(event) = ServerEvent::parse(text) {
            self.handle(Input::Realtime(event), &mut sink);
        }
    }

    fn handle(&mut self, input: Input<'_>, sink: &mut impl FnMut(To, &str)) {
        self.call.handle(input, Instant::now(), &mut self.out);
        for output in self.out.drain(..) {
            match output {
                Output::Twilio(text) => sink(To::Twilio, self.call.text(&text)),
                Output::Realtime(text) => sink(To::Realtime, self.call.text(&text)),
                // Nothing on the per-frame path runs a tool, connects or ends.
                Output::Tool(_) | Output::Connect | Output::Finish(_) => {}
            }
        }
    }
}
