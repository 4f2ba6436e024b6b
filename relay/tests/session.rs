//! What the relay asks of the Realtime session: the configured turn detection, the relay's own
//! model and voice, accepted by the double as the real API would.

mod common;

use std::time::Duration;

use common::*;
use salon_realtime_double::{Double, Script};
use salon_relay::audio::AudioMode;
use salon_relay::turn::{Eagerness, TurnDetection};
use serde_json::json;

#[tokio::test]
async fn the_session_asks_for_the_configured_turn_detection_model_and_voice() {
    for (turn, expected) in [
        (
            TurnDetection::default(),
            json!({"type": "semantic_vad", "eagerness": "low", "create_response": true, "interrupt_response": true}),
        ),
        (
            TurnDetection::Server { silence_ms: 900 },
            json!({"type": "server_vad", "silence_duration_ms": 900, "create_response": true, "interrupt_response": true}),
        ),
    ] {
        let double = Double::start(
            Script::from_json(r#"{"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}]}"#)
                .unwrap(),
        )
        .await
        .unwrap();
        let functions = FakeFunctions::start().await;
        let mut config = config(&functions, &double.url(), AudioMode::Pcmu);
        config.turn_detection = turn;
        config.model = "gpt-realtime-mini".into();
        config.voice = "cedar".into();
        let relay = Relay::start(config).await;
        let twilio = TwilioSide::dial(&relay, Some(stream_token())).await;
        // The double accepted the session (it refuses unknown settings) and the agent greets.
        double
            .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
            .await
            .unwrap();
        let update = double
            .received()
            .into_iter()
            .find(|e| e["type"] == "session.update")
            .unwrap();
        assert_eq!(
            update["session"]["audio"]["input"]["turn_detection"],
            expected
        );
        assert_eq!(update["session"]["model"], "gpt-realtime-mini");
        assert_eq!(update["session"]["audio"]["output"]["voice"], "cedar");
        if matches!(
            turn,
            TurnDetection::Semantic {
                eagerness: Eagerness::Low
            }
        ) {
            let updated = double
                .sent()
                .into_iter()
                .find(|e| e["type"] == "session.updated")
                .unwrap();
            assert_eq!(
                updated["session"]["audio"]["input"]["turn_detection"]["eagerness"],
                "low"
            );
        }
        twilio.hang_up();
        functions.wait_summary(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn stream_tokens_expire_by_the_relays_injected_clock() {
    let double = Double::start(Script::default()).await.unwrap();
    let functions = FakeFunctions::start().await;
    let mut config = config(&functions, &double.url(), AudioMode::Pcmu);
    // The relay's clock runs an hour ahead: a token issued "now" for two minutes is stale.
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    config.clock = salon_relay::config::ClockHandle(std::sync::Arc::new(
        salon_wire::clock::OffsetClock::starting_at(later),
    ));
    let relay = Relay::start(config).await;
    let twilio = TwilioSide::dial(&relay, Some(stream_token())).await;
    twilio
        .wait(Duration::from_secs(3), "closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    assert_eq!(double.connections(), 0, "nothing upstream was opened");
    assert!(functions.sessions.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_greeting_runs_under_the_sessions_rules_as_the_api_applies_them() {
    let double = Double::start(
        Script::from_json(r#"{"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}]}"#)
            .unwrap(),
    )
    .await
    .unwrap();
    let functions = FakeFunctions::start().await;
    let relay = Relay::start(config(&functions, &double.url(), AudioMode::Pcmu)).await;
    let twilio = TwilioSide::dial(&relay, Some(stream_token())).await;
    double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    // The double applies per-response instructions as the API does (they replace the
    // session's): the greeting must carry the session's rules itself.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let ran_under = loop {
        if let Some(first) = double.response_instructions().first().cloned() {
            break first;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no response started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        ran_under.contains("Ești asistentul virtual al salonului."),
        "{ran_under}"
    );
    assert!(ran_under.contains(GREETING), "{ran_under}");
    twilio.hang_up();
    functions.wait_summary(Duration::from_secs(5)).await;
}
