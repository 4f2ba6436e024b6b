//! The relay's sans-I/O audio path: μ-law, resampling, framing, and the per-call pipelines.
//!
//! Nothing here does I/O or knows about WebSockets or base64: each type takes byte or sample
//! slices and writes into buffers it allocated at construction, so the per-frame work of a call
//! does not allocate.

pub mod chunker;
pub mod mulaw;
pub mod pipeline;
pub mod resample;

pub use chunker::OutboundChunker;
pub use pipeline::{
    AudioMode, AudioModeError, InboundAudio, InboundPcm24, OutboundAudio, OutboundPcm24,
};
pub use resample::{Downsampler, Upsampler};
