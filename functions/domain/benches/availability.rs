//! What the availability engine costs on a busy day: 8 stylists, 100 bookings.
//!
//! Run with `cargo bench -p salon-domain --bench availability` (add `-- --quick` for a short run).
//!
//! The salon is the demo salon with eight stylists, and "now" is Monday 14 December 2026,
//! 08:00. Its book is filled the way callers fill it: booking after booking, each stylist in
//! turn, back to back from opening on Tuesday 15 December, the service cycling through the
//! demo menu up to 90 minutes; a booking that would run into the break or past closing goes
//! after the break or to the next open day. That leaves 92 bookings on Tuesday, with free
//! starts for a cut only from 17:45, and 8 on Wednesday morning. Busy time is handed to the
//! planner as the store reads it: one interval per 15-minute slot lock (285 of them).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::{Date, DateTime, date};
use jiff::{SignedDuration, Span, Timestamp};
use salon_domain::availability::{DayStatus, LOCK_STEP, day_status, lock_steps};
use salon_domain::{
    AppointmentId, Business, Busy, Calendar, PhoneE164, Planner, Service, Staff, StaffId, demo,
};

/// The busy day.
const DAY: Date = date(2026, 12, 15);
/// How many bookings the book holds.
const BOOKINGS: usize = 100;
/// How many alternatives the store offers with a refusal.
const ALTERNATIVES: usize = 3;

/// Returns the demo salon with eight stylists.
fn salon() -> Business {
    let staff = [
        "ana", "maria", "ion", "elena", "andrei", "ioana", "mihai", "cristina",
    ]
    .into_iter()
    .map(|id| Staff::new(StaffId::parse(id).expect("bench ids are valid"), id))
    .collect();
    Business {
        staff,
        ..demo::business(PhoneE164::parse(demo::DEMO_NUMBER).expect("the demo number is valid"))
    }
}

/// Returns the demo service with this id.
fn service(id: &str) -> Service {
    demo::services()
        .into_iter()
        .find(|s| s.id.as_str() == id)
        .expect("the demo menu has it")
}

/// Resolves a local wall-clock time in the salon's zone.
fn instant(b: &Business, at: DateTime) -> Timestamp {
    at.to_zoned_datetime(b.time_zone.tz().clone())
        .expect("bench times exist")
        .timestamp()
}

/// Fills the book from `DAY` on, as described in the module docs, and returns its slot locks.
fn book(b: &Business) -> Vec<Busy> {
    let mut menu = demo::services();
    // Without the two-hour highlights the day holds about 100 bookings.
    menu.retain(|s| s.duration.get() <= 90);
    let grid = i64::from(b.rules.slot_minutes);
    // Each stylist's next free start: a date and a minute of the day.
    let mut next: Vec<(Date, i64)> = vec![(DAY, -1); b.staff.len()];
    let mut busy = Vec::new();
    for k in 0..BOOKINGS {
        let who = k % b.staff.len();
        // Cycle the menu, shifted per round so neighbours do not book the same service.
        let minutes = i64::from(menu[(k + k / b.staff.len()) % menu.len()].duration.get());
        let (mut day, mut at) = next[who];
        let start = loop {
            let DayStatus::Open(hours) = day_status(b, day) else {
                day = day.tomorrow().expect("a bench date");
                continue;
            };
            let minute = |t: jiff::civil::Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
            at = at.max(minute(hours.open()));
            if let Some(pause) = hours.pause()
                && at < minute(pause.end)
                && minute(pause.start) < at + minutes
            {
                at = minute(pause.end);
            }
            if at + minutes <= minute(hours.close()) {
                break at;
            }
            (day, at) = (day.tomorrow().expect("a bench date"), -1);
        };
        let from = instant(b, day.to_datetime(jiff::civil::Time::midnight()))
            .checked_add(SignedDuration::from_mins(start))
            .expect("a bench instant");
        let to = from
            .checked_add(SignedDuration::from_mins(minutes))
            .expect("a bench instant");
        let staff = b.staff[who].id.clone();
        let appointment = AppointmentId::parse(format!("a{}", busy.len())).expect("a bench id");
        busy.extend(lock_steps(from, to).map(|step| Busy {
            staff: staff.clone(),
            start: step,
            end: step.checked_add(LOCK_STEP).expect("a bench instant"),
            appointment: Some(appointment.clone()),
        }));
        // The next booking starts on the grid after this one ends.
        next[who] = (day, (start + minutes + grid - 1) / grid * grid);
    }
    busy
}

fn busy_day(c: &mut Criterion) {
    let b = salon();
    let busy = book(&b);
    let now = instant(&b, "2026-12-14T08:00".parse().expect("a bench time"));
    let cut = service("tuns");
    let colour = service("vopsit");
    let wished: DateTime = DAY.at(10, 0, 0, 0);
    // The scenario the module docs describe, so that they cannot drift from it.
    let planner = Planner::new(&b, cut.duration, None, &busy, now).expect("no staff asked for");
    assert_eq!(busy.len(), 285);
    assert_eq!(planner.slots_on(DAY)[0].label(), "17:45");
    let planner = Planner::new(&b, colour.duration, None, &busy, now).expect("no staff asked for");
    let wednesday = DAY.tomorrow().expect("a bench date");
    let alternatives = planner.alternatives(wished, ALTERNATIVES, planner.last_day());
    assert_eq!(alternatives.len(), ALTERNATIVES);
    assert!(alternatives.iter().all(|s| s.start.date() == wednesday));

    let mut group = c.benchmark_group("busy_day_8_stylists_100_bookings");

    // (a) What `availability` does for one day: every free start of a 30-minute cut.
    group.bench_function("free_slots_of_one_day", |bench| {
        bench.iter(|| {
            let planner = Planner::new(&b, cut.duration, None, black_box(&busy), now)
                .expect("no staff asked for");
            planner.slots_on(black_box(DAY)).len()
        });
    });

    // (b) What `check` does for a taken time: the refusal, then the nearest alternatives,
    // that day's first and then the following days'. No 90-minute gap is left on Tuesday,
    // so all three come from Wednesday.
    group.bench_function("taken_time_with_alternatives", |bench| {
        bench.iter(|| {
            let planner = Planner::new(&b, colour.duration, None, black_box(&busy), now)
                .expect("no staff asked for");
            let refused = planner.check(black_box(wished)).is_err();
            (
                refused,
                planner
                    .alternatives(wished, ALTERNATIVES, planner.last_day())
                    .len(),
            )
        });
    });

    // (c) Whether the salon opens, for each of the next 14 days (Sundays and Christmas
    // included), as the agent's prompt lists them: through one calendar, and one by one.
    let today = DAY.yesterday().expect("a bench date");
    let day = |i: i64| {
        today
            .checked_add(Span::new().days(i))
            .expect("a bench date")
    };
    let last = day(13);
    group.bench_function("day_status_of_14_days", |bench| {
        bench.iter(|| {
            let calendar = Calendar::new(black_box(&b), today, last);
            (0..14)
                .filter(|i| matches!(calendar.status(day(*i)), DayStatus::Open(_)))
                .count()
        });
    });
    group.bench_function("day_status_of_14_days_one_by_one", |bench| {
        bench.iter(|| {
            (0..14)
                .filter(|i| matches!(day_status(black_box(&b), day(*i)), DayStatus::Open(_)))
                .count()
        });
    });
    group.finish();
}

criterion_group!(benches, busy_day);
criterion_main!(benches);
