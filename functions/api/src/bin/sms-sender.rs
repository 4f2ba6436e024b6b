//! Lambda: texts to clients, run by two schedules (template.yaml): every minute, the texts
//! due are sent (`{"job": "send"}`); every hour, the next day's reminders are queued
//! (`{"job": "remind"}`). Without `SMS_FROM` texts are off and it does nothing.

use lambda_runtime::{LambdaEvent, service_fn};
use salon_functions::config::{ProcessEnv, StoreConfig, deployed_clock, retention_days};
use salon_functions::sms::{MessagesApi, Sender, SmsSettings, reminders};
use salon_functions::{open_store, telemetry};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let env = ProcessEnv;
    let clock = deployed_clock(&env)?;
    let store = open_store(
        &StoreConfig::from_env(&env)?,
        retention_days(&env)?,
        clock.clone(),
    )
    .await?;
    let settings = SmsSettings::from_env(&env)?;
    if settings.is_none() {
        tracing::warn!("SMS_FROM is not set: texts are off");
    }
    let sender = settings.map(|s| Sender::new(store.clone(), MessagesApi::new(s)));
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let (store, sender, clock) = (store.clone(), sender.clone(), clock.clone());
        async move {
            let Some(sender) = sender else {
                return Ok::<Value, lambda_runtime::Error>(json!({"texts": "off"}));
            };
            match event.payload["job"].as_str() {
                Some("remind") => {
                    let queued = reminders::queue_due(&store, clock.now()).await?;
                    Ok(json!({"queued": queued}))
                }
                _ => {
                    let round = sender.round().await?;
                    Ok(json!({"sent": round.sent, "failed": round.failed,
                              "retried": round.retried, "unknown": round.unknown}))
                }
            }
        }
    });
    lambda_runtime::run(handler)
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
