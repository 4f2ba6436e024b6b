//! Lambda: the salon owner's console (HTML pages at /console) and JSON API (/api/owner). Its
//! own function, with its own environment and permissions: it holds none of the relay's or
//! Twilio's secrets.

use salon_functions::config::{
    ProcessEnv, StoreConfig, deployed_clock, openai_prices, retention_days,
};
use salon_functions::console::ConsoleSettings;
use salon_functions::owner::OwnerSettings;
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
    // Always over HTTPS in AWS: the session cookie is Secure.
    let console = ConsoleSettings {
        secure_cookies: true,
        prices: openai_prices(&env)?,
    };
    // The owner's JSON API too: under the console's session, or a salon's token.
    let state = AppState::new(store, None, None)
        .with_console(Some(console))
        .with_owner(OwnerSettings::from_env(&env)?);
    lambda_http::run(router(state))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
