//! The relay's load harness: N simulated Twilio calls, streaming real-time 20 ms frames both
//! ways with turns, tool calls and barge-ins, against the relay binary (or the null relay, the
//! floor) and an in-process Realtime double pacing its replies in real time.
//!
//! [`run`] starts the functions' stand-in and the double in this process, the relay (or the
//! null relay) as a child process so its CPU time and memory can be read alone from `/proc`,
//! ramps the calls up, measures a window, hangs up and returns a [`Report`]: calls held, frames
//! lost each way, added latency each way (caller frame to double, double's first delta of a
//! reply to the caller's first frame of it, on this process's one clock), the relay's CPU per
//! call-second and memory per call, and the harness's own CPU and timer lateness, so a
//! saturated harness is never mistaken for a slow relay.
#![forbid(unsafe_code)]

mod caller;
mod functions;
pub mod null_relay;
mod probe;
mod run;
pub mod soak;
pub mod stats;

pub use run::{Mode, Options, Report, Target, run};
