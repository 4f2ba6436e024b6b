//! The functions' HTTP API, driven over real HTTP on loopback as Twilio and the relay would.

mod helpers;
mod local;
mod oracle;
mod relay;
mod spans;
mod trust;
mod twilio;
