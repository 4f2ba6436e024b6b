//! The README's local stack starts from `.env.example` and answers a call.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_local_stack_starts_from_the_example_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.env.example");
    std::fs::copy(example, dir.path().join(".env")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_local"))
        .current_dir(dir.path())
        .env("PORT", "0")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the local stack prints its address")
            .unwrap();
        if let Some(addr) = line.trim().strip_prefix("listening on        http://") {
            break addr.rsplit(':').next().unwrap().to_owned();
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    // Half a request line is not held open forever.
    let mut half = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        half.write_all(b"GET /hea").await.unwrap();
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                match half.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a half-sent request was still open after 30 s"
        );
    }
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let twiml = http
        .post(format!("{base}/api/twilio/voice"))
        .form(&[
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("From", "+40722123456"),
            ("To", "+40312345678"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        twiml.contains("<Stream url=\"ws://localhost:8081/twilio/stream\">"),
        "{twiml}"
    );
    assert!(
        dir.path().join("data/salon.redb").exists(),
        "the embedded store lives in DATA_DIR"
    );
}
