//! What the settings forms send, read into the domain's types: prices as Romanians write them,
//! a week of hours, a new service's id. Each refusal is the Romanian sentence the owner sees.

use std::collections::HashMap;

use jiff::civil::{Time, Weekday};
use salon_domain::business::{Break, OpenHours};
use salon_domain::text::fold;
use salon_domain::{Price, ServiceId, StaffId, WeeklyHours};

/// The week in the forms' order, with each day's field prefix and Romanian name.
pub(super) const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Monday, "mon", "Luni"),
    (Weekday::Tuesday, "tue", "Marți"),
    (Weekday::Wednesday, "wed", "Miercuri"),
    (Weekday::Thursday, "thu", "Joi"),
    (Weekday::Friday, "fri", "Vineri"),
    (Weekday::Saturday, "sat", "Sâmbătă"),
    (Weekday::Sunday, "sun", "Duminică"),
];

/// A price in lei as typed: "45", "45,50" or "45.5"; up to 100 000 lei.
pub(super) fn price(s: &str) -> Result<Price, String> {
    let wrong = || "Prețul nu este valid (de exemplu 45 sau 45,50).".to_owned();
    let s = s.trim().trim_end_matches("lei").trim().replace(',', ".");
    let (lei, bani) = s.split_once('.').unwrap_or((&s, ""));
    if lei.is_empty() || !lei.bytes().all(|b| b.is_ascii_digit()) || bani.len() > 2 {
        return Err(wrong());
    }
    if !bani.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    let lei: u32 = lei.parse().map_err(|_| wrong())?;
    let bani: u32 = format!("{bani:0<2}").parse().map_err(|_| wrong())?;
    if lei > 100_000 {
        return Err(wrong());
    }
    Ok(Price {
        bani: lei * 100 + bani,
    })
}

/// A price as the form shows it back: "45" or "45,50".
pub(super) fn price_text(p: Price) -> String {
    match p.bani % 100 {
        0 => (p.bani / 100).to_string(),
        b => format!("{},{b:02}", p.bani / 100),
    }
}

