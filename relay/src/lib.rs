//! The relay: Twilio Media Streams to the OpenAI Realtime API, one task per call.
//!
//! Shaped like mini-redis: [`server::run`] owns the listeners and takes the shutdown signal as
//! an argument; each call runs in its own task with all of its state ([`call`]); streams wait
//! for admission under their own cap and a semaphore caps admitted calls; shutdown drains
//! calls in progress, still answering `/health`, before the process exits. The messages of
//! both peers are parsed by the I/O-free `salon-relay-protocol` crate ([`twilio`], [`realtime`]).
#![forbid(unsafe_code)]

pub mod audio;
pub mod call;
pub mod config;
pub mod functions;
mod http;
pub mod metrics;
pub mod openai;
mod pending;
#[cfg(test)]
mod platform_tests;
pub mod server;
mod throttle;
pub mod turn;

pub use config::Config;
pub use salon_relay_protocol::{realtime, twilio};
pub use server::run;
