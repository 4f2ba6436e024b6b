//! Drives the double as a Realtime client would, over a real WebSocket.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use salon_realtime_double::{AudioFormat, Double, FALLBACK_SAY, Options, Script, Wav};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(10);
const AUDIO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/audio");

// ---------------------------------------------------------------- helpers

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens a WebSocket to `double` with the given extra headers; `None` means no Authorization.
async fn try_connect(
    double: &Double,
    query: &str,
    authorization: Option<&str>,
    extra: &[(&'static str, &'static str)],
) -> Result<Client, WsError> {
    let mut request = format!("{}{query}", double.url()).into_client_request()?;
    if let Some(auth) = authorization {
        request
            .headers_mut()
            .insert("authorization", HeaderValue::from_str(auth).unwrap());
    }
    for (name, value) in extra {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(Client { ws })
}

async fn connect(double: &Double) -> Client {
    try_connect(double, "?model=gpt-realtime", Some("Bearer sk-test"), &[])
        .await
        .expect("upgrade accepted")
}

fn status_of(error: WsError) -> u16 {
    match error {
        WsError::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

impl Client {
    async fn send(&mut self, event: Value) {
        self.ws
            .send(Message::Text(event.to_string().into()))
            .await
            .expect("send");
    }

    /// Returns the next server event.
    async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a server event within the timeout")
                .expect("connection open")
                .expect("no WebSocket error");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).expect("server events are JSON");
            }
        }
    }

    /// Returns the server events up to and including the first of type `kind`.
    async fn until(&mut self, kind: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.recv().await;
            let done = event["type"] == kind;
            events.push(event);
            if done {
                return events;
            }
        }
    }

    /// Reads the greeting and applies the settings the relay uses (μ-law both ways).
    async fn start_pcmu_session(&mut self, turn_detection: Value) -> Value {
        let created = self.recv().await;
        assert_eq!(created["type"], "session.created");
        self.send(json!({
            "type": "session.update",
            "event_id": "evt_update",
            "session": {
                "type": "realtime",
                "model": "gpt-realtime",
                "output_modalities": ["audio"],
                "instructions": "Vorbește doar românește.",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcmu"},
                        "transcription": {"model": "gpt-4o-mini-transcribe", "language": "ro"},
                        "turn_detection": turn_detection,
                    },
                    "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}
                },
                "tools": [{"type": "function", "name": "check_appointment_availability",
                           "description": "Caută locuri libere.",
                           "parameters": {"type": "object", "properties": {}}}],
                "tool_choice": "auto"
            }
        }))
        .await;
        let updated = self.recv().await;
        assert_eq!(updated["type"], "session.updated", "{updated}");
        updated
    }

    /// Streams μ-law audio as 20 ms appends, as the relay forwards Twilio frames.
    async fn append_pcmu(&mut self, audio: &[u8]) {
        for frame in audio.chunks(160) {
            self.send(json!({"type": "input_audio_buffer.append", "audio": BASE64.encode(frame)}))
                .await;
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn caller_wav(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!("{AUDIO_DIR}/caller/{name}.wav")).unwrap();
    let wav = Wav::parse(&bytes).unwrap();
    assert_eq!(wav.format, AudioFormat::Pcmu);
    wav.data
}

fn agent_wav(name: &str, suffix: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!("{AUDIO_DIR}/agent/{name}.{suffix}.wav")).unwrap();
    Wav::parse(&bytes).unwrap().data
}

fn audio_of(events: &[Value]) -> Vec<u8> {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .flat_map(|e| BASE64.decode(e["delta"].as_str().unwrap()).unwrap())
        .collect()
}

fn script(json: &str) -> Script {
    Script::from_json(json).expect("valid script")
}

const VAD: fn() -> Value = || {
    json!({"type": "server_vad", "silence_duration_ms": 500,
           "create_response": true, "interrupt_response": true})
};

// ---------------------------------------------------------------- handshake

