//! The offline demo call: starts the functions (embedded store, demo salon), the relay and the
//! Realtime double on loopback, places scenario 1 with the caller simulator, and prints the
//! conversation's timeline and the appointment that was booked.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use salon_caller_sim::offline::{Backend, CALLER, demo_id, next_open_day_on, prepare, say};
use salon_domain::{Clock, OffsetClock, PhoneE164, SystemClock};
use salon_relay::audio::AudioMode;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mode = match std::env::var("AUDIO_MODE").ok().as_deref() {
        Some("pcmu") => AudioMode::Pcmu,
        _ => AudioMode::Pcm24,
    };
    // CLOCK_START (RFC 3339) rehearses the call on a given day: the functions, the store and
    // the relay all run on a clock that starts there.
    let clock: Arc<dyn Clock> = match std::env::var("CLOCK_START").ok() {
        Some(at) => Arc::new(OffsetClock::starting_at(at.trim().parse().map_err(
            |_| anyhow::anyhow!("CLOCK_START: expected an RFC 3339 instant, got {at:?}"),
        )?)),
        None => Arc::new(SystemClock),
    };
    let date = next_open_day_on(clock.as_ref());
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/booking.json"
    ))?;
    println!(
        "Salon Voice Booking: an offline call (audio {mode}); the caller books a haircut on {date} at 10:00.\n"
    );
    let stack = prepare(Backend::Embedded)
        .await
        .on_clock(clock)
        .run(
            mode,
            serde_json::from_str(&script)?,
            &[("date", &date.to_string())],
            false,
        )
        .await;
    let report = stack
        .call(
            "CA00000000000000000000000000000001",
            CALLER,
            vec![say("01-cerere-tuns"), say("02-nume"), say("03-confirmare")],
        )
        .await;
    let sid = salon_domain::CallSid::parse("CA00000000000000000000000000000001")?;
    let record = stack
        .store
        .call(&sid)
        .await?
        .context("the call was recorded")?;
    println!("\nThe conversation (from the call record):");
    for line in record.summary.iter().flat_map(|s| &s.transcript) {
        let who = match line.speaker {
            salon_wire::Speaker::Caller => "caller",
            salon_wire::Speaker::Agent => "agent ",
        };
        println!("  {who}: {}", line.text);
    }
    for t in &record.tool_calls {
        println!(
            "  tool:   {} ({} ms, {})",
            t.name,
            t.millis,
            t.error.as_deref().unwrap_or("ok")
        );
    }
    if let Ok(path) = std::env::var("DEMO_WAV") {
        std::fs::write(&path, salon_caller_sim::mulaw_wav(&report.heard))?;
        println!("\nWhat the caller heard is in {path}.");
    }
    let booked = stack
        .store
        .client_appointments(&demo_id(), &PhoneE164::parse(CALLER)?)
        .await?;
    println!("\nBooked:");
    for a in &booked {
        let start = a
            .start
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Bucharest")?);
        println!(
            "  {} for {} ({}), {} at {}, with {}",
            a.service_name,
            a.client_name,
            a.client.as_ref().map_or("-".into(), |p| p.to_string()),
            start.date(),
            start.strftime("%H:%M"),
            a.staff
        );
    }
    anyhow::ensure!(
        booked.len() == 1,
        "the demo call should book exactly one appointment"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
