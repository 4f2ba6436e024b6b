//! The endurance harness: many short scripted booking calls through the relay binary, with
//! faults injected at random from a seed, judged at the end from the store, from what the
//! callers heard, and from the relay's memory and sockets at rest.
//!
//! [`run`] starts the real functions' relay API over an embedded store seeded with the demo
//! salon (behind a fault proxy, [`proxy`]), the Realtime double in this process (a script per
//! call, [`tap`]), and the relay as a child process ([`relays`]); it runs the calls of its
//! [`plan`] in two parts, C at a time: the first warms the relay up (and takes the relay
//! restarts), then, at rest, the relay's memory and descriptors are read; the second part
//! runs, and they are read again at rest. [`check`] says what is judged and how.

mod caller;
mod check;
mod plan;
mod proxy;
mod relays;
mod report;
mod tap;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use salon_domain::{
    BusinessId, ClientName, Clock, IdempotencyKey, PhoneE164, PhoneOrigin, ServiceId, SystemClock,
    demo,
};
use salon_functions::config::{RelayApiSettings, Secret};
use salon_functions::{AppState, router};
use salon_realtime_double::{Double, Options as DoubleOptions, Script};
use salon_store::{BookingRequest, Store, seed};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::caller::Frames;
use crate::stats;
pub use plan::{Fault, PlanError};
pub use relays::RelayError;
pub use report::Report;

/// The relay's Romanian apology when the functions fail, as the soak expects the model to get
/// it (the relay's `functions::UNREACHABLE`).
pub const APOLOGY: &str = tap::APOLOGY;
/// What the relay tells the model of a booking sent and never answered, as the soak expects it.
pub const OUTCOME_UNKNOWN: &str = tap::OUTCOME_UNKNOWN;
/// The words of the relay's hold line, as the soak's double listens for them.
pub const HOLD_LINE: &str = plan::HOLD_LINE;

/// How a soak goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The relay binary.
    pub relay: PathBuf,
    /// Calls in all.
    pub calls: usize,
    /// Calls at once, at most.
    pub concurrency: usize,
    /// Decides the plan: who books what, and which faults meet which calls.
    pub seed: u64,
    /// Injects faults.
    pub faults: bool,
    /// Share of calls that meet a fault (beyond one of each kind).
    pub fault_rate: f64,
    /// Every faulty call meets this fault, and no other (to reproduce one).
    pub only: Option<Fault>,
}

