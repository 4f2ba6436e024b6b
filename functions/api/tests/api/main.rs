//! The functions' HTTP API, driven over real HTTP on loopback as Twilio and the relay would.

mod budget;
mod console;
mod console_browser;
mod console_settings;
mod handover;
mod helpers;
mod holds;
mod local;
mod oracle;
mod owner_api;
mod relay;
mod sms;
mod spans;
mod stylists;
mod trust;
mod twilio;
mod waitlist;