#[tokio::test]
async fn a_connection_gets_a_ga_session_and_updates_it() {
    let double = Double::start(Script::default()).await.unwrap();
    let mut client = try_connect(
        &double,
        "?model=gpt-realtime-2",
        Some("Bearer sk-test"),
        &[],
    )
    .await
    .unwrap();

    let created = client.recv().await;
    assert_eq!(created["type"], "session.created");
    assert!(created["event_id"].as_str().unwrap().starts_with("event_"));
    let session = &created["session"];
    assert_eq!(session["type"], "realtime");
    assert_eq!(session["object"], "realtime.session");
    assert!(session["id"].as_str().unwrap().starts_with("sess_"));
    assert_eq!(session["model"], "gpt-realtime-2");
    assert_eq!(session["output_modalities"], json!(["audio"]));
    assert_eq!(
        session["audio"]["input"]["format"],
        json!({"type": "audio/pcm", "rate": 24000})
    );
    assert_eq!(
        session["audio"]["output"]["format"],
        json!({"type": "audio/pcm", "rate": 24000})
    );
    assert_eq!(
        session["audio"]["input"]["turn_detection"]["type"],
        "server_vad"
    );

    client.send(json!({"type": "session.update", "session": {
        "type": "realtime",
        "instructions": "Ești recepționera salonului.",
        "audio": {"input": {"format": {"type": "audio/pcmu"},
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 700,
                                               "create_response": false, "interrupt_response": true}},
                  "output": {"format": {"type": "audio/pcmu"}}}
    }}))
    .await;
    let updated = client.recv().await;
    assert_eq!(updated["type"], "session.updated");
    let session = &updated["session"];
    assert_eq!(session["instructions"], "Ești recepționera salonului.");
    assert_eq!(session["id"], created["session"]["id"]);
    assert_eq!(
        session["audio"]["input"]["format"],
        json!({"type": "audio/pcmu"})
    );
    assert_eq!(
        session["audio"]["output"]["format"],
        json!({"type": "audio/pcmu"})
    );
    let turn = &session["audio"]["input"]["turn_detection"];
    assert_eq!(turn["silence_duration_ms"], 700);
    assert_eq!(turn["create_response"], false);
    assert_eq!(turn["prefix_padding_ms"], 300);
    assert_eq!(double.connections(), 1);
}

#[tokio::test]
async fn the_upgrade_is_checked_like_the_real_api() {
    let double = Double::start(Script::default()).await.unwrap();

    let no_key = try_connect(&double, "?model=gpt-realtime", None, &[]).await;
    assert_eq!(status_of(no_key.err().unwrap()), 401);
    let empty_key = try_connect(&double, "?model=gpt-realtime", Some("Bearer "), &[]).await;
    assert_eq!(status_of(empty_key.err().unwrap()), 401);
    let beta = try_connect(
        &double,
        "?model=gpt-realtime",
        Some("Bearer sk-test"),
        &[("openai-beta", "realtime=v1")],
    )
    .await;
    assert_eq!(status_of(beta.err().unwrap()), 400);
    let no_model = try_connect(&double, "", Some("Bearer sk-test"), &[]).await;
    assert_eq!(status_of(no_model.err().unwrap()), 400);

    assert_eq!(double.connections(), 0);
}

#[tokio::test]
async fn refuse_next_answers_503_then_lets_clients_in() {
    let double = Double::start(Script::default()).await.unwrap();
    double.refuse_next(2);

    for _ in 0..2 {
        let refused = try_connect(&double, "?model=gpt-realtime", Some("Bearer k"), &[]).await;
        assert_eq!(status_of(refused.err().unwrap()), 503);
    }
    let mut client = connect(&double).await;

    assert_eq!(client.recv().await["type"], "session.created");
    assert_eq!(double.connections(), 1);
}

// ---------------------------------------------------------------- input audio and VAD

