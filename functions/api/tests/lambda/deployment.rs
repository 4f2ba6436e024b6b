//! The functions as deployed: their binaries (this build's, or `sam build`'s arm64
//! bootstraps with `LAMBDA_BOOTSTRAP_DIR`, run through `LAMBDA_RUNNER`), template.yaml's
//! settings and variables, and a DynamoDB table (moto) holding the demo salon.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use salon_domain::{PhoneE164, demo};
use salon_lambda_emulator::{Function, FunctionSpec, HttpApiRequest};
use salon_store::testing::MotoServer;
use salon_store::{Store, seed};

use crate::template;

pub const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const RELAY_SECRET: &str = "relay-secret-0123456789abcdef0123";
pub const STREAM_SECRET: &str = "stream-secret-0123456789abcdef012";
/// The API's own URL, which the template gives the webhooks when no custom domain is set.
pub const PUBLIC_BASE: &str = "https://emu0api1d2.execute-api.eu-central-1.amazonaws.com";
pub const RELAY_URL: &str = "wss://relay.example.com";

/// One function of the template: its logical id (where `sam build` puts its bootstrap) and
/// the binary it builds.
#[derive(Clone, Copy)]
pub struct Lambda {
    pub logical_id: &'static str,
    binary: &'static str,
    native: &'static str,
}

pub const TWILIO_WEBHOOKS: Lambda = Lambda {
    logical_id: "TwilioWebhooks",
    binary: "twilio-webhooks",
    native: env!("CARGO_BIN_EXE_twilio-webhooks"),
};

pub const RELAY_API: Lambda = Lambda {
    logical_id: "RelayApi",
    binary: "relay-api",
    native: env!("CARGO_BIN_EXE_relay-api"),
};

pub const CONSOLE: Lambda = Lambda {
    logical_id: "Console",
    binary: "console",
    native: env!("CARGO_BIN_EXE_console"),
};

pub const SMS_SENDER: Lambda = Lambda {
    logical_id: "SmsSender",
    binary: "sms-sender",
    native: env!("CARGO_BIN_EXE_sms-sender"),
};

pub const TWILIO_ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_KEY_SID: &str = "SK0123456789abcdef0123456789abcdef";
pub const TWILIO_KEY_SECRET: &str = "key-secret-0123456789abcdef";
pub const SMS_FROM: &str = "+40312345000";
pub const OWNER_TOKENS: &str = "salon-demo=owner-token-0123456789abcdef0123456789";

/// A fresh table with the demo salon, and the variables the functions get in AWS.
pub struct Deployment {
    pub store: Store,
    table: String,
    endpoint: String,
}

impl Deployment {
    pub async fn new() -> Self {
        let moto = MotoServer::shared();
        let table = moto.fresh_table().await;
        let name = table.table_name().to_owned();
        let store = Store::new(Arc::new(table));
        seed::demo_salon(&store, PhoneE164::parse(demo::DEMO_NUMBER).unwrap())
            .await
            .unwrap();
        Self {
            store,
            table: name,
            endpoint: moto.endpoint().to_owned(),
        }
    }

    /// What Lambda would run for `lambda` over this table.
    pub fn spec(&self, lambda: Lambda) -> FunctionSpec {
        spec(lambda, &self.table, &self.endpoint)
    }

    /// Starts `lambda` and waits for its init phase to end.
    pub async fn start(&self, lambda: Lambda) -> Function {
        self.start_spec(self.spec(lambda)).await
    }

    /// Starts a function as `spec` says and waits for its init phase to end.
    pub async fn start_spec(&self, spec: FunctionSpec) -> Function {
        let program = spec.program.display().to_string();
        let mut f = Function::start(spec)
            .await
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let init = f.ready().await.unwrap_or_else(|e| panic!("{program}: {e}"));
        eprintln!("{program}: init took {init:?}");
        f
    }
}

/// What Lambda would run for `lambda`, with the template's settings and variables for it,
/// over `table` at `endpoint`.
pub fn spec(lambda: Lambda, table: &str, endpoint: &str) -> FunctionSpec {
    let emulated = std::env::var_os("LAMBDA_RUNNER").filter(|r| !r.is_empty());
    // An emulated arm64 CPU runs this code several times slower: the limits stretch.
    let stretch = if emulated.is_some() { 6 } else { 1 };
    let timeout: u64 = template::global("Timeout").parse().unwrap();
    let mut spec = FunctionSpec::new(lambda.binary, bootstrap(lambda));
    spec.runner = emulated.map(PathBuf::from);
    spec.memory_mb = template::global("MemorySize").parse().unwrap();
    spec.timeout = Duration::from_secs(timeout * stretch);
    spec.init_timeout = Duration::from_secs(10 * stretch);
    spec = spec
        // Globals.
        .var("STORE", "dynamodb")
        .var("TABLE_NAME", table)
        .var("TRANSCRIPT_RETENTION_DAYS", "30")
        .var("RUST_LOG", "info")
        // LoggingConfig.LogFormat: JSON.
        .var("AWS_LAMBDA_LOG_FORMAT", "JSON")
        // Not the template's: the SDK's own variable for DynamoDB's endpoint, so the
        // deployed code path (no DYNAMODB_ENDPOINT, credentials and region from Lambda's
        // variables) runs, against moto.
        .var("AWS_ENDPOINT_URL_DYNAMODB", endpoint);
    if let Some(prefix) = std::env::var_os("QEMU_LD_PREFIX") {
        // Where qemu-user finds an arm64 bootstrap's dynamic loader and libc.
        spec = spec.var("QEMU_LD_PREFIX", prefix.to_string_lossy());
    }
    match lambda.logical_id {
        "TwilioWebhooks" => spec
            .var("PUBLIC_BASE_URL", PUBLIC_BASE)
            .var("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .var("TWILIO_SIGNATURE_CHECK", "on")
            .var("RELAY_PUBLIC_URL", RELAY_URL)
            .var("STREAM_TOKEN_SECRET", STREAM_SECRET),
        // The console: none of the relay's or Twilio's secrets; the owners' tokens, and the
        // prices of its estimates.
        "Console" => spec
            .var("OWNER_TOKENS", OWNER_TOKENS)
            .var("OPENAI_PRICES", ""),
        "SmsSender" => spec
            .var("SMS_FROM", SMS_FROM)
            .var("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT)
            .var("TWILIO_API_KEY_SID", TWILIO_KEY_SID)
            .var("TWILIO_API_KEY_SECRET", TWILIO_KEY_SECRET)
            .var("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        _ => spec.var("RELAY_SECRET", RELAY_SECRET),
    }
}

/// The bootstrap to run: `sam build`'s under `LAMBDA_BOOTSTRAP_DIR`, else this build's.
fn bootstrap(lambda: Lambda) -> PathBuf {
    match std::env::var_os("LAMBDA_BOOTSTRAP_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join(lambda.logical_id).join("bootstrap"),
        None => lambda.native.into(),
    }
}

/// A request to `path`, routed as the template routes it to `lambda` (panics if it does not).
pub fn request(lambda: Lambda, method: &str, path: &str) -> HttpApiRequest {
    let routes = template::routes_of(lambda.logical_id);
    routes
        .iter()
        .find_map(|key| HttpApiRequest::new(method, path).route(key).ok())
        .unwrap_or_else(|| {
            panic!(
                "template.yaml routes no {method} {path} to {}: {routes:?}",
                lambda.logical_id
            )
        })
}
