//! The soak's verdict: each call's booking judged against the store, the callers' silences,
//! and the relay's memory and sockets at rest.
//!
//! The rules, exactly:
//! - A call's booking was **confirmed to its caller** when the model was told the booking was
//!   made (the double received a `function_call_output` with `ok: true` and
//!   `result.confirmat: true` on one of the call's Realtime connections, or, after an unknown
//!   outcome, the caller's appointments looked up with one found) and the caller then
//!   heard at least `CONFIRM_MS − 100` ms of agent audio played after that moment while still
//!   on the line (the scripted confirmation is the only reply that long; audio queued when the
//!   relay closed the stream does not count).
//! - **Found**: booked (not cancelled) appointments in the store for the call's caller, whose
//!   number no other call uses. Every confirmed booking must be found exactly once, at the
//!   planned start; more than one is **duplicated**.
//! - **Orphaned**: a booking found for a call that was not confirmed to its caller, unless
//!   the model was told it was made and the caller hung up on purpose before hearing it all
//!   (**left**: the caller had said yes; they chose not to listen).
//! - A request for a start whose chairs were all taken before the soak is never booked.
//! - **Silence**: after the caller's sentence ends and until the line closes, no stretch
//!   without agent audio playing lasts more than [`SILENCE_LIMIT_MS`]. No fault is exempt:
//!   the slow fault (1 s), the relay's retry, a reconnect and the relay's spoken apology all fit.
//! - Each booking the functions failed reaches the model in the relay's Romanian: a 500 as the
//!   apology; an outage the relay's retries did not outlast as the apology (nothing reached
//!   the functions) or as the unknown outcome (something may have: the model must check).
//! - **At rest** the relay that carried the measured calls holds no more memory than before
//!   them plus [`RSS_TOLERANCE_KIB`] (or 10 %, whichever is more: the allocator keeps some
//!   freed pages), and no more descriptors than before plus [`FDS_TOLERANCE`].
//! - Every caller says their sentence, unless a functions restart cut a request of their call
//!   or their relay was told SIGTERM.
//! - A relay told SIGTERM exits within its drain, its goodbyes and the exit.

use std::collections::{BTreeMap, HashSet};

use salon_domain::{BusinessId, PhoneE164, demo};
use salon_store::Store;

use super::Report;
use super::caller::Heard;
use super::plan::{CONFIRM_MS, CallPlan, Fault, Intent};
use super::relays::{Drained, EXIT_LIMIT};
use super::tap::ModelSide;

pub(crate) const SILENCE_LIMIT_MS: f64 = 3_000.0;
pub(crate) const RSS_TOLERANCE_KIB: u64 = 4_096;
pub(crate) const FDS_TOLERANCE: usize = 2;

/// One call's outcome as the checks see it.
pub(crate) struct Outcome<'a> {
    pub plan: &'a CallPlan,
    pub heard: &'a Heard,
    pub model: &'a ModelSide,
}

