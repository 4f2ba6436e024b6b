//! The official `openai` Python package as the judge of event shapes: every event is parsed by
//! its pydantic models (`RealtimeServerEvent`, `RealtimeClientEvent`), and an unknown field
//! anywhere fails it (`tests/oracle_events.py`).

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The Python with the `openai` package: `ORACLE_PYTHON`, else the test command's venv.
/// `None` when it cannot import the package; with `CI=true` that panics instead (never skips).
pub fn python() -> Option<String> {
    let python = std::env::var("ORACLE_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/salon-voice/venvs/oracles/bin/python")
    });
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let why = match Command::new(&python)
        .args(["-c", "import openai.types.realtime, pydantic"])
        .output()
    {
        Ok(output) if output.status.success() => return Some(python),
        Ok(output) => format!(
            "{python} cannot import the openai package: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => format!("cannot run {python}: {error} (set ORACLE_PYTHON)"),
    };
    assert!(!in_ci, "{why}");
    eprintln!("skipping the oracle check: {why}");
    None
}

/// Checks client and server events with the package; `Err` carries its findings.
pub fn check(python: &str, client: &[Value], server: &[Value]) -> Result<(), String> {
    let mut lines = String::new();
    for (direction, events) in [("server", server), ("client", client)] {
        for event in events {
            lines.push_str(&json!({"direction": direction, "event": event}).to_string());
            lines.push('\n');
        }
    }
    // ORACLE_DUMP=path keeps the event lines for a look by hand.
    if let Ok(path) = std::env::var("ORACLE_DUMP") {
        let _ = std::fs::write(path, &lines);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle_events.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the oracle: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(lines.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        ))
    }
}
