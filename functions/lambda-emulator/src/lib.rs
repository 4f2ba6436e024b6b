//! Runs Lambda binaries on this machine the way Lambda runs them, so tests can prove a
//! `bootstrap` works inside the runtime protocol and not only behind `axum::serve`.
//!
//! - [`RuntimeApi`]: the Lambda Runtime API (2018-06-01) on a loopback port: events are
//!   handed out on the runtime's long poll, answers and errors come back by request id.
//! - [`Function`]: a binary started as a child process with the environment Lambda gives it
//!   (and nothing else), wired to its own Runtime API, killed on drop.
//! - [`HttpApiRequest`] and [`HttpApiResponse`]: API Gateway HTTP API events and responses
//!   (payload format 2.0), as AWS documents them.
#![forbid(unsafe_code)]

mod apigw;
mod error;
mod function;
mod runtime_api;

pub use apigw::{HttpApiRequest, HttpApiResponse, HttpError, ResponseError, RouteMismatch};
pub use error::{FunctionError, InvocationError, StartError};
pub use function::{Function, FunctionSpec};
pub use runtime_api::{MAX_RESPONSE_BYTES, RuntimeApi};
