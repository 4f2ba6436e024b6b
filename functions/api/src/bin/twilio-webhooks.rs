//! Lambda: Twilio's voice webhook, status callback and stream-ended webhook.

use salon_functions::config::{
    ProcessEnv, StoreConfig, TwilioSettings, deployed_clock, retention_days,
};
use salon_functions::{AppState, open_store, router, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let env = ProcessEnv;
    let store = open_store(
        &StoreConfig::from_env(&env)?,
        retention_days(&env)?,
        deployed_clock(&env)?,
    )
    .await?;
    let state = AppState::new(store, Some(TwilioSettings::from_env(&env)?), None);
    lambda_http::run(router(state)).await
}
