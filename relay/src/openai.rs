//! The OpenAI Realtime API (GA interface) over WebSocket: connecting, and the client events
//! the relay sends.

use std::time::Duration;

use salon_relay_protocol::realtime::{AudioFormat, MAX_EVENT_BYTES};
use salon_wire::{SessionConfig, Speaker, TranscriptLine};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::audio::AudioMode;
use crate::call::{READ_BUFFER_BYTES, WRITE_BUFFER_BYTES};
use crate::config::Secret;
use crate::turn::TurnDetection;

/// A connection to the Realtime API.
pub type Upstream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The TLS client every call's connection to the Realtime API shares, built once: without it,
/// the socket library builds a root store and a client config per connection (held for the
/// call's length) and no connection can resume an earlier one's TLS session.
#[derive(Clone)]
pub struct Tls(std::sync::Arc<rustls::ClientConfig>);

impl Tls {
    /// Trusts the built-in web roots (Mozilla's, compiled in), as the deployed relay does.
    pub fn web_roots() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self::trusting(roots)
    }

    /// Trusts only `roots` (a test's own certificate authority).
    pub fn trusting(roots: rustls::RootCertStore) -> Self {
        // The provider is named, not taken from the process default, so a test (which installs
        // none) and the binary (which installs ring) build the same client.
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Self(std::sync::Arc::new(config))
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

/// Why the Realtime API could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the Realtime API")]
pub struct ConnectError(#[source] pub tokio_tungstenite::tungstenite::Error);

/// Per-socket buffers sized for one call's events, not tungstenite's 128 KiB defaults (writes
/// gather until the call flushes its batch: [`WRITE_BUFFER_BYTES`]), and messages bounded at the
/// largest legitimate event ([`MAX_EVENT_BYTES`]) instead of 64 MiB.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(Some(MAX_EVENT_BYTES))
        .max_frame_size(Some(MAX_EVENT_BYTES))
}

/// Opens one connection: `{url}?model=…` with the bearer key, no beta header.
pub async fn connect(
    url: &str,
    model: &str,
    key: &Secret,
    tls: &Tls,
) -> Result<Upstream, ConnectError> {
    let mut request = format!("{url}?model={model}")
        .into_client_request()
        .map_err(ConnectError)?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
        .map_err(|e| ConnectError(tokio_tungstenite::tungstenite::Error::HttpFormat(e.into())))?;
    request.headers_mut().insert("authorization", bearer);
    // Nagle would hold small audio frames back by tens of milliseconds.
    let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(socket_config()),
        true,
        Some(tokio_tungstenite::Connector::Rustls(tls.0.clone())),
    )
    .await
    .map_err(ConnectError)?;
    Ok(socket)
}

/// Connects, retrying with backoff until `budget` is spent (about 3 s at call start, so the
/// caller hears the fallback quickly if OpenAI is down).
pub async fn connect_with_retry(
    url: &str,
    model: &str,
    key: &Secret,
    tls: &Tls,
    budget: Duration,
) -> Result<Upstream, ConnectError> {
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = Duration::from_millis(100);
    loop {
        let attempt = tokio::time::timeout_at(deadline, connect(url, model, key, tls)).await;
        match attempt {
            Ok(Ok(socket)) => return Ok(socket),
            Ok(Err(e)) => {
                tracing::warn!(error = %e.0, "the Realtime API refused or failed a connection");
                if tokio::time::Instant::now() + pause >= deadline {
                    return Err(e);
                }
            }
            Err(_) => {
                return Err(ConnectError(tokio_tungstenite::tungstenite::Error::Io(
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connecting to the Realtime API timed out",
                    ),
                )));
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(800));
    }
}

/// The session for a call: instructions, tools, Romanian transcription, server VAD, formats.
pub fn session_update(
    session: &SessionConfig,
    mode: AudioMode,
    turn: TurnDetection,
    model: &str,
    voice: &str,
) -> Value {
    json!({
        "type": "session.update",
        "session": {
            "type": "realtime",
            "model": model,
            "output_modalities": ["audio"],
            "instructions": session.instructions,
            "audio": {
                "input": {
                    "format": mode.openai_format(),
                    "transcription": {"model": session.transcription_model, "language": session.language},
                    "turn_detection": turn.to_json()
                },
                "output": {"format": mode.openai_format(), "voice": voice}
            },
            "tools": session.tools,
            "tool_choice": "auto"
        }
    })
}

/// Returns whether `session.updated` echoes the audio formats the relay asked for.
pub fn formats_match(
    input: Option<&AudioFormat>,
    output: Option<&AudioFormat>,
    mode: AudioMode,
) -> bool {
    let want = mode.openai_format();
    let same = |got: Option<&AudioFormat>| {
        got.is_some_and(|got| {
            want["type"] == got.kind.as_str()
                && (want.get("rate").is_none() || want["rate"].as_u64() == got.rate.map(u64::from))
        })
    };
    same(input) && same(output)
}

/// A client event the call sends the Realtime API, as the call's state machine decides it; the
/// call writes it as JSON ([`ClientEvent::into_json`]) in its outbox. Caller audio
/// (`input_audio_buffer.append`, fifty a second) is not one of these: the call writes it
/// directly, without allocating (`call::outbox`).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `session.update`, built by [`session_update`] (instructions, tools, formats, VAD).
    SessionUpdate(Value),
    /// `conversation.item.truncate`: the assistant item cut to what the caller heard.
    Truncate { item_id: String, audio_end_ms: u64 },
    /// `conversation.item.create` with a tool's output.
    FunctionOutput { call_id: String, output: String },
    /// `response.create`, with instructions for this response only when set.
    ResponseCreate { instructions: Option<String> },
    /// `conversation.item.create` replaying a line of the conversation into a new session.
    Restore(TranscriptLine),
    /// `conversation.item.create` replaying a tool call the model made (its output follows as
    /// a [`ClientEvent::FunctionOutput`]), so a new session neither asks again nor books twice.
    RestoreCall {
        call_id: String,
        name: String,
        arguments: String,
    },
}

impl ClientEvent {
    /// The event as the Realtime API reads it.
    pub fn into_json(self) -> Value {
        match self {
            Self::SessionUpdate(v) => v,
            Self::Truncate {
                item_id,
                audio_end_ms,
            } => truncate(&item_id, audio_end_ms),
            Self::FunctionOutput { call_id, output } => function_output(&call_id, &output),
            Self::ResponseCreate { instructions } => response_create(instructions.as_deref()),
            Self::Restore(line) => restore_item(&line),
            Self::RestoreCall {
                call_id,
                name,
                arguments,
            } => json!({"type": "conversation.item.create", "item": {
                "type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}}),
        }
    }
}

/// Cuts the assistant item to what the caller heard.
pub fn truncate(item_id: &str, audio_end_ms: u64) -> Value {
    json!({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": audio_end_ms})
}

/// A tool's result.
pub fn function_output(call_id: &str, output: &str) -> Value {
    json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output}})
}

/// Asks for a response, optionally with instructions for this response only.
pub fn response_create(instructions: Option<&str>) -> Value {
    match instructions {
        Some(i) => json!({"type": "response.create", "response": {"instructions": i}}),
        None => json!({"type": "response.create"}),
    }
}

/// A line of the conversation so far, replayed into a new session after a reconnect.
pub fn restore_item(line: &TranscriptLine) -> Value {
    let item = match line.speaker {
        Speaker::Caller => {
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": line.text}]})
        }
        Speaker::Agent => {
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": line.text}]})
        }
    };
    json!({"type": "conversation.item.create", "item": item})
}
