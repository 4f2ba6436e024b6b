//! The owner's view in a terminal: the day's book, the recent calls with their outcome, the
//! unread messages, as tables, and how the phone did over the last days (the console's
//! figures, at the prices of `OPENAI_PRICES`).
//!
//! `owner [--business ID] [--date YYYY-MM-DD] [--days N] (--store embedded [--data-dir DIR] |
//! --store dynamodb --table NAME [--endpoint-url URL])` (`scripts/owner.sh` runs it).

use std::sync::Arc;

use anyhow::Context;
use jiff::SignedDuration;
use salon_domain::analytics::dollars;
use salon_domain::{BusinessId, SystemClock, demo};
use salon_functions::config::{ProcessEnv, StoreConfig, openai_prices};
use salon_functions::open_store;

const USAGE: &str = "usage: owner [--business ID] [--date YYYY-MM-DD] [--days N] (--store embedded [--data-dir DIR] | --store dynamodb --table NAME [--endpoint-url URL])";

/// How far back the recent calls go, and how many are shown.
const RECENT: SignedDuration = SignedDuration::from_hours(48);
const RECENT_CALLS: usize = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let store = StoreConfig::from_flags(value).context(USAGE)?;
    let id = value("--business").unwrap_or_else(|| demo::BUSINESS_ID.into());
    let id = BusinessId::parse(&id).map_err(|_| anyhow::anyhow!("--business {id:?}"))?;
    let clock = Arc::new(SystemClock);
    let store = open_store(&store, 30, clock).await?;
    let now = store.clock().now();
    let b = store
        .business(&id)
        .await?
        .with_context(|| format!("no salon {id}"))?;
    let tz = b.time_zone.tz().clone();
    let day = match value("--date") {
        Some(d) => d.parse().with_context(|| format!("--date {d:?}"))?,
        None => now.to_zoned_datetime(tz.clone()).date(),
    };
    let local = |t: jiff::Timestamp| t.to_zoned_datetime(tz.clone());

    println!("{} - the book of {day}", b.name);
    let rows: Vec<Vec<String>> = store
        .appointments_on(&b, day)
        .await?
        .into_iter()
        .map(|a| {
            let staff = b
                .staff_member(&a.staff)
                .map_or_else(|| a.staff.to_string(), |s| s.name.clone());
            vec![
                format!(
                    "{}–{}",
                    local(a.start).strftime("%H:%M"),
                    local(a.end).strftime("%H:%M")
                ),
                a.client_name,
                a.client.as_ref().map_or("-".into(), |p| p.national()),
                a.service_name,
                staff,
            ]
        })
        .collect();
    table(&["time", "client", "phone", "service", "stylist"], &rows);

    println!("\nRecent calls (the last {} hours)", RECENT.as_hours());
    let rows: Vec<Vec<String>> = store
        .recent_calls(&b.id, now - RECENT, RECENT_CALLS)
        .await?
        .into_iter()
        .map(|c| {
            let outcome = c
                .summary
                .as_ref()
                .map_or("-".to_owned(), |s| format!("{:?}", s.outcome));
            vec![
                c.started.map_or("-".into(), |t| {
                    local(t).strftime("%Y-%m-%d %H:%M").to_string()
                }),
                c.from.clone().unwrap_or_else(|| "hidden".into()),
                c.duration_seconds.map_or("-".into(), |d| format!("{d} s")),
                outcome,
                c.tool_calls.len().to_string(),
                c.appointments.len().to_string(),
            ]
        })
        .collect();
    table(
        &["began", "from", "length", "outcome", "tool calls", "booked"],
        &rows,
    );

    println!("\nUnread messages");
    let rows: Vec<Vec<String>> = store
        .messages(&b.id)
        .await?
        .into_iter()
        .filter(|m| !m.read)
        .map(|m| {
            let what = match (&m.text, &m.recording) {
                (Some(t), _) => t.clone(),
                (None, Some(r)) => format!("recording, {} s: {}", r.seconds, r.url),
                (None, None) => "-".into(),
            };
            vec![
                local(m.at).strftime("%Y-%m-%d %H:%M").to_string(),
                m.name.unwrap_or_else(|| "-".into()),
                m.phone.map_or("-".into(), |p| p.national()),
                what,
            ]
        })
        .collect();
    table(&["left", "name", "call back", "message"], &rows);

    let days: u16 = match value("--days") {
        Some(d) => d.parse().with_context(|| format!("--days {d:?}"))?,
        None => 30,
    };
    let prices = openai_prices(&ProcessEnv)?;
    let today = now.to_zoned_datetime(tz.clone()).date();
    let (f, _) = salon_functions::analytics::read(&store, &b, today, days, &prices).await?;
    println!("\nThe phone, {} to {}", f.from, f.to);
    let per_call = |n: u32| format!("{}.{:02}", n / 100, n % 100);
    let money = |n: Option<u64>| n.map_or("-".to_owned(), dollars);
    let mut rows = vec![
        vec!["calls".to_owned(), f.calls.to_string()],
        vec![
            "ended with a booking".to_owned(),
            format!("{} ({}%)", f.booked_calls, f.conversion_percent),
        ],
        vec![
            "average length".to_owned(),
            f.average_seconds.map_or("-".into(), |s| format!("{s} s")),
        ],
        vec![
            "barge-ins per call".to_owned(),
            per_call(f.barge_ins_per_call_centi),
        ],
        vec![
            "reconnects per call".to_owned(),
            per_call(f.reconnects_per_call_centi),
        ],
        vec![
            "tokens in / out".to_owned(),
            format!("{} / {}", f.tokens.input_tokens, f.tokens.output_tokens),
        ],
        vec![
            "estimated OpenAI cost".to_owned(),
            dollars(f.cost_nano_dollars),
        ],
        vec!["  per call".to_owned(), money(f.cost_per_call_nano_dollars)],
        vec![
            "  per booking".to_owned(),
            money(f.cost_per_booking_nano_dollars),
        ],
    ];
    let busiest = f
        .per_hour
        .iter()
        .enumerate()
        .flat_map(|(d, row)| row.iter().enumerate().map(move |(h, n)| (*n, d, h)))
        .max()
        .filter(|(n, _, _)| *n > 0);
    if let Some((n, d, h)) = busiest {
        let day = jiff::civil::Weekday::from_monday_zero_offset(d as i8)?;
        rows.push(vec![
            "busiest hour".to_owned(),
            format!("{day:?} {h}:00 ({n} calls)"),
        ]);
    }
    for (name, n) in &f.services {
        rows.push(vec![format!("booked: {name}"), n.to_string()]);
    }
    for t in &f.tools {
        rows.push(vec![
            format!("tool {}", t.name),
            format!("{} of {} succeeded", t.succeeded, t.calls),
        ]);
    }
    table(&["figure", "value"], &rows);
    Ok(())
}

/// Prints rows under a header, each column as wide as its widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        println!("  (none)");
        return;
    }
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}
