//! The tools' answers in Romanian: why a time cannot be had (with what can be had instead),
//! why a booking, move or cancellation was refused, and an appointment as the model reads it.

use super::*;

pub(super) fn alternative(s: &Slot) -> Alternative {
    Alternative {
        date: s.start.date().to_string(),
        time: s.label(),
        spoken: speech::slot(&s.start),
    }
}

/// Says why a time (if one was asked for) cannot be had, with what can be had instead.
pub(super) fn unavailable(
    business: &Business,
    at: Option<DateTime>,
    reason: &Unavailable,
    alternatives: &[Slot],
) -> ToolReply {
    let why = match reason {
        Unavailable::InPast => "Ora aceasta a trecut deja.".to_owned(),
        Unavailable::TooSoon { earliest } => format!(
            "Avem nevoie de puțin timp să ne pregătim: cel mai devreme putem începe la ora {}.",
            speech::time(
                earliest
                    .to_zoned_datetime(business.time_zone.tz().clone())
                    .time()
            )
        ),
        Unavailable::TooFarAhead { last_day } => {
            format!("Facem programări doar până {}.", speech::date(*last_day))
        }
        Unavailable::Closed { date, reason } => match reason {
            ClosedReason::Weekday => {
                format!("{} salonul este închis.", capitalise(&speech::date(*date)))
            }
            ClosedReason::Holiday(name) => format!(
                "{} este sărbătoare, {name}, și salonul este închis.",
                capitalise(&speech::date(*date))
            ),
            ClosedReason::Closure(why) if why.trim().is_empty() => {
                format!("{} salonul este închis.", capitalise(&speech::date(*date)))
            }
            ClosedReason::Closure(why) => format!(
                "{} salonul este închis ({why}).",
                capitalise(&speech::date(*date))
            ),
        },
        Unavailable::OutsideHours { open, close } => format!(
            "În ziua aceea lucrăm între ora {} și ora {}, iar serviciul trebuie să se termine până la închidere.",
            speech::time(*open),
            speech::time(*close)
        ),
        Unavailable::DuringBreak { pause } => format!(
            "Între ora {} și ora {} este pauza de prânz.",
            speech::time(pause.start),
            speech::time(pause.end)
        ),
        Unavailable::OffGrid { grid } => {
            format!("Programările încep din {grid} în {grid} de minute.")
        }
        Unavailable::NoSuchTime => "Ora aceasta nu există în ziua schimbării orei.".to_owned(),
        // Without a time asked for (a day's check), there is no hour to name.
        Unavailable::Taken => match at {
            Some(at) => format!("Ora {} este deja ocupată.", speech::time(at.time())),
            None => "Ora aceasta este deja ocupată.".to_owned(),
        },
        Unavailable::UnknownStaff(_) => "Stilistul acesta nu mai primește programări.".to_owned(),
        Unavailable::NotQualified { staff, qualified } if qualified.is_empty() => format!(
            "{} nu face acest serviciu, și momentan nu îl face nimeni la noi.",
            staff_name(business, staff)
        ),
        Unavailable::NotQualified { staff, qualified } => {
            let names: Vec<String> = qualified.iter().map(|s| staff_name(business, s)).collect();
            format!(
                "{} nu face acest serviciu. Îl face {}.",
                staff_name(business, staff),
                speech::list(&names, "sau")
            )
        }
        Unavailable::NobodyQualified => {
            "Momentan nu avem pe nimeni care să facă acest serviciu.".to_owned()
        }
        Unavailable::StaffAway { staff, back } => format!(
            "{} nu este la salon în ziua aceea; revine {}.",
            staff_name(business, staff),
            speech::date(*back)
        ),
        Unavailable::StaffOff { staff } => {
            format!("{} nu lucrează în ziua aceea.", staff_name(business, staff))
        }
        Unavailable::StaffHours { staff, open, close } => format!(
            "În ziua aceea {} lucrează între ora {} și ora {}, iar serviciul trebuie să se termine până atunci.",
            staff_name(business, staff),
            speech::time(*open),
            speech::time(*close)
        ),
        Unavailable::NobodyWorks => {
            "În ziua aceea nu lucrează nimeni care face acest serviciu.".to_owned()
        }
        Unavailable::StaffFull { staff } => format!(
            "{} are deja toate programările pe care le poate primi în ziua aceea.",
            staff_name(business, staff)
        ),
        Unavailable::DayFull => {
            "În ziua aceea stiliștii au deja toate programările pe care le pot primi.".to_owned()
        }
        _ => "Ora aceasta nu este disponibilă.".to_owned(),
    };
    let offers: Vec<String> = alternatives
        .iter()
        .map(|s| {
            if at.is_some_and(|at| s.start.date() == at.date()) {
                format!("ora {}", speech::time(s.start.time()))
            } else {
                speech::slot(&s.start)
            }
        })
        .collect();
    let message = if offers.is_empty() {
        why
    } else {
        format!("{why} Vă pot oferi {}.", speech::list(&offers, "sau"))
    };
    ToolReply::Err(ToolError {
        code: ToolErrorCode::Unavailable,
        message,
        alternatives: alternatives.iter().map(alternative).collect(),
    })
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn booking_error(
    business: &Business,
    at: Option<DateTime>,
    e: BookingError,
) -> ToolReply {
    match e {
        BookingError::Unavailable {
            reason,
            alternatives,
        } => unavailable(business, at, &reason, &alternatives),
        BookingError::NameRequired => {
            fail(ToolErrorCode::NameRequired, "Pe ce nume fac programarea?")
        }
        BookingError::NotFound => fail(
            ToolErrorCode::NotFound,
            "Nu am găsit această programare pe numărul dumneavoastră.",
        ),
        BookingError::Cancelled => fail(
            ToolErrorCode::Cancelled,
            "Programarea aceasta a fost deja anulată.",
        ),
        BookingError::UnknownService(_) | BookingError::ServiceInactive(_) => fail(
            ToolErrorCode::UnknownService,
            "Serviciul acesta nu mai este oferit.",
        ),
        BookingError::KeyReused(_) => {
            tracing::warn!("an idempotency key came back with a different booking");
            fail(
                ToolErrorCode::KeyReused,
                "Nu am putut înregistra cererea. Vă rog să confirmați din nou detaliile.",
            )
        }
        BookingError::ClientBusy(clash) => {
            let when = clash
                .start
                .to_zoned_datetime(business.time_zone.tz().clone());
            fail(
                ToolErrorCode::ClientBusy,
                format!(
                    "Pe acest nume aveți deja o programare {}, care se suprapune cu ora cerută. Alegeți, vă rog, altă oră.",
                    speech::slot(&when)
                ),
            )
        }
        BookingError::TooLong { max_minutes } => fail(
            ToolErrorCode::Unavailable,
            format!(
                "Serviciile acestea durează împreună mai mult de {}; le putem programa în vizite separate.",
                speech::duration(max_minutes)
            ),
        ),
        BookingError::TooLate { cutoff_minutes } => fail(
            ToolErrorCode::TooLate,
            format!(
                "Programările se pot anula sau muta prin telefon cu cel puțin {} înainte, așa că nu o pot schimba eu. Vă pot face legătura cu cineva de la salon, dacă doriți.",
                speech::duration(u16::try_from(cutoff_minutes).unwrap_or(u16::MAX))
            ),
        ),
        BookingError::UnknownBusiness(_) => fail(
            ToolErrorCode::Internal,
            "Ne pare rău, a apărut o problemă la salon.",
        ),
        other => store_down(other),
    }
}

pub(super) fn appointment_json(business: &Business, a: &Appointment) -> Value {
    let start = a.start.to_zoned_datetime(business.time_zone.tz().clone());
    json!({
        "id_programare": a.id.as_str(),
        "serviciu": a.service_name,
        "data": start.date().to_string(),
        "ora": start.strftime("%H:%M").to_string(),
        "spus": speech::slot(&start),
        "stilist": staff_name(business, &a.staff),
    })
}
