//! Signed requests from the relay to the functions: HMAC-SHA256 over timestamp and body.
//!
//! `X-Relay-Signature` = hex HMAC-SHA256 keyed by `RELAY_SECRET` over `timestamp + "." + body`,
//! `X-Relay-Timestamp` = Unix seconds. A request outside ±5 minutes is refused, so a captured
//! request cannot be replayed later; the signature is compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Unix seconds when the request was signed.
pub const HEADER_TIMESTAMP: &str = "x-relay-timestamp";
/// Hex HMAC-SHA256 over `timestamp.body`.
pub const HEADER_SIGNATURE: &str = "x-relay-signature";
/// How far a timestamp may be from the receiver's clock, either way.
pub const WINDOW_SECS: i64 = 300;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A header is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// The timestamp is not a number.
    #[error("the timestamp is not Unix seconds")]
    BadTimestamp,
    /// The timestamp is outside the window: a replay, or a clock far off.
    #[error("the timestamp is {skew} s away from now")]
    Expired { skew: i64 },
    /// The signature does not match.
    #[error("the signature does not match")]
    BadSignature,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Signs a request body at `timestamp`, returning the hex signature.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    to_hex(&mac(secret, timestamp, body).finalize().into_bytes())
}

/// Checks a request's headers against its body at `now` (Unix seconds).
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), AuthError> {
    let timestamp = timestamp.ok_or(AuthError::Missing(HEADER_TIMESTAMP))?;
    let signature = signature.ok_or(AuthError::Missing(HEADER_SIGNATURE))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| AuthError::BadTimestamp)?;
    let skew = now.saturating_sub(ts);
    if skew.abs() > WINDOW_SECS {
        return Err(AuthError::Expired { skew });
    }
    let given = from_hex(signature.trim()).ok_or(AuthError::BadSignature)?;
    mac(secret, ts, body)
        .verify_slice(&given)
        .map_err(|_| AuthError::BadSignature)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"relay-secret-for-tests-0123456789";

    #[test]
    fn a_signed_request_verifies_inside_the_window() {
        let body = br#"{"call_id":"c1","arguments":"{}"}"#;
        let sig = sign(SECRET, 1_800_000_000, body);
        assert_eq!(sig.len(), 64);
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), body, 1_800_000_299),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), body, 1_799_999_701),
            Ok(())
        );
    }

    #[test]
    fn tampering_replays_and_wrong_secrets_are_refused() {
        let body = b"{}";
        let sig = sign(SECRET, 1_800_000_000, body);
        let at = 1_800_000_000;
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), b"{ }", at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(b"other", Some("1800000000"), Some(&sig), body, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000001"), Some(&sig), body, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), body, at + 301),
            Err(AuthError::Expired { skew: 301 })
        );
        assert_eq!(
            verify(SECRET, None, Some(&sig), body, at),
            Err(AuthError::Missing(HEADER_TIMESTAMP))
        );
        assert_eq!(
            verify(SECRET, Some("x"), Some(&sig), body, at),
            Err(AuthError::BadTimestamp)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some("zz"), body, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), None, body, at),
            Err(AuthError::Missing(HEADER_SIGNATURE))
        );
    }

    #[test]
    fn the_signature_is_the_published_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut m = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            to_hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