/// Why a soak could not run (a failed check is not this: it is in the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoakError {
    /// The plan does not fit the demo salon.
    #[error("planning the calls failed")]
    Plan(#[from] PlanError),
    /// A relay could not be run.
    #[error("running the relay failed")]
    Relay(#[from] RelayError),
    /// The store, the double or a socket failed to start.
    #[error("setting up the soak failed: {0}")]
    Setup(String),
    /// The relay's `/proc` entries could not be read.
    #[error("reading the relay's process failed")]
    Proc(#[from] std::io::Error),
}

/// How long after its last call the relay is taken to be at rest: its calls' summaries
/// posted (each waits for the functions' answer) and their sockets closed.
const REST: Duration = Duration::from_millis(1_500);

fn setup(e: impl std::fmt::Display) -> SoakError {
    SoakError::Setup(e.to_string())
}

/// The store with the demo salon, and every chair of the full start taken.
async fn store(
    today: jiff::civil::Date,
) -> Result<(Store, tempfile::TempDir, Vec<PhoneE164>), SoakError> {
    let (store, dir) = salon_store::testing::embedded_store();
    seed::demo_salon(&store, PhoneE164::parse(demo::DEMO_NUMBER).map_err(setup)?)
        .await
        .map_err(setup)?;
    let (date, time) = plan::full_slot(today);
    let mut phones = Vec::new();
    for i in 1..=3 {
        let phone = PhoneE164::parse(&format!("+4073300000{i}")).map_err(setup)?;
        let request = BookingRequest {
            business: BusinessId::parse(demo::BUSINESS_ID).map_err(setup)?,
            service: ServiceId::parse("tuns").map_err(setup)?,
            more: Vec::new(),
            client: Some(phone.clone()),
            phone_origin: PhoneOrigin::CallerId,
            client_name: Some(ClientName::parse("Client Ocupat").map_err(setup)?),
            start: date.to_datetime(time),
            staff: None,
            call_sid: None,
            key: IdempotencyKey::parse(format!("soak-full-{i}")).map_err(setup)?,
            tool_call: None,
            source: salon_domain::Source::Voice,
        };
        store
            .book(&request, store.clock().now())
            .await
            .map_err(setup)?;
        phones.push(phone);
    }
    Ok((store, dir, phones))
}

/// Runs the soak and judges it.
pub async fn run(options: Options) -> Result<Report, SoakError> {
    let began = Instant::now();
    let zone = jiff::tz::TimeZone::get("Europe/Bucharest").map_err(setup)?;
    // The day the soak runs, by the one clock the store and the functions use.
    let today = SystemClock.now().to_zoned_datetime(zone).date();
    let concurrency = options.concurrency.clamp(1, options.calls.max(1));
    // The first part warms the relay up with at least one full round of calls.
    let warm = (options.calls / 5).max(concurrency.min(options.calls / 2));
    let plans = plan::plan(
        options.calls,
        warm,
        options.seed,
        (options.faults, options.fault_rate, options.only),
        today,
    )?;
    let (store, _dir, full_phones) = store(today).await?;

    let settings = RelayApiSettings {
        relay_secret: Secret::new(relays::RELAY_SECRET),
        transcription_model: "gpt-4o-transcribe".into(),
    };
    let functions = router(AppState::new(store.clone(), None, Some(settings)));
    let faults: HashMap<String, Fault> = plans
        .iter()
        .filter_map(|p| Some((p.call_sid.clone(), p.fault?)))
        .collect();
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let functions_url = format!("http://{}", listener.local_addr()?);
    let counts = proxy::serve(listener, functions, faults, stop.clone());

    let calls = Arc::new(tap::Calls::new(&plans));
    let double = Double::start_with(
        Script::default(),
        DoubleOptions {
            speed: Some(1.0),
            record: false,
            script_per_connection: true,
            delta_ms: vec![20],
            tap: Some(calls.clone()),
            scripts: Some(calls.clone()),
            ..DoubleOptions::default()
        },
    )
    .await?;
    let relays = Arc::new(
        relays::Relays::start(
            &options.relay,
            functions_url,
            double.url(),
            concurrency + 16,
        )
        .await?,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut report = Report {
        calls: options.calls,
        concurrency,
        seed: options.seed,
        faults_on: options.faults,
        faults: check::faults(&plans),
        rss_cold_kib: stats::rss_kib(relays.current().pid)?,
        ..Report::default()
    };

    // Restarts asked for by the callers whose plan says so.
    let (restart_tx, mut restart_rx) = mpsc::unbounded_channel::<usize>();
    let restarter = {
        let relays = relays.clone();
        tokio::spawn(async move {
            let (mut done, mut failed) = (0, Vec::new());
            while let Some(index) = restart_rx.recv().await {
                match relays.restart().await {
                    Ok(()) => done += 1,
                    Err(e) => failed.push(format!("restarting the relay for call {index}: {e}")),
                }
            }
            (done, failed)
        })
    };

    let frames = Arc::new(Frames::new());
    let double = Arc::new(double);
    let mut heard = Vec::with_capacity(plans.len());
    for (n, part) in [&plans[..warm], &plans[warm..]].into_iter().enumerate() {
        heard.extend(
            run_part(
                part,
                concurrency,
                &relays,
                &frames,
                &calls,
                &double,
                &restart_tx,
            )
            .await,
        );
        if n == 0 {
            let pid = relays.current().pid;
            tokio::time::sleep(REST).await;
            report.rss_before_kib = stats::rss_kib(pid)?;
            report.fds_before = stats::open_fds(pid)?;
        }
    }
    drop(restart_tx);
    let (restarts, restart_errors) = restarter.await.unwrap_or_default();
    report.relay_restarts = restarts;
    for e in restart_errors {
        report.error(e);
    }
    let pid = relays.current().pid;
    tokio::time::sleep(REST).await;
    // Sockets close a moment after the last call; the check reads them once they have.
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle
        && stats::open_fds(pid)? > report.fds_before + check::FDS_TOLERANCE
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    report.rss_after_kib = stats::rss_kib(pid)?;
    report.fds_after = stats::open_fds(pid)?;
    let drained = relays.drained().await;

    report.functions_cut = counts.cut.load(std::sync::atomic::Ordering::Relaxed);
    report.functions_500 = counts.failed.load(std::sync::atomic::Ordering::Relaxed);
    let sides: Vec<_> = plans.iter().map(|p| calls.side(&p.call_sid)).collect();
    let sides: Vec<_> = sides.iter().map(|s| tap::lock(s)).collect();
    let outcomes: Vec<check::Outcome<'_>> = plans
        .iter()
        .zip(&heard)
        .zip(&sides)
        .map(|((plan, heard), model)| check::Outcome { plan, heard, model })
        .collect();
    let excused = tap::lock(&counts.cut_calls).clone();
    check::callers(&outcomes, &excused, &drained, &mut report);
    let fault_met = tap::lock(&counts.fault_met).clone();
    check::bookings(&store, &outcomes, &full_phones, &fault_met, &mut report).await;
    check::relay(&drained, &mut report);
    report.duration_s = began.elapsed().as_secs_f64();
    Ok(report)
}

/// Runs `part`'s calls, `concurrency` at a time, paced so that about that many are on the line
/// at once; returns what each caller heard, in order.
async fn run_part(
    part: &[plan::CallPlan],
    concurrency: usize,
    relays: &Arc<relays::Relays>,
    frames: &Arc<Frames>,
    calls: &Arc<tap::Calls>,
    double: &Arc<Double>,
    restart: &mpsc::UnboundedSender<usize>,
) -> Vec<caller::Heard> {
    // A call lasts about 5 s: starting one every 5 s / C keeps C on the line without starting
    // a whole round in the same instant.
    let pace = Duration::from_secs(5) / concurrency as u32;
    let permits = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(part.len());
    for (i, plan) in part.iter().enumerate() {
        let (plan, relays, frames, double, restart) = (
            plan.clone(),
            relays.clone(),
            frames.clone(),
            double.clone(),
            restart.clone(),
        );
        let model = calls.side(&plan.call_sid);
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start + pace * i as u32).await;
            let _permit = permits.acquire_owned().await.expect("never closed");
            if plan.fault == Some(Fault::RealtimeRefused) {
                double.refuse_next(1);
            }
            caller::call(&plan, &relays, &frames, model, restart).await
        }));
    }
    let mut heard = Vec::with_capacity(tasks.len());
    for task in tasks {
        heard.push(task.await.unwrap_or_else(|e| caller::Heard {
            failure: Some(format!("a caller task failed: {e}")),
            ..caller::Heard::default()
        }));
    }
    heard
}
