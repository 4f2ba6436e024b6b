//! A short soak (`relay-load soak`) against this build's relay binary: a dozen scripted
//! booking calls, six at a time, with a fixed seed that meets every kind of fault once
//! (Realtime refused and dropped, the functions slow, failing, losing an answer and
//! restarting, a relay restart mid-call, callers hanging up mid-sentence). It fails when any
//! of the soak's checks fails: a booking confirmed and missing, booked twice or booked
//! unconfirmed, a caller left in silence over 3 s, the relay's memory or sockets not back at
//! rest, a drained relay that does not exit. The full run is a separate command
//! (BENCHMARKS.md).

use salon_relay_load::soak::{self, Fault, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_with_every_fault_keeps_every_promise() {
    let report = soak::run(Options {
        relay: env!("CARGO_BIN_EXE_relay").into(),
        calls: 12,
        concurrency: 6,
        seed: 7,
        faults: true,
        fault_rate: 0.2,
        only: None,
    })
    .await
    .expect("the soak runs");
    println!("{}", report.line());
    assert!(report.passed(), "{:#?}", report.errors);
    // The seed met every fault, and they took effect.
    for fault in [
        Fault::RealtimeRefused,
        Fault::RealtimeDropped,
        Fault::FunctionsSlow,
        Fault::FunctionsError,
        Fault::FunctionsReset,
        Fault::FunctionsDown,
        Fault::RelayRestart,
        Fault::HangUpMidTurn,
        Fault::HangUpMidReply,
    ] {
        assert!(
            report.faults.contains_key(&fault),
            "{fault:?} was not planned"
        );
    }
    assert_eq!(report.relay_restarts, 1);
    assert_eq!(
        report.relay_exit_s.len(),
        1,
        "the old relay drained and exited"
    );
    assert!(report.functions_cut >= 2 && report.functions_500 >= 1);
    // The 500 is apologised for; the outage is outlasted by the relay's retries (its caller's
    // booking is then held to its promise like any other).
    assert!(
        report.apologies >= 1,
        "the failed booking was apologised for"
    );
    // Calls booked, and the checks had bookings to judge.
    assert!(report.bookings_confirmed >= 5, "{}", report.line());
    assert_eq!(report.calls_connected, 12);
}

/// The soak expects the relay's own words for the functions' failure and its hold line.
#[test]
fn the_soak_knows_the_relays_apology() {
    assert_eq!(soak::APOLOGY, salon_relay::functions::UNREACHABLE);
    assert_eq!(
        soak::OUTCOME_UNKNOWN,
        salon_relay::functions::OUTCOME_UNKNOWN
    );
    assert!(salon_relay::call::HOLD.contains(soak::HOLD_LINE));
}

/// Found by the soak: when the booking request and the relay's one retry were both served and
/// both lost their answers, the booking existed while the model was told the functions were
/// unreachable and apologised, so the caller hung up thinking nothing was booked. The relay
/// now keeps asking (the request is idempotent) within the tool's time budget, and hears the
/// booking's own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_whose_answer_and_retry_are_lost_is_not_left_unconfirmed() {
    let report = soak::run(Options {
        relay: env!("CARGO_BIN_EXE_relay").into(),
        calls: 4,
        concurrency: 4,
        seed: 3,
        faults: true,
        fault_rate: 1.0,
        only: Some(Fault::FunctionsResetTwice),
    })
    .await
    .expect("the soak runs");
    println!("{}", report.line());
    assert_eq!(report.faults.get(&Fault::FunctionsResetTwice), Some(&4));
    assert_eq!(report.bookings_orphaned, 0, "{:#?}", report.errors);
}
