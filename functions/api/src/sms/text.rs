//! The texts a client gets, written without diacritics so each stays in the GSM alphabet
//! (`salon_domain::sms`): what a caller hears keeps them, a text would cost twice as much.

use salon_domain::sms::{Notice, NoticeKind, plain};
use salon_domain::{Appointment, Business};

use crate::speech;

/// The text for `notice`, as sent.
pub(crate) fn render(business: &Business, notice: &Notice) -> String {
    let a = &notice.appointment;
    let what = match notice.kind {
        NoticeKind::Booked => format!("Programare confirmata: {}.", when(business, a)),
        NoticeKind::Moved => format!("Programare mutata: {}.", when(business, a)),
        NoticeKind::Cancelled => format!("Programare anulata: {}.", when(business, a)),
        NoticeKind::Reminder => format!("Va asteptam maine: {}.", when(business, a)),
    };
    let contact = match (notice.kind, business.numbers.first()) {
        (NoticeKind::Cancelled, Some(n)) => {
            format!(" Pentru o noua programare sunati la {}.", n.national())
        }
        (_, Some(n)) => format!(" Pentru anulare sau modificare sunati la {}.", n.national()),
        (_, None) => String::new(),
    };
    plain(&format!("{}: {what}{contact}", business.name))
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
            client: PhoneE164::parse("0722123456").unwrap(),
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
        };
        (b, Notice { kind, appointment })
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
}
