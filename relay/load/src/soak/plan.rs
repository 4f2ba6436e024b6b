//! What each soak call does, decided before the soak starts from one seed: who calls, whether
//! and when they book, which fault (if any) meets them, and the double's script for the call.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use salon_domain::availability::{DayStatus, day_status};
use salon_domain::{PhoneE164, demo};
use salon_realtime_double::{Aside, Call, DropWhen, Say, Script, ScriptedResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long the scripted confirmation speaks. Longer than anything else the double says
/// (its fallback question is 1.5 s), so a caller who heard this much after the booking's ok
/// heard the confirmation.
pub(crate) const CONFIRM_MS: u32 = 1_800;
/// The greeting and the non-booking answer.
const GREETING_MS: u32 = 1_000;
const ANSWER_MS: u32 = 1_500;
/// How long the hold line takes to say.
const HOLD_MS: u32 = 900;
/// The words of the relay's hold line (`salon_relay::call::HOLD`), which the double answers
/// out of turn; a test in the relay's crate holds the two together.
pub(crate) const HOLD_LINE: &str = "Un moment, vă rog, verific.";

/// The half-hour starts a weekday offers (09:00–12:30, 14:00–18:30: the demo salon's hours
/// around its break), each taken three times: the demo salon has three stylists.
fn starts() -> Vec<Time> {
    (9..13)
        .chain(14..19)
        .flat_map(|h| [Time::constant(h, 0, 0, 0), Time::constant(h, 30, 0, 0)])
        .collect()
}
const CHAIRS: usize = 3;

/// A fault injected into one call (a relay restart and a functions outage reach the calls
/// near it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The Realtime upgrade is refused (503) when the call dials; the relay retries.
    RealtimeRefused,
    /// The Realtime connection drops right after the booking call; the relay reconnects.
    RealtimeDropped,
    /// The booking request waits 1 s before the functions see it.
    FunctionsSlow,
    /// The booking request gets HTTP 500.
    FunctionsError,
    /// The booking request is served, and its answer lost: the connection closes unanswered.
    FunctionsReset,
    /// The booking request and the relay's retry are both served and both lose their answers.
    /// Not drawn at random: it shows a known gap (BENCHMARKS.md); `only` asks for it.
    FunctionsResetTwice,
    /// The functions restart at the booking request: every request in flight loses its
    /// connection and for a moment every new one is cut.
    FunctionsDown,
    /// The relay is told SIGTERM once the caller has heard the greeting; a new relay takes the
    /// next calls.
    RelayRestart,
    /// The caller hangs up in the middle of their own sentence.
    HangUpMidTurn,
    /// The caller hangs up in the middle of the agent's reply to them.
    HangUpMidReply,
}

impl Fault {
    pub(crate) const ALL: [Fault; 9] = [
        Fault::RealtimeRefused,
        Fault::RealtimeDropped,
        Fault::FunctionsSlow,
        Fault::FunctionsError,
        Fault::FunctionsReset,
        Fault::FunctionsDown,
        Fault::RelayRestart,
        Fault::HangUpMidTurn,
        Fault::HangUpMidReply,
    ];

    /// Faults that need the call to book (they act on the booking request or after it).
    fn needs_booking(self) -> bool {
        matches!(
            self,
            Fault::RealtimeDropped
                | Fault::FunctionsSlow
                | Fault::FunctionsError
                | Fault::FunctionsReset
                | Fault::FunctionsResetTwice
                | Fault::FunctionsDown
        )
    }
}

/// What the caller wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// Books a haircut at a start no other soak call takes (a free chair).
    Book { date: Date, time: Time },
    /// Books a haircut at a start whose chairs are all taken before the soak: refused.
    Full { date: Date, time: Time },
    /// Asks a question and books nothing.
    Ask,
}

/// One call of the soak.
#[derive(Debug, Clone)]
pub(crate) struct CallPlan {
    pub index: usize,
    pub call_sid: String,
    pub phone: PhoneE164,
    pub name: String,
    pub intent: Intent,
    pub fault: Option<Fault>,
}

/// A small seeded generator (SplitMix64): the plan is the same for a seed on any machine and
/// any version of a random-number crate.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// More bookings than the demo salon has free chairs in its booking horizon.
    #[error("{0} bookings do not fit the demo salon's next 60 days: run fewer calls")]
    TooManyBookings(usize),
}

/// The weekdays the demo salon opens, from `from` on, for `max_days_ahead` days.
fn open_weekdays(from: Date, days: i64) -> Vec<Date> {
    let salon = demo::business(PhoneE164::parse(demo::DEMO_NUMBER).expect("a valid number"));
    (0..days)
        .filter_map(|d| from.checked_add(jiff::Span::new().days(d)).ok())
        .filter(|d| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday))
        .filter(|d| matches!(day_status(&salon, *d), DayStatus::Open(_)))
        .collect()
}

