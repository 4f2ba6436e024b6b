//! Romania's legal public holidays, on which salons usually close.
//!
//! The list follows art. 139 of the Labour Code (Law 53/2003) as amended, including
//! 6 and 7 January added by Law 52/2023. It is applied to every year alike: the system
//! books future appointments, so the law in force today is the one that matters, and
//! past years simply get today's list.

use std::ops::RangeInclusive;

use jiff::Span;
use jiff::civil::{Date, date};

/// One legal holiday: its date and its Romanian name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holiday {
    /// The civil date it falls on.
    pub date: Date,
    /// The name as Romanians write it, with comma-below ș and ț.
    pub name: &'static str,
}

/// Returns Orthodox Easter Sunday of `year` as a Gregorian date.
///
/// The Romanian Orthodox Church keeps the Julian Paschalion, so the feast is found with
/// Meeus's Julian algorithm and then shifted by the gap between the two calendars
/// (13 days for 1900..=2099, 14 days for 2100..=2199, and so on). The gap is computed
/// for every century, so the result is exact for any year of the Gregorian calendar
/// (1583 onwards); earlier years get the proleptic Gregorian date.
///
/// # Panics
///
/// Panics if `year` lies outside -9999..=9999, the range a [`Date`] can hold.
pub fn orthodox_easter(year: i16) -> Date {
    let y = i32::from(year);
    // Meeus, "Astronomical Algorithms", Julian Easter: the 4-, 7- and 19-year cycles
    // of leap years, weekdays and the moon.
    let a = y.rem_euclid(4);
    let b = y.rem_euclid(7);
    let c = y.rem_euclid(19);
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let month = (d + e + 114) / 31;
    let day = (d + e + 114) % 31 + 1;
    // From March onwards the Gregorian calendar runs ahead of the Julian one by this many
    // days; Julian Easter always falls between 22 March and 25 April, after any leap day.
    let gap = y.div_euclid(100) - y.div_euclid(400) - 2;
    // Both values are small (3..=4 and 1..=31), so the casts cannot truncate.
    shift(date(year, month as i8, day as i8), gap)
}

/// Returns every legal holiday of `year`, sorted by date.
///
/// The list always has 17 entries, one per holiday the law names. Some years two of them
/// share a date (1 June is Rusalii Monday in 2026; 1 May is Easter Sunday in 2016): both
/// entries are kept, in the order the law lists them, so a count of holidays stays
/// stable and no name is lost. Use [`holiday_on`] for a single answer per date.
///
/// # Panics
///
/// Panics if `year` lies outside -9999..=9999, like [`orthodox_easter`].
pub fn romanian_holidays(year: i16) -> Vec<Holiday> {
    let easter = orthodox_easter(year);
    let fixed = |month: i8, day: i8, name| Holiday {
        date: date(year, month, day),
        name,
    };
    let movable = |days: i32, name| Holiday {
        date: shift(easter, days),
        name,
    };
    // Written in the order of art. 139 so the stable sort below keeps it for ties.
    let mut holidays = vec![
        fixed(1, 1, "Anul Nou"),
        fixed(1, 2, "Anul Nou"),
        fixed(1, 6, "Boboteaza"),
        fixed(1, 7, "Sfântul Ioan Botezătorul"),
        fixed(1, 24, "Ziua Unirii Principatelor Române"),
        movable(-2, "Vinerea Mare"),
        movable(0, "Paștele"),
        movable(1, "A doua zi de Paște"),
        fixed(5, 1, "Ziua Muncii"),
        fixed(6, 1, "Ziua Copilului"),
        movable(49, "Rusaliile"),
        movable(50, "A doua zi de Rusalii"),
        fixed(8, 15, "Adormirea Maicii Domnului"),
        fixed(11, 30, "Sfântul Andrei"),
        fixed(12, 1, "Ziua Națională a României"),
        fixed(12, 25, "Crăciunul"),
        fixed(12, 26, "A doua zi de Crăciun"),
    ];
    holidays.sort_by_key(|h| h.date);
    holidays
}

/// Returns the legal holiday falling on `date`, if any.
///
/// When two holidays share the date, returns the one the law lists first: the Easter
/// feasts before 1 May, and Ziua Copilului before Rusalii Monday.
pub fn holiday_on(date: Date) -> Option<Holiday> {
    romanian_holidays(date.year())
        .into_iter()
        .find(|h| h.date == date)
}

