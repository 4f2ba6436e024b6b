//! The HTTP face of the booking core.