#[tokio::test]
async fn the_caller_recording_makes_one_committed_turn_with_its_transcript() {
    let double = Double::start(script(
        r#"{"caller_transcripts": ["Bună ziua! Aș dori o programare pentru tuns, mâine la zece."],
            "responses": [{"say": {"text": "Bună ziua!", "ms": 300}}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    let speech = caller_wav("01-cerere-tuns");

    client.append_pcmu(&speech).await;
    client.append_pcmu(&[0xFF; 8_000]).await; // a second of line silence
    let events = client.until("response.created").await;

    assert_eq!(
        types(&events),
        [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
            "conversation.item.input_audio_transcription.completed",
            "response.created",
        ]
    );
    let item_id = &events[0]["item_id"];
    assert!(events[0]["audio_start_ms"].as_u64().unwrap() < 300);
    let end = events[1]["audio_end_ms"].as_u64().unwrap();
    let speech_ms = speech.len() as u64 / 8;
    assert!(
        end > speech_ms - 300 && end < speech_ms + 700,
        "{end} vs {speech_ms}"
    );
    for event in &events[1..3] {
        assert_eq!(&event["item_id"], item_id);
    }
    assert_eq!(events[2]["previous_item_id"], Value::Null);
    assert_eq!(events[3]["item"]["role"], "user");
    assert_eq!(events[3]["item"]["content"][0]["type"], "input_audio");
    assert_eq!(
        events[5]["transcript"],
        "Bună ziua! Aș dori o programare pentru tuns, mâine la zece."
    );
    assert_eq!(&events[5]["item_id"], item_id);
}

#[tokio::test]
async fn one_large_append_can_hold_two_turns() {
    let double = Double::start(script(
        r#"{"caller_transcripts": ["Bună ziua!", "Aș dori o programare."]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client
        .start_pcmu_session(json!({"type": "server_vad", "silence_duration_ms": 300,
                                   "create_response": false}))
        .await;
    let mut audio = caller_wav("01-cerere-tuns");
    audio.extend_from_slice(&[0xFF; 8_000]);

    client
        .send(json!({"type": "input_audio_buffer.append", "audio": BASE64.encode(&audio)}))
        .await;
    let first = client
        .until("conversation.item.input_audio_transcription.completed")
        .await;
    let second = client
        .until("conversation.item.input_audio_transcription.completed")
        .await;

    let turn = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
    ];
    assert_eq!(types(&first), turn);
    assert_eq!(types(&second), turn);
    let first_end = first[1]["audio_end_ms"].as_u64().unwrap();
    let second_start = second[0]["audio_start_ms"].as_u64().unwrap();
    assert!(second_start >= first_end, "{second_start} < {first_end}");
    assert_eq!(second[2]["previous_item_id"], first[2]["item_id"]);
    assert_eq!(second[5]["transcript"], "Aș dori o programare.");
}

#[tokio::test]
async fn speech_during_a_response_cancels_it_and_stops_its_audio() {
    let options = Options {
        speed: Some(1.0),
        ..Options::default()
    };
    let double = Double::start_with(
        script(r#"{"responses": [{"say": {"text": "Un răspuns foarte lung.", "ms": 6000}}]}"#),
        options,
    )
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    client.send(json!({"type": "response.create"})).await;
    client.until("response.output_audio.delta").await;

    client
        .append_pcmu(&caller_wav("10-intrerupere")[..4_000])
        .await;
    let events = client.until("response.done").await;

    let started = events
        .iter()
        .position(|e| e["type"] == "input_audio_buffer.speech_started")
        .expect("speech_started");
    assert!(
        events[started..]
            .iter()
            .all(|e| e["type"] != "response.output_audio.delta"),
        "no audio after the barge-in"
    );
    let done = events.last().unwrap();
    assert_eq!(done["response"]["status"], "cancelled");
    assert_eq!(
        done["response"]["status_details"]["reason"],
        "turn_detected"
    );
    assert_eq!(done["response"]["output"][0]["status"], "incomplete");
    assert!(done["response"]["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

// ---------------------------------------------------------------- scripted responses

#[tokio::test]
async fn a_scripted_say_sends_the_whole_recording_in_uneven_deltas() {
    let double = Double::start(script(
        r#"{"responses": [{"say": {"text": "Bună ziua! Salon Voice Booking, cu ce vă pot ajuta?", "audio": "01-salut"}},
                          {"say": {"text": "Pe ce nume fac programarea?", "audio": "03-nume"}}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    client.send(json!({"type": "response.create"})).await;
    let events = client.until("response.done").await;

    assert_eq!(audio_of(&events), agent_wav("01-salut", "pcmu"));
    let sizes: Vec<usize> = events
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .map(|e| BASE64.decode(e["delta"].as_str().unwrap()).unwrap().len())
        .collect();
    assert_eq!(&sizes[..4], &[400, 1040, 400, 1040]);
    let mut kinds: Vec<&str> = types(&events);
    kinds.dedup();
    assert_eq!(
        kinds[..4],
        [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 6..],
        [
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
    );
    let transcript: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_audio_transcript.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(
        transcript,
        "Bună ziua! Salon Voice Booking, cu ce vă pot ajuta?"
    );
    let done = &events.last().unwrap()["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["transcript"], transcript);
    let usage = &done["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap()
    );

    // The PCM session gets the 24 kHz recording.
    client
        .send(
            json!({"type": "session.update", "session": {"type": "realtime",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}}}}}),
        )
        .await;
    client.until("session.updated").await;
    client.send(json!({"type": "response.create"})).await;
    let events = client.until("response.done").await;
    assert_eq!(audio_of(&events), agent_wav("03-nume", "pcm24"));
}

#[tokio::test]
async fn a_scripted_call_produces_the_function_call_events() {
    let double = Double::start(
        script(
            r#"{"responses": [{"calls": [{"name": "check_appointment_availability",
                 "arguments": {"service": "tuns", "date": "{tomorrow}", "time": "10:00"}}]}]}"#,
        )
        .with_vars(&[("tomorrow", "2026-12-15")]),
    )
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    client.send(json!({"type": "response.create"})).await;
    let events = client.until("response.done").await;

    let kinds = types(&events);
    let deltas = kinds
        .iter()
        .filter(|k| **k == "response.function_call_arguments.delta")
        .count();
    assert!(deltas >= 2);
    let mut expected = vec![
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
    ];
    expected.extend(std::iter::repeat_n(
        "response.function_call_arguments.delta",
        deltas,
    ));
    expected.extend([
        "response.function_call_arguments.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]);
    assert_eq!(kinds, expected);
    let added = &events[1]["item"];
    assert_eq!(added["type"], "function_call");
    assert_eq!(added["name"], "check_appointment_availability");
    let call_id = added["call_id"].as_str().unwrap();
    let joined: String = events
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let done = &events[3 + deltas];
    assert_eq!(done["call_id"], call_id);
    assert_eq!(done["name"], "check_appointment_availability");
    assert_eq!(done["arguments"], joined.as_str());
    let arguments: Value = serde_json::from_str(&joined).unwrap();
    assert_eq!(
        arguments,
        json!({"service": "tuns", "date": "2026-12-15", "time": "10:00"})
    );
    let response = &events.last().unwrap()["response"];
    assert_eq!(response["status"], "completed");
    assert_eq!(response["output"][0]["arguments"], joined.as_str());

    // The relay answers the call; the conversation takes the output.
    client
        .send(json!({"type": "conversation.item.create", "item": {
        "type": "function_call_output", "call_id": call_id, "output": "{\"free\":[\"10:00\"]}"}}))
        .await;
    let added = client.recv().await;
    assert_eq!(added["type"], "conversation.item.added");
    assert_eq!(added["previous_item_id"], events[1]["item"]["id"]);
    assert_eq!(client.recv().await["type"], "conversation.item.done");
}

#[tokio::test]
async fn a_function_output_can_ask_for_an_aside_and_the_script_waits() {
    let double = Double::start(script(
        r#"{"responses": [
              {"calls": [{"name": "create_voice_appointment", "arguments": {}}]},
              {"say": {"text": "Programarea este confirmată.", "ms": 200}}],
            "asides": [{"when": "\"outcome_unknown\"",
                        "calls": [{"name": "list_client_appointments", "arguments": {}}]}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    let answer = |call_id: &str, output: &str| {
        json!({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": call_id, "output": output}})
    };
    let call_of = |events: &[Value]| -> (String, String) {
        let done = events
            .iter()
            .find(|e| e["type"] == "response.function_call_arguments.done")
            .expect("a function call");
        (
            done["name"].as_str().unwrap().to_owned(),
            done["call_id"].as_str().unwrap().to_owned(),
        )
    };

    client.send(json!({"type": "response.create"})).await;
    let (name, id) = call_of(&client.until("response.done").await);
    assert_eq!(name, "create_voice_appointment");
    // Told the outcome is unknown, the "model" checks first; the script waits.
    client
        .send(answer(
            &id,
            r#"{"ok":false,"error":{"code":"outcome_unknown","message":"?"}}"#,
        ))
        .await;
    client.until("conversation.item.done").await;
    client.send(json!({"type": "response.create"})).await;
    let (name, id) = call_of(&client.until("response.done").await);
    assert_eq!(name, "list_client_appointments");
    // Any other output: the script goes on where it was.
    client
        .send(answer(&id, r#"{"ok":true,"result":{"programari":[]}}"#))
        .await;
    client.until("conversation.item.done").await;
    client.send(json!({"type": "response.create"})).await;
    let events = client.until("response.done").await;
    let transcript = events
        .iter()
        .find(|e| e["type"] == "response.output_audio_transcript.done")
        .expect("speech");
    assert_eq!(transcript["transcript"], "Programarea este confirmată.");
}

#[tokio::test]
async fn response_create_during_a_response_is_refused_as_the_real_api_does() {
    let options = Options {
        speed: Some(1.0),
        ..Options::default()
    };
    let double = Double::start_with(
        script(r#"{"responses": [{"say": {"text": "Mă uit imediat în program.", "ms": 1000}}]}"#),
        options,
    )
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    client.send(json!({"type": "response.create"})).await;
    let created = client.until("response.created").await.pop().unwrap();

    client
        .send(json!({"type": "response.create", "event_id": "evt_second"}))
        .await;
    let events = client.until("error").await;

    let error = &events.last().unwrap()["error"];
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["code"], "conversation_already_has_active_response");
    assert_eq!(error["event_id"], "evt_second");
    let response_id = created["response"]["id"].as_str().unwrap();
    assert!(error["message"].as_str().unwrap().contains(response_id));
    let done = client.until("response.done").await.pop().unwrap();
    assert_eq!(done["response"]["status"], "completed");
    assert_eq!(
        double.responses_played(),
        1,
        "the refused create used no script entry"
    );
}

#[tokio::test]
async fn truncation_beyond_the_audio_sent_is_an_error() {
    let double = Double::start(script(
        r#"{"responses": [{"say": {"text": "Pe ce nume fac programarea?", "audio": "03-nume"}}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    client.send(json!({"type": "response.create"})).await;
    let events = client.until("response.done").await;
    let item_id = events[1]["item"]["id"].as_str().unwrap().to_string();
    let sent_ms = audio_of(&events).len() as u64 / 8;

    client
        .send(
            json!({"type": "conversation.item.truncate", "event_id": "evt_too_far",
                       "item_id": item_id, "content_index": 0, "audio_end_ms": sent_ms + 85}),
        )
        .await;
    let error = client.recv().await;
    client
        .send(json!({"type": "conversation.item.truncate",
                       "item_id": item_id, "content_index": 0, "audio_end_ms": 1000}))
        .await;
    let truncated = client.recv().await;

    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "invalid_value");
    assert_eq!(error["error"]["event_id"], "evt_too_far");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audio_end_ms")
    );
    assert_eq!(
        truncated,
        json!({"type": "conversation.item.truncated", "event_id": truncated["event_id"],
               "item_id": item_id, "content_index": 0, "audio_end_ms": 1000})
    );
    // Once truncated, the item is 1000 ms long.
    client
        .send(json!({"type": "conversation.item.truncate",
                       "item_id": item_id, "content_index": 0, "audio_end_ms": 1200}))
        .await;
    assert_eq!(client.recv().await["type"], "error");
}

#[tokio::test]
async fn an_exhausted_script_asks_if_it_can_help_further() {
    let double = Double::start(Script::default()).await.unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    client
        .send(json!({"type": "response.create",
                       "response": {"instructions": "Întreabă dacă mai poți ajuta."}}))
        .await;
    let events = client.until("response.done").await;

    let done = &events.last().unwrap()["response"];
    assert_eq!(done["output"][0]["content"][0]["transcript"], FALLBACK_SAY);
    assert_eq!(audio_of(&events).len(), 1_500 * 8);
}

// ---------------------------------------------------------------- drops and reconnects

#[tokio::test]
async fn drops_close_the_socket_and_a_reconnect_continues_the_script() {
    let double = Double::start(script(
        r#"{"responses": [
              {"say": {"text": "Unu.", "ms": 200}},
              {"drop": "before"},
              {"say": {"text": "Trei.", "ms": 200}, "drop": "after"},
              {"say": {"text": "Patru.", "ms": 200}}
           ]}"#,
    ))
    .await
    .unwrap();
    let mut first = connect(&double).await;
    let first_session = first.start_pcmu_session(VAD()).await;
    first.send(json!({"type": "response.create"})).await;
    first.until("response.done").await;

    first.send(json!({"type": "response.create"})).await;
    let dropped = tokio::time::timeout(WAIT, first.ws.next()).await.unwrap();

    assert!(
        matches!(
            dropped,
            Some(Err(WsError::Protocol(_))) | Some(Err(WsError::Io(_))) | None
        ),
        "expected an abrupt close, got {dropped:?}"
    );

    let mut second = connect(&double).await;
    let second_session = second.start_pcmu_session(VAD()).await;
    assert_ne!(
        first_session["session"]["id"],
        second_session["session"]["id"]
    );
    second.send(json!({"type": "response.create"})).await;
    let events = second.until("response.done").await;
    assert_eq!(
        events.last().unwrap()["response"]["output"][0]["content"][0]["transcript"],
        "Trei."
    );
    let after = tokio::time::timeout(WAIT, second.ws.next()).await.unwrap();
    assert!(
        !matches!(after, Some(Ok(Message::Close(_)))),
        "no close frame: {after:?}"
    );
    assert!(!matches!(after, Some(Ok(Message::Text(_)))), "{after:?}");

    let mut third = connect(&double).await;
    third.start_pcmu_session(VAD()).await;
    third.send(json!({"type": "response.create"})).await;
    let events = third.until("response.done").await;
    assert_eq!(
        events.last().unwrap()["response"]["output"][0]["content"][0]["transcript"],
        "Patru."
    );
    assert_eq!(double.connections(), 3);
}

// ---------------------------------------------------------------- conversation and errors

#[tokio::test]
async fn a_restored_conversation_is_chained_item_by_item() {
    let double = Double::start(Script::default()).await.unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    client
        .send(
            json!({"type": "conversation.item.create", "item": {"type": "message",
        "role": "user", "content": [{"type": "input_text", "text": "Aș dori o programare."}]}}),
        )
        .await;
    let user = client.until("conversation.item.done").await;
    client
        .send(
            json!({"type": "conversation.item.create", "item": {"type": "message",
        "role": "assistant", "content": [{"type": "output_text", "text": "Pentru ce serviciu?"}]}}),
        )
        .await;
    let assistant = client.until("conversation.item.done").await;

    assert_eq!(user[0]["type"], "conversation.item.added");
    assert_eq!(user[0]["previous_item_id"], Value::Null);
    assert_eq!(assistant[0]["previous_item_id"], user[0]["item"]["id"]);
    assert_eq!(
        assistant[0]["item"]["content"][0]["text"],
        "Pentru ce serviciu?"
    );
    assert_eq!(assistant[0]["item"]["status"], "completed");
}

#[tokio::test]
async fn unknown_events_get_an_error_and_the_connection_stays_up() {
    let double = Double::start(Script::default()).await.unwrap();
    let mut client = connect(&double).await;
    client.recv().await;

    client
        .send(json!({"type": "response.audio.delta", "event_id": "evt_beta"}))
        .await;
    let error = client.recv().await;
    client
        .send(
            json!({"type": "session.update", "session": {"type": "realtime",
        "input_audio_format": "g711_ulaw"}}),
        )
        .await;
    let beta_field = client.recv().await;
    client
        .send(json!({"type": "input_audio_buffer.commit"}))
        .await;
    let empty_commit = client.recv().await;
    client
        .send(json!({"type": "session.update", "session": {"type": "realtime"}}))
        .await;
    let updated = client.recv().await;

    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "type");
    assert_eq!(error["error"]["event_id"], "evt_beta");
    assert_eq!(beta_field["error"]["code"], "unknown_parameter");
    assert_eq!(beta_field["error"]["param"], "session.input_audio_format");
    assert_eq!(
        empty_commit["error"]["code"],
        "input_audio_buffer_commit_empty"
    );
    assert_eq!(updated["type"], "session.updated");
}

#[tokio::test]
async fn silence_after_the_agent_spoke_triggers_the_idle_timeout() {
    let double = Double::start(script(
        r#"{"responses": [{"say": {"text": "Bună ziua!", "ms": 500}},
                          {"say": {"text": "Mai sunteți acolo?", "audio": "07-mai-sunteti"}}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client
        .start_pcmu_session(json!({"type": "server_vad", "idle_timeout_ms": 1000}))
        .await;
    client.send(json!({"type": "response.create"})).await;
    client.until("response.done").await;

    client.append_pcmu(&[0xFF; 8 * 2_000]).await;
    let events = client.until("response.created").await;

    assert_eq!(
        types(&events)[..4],
        [
            "input_audio_buffer.timeout_triggered",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
        ]
    );
    // The clock starts when the 500 ms of agent audio would have finished playing.
    assert_eq!(events[0]["audio_start_ms"], 500);
    assert_eq!(events[0]["audio_end_ms"], 1500);
    let events = client.until("response.done").await;
    assert_eq!(audio_of(&events), agent_wav("07-mai-sunteti", "pcmu"));
}

#[tokio::test]
async fn the_journal_records_both_directions_and_wait_for_finds_events() {
    let double = Double::start(Script::default()).await.unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    let update = double
        .wait_for(|e| e["type"] == "session.update", WAIT)
        .await
        .expect("the session.update");
    let missing = double
        .wait_for(
            |e| e["type"] == "response.cancel",
            Duration::from_millis(50),
        )
        .await;

    assert_eq!(update["event_id"], "evt_update");
    assert!(missing.is_none());
    assert_eq!(double.received().len(), 1);
    assert_eq!(
        types(&double.sent()),
        ["session.created", "session.updated"]
    );
    assert!(
        double
            .wait_for_sent(|e| e["type"] == "session.updated", WAIT)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn the_shipped_scenario_loads_with_its_recordings() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/programare-tuns.json"
    );
    let script = Script::from_file(path)
        .unwrap()
        .with_vars(&[("tomorrow", "2026-12-15")]);

    assert_eq!(script.responses[1].calls[0].arguments["date"], "2026-12-15");
    Double::start(script)
        .await
        .expect("every recording is there");
}

#[tokio::test]
async fn a_missing_recording_fails_at_start() {
    let error = Double::start(script(
        r#"{"responses": [{"say": {"text": "x", "audio": "99-nu-exista"}}]}"#,
    ))
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}

// ---------------------------------------------------------------- the openai package as oracle

/// Every event of a scripted session (call, truncate, error, barge-in, restore) checked against
/// the `openai` package's pydantic models by `tests/oracle_events.py`.
#[tokio::test]
async fn events_match_the_openai_package() {
    let Some(python) = salon_realtime_double::oracle::python() else {
        return;
    };
    // Paced at 8x real time, so events sent mid-response reliably find it active.
    let options = Options {
        speed: Some(8.0),
        ..Options::default()
    };
    let double = Double::start_with(
        script(
            r#"{"caller_transcripts": ["Bună ziua! Aș dori o programare pentru tuns, mâine la zece."],
                "responses": [
                  {"say": {"text": "Bună ziua! Salon Voice Booking, cu ce vă pot ajuta?", "audio": "01-salut"}},
                  {"say": {"text": "Mă uit imediat în program.", "ms": 400},
                   "calls": [{"name": "check_appointment_availability",
                              "arguments": {"service": "tuns", "date": "{tomorrow}", "time": "10:00"}}]},
                  {"say": {"text": "Mâine avem liber la ora zece.", "audio": "02-oferta"}},
                  {"say": {"text": "Pe ce nume fac programarea?", "ms": 3000}}
                ]}"#,
        )
        .with_vars(&[("tomorrow", "2026-12-15")]),
        options,
    )
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;

    // Greeting, then the caller's request (VAD commit, transcript, response with a call).
    client
        .send(json!({"type": "response.create", "event_id": "evt_greet"}))
        .await;
    let greeting = client.until("response.done").await;
    client.append_pcmu(&caller_wav("01-cerere-tuns")).await;
    client.append_pcmu(&[0xFF; 8_000]).await;
    let turn = client.until("response.done").await;
    let call = turn
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .expect("a call");
    client
        .send(
            json!({"type": "conversation.item.create", "event_id": "evt_output", "item": {
        "type": "function_call_output", "call_id": call["call_id"],
        "output": "{\"free\":[\"10:00\",\"10:30\"]}"}}),
        )
        .await;
    client.until("conversation.item.done").await;
    client
        .send(json!({"type": "response.create", "response": {"instructions": "Oferă orele."}}))
        .await;
    client
        .send(json!({"type": "response.create", "event_id": "evt_busy"}))
        .await;
    let offer = client.until("response.done").await;
    assert!(offer.iter().any(|e| e["type"] == "error"));

    // Truncations: beyond the audio (error) and within it.
    let item_id = greeting[1]["item"]["id"].clone();
    client
        .send(
            json!({"type": "conversation.item.truncate", "event_id": "evt_trunc_bad",
                       "item_id": item_id, "content_index": 0, "audio_end_ms": 999_999}),
        )
        .await;
    client.until("error").await;
    client
        .send(
            json!({"type": "conversation.item.truncate", "event_id": "evt_trunc",
                       "item_id": item_id, "content_index": 0, "audio_end_ms": 1500}),
        )
        .await;
    client.until("conversation.item.truncated").await;

    // A restored conversation, a retrieve, a delete, a clear and a cancel.
    client
        .send(
            json!({"type": "conversation.item.create", "previous_item_id": item_id, "item": {
        "type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "Mă numesc Ion Popescu."}]}}),
        )
        .await;
    let restored = client.until("conversation.item.done").await.pop().unwrap();
    client
        .send(json!({"type": "conversation.item.retrieve", "item_id": restored["item"]["id"]}))
        .await;
    client.until("conversation.item.retrieved").await;
    client
        .send(json!({"type": "conversation.item.delete", "item_id": restored["item"]["id"]}))
        .await;
    client.until("conversation.item.deleted").await;
    client
        .send(json!({"type": "input_audio_buffer.clear"}))
        .await;
    client.until("input_audio_buffer.cleared").await;
    client.send(json!({"type": "response.cancel"})).await;
    client.until("error").await;
    client.send(json!({"type": "response.create"})).await;
    client.until("response.output_audio.delta").await;
    client.send(json!({"type": "response.cancel"})).await;
    let cancelled = client.until("response.done").await.pop().unwrap();
    assert_eq!(cancelled["response"]["status"], "cancelled");
    assert_eq!(cancelled["response"]["output"][0]["status"], "incomplete");

    let kinds: std::collections::BTreeSet<String> = double
        .sent()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "session.created",
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.truncated",
        "conversation.item.retrieved",
        "conversation.item.deleted",
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.done",
        "error",
    ] {
        assert!(
            kinds.contains(expected),
            "the session never sent {expected}"
        );
    }

    let checked = salon_realtime_double::oracle::check(&python, &double.received(), &double.sent());
    assert!(
        checked.is_ok(),
        "the openai package rejected events:\n{}",
        checked.unwrap_err()
    );
}

#[tokio::test]
async fn per_response_instructions_replace_the_sessions_for_that_response_only() {
    let double = Double::start(script(
        r#"{"responses": [{"say": {"text": "Bună!", "ms": 100}}, {"say": {"text": "La revedere!", "ms": 100}}, {"say": {"text": "Da.", "ms": 100}}]}"#,
    ))
    .await
    .unwrap();
    let mut client = connect(&double).await;
    client.start_pcmu_session(VAD()).await;
    client.send(json!({"type": "response.create"})).await;
    client.until("response.done").await;
    client
        .send(
            json!({"type": "response.create", "response": {"instructions": "Spune la revedere."}}),
        )
        .await;
    client.until("response.done").await;
    client
        .send(json!({"type": "response.create", "response": {}}))
        .await;
    client.until("response.done").await;
    assert_eq!(
        double.response_instructions(),
        [
            "Vorbește doar românește.",
            "Spune la revedere.",
            "Vorbește doar românește."
        ],
        "the one-off instructions ran without the session's rules, and only once"
    );
}

// ---------------------------------------------------------------- hooks for a harness

/// Chooses a script by the session's instructions and keeps the tool outputs the model got.
#[derive(Debug, Default)]
struct Harness {
    outputs: std::sync::Mutex<Vec<(String, String)>>,
}

impl salon_realtime_double::Scripts for Harness {
    fn script(&self, _connection: u64, instructions: &str) -> Option<Script> {
        instructions.contains("[apel 7]").then(|| {
            script(r#"{"responses": [{"say": {"text": "Scriptul apelului 7.", "ms": 200}}]}"#)
        })
    }
}

impl salon_realtime_double::Tap for Harness {
    fn function_output(&self, _connection: u64, call_id: &str, output: &str) {
        self.outputs
            .lock()
            .unwrap()
            .push((call_id.into(), output.into()));
    }
}

#[tokio::test]
async fn a_harness_chooses_a_connections_script_and_sees_the_tool_outputs() {
    let harness = std::sync::Arc::new(Harness::default());
    let options = Options {
        scripts: Some(harness.clone()),
        tap: Some(harness.clone()),
        ..Options::default()
    };
    let default = r#"{"responses": [{"say": {"text": "Scriptul dublurii.", "ms": 200}}]}"#;
    let double = Double::start_with(script(default), options).await.unwrap();

    // A session the harness does not know plays the double's own script.
    let mut other = connect(&double).await;
    other.start_pcmu_session(VAD()).await;
    other.send(json!({"type": "response.create"})).await;
    let done = other.until("response.done").await;
    assert_eq!(
        done.last().unwrap()["response"]["output"][0]["content"][0]["transcript"],
        "Scriptul dublurii."
    );

    // A session whose instructions name call 7 plays call 7's.
    let mut client = connect(&double).await;
    client.recv().await;
    client
        .send(
            json!({"type": "session.update", "session": {"type": "realtime",
            "instructions": "Vorbește doar românește. [apel 7]"}}),
        )
        .await;
    client.until("session.updated").await;
    client
        .send(json!({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": "call_1", "output": "{\"ok\":true}"}}))
        .await;
    client.until("conversation.item.done").await;
    client.send(json!({"type": "response.create"})).await;
    let done = client.until("response.done").await;
    assert_eq!(
        done.last().unwrap()["response"]["output"][0]["content"][0]["transcript"],
        "Scriptul apelului 7."
    );
    assert_eq!(
        *harness.outputs.lock().unwrap(),
        [("call_1".to_owned(), "{\"ok\":true}".to_owned())]
    );
}
