//! TwiML answers, written with an XML writer so every value is escaped.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use salon_wire::params;

/// The voice Twilio speaks Romanian with in `<Say>`.
pub const SAY_VOICE: &str = "Google.ro-RO-Standard-A";

/// Played when the stream ends without the agent finishing the call (the model is down, the
/// relay failed): the caller never hears silence or Twilio's English error voice.
pub const APOLOGY: &str = "Ne pare rău, asistentul virtual al salonului nu este disponibil acum. \
Vă rugăm să sunați din nou puțin mai târziu. La revedere!";

/// Played when the number dialled belongs to no salon.
pub const UNKNOWN_NUMBER: &str =
    "Ne pare rău, acest număr nu este configurat pentru programări. La revedere!";

/// Played when the booking system cannot be read.
pub const UNAVAILABLE: &str = "Ne pare rău, sistemul de programări nu este disponibil în acest moment. \
Vă rugăm să sunați din nou puțin mai târziu. La revedere!";

/// What the stream needs to carry to the relay.
pub struct StreamParams<'a> {
    /// `wss://relay/twilio/stream`.
    pub url: &'a str,
    /// Where Twilio reports the stream's end (`…/api/twilio/stream-ended`).
    pub action: &'a str,
    pub business: &'a str,
    pub caller: &'a str,
    pub token: &'a str,
}

struct Twiml(Writer<Vec<u8>>);

impl Twiml {
    fn new() -> Self {
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("writing to a Vec");
        let mut t = Self(w);
        t.open("Response", &[]);
        t
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut e = BytesStart::new(name);
        for a in attrs {
            e.push_attribute(*a);
        }
        self.0
            .write_event(Event::Start(e))
            .expect("writing to a Vec");
    }

    fn close(&mut self, name: &str) {
        self.0
            .write_event(Event::End(BytesEnd::new(name)))
            .expect("writing to a Vec");
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut e = BytesStart::new(name);
        for a in attrs {
            e.push_attribute(*a);
        }
        self.0
            .write_event(Event::Empty(e))
            .expect("writing to a Vec");
    }

    fn say(&mut self, text: &str) {
        self.open("Say", &[("language", "ro-RO"), ("voice", SAY_VOICE)]);
        self.0
            .write_event(Event::Text(BytesText::new(text)))
            .expect("writing to a Vec");
        self.close("Say");
    }

    fn finish(mut self) -> String {
        self.close("Response");
        String::from_utf8(self.0.into_inner()).expect("the writer wrote UTF-8")
    }
}

/// Connects the call to the relay. The apology after `</Connect>` is a last resort: with
/// `action` set Twilio asks the stream-ended webhook instead, which decides between a plain
/// hang-up and the apology.
pub fn connect(p: &StreamParams<'_>) -> String {
    let mut t = Twiml::new();
    t.open("Connect", &[("action", p.action)]);
    t.open("Stream", &[("url", p.url)]);
    t.empty(
        "Parameter",
        &[("name", params::BUSINESS), ("value", p.business)],
    );
    t.empty(
        "Parameter",
        &[("name", params::CALLER), ("value", p.caller)],
    );
    t.empty("Parameter", &[("name", params::TOKEN), ("value", p.token)]);
    t.close("Stream");
    t.close("Connect");
    t.say(APOLOGY);
    t.empty("Hangup", &[]);
    t.finish()
}

/// Says a Romanian sentence, then hangs up.
pub fn say_and_hang_up(text: &str) -> String {
    let mut t = Twiml::new();
    t.say(text);
    t.empty("Hangup", &[]);
    t.finish()
}

/// Hangs up without a word: the agent already said goodbye.
pub fn hang_up() -> String {
    let mut t = Twiml::new();
    t.empty("Hangup", &[]);
    t.finish()
}

/// How long the salon's phone rings before the caller is offered to leave a message.
pub const DIAL_TIMEOUT_SECS: &str = "20";

/// The longest message a caller can leave after a transfer nobody answered.
pub const MESSAGE_MAX_SECS: &str = "60";

/// Said when nobody at the salon answered a transfer.
pub const NOBODY_ANSWERED: &str = "Ne pare rău, nu a răspuns nimeni de la salon. \
După semnal, vă rugăm să lăsați un mesaj cu numele dumneavoastră și ce doriți, apoi închideți. \
Salonul vă sună înapoi.";

/// Said when the salon has no phone for a transfer any more (removed since the agent offered).
pub const NO_PERSON: &str = "Ne pare rău, acum nu vă pot face legătura cu salonul. \
După semnal, vă rugăm să lăsați un mesaj cu numele dumneavoastră și ce doriți, apoi închideți. \
Salonul vă sună înapoi.";

/// Said after the message was recorded.
pub const MESSAGE_TAKEN: &str =
    "Mulțumim, am înregistrat mesajul. Salonul vă sună înapoi. La revedere!";

/// Said when the caller left no message.
pub const NO_MESSAGE: &str =
    "Nu am primit niciun mesaj. Vă rugăm să sunați din nou mai târziu. La revedere!";

/// Puts the caller through to the salon's phone; `action` hears how it went.
pub fn dial(number: &str, action: &str) -> String {
    let mut t = Twiml::new();
    t.open(
        "Dial",
        &[("timeout", DIAL_TIMEOUT_SECS), ("action", action)],
    );
    t.0.write_event(Event::Text(BytesText::new(number)))
        .expect("writing to a Vec");
    t.close("Dial");
    t.finish()
}

/// A short recorded message after `intro` (nobody answered, or no phone to ring), sent to
/// `action`.
pub fn record_message(intro: &str, action: &str) -> String {
    let mut t = Twiml::new();
    t.say(intro);
    t.empty(
        "Record",
        &[
            ("maxLength", MESSAGE_MAX_SECS),
            ("playBeep", "true"),
            ("action", action),
        ],
    );
    // Reached only when the caller recorded nothing.
    t.say(NO_MESSAGE);
    t.empty("Hangup", &[]);
    t.finish()
}
