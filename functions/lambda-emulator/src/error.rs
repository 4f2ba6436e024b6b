//! What can go wrong starting a function or invoking it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::runtime_api::MAX_RESPONSE_BYTES;

/// A failure a runtime reported: Lambda's `errorType` and `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// Why an invocation gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvocationError {
    /// The runtime reported a failure in its init phase (`/runtime/init/error`).
    #[error("the function failed to start and reported it: {0}")]
    Init(FunctionError),
    /// The runtime did not ask for an event in time (Lambda allows an init phase 10 s).
    #[error("the function did not ask for its first event within {0:?}")]
    InitTimeout(Duration),
    /// The runtime reported that the handler failed (`/runtime/invocation/{id}/error`).
    #[error("the function failed: {0}")]
    Function(FunctionError),
    /// No answer within the function's timeout.
    #[error("the function did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer is over what Lambda takes from a synchronous invocation.
    #[error("the response is {bytes} bytes, over Lambda's limit of {MAX_RESPONSE_BYTES}")]
    ResponseTooLarge { bytes: usize },
    /// The answer could not be read off the runtime's connection.
    #[error("the response could not be read: {0}")]
    ResponseUnreadable(String),
    /// The runtime answered in streaming mode, which an HTTP API integration does not take.
    #[error(
        "the function streamed its response; API Gateway HTTP APIs take buffered responses only"
    )]
    Streaming,
    /// The answer is not JSON: Lambda hands API Gateway the payload as a JSON document.
    #[error("the response is not JSON ({source}): {body}")]
    NotJson {
        #[source]
        source: serde_json::Error,
        body: String,
    },
    /// The process exited (Lambda's `Runtime.ExitError`); `log` is the end of its output.
    #[error("the function's process exited ({status}){}\n{log}", init_error(.init))]
    Exited {
        status: String,
        init: Option<FunctionError>,
        log: String,
    },
    /// The Runtime API stopped before the runtime answered.
    #[error("the invocation was lost: the Runtime API stopped before the function answered")]
    Lost,
}

fn init_error(init: &Option<FunctionError>) -> String {
    init.as_ref()
        .map(|e| format!(" after reporting an init error: {e}"))
        .unwrap_or_default()
}

/// Why a function could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No loopback port for its Runtime API.
    #[error("cannot serve the Runtime API on loopback")]
    Listen(#[source] io::Error),
    /// No temporary directory for its task root.
    #[error("cannot make the function's task root")]
    TaskRoot(#[source] io::Error),
    /// The runner named (e.g. `qemu-aarch64-static`) is not on `PATH`.
    #[error("the runner {0:?} is not on PATH")]
    RunnerNotFound(String),
    /// The program (or its runner) would not start.
    #[error("cannot start {}", .program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
}
