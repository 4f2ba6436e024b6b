//! The relay's client of the functions: session config, tools and the call summary, each
//! request signed with the relay secret.

use std::time::Duration;

use salon_wire::{
    CallSummary, SessionConfig, SessionRequest, ToolErrorCode, ToolReply, ToolRequest, auth, paths,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ClockHandle, Secret};

/// Why a request to the functions failed.
#[derive(Debug, thiserror::Error)]
pub enum FunctionsError {
    /// The functions could not be reached or did not answer in time.
    #[error("the functions are unreachable")]
    Transport(#[source] reqwest::Error),
    /// They answered with an HTTP error (authentication, a bad request, an outage).
    #[error("the functions answered HTTP {0}")]
    Status(u16),
    /// The answer did not decode.
    #[error("the functions' answer did not decode")]
    Decode(#[source] reqwest::Error),
}

/// A signed client of the functions.
#[derive(Clone)]
pub struct Functions {
    http: reqwest::Client,
    base: String,
    secret: Secret,
    /// Signs each request's timestamp.
    clock: ClockHandle,
}

/// What the model hears when the booking system cannot be reached.
pub const UNREACHABLE: &str =
    "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.";

impl Functions {
    /// Builds a client with a per-request `timeout`.
    pub fn new(base: &str, secret: Secret, timeout: Duration, clock: ClockHandle) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .tcp_nodelay(true)
            .build()
            .expect("a reqwest client builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret,
            clock,
        }
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        retry: bool,
    ) -> Result<Option<R>, FunctionsError> {
        let body = serde_json::to_vec(body).expect("wire types serialise");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ts = self.clock.now().as_second();
            // The signature binds the body to this call's route: replayed to another call or
            // tool, it fails.
            let signed = auth::Request {
                method: "POST",
                path,
                body: &body,
            };
            let sig = auth::sign(self.secret.expose().as_bytes(), ts, &signed);
            let sent = self
                .http
                .post(format!("{}{path}", self.base))
                .header(auth::HEADER_TIMESTAMP, ts.to_string())
                .header(auth::HEADER_SIGNATURE, sig)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    if r.status() == reqwest::StatusCode::NO_CONTENT {
                        return Ok(None);
                    }
                    return r.json().await.map(Some).map_err(FunctionsError::Decode);
                }
                Ok(r) => return Err(FunctionsError::Status(r.status().as_u16())),
                // One retry on transport errors: every write the functions do is idempotent.
                Err(e) if retry && attempt == 1 => {
                    tracing::warn!(error = %e, path, "retrying a request to the functions");
                }
                Err(e) => return Err(FunctionsError::Transport(e)),
            }
        }
    }

    /// Fetches the session config for a call.
    pub async fn session(
        &self,
        call_sid: &str,
        req: &SessionRequest,
    ) -> Result<SessionConfig, FunctionsError> {
        self.post(&paths::session(call_sid), req, true)
            .await?
            .ok_or(FunctionsError::Status(204))
    }

    /// Runs a tool; any failure becomes an error reply the model can apologise for.
    pub async fn tool(&self, call_sid: &str, name: &str, req: &ToolRequest) -> ToolReply {
        match self
            .post::<_, ToolReply>(&paths::tool(call_sid, name), req, true)
            .await
        {
            Ok(Some(reply)) => reply,
            Ok(None) => ToolReply::error(ToolErrorCode::FunctionsUnreachable, UNREACHABLE),
            Err(e) => {
                tracing::warn!(error = %e, tool = salon_wire::tools::known(name), "a tool call failed");
                ToolReply::error(ToolErrorCode::FunctionsUnreachable, UNREACHABLE)
            }
        }
    }

    /// Posts the call summary.
    pub async fn summary(
        &self,
        call_sid: &str,
        summary: &CallSummary,
    ) -> Result<(), FunctionsError> {
        self.post::<_, serde_json::Value>(&paths::summary(call_sid), summary, true)
            .await
            .map(|_| ())
    }
}
