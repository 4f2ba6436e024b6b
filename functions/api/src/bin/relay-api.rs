//! Lambda: the relay's API (session config, tools, call summary).

use salon_functions::config::{
    ProcessEnv, RelayApiSettings, StoreConfig, deployed_clock, retention_days,
};
use salon_functions::{AppState, open_store, router, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let env = ProcessEnv;
    let store = open_store(
        &StoreConfig::from_env(&env)?,
        retention_days(&env)?,
        deployed_clock(&env)?,
    )
    .await?;
    // The owner's API is the console's function's (away from the relay's secret).
    let state = AppState::new(store, None, Some(RelayApiSettings::from_env(&env)?));
    // anyhow: a start-up failure prints as words in the function's log ("TABLE_NAME is not
    // set"), where lambda_http's boxed error would print its Debug form.
    lambda_http::run(router(state))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
