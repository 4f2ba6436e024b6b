//! `relay-load`: the relay's load harness, and the null relay it measures the floor with.
//!
//! ```text
//! relay-load [--calls N] [--seconds S] [--ramp S] [--warmup S] [--mode pcmu|pcm24]
//!            [--delta-ms MS] [--relay PATH | --null] [--pin-relay CPU] [--json FILE]
//! relay-load null-relay --realtime URL [--mode pcmu|pcm24]
//! relay-load soak [--calls N] [--concurrency C] [--seed S] [--faults on|off]
//!                 [--fault-rate P] [--only KIND] [--relay PATH] [--json FILE|-]
//! ```
//! One line goes to standard output, the JSON report to `--json` (or after the line with
//! `--json -`).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use salon_relay_load::{Mode, Options, Target, null_relay, run};

fn seconds(v: String) -> anyhow::Result<Duration> {
    let s: f64 = v.parse().context("expected seconds")?;
    Ok(Duration::from_secs_f64(s))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let me = std::env::current_exe().context("this executable's path")?;
    if args.peek().map(String::as_str) == Some("null-relay") {
        args.next();
        let usage = "usage: relay-load null-relay --realtime URL [--mode pcmu|pcm24]";
        let (mut url, mut mode) = (None, Mode::Pcmu);
        while let Some(flag) = args.next() {
            match (flag.as_str(), args.next()) {
                ("--realtime", Some(v)) => url = Some(v),
                ("--mode", Some(v)) => mode = v.parse()?,
                _ => bail!(usage),
            }
        }
        let url = url.context(usage)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        // The same line the relay logs, so the harness reads both alike.
        println!(
            r#"{{"fields":{{"message":"relay listening","port":{}}}}}"#,
            listener.local_addr()?.port()
        );
        null_relay::serve(listener, url, mode).await;
        return Ok(());
    }
    if args.peek().map(String::as_str) == Some("soak") {
        args.next();
        return soak(args, &me).await;
    }
    let mut options = Options {
        target: Target::Relay(me.with_file_name("relay")),
        mode: Mode::Pcmu,
        calls: 10,
        ramp: Duration::from_secs(2),
        warmup: Duration::from_secs(3),
        window: Duration::from_secs(10),
        delta_ms: 20,
        pin_relay: None,
    };
    let mut json = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--calls" => options.calls = value()?.parse().context("--calls")?,
            "--seconds" => options.window = seconds(value()?)?,
            "--ramp" => options.ramp = seconds(value()?)?,
            "--warmup" => options.warmup = seconds(value()?)?,
            "--mode" => options.mode = value()?.parse()?,
            "--delta-ms" => options.delta_ms = value()?.parse().context("--delta-ms")?,
            "--relay" => options.target = Target::Relay(PathBuf::from(value()?)),
            "--null" => options.target = Target::Null(me.clone()),
            "--pin-relay" => options.pin_relay = Some(value()?.parse().context("--pin-relay")?),
            "--json" => json = Some(value()?),
            "--help" | "-h" => {
                println!(
                    "usage: relay-load [--calls N] [--seconds S] [--ramp S] [--warmup S] [--mode pcmu|pcm24] [--delta-ms MS] [--relay PATH | --null] [--pin-relay CPU] [--json FILE|-]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if options.calls == 0 || options.delta_ms == 0 {
        bail!("--calls and --delta-ms must be at least 1");
    }
    let report = run(options).await?;
    emit(&report.line(), &report, json.as_deref())
}

/// Prints the report's line, and writes its JSON to `json` (`-`: after the line).
fn emit(line: &str, report: &impl serde::Serialize, json: Option<&str>) -> anyhow::Result<()> {
    println!("{line}");
    let text = serde_json::to_string_pretty(report)?;
    match json {
        Some("-") => println!("{text}"),
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {path}"))?,
        None => {}
    }
    Ok(())
}

/// `relay-load soak`: the endurance harness with faults; exits non-zero when a check fails.
async fn soak(mut args: impl Iterator<Item = String>, me: &std::path::Path) -> anyhow::Result<()> {
    let mut options = salon_relay_load::soak::Options {
        relay: me.with_file_name("relay"),
        calls: 1_000,
        concurrency: 50,
        seed: 1,
        faults: true,
        fault_rate: 0.2,
        only: None,
    };
    let mut json = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--calls" => options.calls = value()?.parse().context("--calls")?,
            "--concurrency" => options.concurrency = value()?.parse().context("--concurrency")?,
            "--seed" => options.seed = value()?.parse().context("--seed")?,
            "--faults" => {
                options.faults = match value()?.as_str() {
                    "on" => true,
                    "off" => false,
                    other => bail!("--faults is on or off, not {other:?}"),
                }
            }
            "--fault-rate" => options.fault_rate = value()?.parse().context("--fault-rate")?,
            "--only" => {
                options.only = Some(
                    serde_json::from_value(serde_json::Value::String(value()?))
                        .context("--only takes a fault kind, e.g. functions_reset_twice")?,
                )
            }
            "--relay" => options.relay = PathBuf::from(value()?),
            "--json" => json = Some(value()?),
            "--help" | "-h" => {
                println!(
                    "usage: relay-load soak [--calls N] [--concurrency C] [--seed S] [--faults on|off] [--fault-rate P] [--only KIND] [--relay PATH] [--json FILE|-]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if options.calls == 0 || options.concurrency == 0 {
        bail!("--calls and --concurrency must be at least 1");
    }
    let report = salon_relay_load::soak::run(options).await?;
    emit(&report.line(), &report, json.as_deref())?;
    if !report.passed() {
        for e in &report.errors {
            eprintln!("{e}");
        }
        bail!("{} soak checks failed", report.error_count);
    }
    Ok(())
}
