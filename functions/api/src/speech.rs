//! Romanian as the agent says it: days, dates, times, durations, lists.

use jiff::ZonedDateTime;
use jiff::civil::{Date, Weekday};

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

/// Returns a local time and day as said aloud: "marți, 15 decembrie, la ora 10:30".
pub fn slot(start: &ZonedDateTime) -> String {
    format!("{}, la ora {}", date(start.date()), start.strftime("%H:%M"))
}

/// Returns a count with its noun, with the "de" Romanian puts before a noun from 20 on
/// ("5 minute", "20 de minute", "101 minute").
fn count(n: u32, one: &str, many: &str) -> String {
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
        assert_eq!(slot(&z), "marți, 15 decembrie, la ora 10:30");
    }
}