/// The start whose chairs are taken before the soak: the first open weekday at 10:00.
pub(crate) fn full_slot(today: Date) -> (Date, Time) {
    let day = open_weekdays(today.tomorrow().expect("in range"), 60)[0];
    (day, Time::constant(10, 0, 0, 0))
}

/// Plans `calls` calls. With `faults`, each call meets a fault with probability `rate`, and
/// every kind of fault meets at least one call when there are enough calls (so a short smoke
/// covers them all). Relay restarts fall only on calls before `warm` (see the soak's memory
/// check); the rest are spread over all calls. With `only`, the faulty calls all meet that one.
pub(crate) fn plan(
    calls: usize,
    warm: usize,
    seed: u64,
    (faults, rate, only): (bool, f64, Option<Fault>),
    today: Date,
) -> Result<Vec<CallPlan>, PlanError> {
    let mut rng = Rng::new(seed);
    let mut chosen: BTreeMap<usize, Fault> = BTreeMap::new();
    if let Some(fault) = only {
        for i in 0..calls {
            if rng.chance(rate) && (fault != Fault::RelayRestart || i < warm) {
                chosen.insert(i, fault);
            }
        }
    } else if faults {
        // One of each kind first, at distinct calls.
        for fault in Fault::ALL {
            let span = if fault == Fault::RelayRestart {
                warm.max(1)
            } else {
                calls
            };
            if chosen.len() >= calls || span == 0 {
                break;
            }
            for _ in 0..64 {
                let at = rng.below(span);
                if let std::collections::btree_map::Entry::Vacant(e) = chosen.entry(at) {
                    e.insert(fault);
                    break;
                }
            }
        }
        for i in 0..calls {
            if chosen.contains_key(&i) || !rng.chance(rate) {
                continue;
            }
            let mut fault = Fault::ALL[rng.below(Fault::ALL.len())];
            // A restart drains a whole relay: rarer than the rest, and only while warming up.
            if fault == Fault::RelayRestart && (i >= warm || !rng.chance(0.1)) {
                fault = Fault::FunctionsSlow;
            }
            chosen.insert(i, fault);
        }
    }
    let first_day = full_slot(today).0.tomorrow().expect("in range");
    let days = open_weekdays(first_day, 50);
    let (full_date, full_time) = full_slot(today);
    let starts = starts();
    let mut booked = 0usize;
    let mut out = Vec::with_capacity(calls);
    for index in 0..calls {
        let fault = chosen.get(&index).copied();
        let roll = rng.below(100);
        let intent = if fault.is_some_and(Fault::needs_booking) || roll < 75 {
            let slot = booked / CHAIRS;
            let day = days
                .get(slot / starts.len())
                .ok_or(PlanError::TooManyBookings(booked + 1))?;
            booked += 1;
            Intent::Book {
                date: *day,
                time: starts[slot % starts.len()],
            }
        } else if roll < 80 {
            Intent::Full {
                date: full_date,
                time: full_time,
            }
        } else {
            Intent::Ask
        };
        out.push(CallPlan {
            index,
            call_sid: format!("CA{index:032x}"),
            phone: PhoneE164::parse(&format!("+40722{:06}", index % 1_000_000))
                .expect("a valid mobile number"),
            name: name(index),
            intent,
            fault,
        });
    }
    Ok(out)
}

/// A caller's name, different for each call (a new client each time).
fn name(index: usize) -> String {
    const FIRST: [&str; 8] = [
        "Ana", "Ion", "Maria", "Ștefan", "Elena", "Mihai", "Ioana", "Andrei",
    ];
    const LAST: [&str; 8] = [
        "Popescu",
        "Ionescu",
        "Țăranu",
        "Dumitrescu",
        "Stoica",
        "Constantinescu",
        "Munteanu",
        "Lazăr",
    ];
    format!("{} {}", FIRST[index % 8], LAST[(index / 8) % 8])
}

fn say(text: &str, ms: u32) -> Option<Say> {
    Some(Say {
        text: text.into(),
        audio: None,
        ms: Some(ms),
    })
}

/// The relay's hold line while a tool runs long, as a model says it: out of turn.
fn hold() -> Aside {
    Aside {
        when: HOLD_LINE.into(),
        say: Some(Say {
            text: HOLD_LINE.into(),
            audio: None,
            ms: Some(HOLD_MS),
        }),
        calls: Vec::new(),
    }
}

/// Told a booking's outcome is unknown, the model does what the relay's message asks: it looks
/// the caller's appointments up before saying anything (then the script goes on).
fn check_unknown_outcome() -> Aside {
    Aside {
        // The code as the output carries it, quoted.
        when: serde_json::to_string(&salon_wire::tools::ToolErrorCode::OutcomeUnknown)
            .expect("a code serialises"),
        say: None,
        calls: vec![call("list_client_appointments", json!({}))],
    }
}

fn call(name: &str, arguments: serde_json::Value) -> Call {
    Call {
        name: name.into(),
        arguments,
    }
}

