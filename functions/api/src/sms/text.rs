//! The texts a client gets, written without diacritics so each stays in the GSM alphabet
//! (`salon_domain::sms`): what a caller hears keeps them, a text would cost twice as much.

use salon_domain::message::Message;
use salon_domain::sms::{Notice, NoticeKind, plain};
use salon_domain::{Appointment, Business, PhoneE164, WaitlistEntry};

use crate::speech;

/// The text for `notice`, as sent.
pub(crate) fn render(business: &Business, notice: &Notice) -> String {
    let (kind, a) = match notice {
        Notice::Appointment { kind, appointment } => (*kind, appointment),
        Notice::Message { message, .. } => return plain(&message_text(business, message)),
        Notice::Waitlist { entry } => return plain(&offer_text(business, entry)),
    };
    let what = match kind {
        NoticeKind::Booked => format!("Programare confirmata: {}.", when(business, a)),
        NoticeKind::Moved => format!("Programare mutata: {}.", when(business, a)),
        NoticeKind::Cancelled => format!("Programare anulata: {}.", when(business, a)),
        NoticeKind::Reminder => format!("Va asteptam maine: {}.", when(business, a)),
        // Not about an appointment (handled above).
        NoticeKind::Message | NoticeKind::WaitlistOffer => String::new(),
    };
    let contact = match (kind, business.numbers.first()) {
        (NoticeKind::Cancelled, Some(n)) => {
            format!(" Pentru o noua programare sunati la {}.", n.national())
        }
        (_, Some(n)) => format!(" Pentru anulare sau modificare sunati la {}.", n.national()),
        (_, None) => String::new(),
    };
    plain(&format!("{}: {what}{contact}", business.name))
}

/// The salon's text about a message: who, where to call back, what they want.
fn message_text(business: &Business, m: &Message) -> String {
    let who = m.name.as_deref().unwrap_or("Un apelant");
    let back = m
        .phone
        .as_ref()
        .map_or_else(|| "numar ascuns".to_owned(), PhoneE164::national);
    let what = match (&m.text, &m.recording) {
        (Some(t), _) => format!("„{t}”"),
        (None, Some(r)) => format!("un mesaj vocal de {} s, in contul Twilio", r.seconds),
        (None, None) => "un mesaj".to_owned(),
    };
    format!(
        "{}: mesaj nou. {who} ({back}) a lasat {what}. Sunati inapoi.",
        business.name
    )
}

/// A waiting client's text: the time that freed up, and how to take it (nothing is booked
/// for them: they call, and whoever asks first gets it).
fn offer_text(business: &Business, entry: &WaitlistEntry) -> String {
    let Some(offer) = &entry.offer else {
        return String::new();
    };
    let start = offer
        .start
        .to_zoned_datetime(business.time_zone.tz().clone());
    let stylist = business
        .staff
        .iter()
        .find(|s| s.id == offer.staff)
        .map(|s| format!(" cu {}", s.name))
        .unwrap_or_default();
    let call = business
        .numbers
        .first()
        .map(|n| format!(" Sunati la {} ca sa il rezervati.", n.national()))
        .unwrap_or_default();
    format!(
        "{}: s-a eliberat un loc: {}{stylist}, {}, ora {}.{call}",
        business.name,
        entry.service_name,
        speech::date(start.date()),
        start.time().strftime("%H:%M")
    )
}

