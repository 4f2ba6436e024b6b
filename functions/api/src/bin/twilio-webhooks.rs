//! Lambda: Twilio's voice webhook, status callback and stream-ended webhook.

use salon_functions::config::{
    ProcessEnv, StoreConfig, TwilioSettings, deployed_clock, retention_days,
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
    let state = AppState::new(store, Some(TwilioSettings::from_env(&env)?), None);
    // anyhow: a start-up failure prints as words in the function's log ("TABLE_NAME is not
    // set"), where lambda_http's boxed error would print its Debug form.
    lambda_http::run(router(state))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
