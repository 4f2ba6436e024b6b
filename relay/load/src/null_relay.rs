//! The floor a relay's cost is measured against: a "null relay" that carries the same message
//! pattern between the same sockets and does nothing else. It answers Twilio's stream, opens a
//! Realtime connection in the same audio format as the relay (in `pcm24`, converting by the
//! crudest means: each μ-law sample decoded and repeated three times up, every third sample
//! taken down, so the messages have the relay's sizes without its filters), and for each caller frame
//! sends one `input_audio_buffer.append`, for each audio delta one `media` and one `mark`, a
//! `clear` for each barge-in and an empty output for each tool call. It finds the few fields it
//! needs by searching the text instead of parsing it, checks nothing and keeps no state: what
//! the relay spends beyond this is the cost of being correct.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use salon_realtime_double::audio::{mulaw_decode, mulaw_encode};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::probe;
use crate::run::Mode;

/// The relay's own socket settings (`READ_BUFFER_BYTES` and `WRITE_BUFFER_BYTES` in
/// `relay/src/call/mod.rs`: 4 KiB read buffers, writes gathered until flushed), so the floor differs from the relay only in
/// what happens between the sockets.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
}

/// Serves Twilio streams on `listener`, each bridged to the Realtime API at `realtime_url`.
pub async fn serve(listener: TcpListener, realtime_url: String, mode: Mode) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let url = realtime_url.clone();
        tokio::spawn(async move {
            let _ = bridge(stream, &url, mode).await;
        });
    }
}

/// The text between `"key":"` and the next quote.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(key)? + key.len();
    let len = text[at..].find('"')?;
    Some(&text[at..at + len])
}

/// Caller audio (base64 μ-law) as the Realtime session reads it.
fn up(payload: &str, mode: Mode, scratch: &mut Vec<u8>, out: &mut String) {
    out.clear();
    match mode {
        Mode::Pcmu => out.push_str(payload),
        Mode::Pcm24 => {
            scratch.clear();
            if B64.decode_vec(payload, scratch).is_err() {
                return;
            }
            let pcm: Vec<u8> = scratch
                .iter()
                .flat_map(|&b| mulaw_decode(b).to_le_bytes().repeat(3))
                .collect();
            B64.encode_string(pcm, out);
        }
    }
}

/// Agent audio (base64 in the session's format) as Twilio plays it.
fn down(delta: &str, mode: Mode, scratch: &mut Vec<u8>, out: &mut String) {
    out.clear();
    match mode {
        Mode::Pcmu => out.push_str(delta),
        Mode::Pcm24 => {
            scratch.clear();
            if B64.decode_vec(delta, scratch).is_err() {
                return;
            }
            let mulaw: Vec<u8> = scratch
                .chunks_exact(6)
                .map(|s| mulaw_encode(i16::from_le_bytes([s[0], s[1]])))
                .collect();
            B64.encode_string(mulaw, out);
        }
    }
}

