//! Text messages: what an appointment event tells a client, what a message left for the salon
//! tells it, and what a text costs.
//!
//! A text is billed per segment. GSM-7 (the SMS default alphabet) has no ă, â, î, ș or ț: one
//! of them makes the whole text UCS-2, 70 characters a segment instead of 160 (67 instead of
//! 153 once it is split). Romanian texts are commonly written without diacritics, so the texts
//! are sent in [`plain`] form; what a caller hears keeps them.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::appointment::Appointment;
use crate::ids::BusinessId;
use crate::message::Message;
use crate::phone::PhoneE164;
use crate::waitlist::WaitlistEntry;

/// What a text tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// An appointment was booked.
    Booked,
    /// Moved to another time (or stylist).
    Moved,
    /// Cancelled.
    Cancelled,
    /// Tomorrow: the day-before reminder.
    Reminder,
    /// A caller left a message for the salon.
    Message,
    /// A time freed up for a client on the waitlist.
    WaitlistOffer,
}

/// One text owed: to a client about their appointment (as it was right after the event, so a
/// later change does not rewrite what this text says), or to the salon about a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "about", rename_all = "snake_case")]
pub enum Notice {
    /// To the appointment's client.
    Appointment {
        kind: NoticeKind,
        appointment: Appointment,
    },
    /// To the salon's own phone (`to`).
    Message { message: Message, to: PhoneE164 },
    /// To a waiting client, the time offered (`entry.offer`).
    Waitlist { entry: WaitlistEntry },
}

impl Notice {
    /// An appointment event, to its client; none for a walk-in without a number.
    pub fn appointment(kind: NoticeKind, appointment: Appointment) -> Option<Self> {
        appointment
            .client
            .is_some()
            .then_some(Self::Appointment { kind, appointment })
    }

    pub fn kind(&self) -> NoticeKind {
        match self {
            Self::Appointment { kind, .. } => *kind,
            Self::Message { .. } => NoticeKind::Message,
            Self::Waitlist { .. } => NoticeKind::WaitlistOffer,
        }
    }

    /// Who gets the text (none: a walk-in without a number, who is never owed one).
    pub fn to(&self) -> Option<&PhoneE164> {
        match self {
            Self::Appointment { appointment, .. } => appointment.client.as_ref(),
            Self::Message { to, .. } => Some(to),
            Self::Waitlist { entry } => Some(&entry.client),
        }
    }

    pub fn business(&self) -> &BusinessId {
        match self {
            Self::Appointment { appointment, .. } => &appointment.business,
            Self::Message { message, .. } => &message.business,
            Self::Waitlist { entry } => &entry.business,
        }
    }

    /// The appointment it tells of, if it is about one.
    pub fn about_appointment(&self) -> Option<&Appointment> {
        match self {
            Self::Appointment { appointment, .. } => Some(appointment),
            Self::Message { .. } | Self::Waitlist { .. } => None,
        }
    }
}

/// A text owed to a client and what became of it, kept under its appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRecord {
    pub notice: Notice,
    pub state: SmsState,
    /// Sending attempts made (each refused by the provider before it took the text).
    #[serde(default)]
    pub attempts: u32,
    /// When the event happened.
    pub created: Timestamp,
}

/// Where a text is. Each is sent at most once: a text handed to the provider is never handed
/// over again, whatever happens after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SmsState {
    /// Waiting to be sent from `due` on.
    Pending { due: Timestamp },
    /// Handed to a sender at `since`; the sender settles it.
    Sending { since: Timestamp },
    /// The provider took it.
    Sent { sid: String, at: Timestamp },
    /// Not sent, for good: refused by the provider (`code`, its error code: 21610 for a number
    /// that replied STOP), or every attempt failed.
    Failed {
        code: Option<u32>,
        reason: String,
        at: Timestamp,
    },
    /// Sent and never answered: it may have gone out, so it is not sent again.
    Unknown { at: Timestamp },
    /// Not sent because it no longer holds (a reminder of an appointment since cancelled or
    /// moved) or is too old to be of use.
    Withdrawn { reason: String, at: Timestamp },
}

impl SmsState {
    /// Whether nothing more will happen to it.
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            Self::Sent { .. } | Self::Failed { .. } | Self::Unknown { .. } | Self::Withdrawn { .. }
        )
    }
}

/// A booking this recent has its confirmation fresh in mind: no reminder as well.
pub const REMINDER_AFTER: SignedDuration = SignedDuration::from_hours(6);

/// Whether an appointment gets its day-before reminder: still booked, and booked at least
/// [`REMINDER_AFTER`] before `now`.
pub fn wants_reminder(a: &Appointment, now: Timestamp) -> bool {
    a.is_booked() && now.duration_since(a.created) >= REMINDER_AFTER
}

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM default alphabet: 160 characters in one segment, 153 per part.
    Gsm7,
    /// Anything else: 70 UTF-16 units in one segment, 67 per part.
    Ucs2,
}

/// The GSM 03.38 default alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Its extension table: two septets each (an escape, then the character).
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets a character takes in GSM-7, or `None` if it has none.
fn septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Returns how `text` would be encoded.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Returns how many segments `text` is billed as.
pub fn segments(text: &str) -> usize {
    let (units, single, part) = match encoding(text) {
        Encoding::Gsm7 => (text.chars().filter_map(septets).sum(), 160, 153),
        Encoding::Ucs2 => (text.encode_utf16().count(), 70, 67),
    };
    match units {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    }
}

/// Writes `text` in the GSM default alphabet: Romanian letters without their diacritics,
/// typographic quotes and dashes as their plain forms, anything else left out as `?`.
pub fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ă' | 'â' => 'a',
            'Ă' | 'Â' => 'A',
            'î' => 'i',
            'Î' => 'I',
            'ș' | 'ş' => 's',
            'Ș' | 'Ş' => 'S',
            'ț' | 'ţ' => 't',
            'Ț' | 'Ţ' => 'T',
            '„' | '”' | '“' | '«' | '»' => '"',
            '’' | '‘' => '\'',
            '–' | '—' => '-',
            '\u{a0}' => ' ',
            c if septets(c).is_some() => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_romanian_letter_makes_a_text_ucs2() {
        assert_eq!(encoding("Programare confirmata"), Encoding::Gsm7);
        assert_eq!(encoding("Programare confirmată"), Encoding::Ucs2);
        assert_eq!(encoding("Preț: 50 lei €"), Encoding::Ucs2);
        assert_eq!(encoding("Pret: 50 lei €"), Encoding::Gsm7);
    }

    #[test]
    fn segments_follow_the_published_limits() {
        assert_eq!(segments(""), 0);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        // An extension character takes two septets.
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
        assert_eq!(segments(&"ă".repeat(70)), 1);
        assert_eq!(segments(&"ă".repeat(71)), 2);
        assert_eq!(segments(&"ă".repeat(134)), 2);
        assert_eq!(segments(&"ă".repeat(135)), 3);
    }

    #[test]
    fn plain_text_keeps_every_letter_readable_in_gsm7() {
        let text = plain("Ștefan, marți la 10:00 „Tuns + barbă” – îți mulțumim! Ţ ş 😀");
        assert_eq!(
            text,
            "Stefan, marti la 10:00 \"Tuns + barba\" - iti multumim! T s ?"
        );
        assert_eq!(encoding(&text), Encoding::Gsm7);
    }
}
