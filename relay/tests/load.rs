//! A short run of the load harness (`relay/load`) against this build's relay binary: a few
//! calls, a few seconds, every one held with nothing lost and nothing late. The long runs are
//! separate commands (BENCHMARKS.md).

use std::time::Duration;

use salon_relay_load::{Mode, Options, Target, run};

async fn smoke(mode: Mode) {
    let report = run(Options {
        target: Target::Relay(env!("CARGO_BIN_EXE_relay").into()),
        mode,
        calls: 3,
        ramp: Duration::from_millis(300),
        // The greeting (2.5 s), the caller's first turn and its tool call come before the
        // window; the barge-in on the third reply falls inside it.
        warmup: Duration::from_secs(3),
        window: Duration::from_secs(4),
        delta_ms: 20,
        pin_relay: None,
    })
    .await
    .expect("the harness runs");
    println!("{}", report.line());
    assert_eq!(report.calls_held, 3, "{:?}", report.errors);
    assert_eq!((report.frames_lost_in, report.frames_lost_out), (0, 0));
    assert!(report.tool_calls >= 3, "every call ran its tool");
    assert!(
        report.barge_ins >= 3,
        "every call talked over the agent once"
    );
    // Onsets were timed both ways, and quickly, even in a debug build on a shared machine.
    assert!(report.inbound.samples >= 3 && report.outbound.samples >= 3);
    assert!(report.inbound.max_ms < 100.0 && report.outbound.max_ms < 100.0);
    // The relay's figures were read from its process.
    assert!(report.relay_cpu_ms_per_call_s > 0.0);
    assert!(report.relay_rss_kib > report.relay_rss_base_kib);
    // The calls' sockets closed; the relay's HTTP client may keep an idle connection to the
    // functions for each request that ran at once (a session, a tool and a summary per call).
    assert!(
        report.relay_fds_after <= report.relay_fds_base + 3 * 3,
        "{} descriptors after, {} before",
        report.relay_fds_after,
        report.relay_fds_base
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_pcmu_calls_are_held_with_nothing_lost() {
    smoke(Mode::Pcmu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_pcm24_calls_are_held_with_nothing_lost() {
    smoke(Mode::Pcm24).await;
}
