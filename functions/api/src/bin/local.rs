//! The local stack: the functions on the embedded store with the demo salon seeded, served
//! with `axum::serve`. Reads `.env` if present (see `.env.example`).

use anyhow::Context;
use salon_domain::{PhoneE164, demo};
use salon_functions::config::{
    Env, ProcessEnv, RelayApiSettings, StoreConfig, TwilioSettings, local_clock, retention_days,
};
use salon_functions::console::ConsoleSettings;
use salon_functions::owner::OwnerSettings;
use salon_functions::sms::{MessagesApi, Sender, SmsSettings, reminders};
use salon_functions::{AppState, open_store, router, serve, telemetry};
use salon_store::{Store, seed};

/// How often the local stack sends what is due (in AWS, a schedule every minute).
const TEXT_ROUND: std::time::Duration = std::time::Duration::from_secs(15);

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
    let sms = SmsSettings::from_env(&env)?;
    // With texts configured, the demo salon sends them.
    seed::demo_salon_texting(&store, number.clone(), Some(sms.is_some()))
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
    match sms {
        Some(settings) => {
            println!("  texts               on, through {}", settings.api_url);
            tokio::spawn(send_texts(store.clone(), MessagesApi::new(settings)));
        }
        None => println!("  texts               off (set SMS_FROM to send them)"),
    }
    let owner = OwnerSettings::from_env(&env)?;
    if owner.is_some() {
        println!(
            "  owner API           {}/api/owner/messages",
            twilio.public_base_url
        );
    }
    let console = ConsoleSettings::from_env(&env)?;
    if let Some(c) = &console {
        println!(
            "  console             {}/console{}",
            twilio.public_base_url,
            if c.secure_cookies {
                ""
            } else {
                " (cookies over plain HTTP: local only)"
            }
        );
    }
    let state = AppState::new(store, Some(twilio), Some(relay))
        .with_owner(owner)
        .with_console(console);
    // Behind a public tunnel: a half-sent request is dropped after the header-read limit.
    serve::serve(listener, router(state), serve::HEADER_READ, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// The local stack's stand-in for the schedules: queue reminders, send what is due.
async fn send_texts(store: Store, api: MessagesApi) {
    let sender = Sender::new(store.clone(), api);
    let mut every = tokio::time::interval(TEXT_ROUND);
    loop {
        every.tick().await;
        if let Err(e) = reminders::queue_due(&store, store.clock().now()).await {
            tracing::warn!(error = %e, "queueing reminders failed");
        }
        if let Err(e) = sender.round().await {
            tracing::warn!(error = %e, "sending texts failed");
        }
    }
}