/// "Tuns cu Ana, marți, 15 decembrie, ora 10:00".
fn when(business: &Business, a: &Appointment) -> String {
    let start = a.start.to_zoned_datetime(business.time_zone.tz().clone());
    let stylist = business
        .staff
        .iter()
        .find(|s| s.id == a.staff)
        .map(|s| format!(" cu {}", s.name))
        .unwrap_or_default();
    format!(
        "{}{stylist}, {}, ora {}",
        a.service_name,
        speech::date(start.date()),
        start.time().strftime("%H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_domain::sms::{Encoding, encoding, segments};
    use salon_domain::{AppointmentId, AppointmentStatus, PhoneE164, PhoneOrigin, Source, demo};

    fn notice(kind: NoticeKind, name: &str, service: &str) -> (Business, Notice) {
        let b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
        let appointment = Appointment {
            id: AppointmentId::parse("a1").unwrap(),
            business: b.id.clone(),
            client: Some(PhoneE164::parse("0722123456").unwrap()),
            client_name: name.into(),
            service: demo::services()[0].id.clone(),
            service_name: service.into(),
            staff: b.staff[0].id.clone(),
            start: "2026-12-15T10:00:00+02:00".parse().unwrap(),
            end: "2026-12-15T10:30:00+02:00".parse().unwrap(),
            status: AppointmentStatus::Booked,
            source: Source::Voice,
            phone_origin: PhoneOrigin::CallerId,
            call_sid: None,
            created: "2026-12-14T08:00:00Z".parse().unwrap(),
            moved: None,
            work: None,
            more: Vec::new(),
        };
        (
            b,
            Notice::appointment(kind, appointment).expect("the appointment has a number"),
        )
    }

    #[test]
    fn a_confirmation_says_what_when_with_whom_and_how_to_cancel() {
        let (b, n) = notice(NoticeKind::Booked, "Ion Popescu", "Tuns");
        assert_eq!(
            render(&b, &n),
            "Salon Voice Booking: Programare confirmata: Tuns cu Ana, marti, 15 decembrie, ora 10:00. Pentru anulare sau modificare sunati la 031 234 56 78."
        );
    }

    /// Every text, in the demo salon, with its longest service name: what each costs.
    #[test]
    fn every_text_is_gsm7_and_one_segment_for_the_demo_salon() {
        let longest = demo::services()
            .into_iter()
            .map(|s| s.name)
            .max_by_key(|n| n.chars().count())
            .unwrap();
        for kind in [
            NoticeKind::Booked,
            NoticeKind::Moved,
            NoticeKind::Cancelled,
            NoticeKind::Reminder,
        ] {
            let (b, n) = notice(kind, "Ștefania Țăranu", &longest);
            let text = render(&b, &n);
            assert_eq!(encoding(&text), Encoding::Gsm7, "{text}");
            let chars = text.chars().count();
            println!(
                "{kind:?}: {chars} characters, {} segment(s): {text}",
                segments(&text)
            );
            assert_eq!(segments(&text), 1, "{kind:?} ({chars}): {text}");
            // With the diacritics kept it would be UCS-2: three segments instead of one.
            assert!(segments(&text.replace('a', "ă")) >= 2);
        }
    }

    #[test]
    fn a_waitlist_offer_says_what_freed_up_and_to_call_in_one_gsm7_segment() {
        let b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
        let longest = demo::services()
            .into_iter()
            .map(|s| s.name)
            .max_by_key(|n| n.chars().count())
            .unwrap();
        let entry = WaitlistEntry {
            id: "CA1:call_1".into(),
            business: b.id.clone(),
            client: PhoneE164::parse("0722123456").unwrap(),
            client_name: "Ștefania Țăranu".into(),
            service: demo::services()[0].id.clone(),
            more: Vec::new(),
            service_name: longest,
            staff: None,
            date: "2026-12-15".parse().unwrap(),
            window: salon_domain::Window::all_day(),
            call_sid: salon_domain::CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            created: "2026-12-14T08:00:00Z".parse().unwrap(),
            offer: Some(salon_domain::Offer {
                start: "2026-12-15T10:00:00+02:00".parse().unwrap(),
                staff: b.staff[1].id.clone(),
                at: "2026-12-14T09:00:00Z".parse().unwrap(),
            }),
        };
        let text = render(&b, &Notice::Waitlist { entry });
        assert_eq!(
            text,
            "Salon Voice Booking: s-a eliberat un loc: Spalat si coafat cu Maria, marti, 15 decembrie, ora 10:00. Sunati la 031 234 56 78 ca sa il rezervati."
        );
        assert_eq!(encoding(&text), Encoding::Gsm7);
        assert_eq!(segments(&text), 1);
    }

    #[test]
    fn the_salons_text_about_a_message_says_who_where_and_what_in_gsm7() {
        let b = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).unwrap());
        let message = Message {
            id: "m1".into(),
            business: b.id.clone(),
            call_sid: salon_domain::CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            phone: Some(PhoneE164::parse("0722123456").unwrap()),
            name: Some("Ștefania Țăranu".into()),
            // The longest a tool argument may be.
            text: Some("ă".repeat(120)),
            recording: None,
            at: "2026-12-14T08:00:00Z".parse().unwrap(),
            read: false,
        };
        let to = PhoneE164::parse("0722999888").unwrap();
        let text = render(&b, &Notice::Message { message, to });
        assert!(
            text.starts_with(
                "Salon Voice Booking: mesaj nou. Stefania Taranu (0722 123 456) a lasat \""
            ),
            "{text}"
        );
        assert_eq!(encoding(&text), Encoding::Gsm7, "{text}");
        assert_eq!(segments(&text), 2, "{text}");
    }
}
