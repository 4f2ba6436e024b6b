//! The harness's command line against the null relay: the floor runs the same calls.

use std::process::Command;

#[test]
fn the_null_relay_carries_the_same_calls() {
    let out = Command::new(env!("CARGO_BIN_EXE_relay-load"))
        .args([
            "--null",
            "--calls",
            "3",
            "--ramp",
            "0.3",
            "--warmup",
            "3",
            "--seconds",
            "3",
        ])
        .args(["--json", "-"])
        .output()
        .expect("relay-load runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (line, json) = stdout.split_once('\n').expect("a line, then the JSON");
    assert!(line.starts_with("null-relay pcmu 3 calls"), "{line}");
    let report: serde_json::Value = serde_json::from_str(json).expect("the JSON report");
    assert_eq!(report["calls_held"], 3, "{report}");
    assert_eq!(report["frames_lost_in"], 0);
    assert_eq!(report["frames_lost_out"], 0);
    assert!(report["inbound"]["samples"].as_u64() >= Some(3), "{report}");
    assert!(report["relay_cpu_ms_per_call_s"].as_f64() > Some(0.0));
}
