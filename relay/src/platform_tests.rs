//! The platform files in `infra/` against the relay they deploy: a stop limit shorter than the
//! drain cuts calls; a proxy limit below the relay's own caps locks callers out; an `[env]` the
//! relay cannot read fails every health check. Numbers that live in two places are checked
//! here, so changing one without the other fails the tests, not a deploy.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{Config, ConfigError};
use crate::server::GOODBYE_GRACE;

/// Fly's longest `kill_timeout` on a shared-CPU machine (FACTS: 5 minutes; 24 hours only on
/// performance CPUs, which this file does not ask for).
const FLY_SHARED_CPU_KILL_LIMIT: Duration = Duration::from_secs(300);

fn infra(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../infra")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct FlyToml {
    kill_signal: String,
    kill_timeout: String,
    build: FlyBuild,
    deploy: FlyDeploy,
    env: HashMap<String, String>,
    http_service: FlyHttpService,
    #[serde(default)]
    vm: Vec<toml::Table>,
}

#[derive(Deserialize)]
struct FlyBuild {
    dockerfile: String,
}

#[derive(Deserialize)]
struct FlyDeploy {
    strategy: String,
}

#[derive(Deserialize)]
struct FlyHttpService {
    internal_port: u16,
    auto_stop_machines: String,
    min_machines_running: u32,
    concurrency: FlyConcurrency,
    checks: Vec<FlyCheck>,
}

#[derive(Deserialize)]
struct FlyConcurrency {
    #[serde(rename = "type")]
    kind: String,
    soft_limit: usize,
    hard_limit: usize,
}

#[derive(Deserialize)]
struct FlyCheck {
    method: String,
    path: String,
}

/// Fly's durations as this file writes them: whole seconds (`"300s"`).
fn seconds(text: &str) -> Duration {
    let n = text
        .strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text:?} is not a whole number of seconds"));
    Duration::from_secs(n)
}

/// The secrets and URLs the README's steps set before the first deploy.
fn with_secrets(env: &HashMap<String, String>) -> HashMap<String, String> {
    let mut all = env.clone();
    for (k, v) in [
        ("OPENAI_API_KEY", "sk-test"),
        ("RELAY_SECRET", "relay-secret-0123456789abcdef0123456789"),
        (
            "STREAM_TOKEN_SECRET",
            "stream-secret-0123456789abcdef0123456",
        ),
        ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
        (
            "FUNCTIONS_URL",
            "https://abc123.execute-api.eu-central-1.amazonaws.com",
        ),
        ("RELAY_PUBLIC_URL", "wss://salon-voice-relay.fly.dev"),
    ] {
        all.insert(k.to_owned(), v.to_owned());
    }
    all
}

fn config(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
    Config::from_lookup(&|name| env.get(name).cloned())
}

fn fly() -> FlyToml {
    toml::from_str(&infra("fly.toml")).expect("infra/fly.toml parses")
}

#[test]
fn a_fly_deploy_lets_calls_drain_and_say_goodbye_within_the_kill_timeout() {
    let fly = fly();
    assert_eq!(fly.kill_signal, "SIGTERM", "the relay drains on SIGTERM");
    assert!(
        fly.vm.is_empty(),
        "the stop limit below assumes the default shared-CPU machine"
    );
    let kill = seconds(&fly.kill_timeout);
    assert!(
        kill <= FLY_SHARED_CPU_KILL_LIMIT,
        "Fly refuses a kill_timeout of {kill:?} on a shared-CPU machine"
    );
    let relay = config(&with_secrets(&fly.env)).expect("fly.toml's [env] is a valid relay config");
    let stops_within = relay.drain + GOODBYE_GRACE;
    assert!(
        stops_within < kill,
        "the relay may need {stops_within:?} after SIGTERM; Fly kills it at {kill:?}"
    );
}

#[test]
fn a_fly_deploy_starts_the_new_machine_before_the_old_one_drains() {
    let fly = fly();
    // Blue-green waits for the new machine's health checks before stopping the old one.
    assert_eq!(fly.deploy.strategy, "bluegreen");
    assert!(
        fly.http_service
            .checks
            .iter()
            .any(|c| c.method == "GET" && c.path == "/health"),
        "blue-green needs a health check"
    );
    assert_eq!(
        fly.http_service.auto_stop_machines, "off",
        "stopping drops calls"
    );
    assert!(fly.http_service.min_machines_running >= 1);
    let relay = config(&with_secrets(&fly.env)).unwrap();
    assert_eq!(
        fly.env.get("PORT").map(String::as_str),
        Some(fly.http_service.internal_port.to_string().as_str())
    );
    assert_ne!(relay.max_calls, 0);
}

#[test]
fn flys_proxy_admits_every_connection_the_relay_itself_would() {
    let fly = fly();
    let relay = config(&with_secrets(&fly.env)).unwrap();
    let c = &fly.http_service.concurrency;
    assert_eq!(c.kind, "connections");
    // Every admitted call, every stream still awaiting `start`, and room for health checks.
    let relay_holds = relay.max_calls + relay.max_pending_streams;
    assert!(
        c.hard_limit > relay_holds,
        "the proxy turns connections away at {} while the relay holds up to {relay_holds}",
        c.hard_limit
    );
    assert!(c.soft_limit <= c.hard_limit);
}

#[test]
fn flys_build_names_the_dockerfile_beside_it() {
    // flyctl resolves [build] dockerfile relative to the config file; the context is the
    // directory `fly deploy` runs in (the repository root, as the README says).
    let fly = fly();
    let dockerfile = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../infra")
        .join(&fly.build.dockerfile);
    assert!(dockerfile.is_file(), "{} is missing", dockerfile.display());
}

#[test]
fn without_the_urls_set_the_relay_names_what_is_missing() {
    let fly = fly();
    let mut env = with_secrets(&fly.env);
    env.remove("RELAY_PUBLIC_URL");
    let Err(err) = config(&env) else {
        panic!("started without it")
    };
    assert!(err.to_string().contains("RELAY_PUBLIC_URL"), "{err}");
    let mut env = with_secrets(&fly.env);
    env.remove("FUNCTIONS_URL");
    let Err(err) = config(&env) else {
        panic!("started without it")
    };
    assert!(err.to_string().contains("FUNCTIONS_URL"), "{err}");
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RailwayJson {
    build: RailwayBuild,
    deploy: RailwayDeploy,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RailwayBuild {
    builder: String,
    dockerfile_path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RailwayDeploy {
    healthcheck_path: String,
    draining_seconds: u64,
    overlap_seconds: u64,
}

#[test]
fn railway_waits_for_the_drain_and_its_goodbyes_before_killing() {
    let railway: RailwayJson =
        serde_json::from_str(&infra("railway.json")).expect("infra/railway.json parses");
    assert_eq!(railway.build.builder, "DOCKERFILE");
    // Railway resolves the path from the repository root.
    let dockerfile = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(&railway.build.dockerfile_path);
    assert!(dockerfile.is_file(), "{} is missing", dockerfile.display());
    assert_eq!(railway.deploy.healthcheck_path, "/health");
    // Railway sets no DRAIN_SECS of its own: the relay's default applies.
    let relay = config(&with_secrets(&HashMap::new())).unwrap();
    let stops_within = relay.drain + GOODBYE_GRACE;
    let kill = Duration::from_secs(railway.deploy.draining_seconds);
    assert!(
        stops_within < kill,
        "the relay may need {stops_within:?} after SIGTERM; Railway kills it at {kill:?}"
    );
    // The new deployment takes calls while the old one drains.
    assert!(railway.deploy.overlap_seconds > 0);
}
