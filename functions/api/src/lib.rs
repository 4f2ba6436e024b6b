//! The HTTP face of the booking core: Twilio's webhooks and the relay's API, as one axum
//! `Router` that the Lambda binaries serve with `lambda_http::run` and a local run with
//! [`serve::serve`] (hyper, with a header-read timeout).
#![forbid(unsafe_code)]

pub mod analytics;
pub mod app;
pub mod config;
pub mod console;
pub mod owner;
pub mod prompt;
pub mod relay_api;
pub mod serve;
pub mod sms;
pub mod speech;
pub mod telemetry;
pub mod tools;
pub mod twilio;

pub use app::{AppState, open_store, router};
