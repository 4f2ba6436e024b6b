//! The one source of "now", defined in the wire crate so the relay, which depends on nothing
//! else of the functions, injects the same clock.

pub use salon_wire::clock::{Clock, ManualClock, OffsetClock, SystemClock};
