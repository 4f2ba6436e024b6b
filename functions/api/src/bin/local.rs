//! The local stack: the functions on the embedded store with the demo salon seeded, served
//! with `axum::serve`. Reads `.env` if present (see `.env.example`).

use anyhow::Context;
use salon_domain::{PhoneE164, demo};
use salon_functions::config::{
    Env, ProcessEnv, RelayApiSettings, StoreConfig, TwilioSettings, local_clock, retention_days,
};
use salon_functions::{AppState, open_store, router, serve, telemetry};
use salon_store::seed;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    telemetry::init();
    let env = ProcessEnv;
    let store_config = StoreConfig::from_env(&env)?;
    let clock = local_clock(&env)?;
    let store = open_store(&store_config, retention_days(&env)?, clock.clone()).await?;
    let number = env
        .var("DEMO_NUMBER")
        .unwrap_or_else(|| demo::DEMO_NUMBER.into());
    let number = PhoneE164::parse(&number).with_context(|| format!("DEMO_NUMBER {number:?}"))?;
    seed::demo_salon(&store, number.clone())
        .await
        .context("seeding the demo salon")?;
    let twilio = TwilioSettings::from_env(&env)?;
    let relay = RelayApiSettings::from_env(&env)?;
    let port: u16 = env
        .var("PORT")
        .map_or(Ok(8080), |p| p.parse())
        .context("PORT")?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("binding port {port}"))?;
    let addr = listener.local_addr()?;
    println!("Salon Voice Booking functions, local");
    println!("  listening on        http://{addr}");
    println!("  store               {store_config:?}");
    println!("  demo salon number   {number}");
    println!("  clock               {}", clock.now());
    println!(
        "  voice webhook       {}/api/twilio/voice",
        twilio.public_base_url
    );
    println!(
        "  status callback     {}/api/twilio/status",
        twilio.public_base_url
    );
    println!(
        "  relay stream URL    {}/twilio/stream",
        twilio.relay_public_url
    );
    println!(
        "  signature check     {}",
        if twilio.signature_check {
            "on"
        } else {
            "OFF (local only)"
        }
    );
    let state = AppState::new(store, Some(twilio), Some(relay));
    // Behind a public tunnel: a half-sent request is dropped after the header-read limit.
    serve::serve(listener, router(state), serve::HEADER_READ, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