/// The legal holidays of a run of years, computed once so that many dates can be looked up.
///
/// Building a year's list (Easter, 17 dates, a sort) costs far more than looking a date up
/// in it, and a planner asks about the same few years for every slot it weighs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holidays {
    /// The years `list` covers; may be empty.
    years: RangeInclusive<i16>,
    /// Every holiday of those years, sorted by date, shared dates in the law's order.
    list: Vec<Holiday>,
}

impl Holidays {
    /// Computes the holidays of every year from that of `from` to that of `to`, both included.
    pub(crate) fn between(from: Date, to: Date) -> Self {
        let years = from.year()..=to.year();
        // One year, the usual case, keeps its list as built: no second allocation.
        let list = years
            .clone()
            .map(romanian_holidays)
            .reduce(|mut all, mut year| {
                all.append(&mut year);
                all
            })
            .unwrap_or_default();
        Self { years, list }
    }

    /// Returns the legal holiday falling on `date`, if any, with the same answer as
    /// [`holiday_on`]; a date outside the years computed is answered by computing its year.
    pub(crate) fn on(&self, date: Date) -> Option<Holiday> {
        if !self.years.contains(&date.year()) {
            return holiday_on(date);
        }
        // The list is sorted and keeps the law's order on a shared date, so the first entry
        // at or after `date` is the one `holiday_on` would pick.
        let first = self.list.partition_point(|h| h.date < date);
        self.list.get(first).filter(|h| h.date == date).copied()
    }
}