/// A week of hours from fields `{day}_open`, `{day}_close`, `{day}_break_start` and
/// `{day}_break_end` (both times of a day empty: closed that day; both break times empty: no
/// break).
pub(super) fn week(form: &HashMap<String, String>) -> Result<WeeklyHours, String> {
    let field = |day: &str, what: &str| {
        form.get(&format!("{day}_{what}"))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut days: [Option<OpenHours>; 7] = [None; 7];
    for (i, (_, key, name)) in DAYS.iter().enumerate() {
        let time = |what: &str| -> Result<Option<Time>, String> {
            field(key, what)
                .map(|v| v.parse::<Time>())
                .transpose()
                .map_err(|_| format!("{name}: o oră nu este validă."))
        };
        let (open, close) = (time("open")?, time("close")?);
        let (from, to) = (time("break_start")?, time("break_end")?);
        days[i] = match (open, close) {
            (None, None) => None,
            (Some(open), Some(close)) => {
                let pause = match (from, to) {
                    (None, None) => None,
                    (Some(start), Some(end)) => Some(Break { start, end }),
                    _ => return Err(format!("{name}: pauza are nevoie de început și sfârșit.")),
                };
                Some(OpenHours::new(open, close, pause).map_err(|_| {
                    format!("{name}: programul se deschide înainte să se închidă, iar pauza este în interiorul lui.")
                })?)
            }
            _ => return Err(format!("{name}: completați ambele ore sau niciuna.")),
        };
    }
    let [
        monday,
        tuesday,
        wednesday,
        thursday,
        friday,
        saturday,
        sunday,
    ] = days;
    Ok(WeeklyHours {
        monday,
        tuesday,
        wednesday,
        thursday,
        friday,
        saturday,
        sunday,
    })
}

/// A new stylist's id from their name ("Ștefania" → `stefania`), unique among `taken`.
pub(super) fn staff_id(name: &str, taken: &[StaffId]) -> Option<StaffId> {
    let taken: Vec<ServiceId> = taken
        .iter()
        .filter_map(|t| ServiceId::parse(t.as_str()).ok())
        .collect();
    service_id(name, &taken).and_then(|id| StaffId::parse(id.as_str()).ok())
}

/// The services a stylist's form ticks (`svc_{id}` fields), of all the salon's: `None` when
/// every one is ticked (they do every service, new ones too).
pub(super) fn services_done(
    form: &HashMap<String, String>,
    all: &[ServiceId],
) -> Option<std::collections::BTreeSet<ServiceId>> {
    let ticked: std::collections::BTreeSet<ServiceId> = all
        .iter()
        .filter(|id| form.contains_key(&format!("svc_{id}")))
        .cloned()
        .collect();
    (ticked.len() < all.len()).then_some(ticked)
}

/// A new service's id from its name ("Vopsit rădăcină" → `vopsit-radacina`), made unique
/// among `taken`.
pub(super) fn service_id(name: &str, taken: &[ServiceId]) -> Option<ServiceId> {
    let base: String = fold(name)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let base: String = base.chars().take(48).collect();
    if base.is_empty() {
        return None;
    }
    (1..100)
        .map(|n| match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        })
        .filter_map(|id| ServiceId::parse(id).ok())
        .find(|id| !taken.contains(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_as_romanians_write_them() {
        assert_eq!(price("45").unwrap().bani, 4500);
        assert_eq!(price("45,5").unwrap().bani, 4550);
        assert_eq!(price(" 45.50 lei").unwrap().bani, 4550);
        for bad in ["", "-3", "4,505", "abc", "1e3", "100001", ",5"] {
            assert!(price(bad).is_err(), "{bad}");
        }
        assert_eq!(price_text(Price { bani: 4550 }), "45,50");
        assert_eq!(price_text(Price::lei(60)), "60");
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_week_reads_open_days_breaks_and_closed_days() {
        let w = week(&form(&[
            ("mon_open", "09:00"),
            ("mon_close", "18:00"),
            ("mon_break_start", "13:00"),
            ("mon_break_end", "14:00"),
            ("sat_open", "10:00"),
            ("sat_close", "14:00"),
        ]))
        .unwrap();
        let monday = w.monday.unwrap();
        assert_eq!(monday.open(), jiff::civil::time(9, 0, 0, 0));
        assert_eq!(
            monday.pause().unwrap().start,
            jiff::civil::time(13, 0, 0, 0)
        );
        assert!(w.saturday.unwrap().pause().is_none());
        assert!(w.tuesday.is_none() && w.sunday.is_none());

        for (bad, says) in [
            (vec![("tue_open", "09:00")], "Marți"),
            (
                vec![("wed_open", "18:00"), ("wed_close", "09:00")],
                "Miercuri",
            ),
            (
                vec![
                    ("thu_open", "09:00"),
                    ("thu_close", "18:00"),
                    ("thu_break_start", "13:00"),
                ],
                "Joi",
            ),
            (vec![("fri_open", "nouă"), ("fri_close", "18:00")], "Vineri"),
        ] {
            let e = week(&form(&bad)).unwrap_err();
            assert!(e.starts_with(says), "{e}");
        }
    }

    #[test]
    fn a_stylists_services_are_those_ticked_and_all_ticked_is_every_service() {
        let all: Vec<ServiceId> = ["tuns", "vopsit"]
            .map(|s| ServiceId::parse(s).unwrap())
            .to_vec();
        assert_eq!(
            services_done(&form(&[("svc_tuns", "on"), ("svc_vopsit", "on")]), &all),
            None
        );
        let only = services_done(&form(&[("svc_tuns", "on")]), &all).unwrap();
        assert_eq!(only.into_iter().collect::<Vec<_>>(), [all[0].clone()]);
        assert!(services_done(&form(&[]), &all).unwrap().is_empty());
        let taken = [StaffId::parse("stefania").unwrap()];
        assert_eq!(staff_id("Ștefania", &taken).unwrap().as_str(), "stefania-2");
    }

    #[test]
    fn a_new_services_id_comes_from_its_name_and_is_unique() {
        let taken = [ServiceId::parse("vopsit-radacina").unwrap()];
        assert_eq!(
            service_id("Vopsit rădăcină", &[]).unwrap().as_str(),
            "vopsit-radacina"
        );
        assert_eq!(
            service_id("Vopsit  Rădăcină!", &taken).unwrap().as_str(),
            "vopsit-radacina-2"
        );
        assert!(service_id(" ?! ", &[]).is_none());
    }
}
