//! Dials a running stack as Twilio would and plays a caller from WAV files.
//!
//! caller-sim --functions http://localhost:8080 --auth-token TOKEN --from +40722123456 \
//!     --to +40312345678 --say caller1.wav --say caller2.wav [--interrupt 1500:words.wav] \
//!     [--public-base https://tunnel.example] [--out agent.wav] [--limit 120]
//!
//! Prints the timeline of the call; `--out` writes what the agent said as a μ-law WAV.

use std::time::Duration;

use anyhow::Context;
use salon_caller_sim::{Account, Step, call, mulaw_wav, read_mulaw_wav};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let one = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let all = |flag: &str| {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect::<Vec<_>>()
    };
    let functions = one("--functions").context("--functions URL is required")?;
    let account = Account {
        public_base_url: one("--public-base").unwrap_or_else(|| functions.clone()),
        functions_url: functions,
        auth_token: one("--auth-token").context("--auth-token is required")?,
    };
    let from = one("--from").unwrap_or_else(|| "+40722123456".into());
    let to = one("--to").unwrap_or_else(|| "+40312345678".into());
    // A fresh call SID from the clock, unless one is given.
    let call_sid = one("--call-sid").unwrap_or_else(|| {
        use salon_domain::Clock;
        format!("CA{:032x}", salon_domain::SystemClock.now().as_nanosecond())
    });
    let mut steps = Vec::new();
    for spec in all("--interrupt") {
        let (ms, file) = spec.split_once(':').context("--interrupt MS:FILE")?;
        let audio = read_mulaw_wav(&std::fs::read(file).with_context(|| file.to_owned())?)?;
        steps.push(Step::Interrupt {
            after: Duration::from_millis(ms.parse()?),
            label: file.to_owned(),
            audio,
        });
    }
    for file in all("--say") {
        let audio = read_mulaw_wav(&std::fs::read(&file).with_context(|| file.clone())?)?;
        steps.push(Step::Say { label: file, audio });
    }
    let limit = Duration::from_secs(one("--limit").map_or(Ok(120), |s| s.parse())?);
    let report = call(&account, &call_sid, &from, &to, steps, limit).await?;
    if report.timeline.is_empty() {
        println!("No stream: the voice webhook answered\n{}", report.twiml);
    }
    report.print();
    if let Some(after) = &report.after_stream {
        println!("after the stream, Twilio got: {after}");
    }
    if let Some(path) = one("--out") {
        std::fs::write(&path, mulaw_wav(&report.heard))?;
        println!("what the agent said: {path}");
    }
    Ok(())
}