/// Moves a date by whole days.
fn shift(date: Date, days: i32) -> Date {
    // Every caller stays within the same year (the earliest result is 2 January -9999,
    // the latest late August 9999), so this never saturates.
    date.saturating_add(Span::new().days(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn orthodox_easter_known_years() {
        let known = [
            (2010, "2010-04-04"),
            (2011, "2011-04-24"),
            (2016, "2016-05-01"),
            (2017, "2017-04-16"),
            (2021, "2021-05-02"),
            (2022, "2022-04-24"),
            (2023, "2023-04-16"),
            (2024, "2024-05-05"),
            (2025, "2025-04-20"),
            (2026, "2026-04-12"),
            (2027, "2027-05-02"),
            (2028, "2028-04-16"),
        ];
        for (year, expected) in known {
            assert_eq!(orthodox_easter(year), d(expected), "{year}");
        }
    }

    /// Converts a Julian-calendar date to a Gregorian one through its Julian day number,
    /// independently of the century arithmetic in `orthodox_easter`.
    fn julian_to_gregorian(year: i16, month: i8, day: i8) -> Date {
        let (y, m, d) = (i64::from(year), i64::from(month), i64::from(day));
        let a = (14 - m) / 12;
        let yy = y + 4800 - a;
        let mm = m + 12 * a - 3;
        let jdn = d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - 32083;
        // Julian day 2440588 is 1970-01-01.
        date(1970, 1, 1)
            .checked_add(Span::new().days(jdn - 2_440_588))
            .unwrap()
    }

    #[test]
    fn orthodox_easter_agrees_with_julian_day_numbers() {
        for year in 1..=9999 {
            let easter = orthodox_easter(year);
            assert_eq!(easter.weekday(), jiff::civil::Weekday::Sunday, "{year}");
            // Undo the shift: the gap is constant from March to the next February.
            let gap = i32::from(year / 100 - year / 400 - 2);
            let julian = shift(easter, -gap);
            assert_eq!(
                julian_to_gregorian(year, julian.month(), julian.day()),
                easter,
                "{year}"
            );
        }
    }

    #[test]
    fn gap_is_thirteen_days_in_this_century_range() {
        for year in 1900..=2099 {
            let easter = orthodox_easter(year);
            let julian = shift(easter, -13);
            assert_eq!(
                julian_to_gregorian(year, julian.month(), julian.day()),
                easter
            );
            // Julian Easter lies between 22 March and 25 April.
            assert!(
                (date(year, 3, 22)..=date(year, 4, 25)).contains(&julian),
                "{year}"
            );
        }
    }

    #[test]
    fn good_friday_and_rusalii() {
        let on = |s: &str| holiday_on(d(s)).map(|h| h.name);
        assert_eq!(on("2026-04-10"), Some("Vinerea Mare"));
        assert_eq!(on("2027-04-30"), Some("Vinerea Mare"));
        assert_eq!(on("2026-05-31"), Some("Rusaliile"));
        assert_eq!(on("2027-06-20"), Some("Rusaliile"));
        assert_eq!(on("2027-06-21"), Some("A doua zi de Rusalii"));
        assert_eq!(on("2026-04-13"), Some("A doua zi de Paște"));
    }

    #[test]
    fn full_list_for_2026() {
        let holidays = romanian_holidays(2026);
        let listed: Vec<(Date, &str)> = holidays.iter().map(|h| (h.date, h.name)).collect();
        assert_eq!(
            listed,
            [
                (d("2026-01-01"), "Anul Nou"),
                (d("2026-01-02"), "Anul Nou"),
                (d("2026-01-06"), "Boboteaza"),
                (d("2026-01-07"), "Sfântul Ioan Botezătorul"),
                (d("2026-01-24"), "Ziua Unirii Principatelor Române"),
                (d("2026-04-10"), "Vinerea Mare"),
                (d("2026-04-12"), "Paștele"),
                (d("2026-04-13"), "A doua zi de Paște"),
                (d("2026-05-01"), "Ziua Muncii"),
                (d("2026-05-31"), "Rusaliile"),
                (d("2026-06-01"), "Ziua Copilului"),
                (d("2026-06-01"), "A doua zi de Rusalii"),
                (d("2026-08-15"), "Adormirea Maicii Domnului"),
                (d("2026-11-30"), "Sfântul Andrei"),
                (d("2026-12-01"), "Ziua Națională a României"),
                (d("2026-12-25"), "Crăciunul"),
                (d("2026-12-26"), "A doua zi de Crăciun"),
            ]
        );
    }

    #[test]
    fn every_year_has_seventeen_sorted_entries_within_it() {
        for year in -9999..=9999 {
            let holidays = romanian_holidays(year);
            assert_eq!(holidays.len(), 17, "{year}");
            assert!(holidays.is_sorted_by_key(|h| h.date), "{year}");
            assert!(holidays.iter().all(|h| h.date.year() == year), "{year}");
        }
    }

    #[test]
    fn shared_date_keeps_both_entries_and_holiday_on_picks_one() {
        let june_first = d("2026-06-01");
        let names: Vec<&str> = romanian_holidays(2026)
            .into_iter()
            .filter(|h| h.date == june_first)
            .map(|h| h.name)
            .collect();
        assert_eq!(names, ["Ziua Copilului", "A doua zi de Rusalii"]);
        assert_eq!(holiday_on(june_first).unwrap().name, "Ziua Copilului");

        // In 2016 Easter Sunday was 1 May: the feast wins over Ziua Muncii.
        let may_first = d("2016-05-01");
        assert_eq!(
            romanian_holidays(2016)
                .iter()
                .filter(|h| h.date == may_first)
                .count(),
            2
        );
        assert_eq!(holiday_on(may_first).unwrap().name, "Paștele");
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        assert_eq!(holiday_on(d("2026-04-14")), None);
        assert_eq!(holiday_on(d("2026-03-03")), None);
        assert_eq!(holiday_on(d("2026-12-24")), None);
    }

    #[test]
    fn holiday_on_reports_date_and_name() {
        assert_eq!(
            holiday_on(d("2026-12-01")),
            Some(Holiday {
                date: d("2026-12-01"),
                name: "Ziua Națională a României",
            })
        );
    }

    #[test]
    fn holidays_of_several_years_answer_like_holiday_on() {
        let holidays = Holidays::between(d("2025-12-20"), d("2027-01-10"));
        // Every day of the three years computed, and a few days on either side of them.
        let mut day = d("2024-12-25");
        while day <= d("2028-01-05") {
            assert_eq!(holidays.on(day), holiday_on(day), "{day}");
            day = day.tomorrow().unwrap();
        }
        assert_eq!(holidays.on(d("2026-06-01")).unwrap().name, "Ziua Copilului");
        // Dates given the wrong way round compute nothing ahead and still answer.
        let none_ahead = Holidays::between(d("2027-01-01"), d("2026-01-01"));
        assert_eq!(none_ahead.on(d("2026-12-25")).unwrap().name, "Crăciunul");
    }

    #[test]
    fn names_use_comma_below_not_cedilla() {
        let cedillas = ['\u{015F}', '\u{0163}', '\u{015E}', '\u{0162}'];
        for h in romanian_holidays(2026) {
            assert!(!h.name.contains(cedillas), "{}", h.name);
        }
        let all: String = romanian_holidays(2026).iter().map(|h| h.name).collect();
        assert!(all.contains('\u{0219}') && all.contains('\u{021B}'));
    }
}