async fn bridge(stream: TcpStream, realtime_url: &str, mode: Mode) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let twilio = tokio_tungstenite::accept_async_with_config(stream, Some(socket_config()))
        .await
        .map_err(|e| e.to_string())?;
    let (mut to_twilio, mut from_twilio) = twilio.split();
    // Twilio's `start` names the call; everything before it is ignored.
    let (call_sid, stream_sid) = loop {
        let Some(Ok(Message::Text(text))) = from_twilio.next().await else {
            return Err("no start".into());
        };
        if text.contains(r#""event":"start""#)
            && let (Some(call), Some(stream)) = (
                field(&text, r#""callSid":""#),
                field(&text, r#""streamSid":""#),
            )
        {
            break (call.to_owned(), stream.to_owned());
        }
    };
    let mut request = format!("{realtime_url}?model=gpt-realtime")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "authorization",
        "Bearer sk-null-relay".parse().map_err(|_| "header")?,
    );
    let (upstream, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(socket_config()), true)
            .await
            .map_err(|e| e.to_string())?;
    let (mut to_model, mut from_model) = upstream.split();
    let format = match mode {
        Mode::Pcmu => json!({"type": "audio/pcmu"}),
        Mode::Pcm24 => json!({"type": "audio/pcm", "rate": 24000}),
    };
    let session = json!({"type": "session.update", "session": {
        "type": "realtime",
        "instructions": format!("Ești asistentul virtual al salonului. {}", probe::tag(&call_sid)),
        "audio": {
            "input": {"format": format,
                      "turn_detection": {"type": "server_vad", "silence_duration_ms": 500,
                                         "create_response": true, "interrupt_response": true}},
            "output": {"format": format, "voice": "marin"}
        },
        "tools": [{"type": "function", "name": "check_appointment_availability",
                   "description": "Verifică dacă o oră este liberă.",
                   "parameters": {"type": "object", "properties": {}}}]
    }});
    for event in [session, json!({"type": "response.create"})] {
        to_model
            .feed(Message::Text(event.to_string().into()))
            .await
            .map_err(|e| e.to_string())?;
    }
    to_model.flush().await.map_err(|e| e.to_string())?;
    let mut mark = 0u64;
    let (mut scratch, mut audio) = (Vec::new(), String::new());
    loop {
        tokio::select! {
            msg = from_twilio.next() => {
                let Some(Ok(Message::Text(text))) = msg else { break };
                if let Some(payload) = field(&text, r#""payload":""#) {
                    up(payload, mode, &mut scratch, &mut audio);
                    let append = format!(r#"{{"type":"input_audio_buffer.append","audio":"{audio}"}}"#);
                    to_model.send(Message::Text(append.into())).await.map_err(|e| e.to_string())?;
                } else if text.contains(r#""event":"stop""#) {
                    break;
                }
            }
            msg = from_model.next() => {
                let Some(Ok(Message::Text(text))) = msg else { break };
                match field(&text, r#""type":""#) {
                    Some("response.output_audio.delta") => {
                        let Some(delta) = field(&text, r#""delta":""#) else { continue };
                        down(delta, mode, &mut scratch, &mut audio);
                        mark += 1;
                        let media = format!(r#"{{"event":"media","streamSid":"{stream_sid}","media":{{"payload":"{audio}"}}}}"#);
                        let mark = format!(r#"{{"event":"mark","streamSid":"{stream_sid}","mark":{{"name":"{mark}"}}}}"#);
                        to_twilio.feed(Message::Text(media.into())).await.map_err(|e| e.to_string())?;
                        to_twilio.feed(Message::Text(mark.into())).await.map_err(|e| e.to_string())?;
                        to_twilio.flush().await.map_err(|e| e.to_string())?;
                    }
                    Some("input_audio_buffer.speech_started") => {
                        let clear = format!(r#"{{"event":"clear","streamSid":"{stream_sid}"}}"#);
                        to_twilio.send(Message::Text(clear.into())).await.map_err(|e| e.to_string())?;
                    }
                    Some("response.function_call_arguments.done") => {
                        let Some(call_id) = field(&text, r#""call_id":""#) else { continue };
                        let output = json!({"type": "conversation.item.create", "item": {
                            "type": "function_call_output", "call_id": call_id,
                            "output": r#"{"disponibil":true}"#}});
                        to_model.feed(Message::Text(output.to_string().into())).await.map_err(|e| e.to_string())?;
                        to_model.feed(Message::Text(r#"{"type":"response.create"}"#.into())).await.map_err(|e| e.to_string())?;
                        to_model.flush().await.map_err(|e| e.to_string())?;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = to_model.close().await;
    let _ = to_twilio.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm24_is_three_samples_up_for_each_one_down() {
        let (mut scratch, mut up24, mut back) = (Vec::new(), String::new(), String::new());
        // (Not 0x7F: μ-law has two zeros, and 0x7F comes back as 0xFF.)
        let mulaw = B64.encode([0x00u8, 0x80, 0xFF, 0x10]);
        up(&mulaw, Mode::Pcm24, &mut scratch, &mut up24);
        assert_eq!(B64.decode(&up24).unwrap().len(), 4 * 6);
        down(&up24, Mode::Pcm24, &mut scratch, &mut back);
        assert_eq!(back, mulaw);
        up(&mulaw, Mode::Pcmu, &mut scratch, &mut back);
        assert_eq!(back, mulaw);
    }

    #[test]
    fn fields_are_found_by_their_key() {
        let text = r#"{"event":"media","media":{"payload":"//8="},"streamSid":"MZ1"}"#;
        assert_eq!(field(text, r#""payload":""#), Some("//8="));
        assert_eq!(field(text, r#""streamSid":""#), Some("MZ1"));
        assert_eq!(field(text, r#""delta":""#), None);
    }
}
