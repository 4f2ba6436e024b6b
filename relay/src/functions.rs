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
    /// The functions could not be reached: no attempt got a connection.
    #[error("the functions are unreachable")]
    Transport(#[source] reqwest::Error),
    /// A request may have reached the functions, but no answer came back (a timeout, a
    /// connection cut): what it asked for may have been done.
    #[error("the functions did not answer")]
    Unanswered(#[source] reqwest::Error),
    /// They answered with an HTTP error (authentication, a bad request, an outage).
    #[error("the functions answered HTTP {0}")]
    Status(u16),
    /// The answer did not decode.
    #[error("the functions' answer did not decode")]
    Decode(#[source] serde_json::Error),
}

/// A signed client of the functions.
#[derive(Clone)]
pub struct Functions {
    http: reqwest::Client,
    base: String,
    secret: Secret,
    /// Signs each request's timestamp.
    clock: ClockHandle,
    /// Each request's limit.
    timeout: Duration,
}

/// What the model hears when the booking system cannot be reached.
pub const UNREACHABLE: &str =
    "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.";

/// How long a call's start waits for its session while the functions do not answer (a restart,
/// a network blip): the caller hears nothing yet, so briefly; past it, Twilio apologises.
const SESSION_BUDGET: Duration = Duration::from_secs(2);

/// The least time worth giving another attempt: a warm function answers well within it.
const SHORTEST_ATTEMPT: Duration = Duration::from_millis(500);

/// What the model hears when a booking, a move or a cancellation was sent and no answer came
/// back: it may have been made. It checks before telling the caller anything.
pub const OUTCOME_UNKNOWN: &str = "Sistemul de programări nu a răspuns, deci nu știm sigur dacă modificarea s-a făcut. Nu spune că a reușit și nici că a eșuat: verifică mai întâi cu list_client_appointments. Dacă nici verificarea nu merge, spune-i apelantului că nu putem confirma acum și să sune din nou puțin mai târziu.";

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
            timeout,
        }
    }

    /// A tool call is retried for twice the request timeout: what a call's end waits for a
    /// tool in flight (`driver::finish`). The caller hears the hold line meanwhile.
    fn tool_budget(&self) -> Duration {
        self.timeout * 2
    }

    /// The summary is retried for one request timeout: the caller has heard the goodbye and
    /// the line stays open, silent, until it is posted (the stream-ended webhook reads it).
    fn summary_budget(&self) -> Duration {
        self.timeout
    }

    /// Posts `body`, signed. A request that gets no answer is sent again at once, then after
    /// 0.2, 0.4, 0.8 s and every 0.8 s, while `budget` (from the first attempt) still leaves
    /// a later attempt [`SHORTEST_ATTEMPT`]; each later attempt gets what is left of it, so
    /// all of them end within it (the first may take the whole request timeout).
    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        budget: Duration,
    ) -> Result<Option<R>, FunctionsError> {
        let body = serde_json::to_vec(body).expect("wire types serialise");
        let began = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        // Whether some attempt may have reached the functions: only a refused connection
        // surely did not.
        let mut maybe_reached = false;
        loop {
            attempt += 1;
            // The first attempt gets the full timeout (as the session's do); a later one what
            // is left of the budget, and never less than a warm function needs.
            let limit = if attempt > 1 {
                budget
                    .saturating_sub(began.elapsed())
                    .max(SHORTEST_ATTEMPT)
                    .min(self.timeout)
            } else {
                self.timeout
            };
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
                .timeout(limit)
                .send()
                .await;
            let error = match sent {
                Ok(r) if r.status().is_success() => {
                    if r.status() == reqwest::StatusCode::NO_CONTENT {
                        return Ok(None);
                    }
                    // An answer cut short is a lost answer, retried like one.
                    match r.bytes().await {
                        Ok(body) => {
                            return serde_json::from_slice(&body)
                                .map(Some)
                                .map_err(FunctionsError::Decode);
                        }
                        Err(e) => e,
                    }
                }
                Ok(r) => return Err(FunctionsError::Status(r.status().as_u16())),
                Err(e) => e,
            };
            maybe_reached |= !error.is_connect();
            // Transport errors are retried (every write the functions do is idempotent: a
            // booking sent again is recognised and answered as the first was): a booking whose
            // answers were all lost exists unconfirmed, and a call whose session never comes
            // ends in an apology. The second attempt always goes; later ones while the budget
            // still leaves them time to be answered.
            let pause = Duration::from_millis(100 * (1 << (attempt - 1).min(3)));
            let again = attempt == 1 || began.elapsed() + pause + SHORTEST_ATTEMPT <= budget;
            if !again {
                return Err(if maybe_reached {
                    FunctionsError::Unanswered(error)
                } else {
                    FunctionsError::Transport(error)
                });
            }
            tracing::warn!(
                error = %causes(&error),
                path,
                attempt,
                "retrying a request to the functions"
            );
            if attempt > 1 {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// Fetches the session config for a call.
    pub async fn session(
        &self,
        call_sid: &str,
        req: &SessionRequest,
    ) -> Result<SessionConfig, FunctionsError> {
        self.post(&paths::session(call_sid), req, SESSION_BUDGET)
            .await?
            .ok_or(FunctionsError::Status(204))
    }

    /// Runs a tool; any failure becomes an error reply the model can apologise for.
    pub async fn tool(&self, call_sid: &str, name: &str, req: &ToolRequest) -> ToolReply {
        match self
            .post::<_, ToolReply>(&paths::tool(call_sid, name), req, self.tool_budget())
            .await
        {
            Ok(Some(reply)) => reply,
            Ok(None) => ToolReply::error(ToolErrorCode::FunctionsUnreachable, UNREACHABLE),
            Err(e) => {
                tracing::warn!(error = %causes(&e), tool = salon_wire::tools::known(name), "a tool call failed");
                // A change to the book that may have been made is never reported as failed:
                // the caller would hang up thinking there is no appointment when there is.
                if matches!(e, FunctionsError::Unanswered(_))
                    && salon_wire::tools::changes_the_book(name)
                {
                    ToolReply::error(ToolErrorCode::OutcomeUnknown, OUTCOME_UNKNOWN)
                } else {
                    ToolReply::error(ToolErrorCode::FunctionsUnreachable, UNREACHABLE)
                }
            }
        }
    }

    /// Posts the call summary.
    pub async fn summary(
        &self,
        call_sid: &str,
        summary: &CallSummary,
    ) -> Result<(), FunctionsError> {
        self.post::<_, serde_json::Value>(&paths::summary(call_sid), summary, self.summary_budget())
            .await
            .map(|_| ())
    }
}

/// An error with its causes, for the log: reqwest's own message names only the URL.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