/// Judges the bookings of every call against `store`; adds to `report`.
pub(crate) async fn bookings(
    store: &Store,
    outcomes: &[Outcome<'_>],
    full_phones: &[PhoneE164],
    fault_met: &HashSet<String>,
    report: &mut Report,
) {
    let business = BusinessId::parse(demo::BUSINESS_ID).expect("the demo id is valid");
    let zone = jiff::tz::TimeZone::get("Europe/Bucharest").expect("the zone is bundled");
    for o in outcomes {
        let sid = &o.plan.call_sid;
        let found: Vec<_> = match store.client_appointments(&business, &o.plan.phone).await {
            Ok(list) => list.into_iter().filter(|a| a.is_booked()).collect(),
            Err(e) => {
                report.error(format!("{sid}: reading the store failed: {e}"));
                continue;
            }
        };
        let told = o.model.booked_at.is_some();
        let confirmed = told && o.heard.heard_after_booking_ms >= f64::from(CONFIRM_MS) - 100.0;
        report.bookings_confirmed += usize::from(confirmed);
        report.bookings_found += found.len();
        let fault = o.plan.fault;
        if found.len() > 1 {
            report.bookings_duplicated += found.len() - 1;
            report.error(format!("{sid}: booked {} times ({fault:?})", found.len()));
        }
        if confirmed && found.is_empty() {
            report.bookings_missing += 1;
            report.error(format!(
                "{sid}: confirmed to the caller, not in the store ({fault:?})"
            ));
        }
        if let (Intent::Book { date, time }, Some(a)) = (&o.plan.intent, found.first()) {
            let start = a.start.to_zoned_datetime(zone.clone());
            if (start.date(), start.time()) != (*date, *time) {
                report.error(format!("{sid}: booked at {start}, asked for {date} {time}"));
            }
        }
        if !found.is_empty() && !confirmed {
            if told && o.heard.hung_up {
                report.bookings_left += 1;
            } else {
                report.bookings_orphaned += 1;
                report.error(format!(
                    "{sid}: booked but not confirmed to the caller ({fault:?}; the model was {}told it was made; heard {:.0} ms after; its errors: {:?})",
                    if told { "" } else { "not " },
                    o.heard.heard_after_booking_ms,
                    o.model.errors
                ));
            }
        }
        if matches!(o.plan.intent, Intent::Full { .. }) {
            report.full_refused +=
                usize::from(!told && o.model.errors.iter().any(|c| c == "unavailable"));
            if told {
                report.error(format!("{sid}: booked a start whose chairs were all taken"));
            }
        }
        // A 500 is an answer: the model must hear the apology. An outage may be outlasted by
        // the relay's retries, and then the model hears the real answer (whose booking the
        // checks above hold to its promise) instead.
        // Only a fault that met the call's booking request: a call that ended first (drained,
        // say) never asked.
        let failed_request = fault_met.contains(sid)
            && match fault {
                Some(Fault::FunctionsError) => true,
                Some(Fault::FunctionsDown) => !told,
                _ => false,
            };
        let told_of_failure = o.model.apologies + o.model.unknown > 0;
        if failed_request && o.heard.spoke && !o.heard.hung_up && !told_of_failure {
            report.error(format!(
                "{sid}: the functions failed ({fault:?}) and the model was given neither the Romanian apology nor the unknown outcome (errors: {:?})",
                o.model.errors
            ));
        }
        report.apologies += o.model.apologies;
        report.outcomes_unknown += o.model.unknown;
    }
    for phone in full_phones {
        match store.client_appointments(&business, phone).await {
            Ok(list) if list.iter().filter(|a| a.is_booked()).count() == 1 => {}
            Ok(list) => report.error(format!(
                "a chair taken before the soak has {} bookings",
                list.len()
            )),
            Err(e) => report.error(format!("reading the store failed: {e}")),
        }
    }
}

/// Judges what each caller lived through; adds to `report`. Every caller gets to say their
/// sentence, unless a request of their call was cut by a functions restart or their relay was
/// told SIGTERM (`excused`, `drained`): those calls may end before it, with the apology.
pub(crate) fn callers(
    outcomes: &[Outcome<'_>],
    excused: &HashSet<String>,
    drained: &[Drained],
    report: &mut Report,
) {
    for o in outcomes {
        let sid = &o.plan.call_sid;
        let drained = drained.iter().any(|d| d.pid == o.heard.relay_pid);
        if !o.heard.spoke && o.heard.failure.is_none() && !excused.contains(sid) && !drained {
            report.error(format!(
                "{sid}: the relay ended the call before the caller spoke ({:?})",
                o.plan.fault
            ));
        }
        report.calls_connected += usize::from(o.heard.connected);
        report.calls_spoke += usize::from(o.heard.spoke);
        report.calls_hung_up += usize::from(o.heard.hung_up);
        if let Some(why) = &o.heard.failure {
            report.error(why.clone());
        }
        if o.heard.longest_silence_ms > report.longest_silence_ms {
            report.longest_silence_ms = o.heard.longest_silence_ms;
            report.longest_silence_call = sid.clone();
        }
        if o.heard.spoke && o.heard.longest_silence_ms > SILENCE_LIMIT_MS {
            report.error(format!(
                "{sid}: the caller sat {:.0} ms in silence after speaking ({:?})",
                o.heard.longest_silence_ms, o.plan.fault
            ));
        }
    }
}

/// Judges the relay at rest and the drained relays; adds to `report`.
pub(crate) fn relay(drained: &[Drained], report: &mut Report) {
    let rss_limit = report.rss_before_kib + RSS_TOLERANCE_KIB.max(report.rss_before_kib / 10);
    if report.rss_after_kib > rss_limit {
        report.error(format!(
            "the relay's memory at rest grew from {} to {} KiB (limit {rss_limit})",
            report.rss_before_kib, report.rss_after_kib
        ));
    }
    if report.fds_after > report.fds_before + FDS_TOLERANCE {
        report.error(format!(
            "the relay holds {} descriptors at rest, {} before the calls",
            report.fds_after, report.fds_before
        ));
    }
    for d in drained {
        match d.exited_after {
            Some(t) => report.relay_exit_s.push(t.as_secs_f64()),
            None => report.error(format!(
                "relay {} was still running {EXIT_LIMIT:?} after SIGTERM",
                d.pid
            )),
        }
    }
}

/// Faults planned, by kind.
pub(crate) fn faults(plans: &[CallPlan]) -> BTreeMap<Fault, usize> {
    let mut by_kind = BTreeMap::new();
    for fault in plans.iter().filter_map(|p| p.fault) {
        *by_kind.entry(fault).or_insert(0) += 1;
    }
    by_kind
}
