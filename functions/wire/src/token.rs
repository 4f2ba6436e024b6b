//! Stream tokens: proof that a media stream was started by our voice webhook, for this call,
//! this caller and this number.
//!
//! `token = base64url(callSid|business|caller|dialled|expiry) + "." + base64url(HMAC-SHA256(secret, payload))`,
//! with `caller` empty when there is no caller ID and `dialled` = Twilio's `To`, expiring two
//! minutes after issue. The relay checks it against `start.callSid` and the stream's
//! parameters before it opens anything upstream, so nobody else can open a stream and spend
//! the salon's OpenAI credit, and the caller's number is as trustworthy as Twilio's `From`,
//! never what the stream claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a token is valid after issue, in seconds.
pub const LIFETIME_SECS: i64 = 120;

/// The longest token accepted: five short fields and a MAC, with room to spare.
pub const MAX_TOKEN_LEN: usize = 512;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub call_sid: String,
    pub business: String,
    /// The caller ID in E.164, or empty when there is none (withheld, or not a number).
    pub caller: String,
    /// The number the caller dialled, in E.164.
    pub dialled: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not `payload.signature` in base64url, or a payload that is not five fields.
    #[error("malformed stream token")]
    Malformed,
    /// The signature does not match.
    #[error("stream token signature does not match")]
    BadSignature,
    /// Issued for another call.
    #[error("stream token is for another call")]
    WrongCall,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(payload);
    mac
}

/// Issues a token carrying `claims`. Fields must not contain `|` (ids and E.164 numbers
/// never do).
pub fn issue(secret: &[u8], claims: &Claims) -> String {
    let payload = format!(
        "{}|{}|{}|{}|{}",
        claims.call_sid, claims.business, claims.caller, claims.dialled, claims.expires_at
    );
    let sig = mac(secret, payload.as_bytes()).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

/// Checks a token for the call `call_sid` at `now` (Unix seconds).
pub fn verify(secret: &[u8], token: &str, call_sid: &str, now: i64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let (payload_b64, sig_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| TokenError::Malformed)?;
    // Check the signature before reading the payload: nothing unsigned is trusted.
    mac(secret, &payload)
        .verify_slice(&sig)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
    let mut parts = payload.split('|');
    let (Some(sid), Some(business), Some(caller), Some(dialled), Some(expiry), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    let expires_at: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
    if sid != call_sid {
        return Err(TokenError::WrongCall);
    }
    if now > expires_at {
        return Err(TokenError::Expired);
    }
    Ok(Claims {
        call_sid: sid.to_owned(),
        business: business.to_owned(),
        caller: caller.to_owned(),
        dialled: dialled.to_owned(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"stream-token-secret-0123456789abcdef";
    const SID: &str = "CA0123456789abcdef0123456789abcdef";

    fn claims(caller: &str) -> Claims {
        Claims {
            call_sid: SID.into(),
            business: "salon-demo".into(),
            caller: caller.into(),
            dialled: "+40312345678".into(),
            expires_at: 1_800_000_120,
        }
    }

    #[test]
    fn a_token_verifies_for_its_call_until_it_expires() {
        let t = issue(SECRET, &claims("+40722123456"));
        assert_eq!(
            verify(SECRET, &t, SID, 1_800_000_000),
            Ok(claims("+40722123456"))
        );
        assert_eq!(
            verify(SECRET, &t, SID, 1_800_000_120).map(|c| c.business),
            Ok("salon-demo".into())
        );
        assert_eq!(
            verify(SECRET, &t, SID, 1_800_000_121),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn no_caller_id_is_an_empty_caller() {
        let t = issue(SECRET, &claims(""));
        assert_eq!(verify(SECRET, &t, SID, 1_800_000_000), Ok(claims("")));
    }

    #[test]
    fn forged_foreign_and_garbled_tokens_are_refused() {
        let t = issue(SECRET, &claims("+40722123456"));
        let other = "CAffffffffffffffffffffffffffffffff";
        assert_eq!(
            verify(SECRET, &t, other, 1_800_000_000),
            Err(TokenError::WrongCall)
        );
        assert_eq!(
            verify(b"another secret", &t, SID, 1_800_000_000),
            Err(TokenError::BadSignature)
        );
        // The same signature over another caller's number does not verify.
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(format!(
                "{SID}|salon-demo|+40744999888|+40312345678|1800000120"
            )),
            t.split_once('.').unwrap().1
        );
        assert_eq!(
            verify(SECRET, &forged, SID, 1_800_000_000),
            Err(TokenError::BadSignature)
        );
        // A signed payload in the old three-field form is not a token any more.
        let old = format!("{SID}|salon-demo|1800000120");
        let old = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&old),
            URL_SAFE_NO_PAD.encode(mac(SECRET, old.as_bytes()).finalize().into_bytes())
        );
        assert_eq!(
            verify(SECRET, &old, SID, 1_800_000_000),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify(SECRET, "garbage", SID, 0),
            Err(TokenError::Malformed)
        );
        assert_eq!(verify(SECRET, "a.b.c", SID, 0), Err(TokenError::Malformed));
        assert_eq!(verify(SECRET, "", SID, 0), Err(TokenError::Malformed));
        assert_eq!(
            verify(SECRET, &"a".repeat(MAX_TOKEN_LEN + 1), SID, 0),
            Err(TokenError::Malformed)
        );
    }
}
