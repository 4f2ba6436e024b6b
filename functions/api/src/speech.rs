//! Romanian as the agent says it: days, dates, times, durations, lists.

use jiff::ZonedDateTime;
use jiff::civil::{Date, Time, Weekday};

/// Returns the weekday's Romanian name ("marți").
pub fn weekday(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "luni",
        Weekday::Tuesday => "marți",
        Weekday::Wednesday => "miercuri",
        Weekday::Thursday => "joi",
        Weekday::Friday => "vineri",
        Weekday::Saturday => "sâmbătă",
        Weekday::Sunday => "duminică",
    }
}

const MONTHS: [&str; 12] = [
    "ianuarie",
    "februarie",
    "martie",
    "aprilie",
    "mai",
    "iunie",
    "iulie",
    "august",
    "septembrie",
    "octombrie",
    "noiembrie",
    "decembrie",
];

/// Returns a date as said aloud: "marți, 15 decembrie".
pub fn date(d: Date) -> String {
    format!(
        "{}, {} {}",
        weekday(d.weekday()),
        d.day(),
        MONTHS[(d.month() - 1) as usize]
    )
}

/// The hours of the day as said with "ora" (feminine: "ora două", "ora douăsprezece").
const HOURS: [&str; 24] = [
    "zero",
    "unu",
    "două",
    "trei",
    "patru",
    "cinci",
    "șase",
    "șapte",
    "opt",
    "nouă",
    "zece",
    "unsprezece",
    "douăsprezece",
    "treisprezece",
    "paisprezece",
    "cincisprezece",
    "șaisprezece",
    "șaptesprezece",
    "optsprezece",
    "nouăsprezece",
    "douăzeci",
    "douăzeci și unu",
    "douăzeci și două",
    "douăzeci și trei",
];

/// Returns a time of day as a Romanian says it: "zece", "zece și un sfert", "zece și
/// jumătate", "unsprezece fără un sfert"; other minutes as "zece și cinci minute".
pub fn time(t: Time) -> String {
    let (h, m) = (t.hour() as usize, t.minute());
    match m {
        0 => HOURS[h].to_owned(),
        15 => format!("{} și un sfert", HOURS[h]),
        30 => format!("{} și jumătate", HOURS[h]),
        45 if h == 23 => "douăzeci și patru fără un sfert".to_owned(),
        45 => format!("{} fără un sfert", HOURS[h + 1]),
        m => format!(
            "{} și {}",
            HOURS[h],
            count(u32::from(m.unsigned_abs()), "minut", "minute")
        ),
    }
}

/// Returns a local time and day as said aloud: "marți, 15 decembrie, la ora zece și jumătate".
pub fn slot(start: &ZonedDateTime) -> String {
    format!("{}, la ora {}", date(start.date()), time(start.time()))
}

/// Returns a range of start times as said aloud: "de la nouă până la douăsprezece".
pub fn range(from: Time, to: Time) -> String {
    if from == to {
        format!("la {}", time(from))
    } else {
        format!("de la {} până la {}", time(from), time(to))
    }
}

/// Returns a count with its noun, with the "de" Romanian puts before a noun from 20 on
/// ("5 minute", "20 de minute", "101 minute").
pub fn count(n: u32, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n if n % 100 == 0 || n % 100 >= 20 => format!("{n} de {many}"),
        n => format!("{n} {many}"),
    }
}

/// Returns a duration as said aloud: "30 de minute", "1 oră și 30 de minute", "2 ore".
pub fn duration(minutes: u16) -> String {
    let (h, m) = (u32::from(minutes) / 60, u32::from(minutes) % 60);
    match (h, m) {
        (0, m) => count(m, "minut", "minute"),
        (h, 0) => count(h, "oră", "ore"),
        (h, m) => format!(
            "{} și {}",
            count(h, "oră", "ore"),
            count(m, "minut", "minute")
        ),
    }
}

/// Returns a week's opening hours as said aloud, runs of days with the same hours together:
/// "luni–vineri 09:00–19:00, sâmbătă 09:00–14:00, duminică închis".
pub fn opening_hours(week: &salon_domain::WeeklyHours) -> String {
    use Weekday::*;
    let days = [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ];
    let hours = |d| match week.on(d) {
        Some(h) => {
            let mut s = format!(
                "{}–{}",
                h.open().strftime("%H:%M"),
                h.close().strftime("%H:%M")
            );
            if let Some(p) = h.pause() {
                s.push_str(&format!(
                    " (pauză {}–{})",
                    p.start.strftime("%H:%M"),
                    p.end.strftime("%H:%M")
                ));
            }
            s
        }
        None => "închis".to_owned(),
    };
    let mut runs: Vec<(Weekday, Weekday, String)> = Vec::new();
    for d in days {
        let h = hours(d);
        match runs.last_mut() {
            Some((_, last, same)) if *same == h => *last = d,
            _ => runs.push((d, d, h)),
        }
    }
    let parts: Vec<String> = runs
        .into_iter()
        .map(|(a, b, h)| {
            if a == b {
                format!("{} {h}", weekday(a))
            } else {
                format!("{}–{} {h}", weekday(a), weekday(b))
            }
        })
        .collect();
    parts.join(", ")
}

/// Joins items the Romanian way: "a", "a sau b", "a, b sau c" (with `sau` or `și`).
pub fn list(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations_read_as_romanians_say_them() {
        assert_eq!(date(Date::constant(2026, 12, 15)), "marți, 15 decembrie");
        assert_eq!(date(Date::constant(2027, 3, 6)), "sâmbătă, 6 martie");
        assert_eq!(duration(20), "20 de minute");
        assert_eq!(duration(15), "15 minute");
        assert_eq!(duration(60), "1 oră");
        assert_eq!(duration(90), "1 oră și 30 de minute");
        assert_eq!(duration(120), "2 ore");
        assert_eq!(
            list(&["10:30".into(), "11:15".into()], "sau"),
            "10:30 sau 11:15"
        );
        assert_eq!(
            list(&["a".into(), "b".into(), "c".into()], "și"),
            "a, b și c"
        );
        let z: ZonedDateTime = "2026-12-15T10:30[Europe/Bucharest]".parse().unwrap();
        assert_eq!(slot(&z), "marți, 15 decembrie, la ora zece și jumătate");
    }

    #[test]
    fn times_read_as_words() {
        let t = |h, m| time(Time::constant(h, m, 0, 0));
        assert_eq!(t(10, 0), "zece");
        assert_eq!(t(9, 15), "nouă și un sfert");
        assert_eq!(t(12, 30), "douăsprezece și jumătate");
        assert_eq!(t(10, 45), "unsprezece fără un sfert");
        assert_eq!(t(13, 0), "treisprezece");
        assert_eq!(t(2, 0), "două");
        assert_eq!(t(23, 45), "douăzeci și patru fără un sfert");
        assert_eq!(t(10, 5), "zece și 5 minute");
        assert_eq!(t(10, 20), "zece și 20 de minute");
        assert_eq!(
            range(Time::constant(9, 0, 0, 0), Time::constant(12, 30, 0, 0)),
            "de la nouă până la douăsprezece și jumătate"
        );
    }
}
