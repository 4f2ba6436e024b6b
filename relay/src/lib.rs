//! The relay: Twilio Media Streams to the OpenAI Realtime API, one task per call.
//!
//! Shaped like mini-redis: [`server::run`] owns the listener and takes the shutdown signal as
//! an argument; each call runs in its own task with all of its state ([`call`]); a semaphore
//! caps concurrent calls; shutdown drains calls in progress before the process exits.
#![forbid(unsafe_code)]

pub mod audio;
pub mod call;
pub mod config;
pub mod functions;
pub mod metrics;
pub mod openai;
pub mod server;
pub mod twilio;

pub use config::Config;
pub use server::run;
