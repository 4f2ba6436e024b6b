//! Signed requests from the relay to the functions: HMAC-SHA256 over timestamp, method, path
//! and body.
//!
//! `X-Relay-Signature` = hex HMAC-SHA256 keyed by `RELAY_SECRET` over
//! `timestamp + "\n" + METHOD + "\n" + path + "\n" + body`, `X-Relay-Timestamp` = Unix seconds.
//! The path is the route from `/api/relay/` on ([`route_path`]), so a request signed for one
//! call or tool fails on any other, whatever prefix the deployment puts in front. A request
//! outside ±5 minutes is refused, so a captured request cannot be replayed later; an exact
//! repeat inside the window changes nothing, because every relay write is idempotent. The
//! signature is compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Unix seconds when the request was signed.
pub const HEADER_TIMESTAMP: &str = "x-relay-timestamp";
/// Hex HMAC-SHA256 over `timestamp\nMETHOD\npath\nbody`.
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

/// Where the signed part of a path begins.
pub const ROUTE_PREFIX: &str = "/api/relay/";

/// What a signature covers besides the timestamp: the request's method, route and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// `POST` for every relay request.
    pub method: &'a str,
    /// The path as sent or received; only the part from [`ROUTE_PREFIX`] on is signed.
    pub path: &'a str,
    pub body: &'a [u8],
}

/// Returns the part of `path` that is signed: from `/api/relay/` on, so a stage or base path
/// in front of it (`/prod/api/relay/…`) does not change the signature. A path without the
/// prefix is signed whole.
pub fn route_path(path: &str) -> &str {
    path.find(ROUTE_PREFIX).map_or(path, |i| &path[i..])
}

fn mac(secret: &[u8], timestamp: i64, req: &Request<'_>) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(req.method.to_ascii_uppercase().as_bytes());
    mac.update(b"\n");
    mac.update(route_path(req.path).as_bytes());
    mac.update(b"\n");
    mac.update(req.body);
    mac
}

/// Signs a request at `timestamp`, returning the hex signature.
pub fn sign(secret: &[u8], timestamp: i64, req: &Request<'_>) -> String {
    to_hex(&mac(secret, timestamp, req).finalize().into_bytes())
}

/// Checks a request's headers against its method, path and body at `now` (Unix seconds).
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    req: &Request<'_>,
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
    mac(secret, ts, req)
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
    const PATH: &str =
        "/api/relay/calls/CA0123456789abcdef0123456789abcdef/tools/create_voice_appointment";

    fn post(path: &'static str, body: &'static [u8]) -> Request<'static> {
        Request {
            method: "POST",
            path,
            body,
        }
    }

    #[test]
    fn a_signed_request_verifies_inside_the_window() {
        let req = post(PATH, br#"{"call_id":"c1","arguments":"{}"}"#);
        let sig = sign(SECRET, 1_800_000_000, &req);
        assert_eq!(sig.len(), 64);
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), &req, 1_800_000_299),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), &req, 1_799_999_701),
            Ok(())
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_the_designs_string() {
        let req = post(PATH, b"{}");
        let mut m = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
        m.update(format!("1800000000\nPOST\n{PATH}\n{{}}").as_bytes());
        assert_eq!(
            sign(SECRET, 1_800_000_000, &req),
            to_hex(&m.finalize().into_bytes())
        );
    }

    #[test]
    fn another_path_or_method_is_refused() {
        let req = post(PATH, b"{}");
        let sig = sign(SECRET, 1_800_000_000, &req);
        let at = 1_800_000_000;
        let other_call = post(
            "/api/relay/calls/CAffffffffffffffffffffffffffffffff/tools/create_voice_appointment",
            b"{}",
        );
        let other_tool = post(
            "/api/relay/calls/CA0123456789abcdef0123456789abcdef/tools/cancel_appointment",
            b"{}",
        );
        let get = Request {
            method: "GET",
            ..req
        };
        for forged in [other_call, other_tool, get] {
            assert_eq!(
                verify(SECRET, Some("1800000000"), Some(&sig), &forged, at),
                Err(AuthError::BadSignature),
                "{forged:?}"
            );
        }
    }

    #[test]
    fn a_prefix_in_front_of_the_route_is_not_signed() {
        assert_eq!(route_path(&format!("/prod{PATH}")), PATH);
        assert_eq!(route_path("/health"), "/health");
        let sig = sign(SECRET, 1_800_000_000, &post(PATH, b"{}"));
        let staged = Request {
            method: "post",
            path: "/prod/api/relay/calls/CA0123456789abcdef0123456789abcdef/tools/create_voice_appointment",
            body: b"{}",
        };
        assert_eq!(
            verify(
                SECRET,
                Some("1800000000"),
                Some(&sig),
                &staged,
                1_800_000_000
            ),
            Ok(())
        );
    }

    #[test]
    fn tampering_replays_and_wrong_secrets_are_refused() {
        let req = post(PATH, b"{}");
        let sig = sign(SECRET, 1_800_000_000, &req);
        let at = 1_800_000_000;
        assert_eq!(
            verify(
                SECRET,
                Some("1800000000"),
                Some(&sig),
                &post(PATH, b"{ }"),
                at
            ),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(b"other", Some("1800000000"), Some(&sig), &req, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000001"), Some(&sig), &req, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some(&sig), &req, at + 301),
            Err(AuthError::Expired { skew: 301 })
        );
        assert_eq!(
            verify(SECRET, None, Some(&sig), &req, at),
            Err(AuthError::Missing(HEADER_TIMESTAMP))
        );
        assert_eq!(
            verify(SECRET, Some("x"), Some(&sig), &req, at),
            Err(AuthError::BadTimestamp)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), Some("zz"), &req, at),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, Some("1800000000"), None, &req, at),
            Err(AuthError::Missing(HEADER_SIGNATURE))
        );
    }

    #[test]
    fn the_mac_is_the_published_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut m = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            to_hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
