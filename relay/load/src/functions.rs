//! A stand-in for the functions' relay API, quick and in-process: each call's session config
//! carries its tag (so the double can tell the calls apart), tools answer at once, and each
//! call's summary is kept for the report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use salon_wire::{SessionConfig, ToolDefinition, ToolReply};
use serde_json::{Value, json};

use crate::probe;

/// The greeting the session config asks for.
pub(crate) const GREETING: &str =
    "Bună ziua! Salon Voice Booking, asistentul virtual al salonului. Cu ce vă pot ajuta?";

/// What the functions saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Each call's summary outcome, by call SID.
    pub outcomes: HashMap<String, String>,
    /// Tool calls answered.
    pub tools: usize,
    /// Session configs given.
    pub sessions: usize,
}

#[derive(Clone, Default)]
struct Functions {
    seen: Arc<Mutex<Seen>>,
}

/// Serves the functions on `listener`; returns what they see.
pub(crate) fn serve(listener: tokio::net::TcpListener) -> Arc<Mutex<Seen>> {
    let functions = Functions::default();
    let seen = functions.seen.clone();
    let app = Router::new()
        .route("/api/relay/calls/{call}/session", post(session))
        .route("/api/relay/calls/{call}/tools/{name}", post(tool))
        .route("/api/relay/calls/{call}/summary", post(summary))
        .with_state(functions);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    seen
}

fn seen(f: &Functions) -> std::sync::MutexGuard<'_, Seen> {
    f.seen.lock().unwrap_or_else(|p| p.into_inner())
}

async fn session(State(f): State<Functions>, Path(call): Path<String>) -> Response {
    seen(&f).sessions += 1;
    let tool = ToolDefinition {
        kind: "function".into(),
        name: "check_appointment_availability".into(),
        description: "Verifică dacă o oră este liberă.".into(),
        parameters: json!({"type": "object", "properties": {}}),
    };
    Json(SessionConfig {
        instructions: format!(
            "Ești asistentul virtual al salonului. {}",
            probe::tag(&call)
        ),
        greeting: GREETING.into(),
        transcription_model: "gpt-4o-transcribe".into(),
        language: "ro".into(),
        tools: vec![tool],
    })
    .into_response()
}

async fn tool(State(f): State<Functions>) -> Response {
    seen(&f).tools += 1;
    Json(ToolReply::Ok(json!({"disponibil": true, "ora": "10:00"}))).into_response()
}

async fn summary(
    State(f): State<Functions>,
    Path(call): Path<String>,
    Json(body): Json<Value>,
) -> StatusCode {
    let outcome = body["outcome"].as_str().unwrap_or("unknown").to_owned();
    seen(&f).outcomes.insert(call, outcome);
    StatusCode::NO_CONTENT
}
