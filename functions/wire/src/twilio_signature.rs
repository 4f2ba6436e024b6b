//! Twilio's request signature (webhooks, and the relay's WebSocket upgrade): HMAC-SHA1 over the public URL and the sorted form parameters,
//! and the bounded parser of the form bodies it signs.
//!
//! As Twilio's own validators do, the URL is tried as given, without its port, and with the
//! scheme's default port, since Twilio may have signed any of the three.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The largest webhook form accepted, in bytes. Twilio's voice and status webhooks send a
/// few kilobytes at most.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// The most parameters a webhook form may carry. Twilio sends a few dozen.
pub const MAX_FORM_PARAMS: usize = 256;

/// Why a webhook form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The body is longer than [`MAX_FORM_BYTES`].
    #[error("the form is {0} bytes, more than {MAX_FORM_BYTES}")]
    TooLarge(usize),
    /// The body has more than [`MAX_FORM_PARAMS`] parameters.
    #[error("the form has more than {MAX_FORM_PARAMS} parameters")]
    TooManyParams,
}

/// Parses an `application/x-www-form-urlencoded` webhook body into its parameters, in order:
/// `+` is a space, `%XX` a byte, invalid UTF-8 is replaced (so its signature will not check
/// out), empty pairs are skipped. Refuses a body over [`MAX_FORM_BYTES`] or with more than
/// [`MAX_FORM_PARAMS`] parameters before decoding more of it.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(FormError::TooLarge(body.len()));
    }
    let mut params = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if params.len() == MAX_FORM_PARAMS {
            return Err(FormError::TooManyParams);
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    Ok(params)
}

/// Computes the signature Twilio sends in `X-Twilio-Signature` for a POST to `url` with
/// these form parameters: the URL, then each parameter name followed by its value, names
/// sorted, repeated names' distinct values sorted.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Returns whether `signature` is Twilio's for this request.
pub fn is_valid(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let given = signature.trim().as_bytes();
    let mut valid = false;
    for candidate in url_variants(url) {
        // Check every variant, so the time taken does not depend on which one matched.
        valid |= bool::from(
            compute(auth_token, &candidate, params)
                .as_bytes()
                .ct_eq(given),
        );
    }
    valid
}

/// The URL as given, without its port, and with the scheme's default port.
fn url_variants(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_owned()];
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // An IPv6 literal keeps its colons inside brackets.
    let port_at = hostport
        .rfind(':')
        .filter(|&i| !hostport[i..].contains(']'));
    let host = port_at.map_or(hostport, |i| &hostport[..i]);
    let mut out = vec![url.to_owned(), format!("{scheme}://{userinfo}{host}{tail}")];
    if port_at.is_none() {
        let default = match scheme {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        if let Some(p) = default {
            out.push(format!("{scheme}://{userinfo}{host}:{p}{tail}"));
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twilio's published vectors (twilio-python, tests/unit/test_request_validator.py).
    const TOKEN: &str = "12345";
    const URI: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn matches_twilios_published_vectors() {
        assert_eq!(
            compute(TOKEN, URI, &params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let dup: Vec<(String, String)> = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(compute(TOKEN, URI, &dup), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        assert!(is_valid(
            TOKEN,
            URI,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn ports_are_tried_with_and_without() {
        let p = params();
        assert!(is_valid(
            TOKEN,
            &URI.replace(".com", ".com:1234"),
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let http_port = URI.replace(".com", ".com:1234").replace("https", "http");
        assert!(is_valid(
            TOKEN,
            &http_port,
            &p,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
        assert!(is_valid(TOKEN, URI, &p, "kvajT1Ptam85bY51eRf/AJRuM3w="));
        assert!(is_valid(
            TOKEN,
            &URI.replace("https", "http"),
            &p,
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn forms_parse_as_twilio_encodes_them() {
        let body = b"CallSid=CA123&From=%2B40722123456&CallerName=Ana+Pop&Empty=&&Digits=1&Digits=2&Bad=%FF%";
        let got = parse_form(body).unwrap();
        let want: Vec<(String, String)> = [
            ("CallSid", "CA123"),
            ("From", "+40722123456"),
            ("CallerName", "Ana Pop"),
            ("Empty", ""),
            ("Digits", "1"),
            ("Digits", "2"),
            ("Bad", "\u{fffd}%"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(parse_form(b"").unwrap(), vec![]);
        assert_eq!(
            parse_form(b"novalue").unwrap(),
            vec![("novalue".to_owned(), String::new())]
        );
    }

    #[test]
    fn forms_over_the_limits_are_refused() {
        let big = vec![b'a'; MAX_FORM_BYTES + 1];
        assert_eq!(
            parse_form(&big),
            Err(FormError::TooLarge(MAX_FORM_BYTES + 1))
        );
        assert!(parse_form(&big[..MAX_FORM_BYTES]).is_ok());
        let many = "a=1&".repeat(MAX_FORM_PARAMS);
        assert_eq!(parse_form(many.as_bytes()).unwrap().len(), MAX_FORM_PARAMS);
        let too_many = format!("{many}b=2");
        assert_eq!(
            parse_form(too_many.as_bytes()),
            Err(FormError::TooManyParams)
        );
        // Empty pairs are not parameters.
        let sparse = format!("{many}&&&&");
        assert!(parse_form(sparse.as_bytes()).is_ok());
    }

    #[test]
    fn a_parsed_form_signs_and_checks() {
        let body = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";
        let p = parse_form(body).unwrap();
        assert_eq!(p, params());
        assert!(is_valid(TOKEN, URI, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn anything_changed_fails() {
        let mut p = params();
        assert!(!is_valid("54321", URI, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!is_valid(
            TOKEN,
            "https://mycompany.com/other",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        p[1].1 = "9999".into();
        assert!(!is_valid(TOKEN, URI, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!is_valid(TOKEN, URI, &params(), ""));
    }
}