fn booking(plan: &CallPlan, date: Date, time: Time) -> Call {
    call(
        "create_voice_appointment",
        json!({"service": "tuns", "date": date.to_string(),
               "time": time.strftime("%H:%M").to_string(), "client_name": plan.name}),
    )
}

fn confirmation() -> ScriptedResponse {
    ScriptedResponse {
        say: say(
            "Perfect! Programarea este confirmată. Vă mulțumim și o zi frumoasă!",
            CONFIRM_MS,
        ),
        calls: vec![call("end_call", json!({}))],
        drop: None,
    }
}

impl CallPlan {
    /// The double's script for this call's first Realtime connection, and for a second one
    /// (the reconnect after a scripted drop carries on where the first stopped).
    pub(crate) fn scripts(&self) -> (Script, Script) {
        let greeting = ScriptedResponse {
            say: say(
                "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?",
                GREETING_MS,
            ),
            ..ScriptedResponse::default()
        };
        let transcript = match &self.intent {
            Intent::Book { date, time } | Intent::Full { date, time } => format!(
                "Aș dori un tuns pe {date} la ora {}, pe numele {}.",
                time.strftime("%H:%M"),
                self.name
            ),
            Intent::Ask => "Până la ce oră aveți deschis azi?".into(),
        };
        let first = match &self.intent {
            Intent::Book { date, time } | Intent::Full { date, time } => vec![
                greeting,
                ScriptedResponse {
                    calls: vec![booking(self, *date, *time)],
                    drop: (self.fault == Some(Fault::RealtimeDropped)).then_some(DropWhen::After),
                    ..ScriptedResponse::default()
                },
                confirmation(),
            ],
            Intent::Ask => vec![
                greeting,
                ScriptedResponse {
                    say: say(
                        "Suntem deschiși de luni până vineri între nouă și nouăsprezece, sâmbăta până la cincisprezece.",
                        ANSWER_MS,
                    ),
                    calls: vec![call("end_call", json!({}))],
                    drop: None,
                },
            ],
        };
        // After a reconnect the model asks for the booking again (new call id; the functions
        // book once), then confirms, as in the end-to-end scenario 4.
        let again = match &self.intent {
            Intent::Book { date, time } | Intent::Full { date, time } => vec![
                ScriptedResponse {
                    calls: vec![booking(self, *date, *time)],
                    ..ScriptedResponse::default()
                },
                confirmation(),
            ],
            Intent::Ask => vec![ScriptedResponse {
                say: say("Vă mulțumim! La revedere!", ANSWER_MS),
                calls: vec![call("end_call", json!({}))],
                drop: None,
            }],
        };
        (
            Script {
                caller_transcripts: vec![transcript],
                responses: first,
                asides: vec![hold(), check_unknown_outcome()],
            },
            Script {
                caller_transcripts: vec![],
                responses: again,
                asides: vec![hold(), check_unknown_outcome()],
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::constant(2027, 3, 1)
    }

    #[test]
    fn a_seed_gives_one_plan_with_every_fault_and_distinct_slots() {
        let a = plan(12, 6, 7, (true, 0.2, None), today()).unwrap();
        let b = plan(12, 6, 7, (true, 0.2, None), today()).unwrap();
        let faults = |p: &[CallPlan]| p.iter().map(|c| c.fault).collect::<Vec<_>>();
        assert_eq!(faults(&a), faults(&b));
        for fault in Fault::ALL {
            assert!(a.iter().any(|c| c.fault == Some(fault)), "{fault:?}");
        }
        let restart = a.iter().position(|c| c.fault == Some(Fault::RelayRestart));
        assert!(restart.unwrap() < 6, "a restart falls while warming up");
        // No start is booked by more soak calls than it has chairs.
        let big = plan(1_000, 200, 1, (true, 0.2, None), today()).unwrap();
        let mut per_start = BTreeMap::new();
        for c in &big {
            if let Intent::Book { date, time } = c.intent {
                *per_start.entry((date, time)).or_insert(0) += 1;
                assert_ne!((date, time), full_slot(today()));
            }
        }
        assert!(per_start.values().all(|n| *n <= CHAIRS));
        assert!(
            plan(12, 6, 7, (false, 0.2, None), today())
                .unwrap()
                .iter()
                .all(|c| c.fault.is_none())
        );
    }

    #[test]
    fn too_many_bookings_are_refused_before_the_soak() {
        assert!(matches!(
            plan(20_000, 10, 1, (false, 0.0, None), today()),
            Err(PlanError::TooManyBookings(_))
        ));
    }

    #[test]
    fn the_generator_spreads_its_numbers() {
        let mut rng = Rng::new(42);
        let mut seen = [0usize; 4];
        for _ in 0..4_000 {
            seen[rng.below(4)] += 1;
        }
        assert!(seen.iter().all(|n| (800..1_200).contains(n)), "{seen:?}");
    }
}
