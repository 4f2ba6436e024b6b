//! The application: its state, built once from configuration, and its one `Router`, which
//! Lambda serves with `lambda_http::run` and a local run with `axum::serve`.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use salon_domain::Clock;
use salon_store::{DynamoTable, EmbeddedTable, Store, Table};

use crate::config::{RelayApiSettings, StoreConfig, TwilioSettings};
use crate::console::ConsoleSettings;
use crate::owner::OwnerSettings;
use crate::{console, owner, relay_api, twilio};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Every "now" comes from here, so tests can set it.
    pub clock: Arc<dyn Clock>,
    /// Present when this deployment serves Twilio's webhooks.
    pub twilio: Option<Arc<TwilioSettings>>,
    /// Present when this deployment serves the relay's API.
    pub relay_api: Option<Arc<RelayApiSettings>>,
    /// Present when this deployment serves the owner's API.
    pub owner: Option<Arc<OwnerSettings>>,
    /// Present when this deployment serves the owner's console.
    pub console: Option<Arc<ConsoleSettings>>,
}

impl AppState {
    /// Builds the state with the store's clock: one clock for the handlers and the store.
    pub fn new(
        store: Store,
        twilio: Option<TwilioSettings>,
        relay_api: Option<RelayApiSettings>,
    ) -> Self {
        Self {
            clock: store.clock().clone(),
            store,
            twilio: twilio.map(Arc::new),
            relay_api: relay_api.map(Arc::new),
            owner: None,
            console: None,
        }
    }

    /// Serves the owner's console with these settings.
    pub fn with_console(mut self, console: Option<ConsoleSettings>) -> Self {
        self.console = console.map(Arc::new);
        self
    }

    /// Serves the owner's API with these tokens.
    pub fn with_owner(mut self, owner: Option<OwnerSettings>) -> Self {
        self.owner = owner.map(Arc::new);
        self
    }

    /// Replaces the clock of the handlers and the store alike (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.store = self.store.with_clock(clock.clone());
        self.clock = clock;
        self
    }
}

/// Opens the configured store on `clock`, keeping transcripts for `retention_days`.
pub async fn open_store(
    config: &StoreConfig,
    retention_days: u32,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Store> {
    let table: Arc<dyn Table> = match config {
        StoreConfig::Dynamo {
            table,
            endpoint: Some(endpoint),
        } => Arc::new(DynamoTable::local(endpoint, table)),
        StoreConfig::Dynamo {
            table,
            endpoint: None,
        } => Arc::new(DynamoTable::from_env(table).await),
        StoreConfig::Embedded { dir } => Arc::new(EmbeddedTable::open(dir)?),
    };
    let store = Store::new(table)
        .with_clock(clock)
        .with_transcript_retention_days(retention_days);
    // What expired while the process was down goes now (the embedded store; DynamoDB's TTL
    // deletes by itself).
    store.purge_expired().await?;
    Ok(store)
}

/// Builds the router: `/health`, and the parts this deployment is configured for.
pub fn router(state: AppState) -> Router {
    if let Some(t) = &state.twilio
        && !t.signature_check
    {
        tracing::warn!(
            "TWILIO SIGNATURE CHECK IS OFF: anyone can call the webhooks. Use this for local runs only."
        );
    }
    let mut app = Router::new().route("/health", get(|| async { "ok" }));
    if state.twilio.is_some() {
        app = app.merge(twilio::routes::router());
    }
    if state.relay_api.is_some() {
        app = app.merge(relay_api::router());
    }
    // Under an owner token, or the console's session.
    if state.owner.is_some() || state.console.is_some() {
        app = app.merge(owner::router(state.console.is_some()));
    }
    if state.console.is_some() {
        app = app.merge(console::router());
    }
    // Twilio's forms and the relay's bodies are kilobytes (a summary's transcript tens of
    // them): a megabyte is room enough, and a bound on what a stranger can make us read.
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The largest request body any route reads.
pub const MAX_BODY_BYTES: usize = 1 << 20;
