//! What the scripted calls share.

use salon_caller_sim::Report;

/// A call SID from a number.
pub fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

/// The TwiML Twilio got when the stream ended: a plain hang-up, or the apology.
pub fn hung_up_cleanly(report: &Report) -> bool {
    let after = report
        .after_stream
        .as_deref()
        .expect("the stream-ended webhook was called");
    after.contains("<Hangup/>") && !after.contains("<Say")
}
