//! The signature check agrees with Twilio's own Python package (`RequestValidator`), on
//! requests that package signs and on signatures it refuses.

use std::io::Write;
use std::process::{Command, Stdio};

use salon_functions::twilio::signature;
use serde_json::{Value, json};

/// The Python with the `twilio` package: `ORACLE_PYTHON`, else the test command's venv.
pub(crate) fn python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("ORACLE_PYTHON") {
        return p.into();
    }
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/salon-voice/venvs/oracles/bin/python")
}

/// A request to sign or check: URL, form parameters, signature.
type Case = (String, Vec<(String, String)>, String);

fn ask_twilio(token: &str, cases: &[Case]) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/oracles/twilio_sign.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the twilio oracle runs; the README's test command installs it (never skipped)");
    let request = json!({
        "token": token,
        "cases": cases.iter().map(|(url, params, sig)| json!({"url": url, "params": params, "signature": sig})).collect::<Vec<_>>(),
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn our_signatures_match_the_twilio_package() {
    let token = "0123456789abcdef0123456789abcdef";
    let p = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let requests = [
        (
            "https://voice.example.com/api/twilio/voice".to_owned(),
            p(&[
                ("CallSid", "CA0123"),
                ("From", "+40722123456"),
                ("To", "+40312345678"),
                ("CallStatus", "ringing"),
            ]),
        ),
        (
            "https://voice.example.com:443/api/twilio/status".to_owned(),
            p(&[
                ("CallSid", "CA1"),
                ("SequenceNumber", "2"),
                ("CallStatus", "completed"),
            ]),
        ),
        (
            "http://localhost:8080/api/twilio/voice?x=1&y=ă".to_owned(),
            p(&[
                ("Digits", "5678"),
                ("Digits", "1234"),
                ("Digits", "1234"),
                ("Name", "Ștefan Țurcan"),
            ]),
        ),
        (
            "https://voice.example.com/api/twilio/voice".to_owned(),
            p(&[
                ("Body", "a b+c&d=e"),
                ("Empty", ""),
                ("Unicode", "bărbierit ş ș"),
            ]),
        ),
        (
            "https://voice.example.com/api/twilio/stream-ended".to_owned(),
            vec![],
        ),
    ];
    // Ours sign; the package must compute the same and accept it.
    let cases: Vec<_> = requests
        .iter()
        .map(|(u, ps)| (u.clone(), ps.clone(), signature::compute(token, u, ps)))
        .collect();
    let answer = ask_twilio(token, &cases);
    for (i, (url, params, ours)) in cases.iter().enumerate() {
        assert_eq!(answer["computed"][i].as_str(), Some(ours.as_str()), "{url}");
        assert_eq!(answer["valid"][i], true, "{url}");
        assert!(signature::is_valid(token, url, params, ours));
    }
    // Wrong signatures: both refuse.
    let forged: Vec<_> = requests
        .iter()
        .map(|(u, ps)| {
            (
                u.clone(),
                ps.clone(),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=".to_owned(),
            )
        })
        .collect();
    let answer = ask_twilio(token, &forged);
    for (i, (url, params, sig)) in forged.iter().enumerate() {
        assert_eq!(answer["valid"][i], false, "{url}");
        assert!(!signature::is_valid(token, url, params, sig), "{url}");
    }
    // The package's signature of a port variant is accepted by us, as by the package.
    let variant = (
        "https://voice.example.com:443/api/twilio/voice".to_owned(),
        requests[0].1.clone(),
        String::new(),
    );
    let theirs = ask_twilio(token, &[variant])["computed"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(signature::is_valid(
        token,
        "https://voice.example.com/api/twilio/voice",
        &requests[0].1,
        &theirs
    ));
}
