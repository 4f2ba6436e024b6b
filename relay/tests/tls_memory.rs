//! What TLS to the Realtime API adds to a call's memory. The relay's own connection
//! (`openai::connect` with the TLS client every call shares) is opened to a loopback WebSocket
//! server, once over plain TCP and once over TLS under a test certificate authority, and each
//! carries a stretch of a call's traffic (an append up, a 20 ms `pcm24` delta down, 200 times);
//! the heap the connection then holds is counted by a live-bytes allocator on the client's
//! thread only (the server runs on a thread of its own). The difference is TLS's share.
//!
//! A counting `#[global_allocator]` needs its own test binary, so this test lives alone in
//! its file (`common/live_bytes.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use salon_relay::config::Secret;
use salon_relay::openai::{self, Tls};
use tokio_tungstenite::tungstenite::Message;

#[path = "common/live_bytes.rs"]
mod live_bytes;

#[global_allocator]
static ALLOCATOR: live_bytes::LiveBytes = live_bytes::LiveBytes;

/// A stretch of a call's traffic: an append of 20 ms of caller audio up (`pcm24`: 960 bytes,
/// 1,280 in base64), a delta of 20 ms of agent audio down, both of their real sizes.
fn append() -> String {
    format!(
        r#"{{"type":"input_audio_buffer.append","audio":"{}"}}"#,
        "A".repeat(1_280)
    )
}

fn delta() -> String {
    format!(
        r#"{{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"{}"}}"#,
        "A".repeat(1_280)
    )
}

/// A WebSocket server on loopback, on a thread and runtime of its own, answering each message
/// with a delta; over TLS with `tls`.
fn server(tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            loop {
                let (tcp, _) = listener.accept().await.expect("a connection");
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(config) => {
                            let stream = tokio_rustls::TlsAcceptor::from(config)
                                .accept(tcp)
                                .await
                                .expect("a TLS handshake");
                            answer(stream).await;
                        }
                        None => answer(tcp).await,
                    }
                });
            }
        });
    });
    addr
}

async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: S) {
    let mut ws = tokio_tungstenite::accept_async(stream)
        .await
        .expect("an upgrade");
    let delta = delta();
    while let Some(Ok(message)) = ws.next().await {
        if message.is_text() && ws.send(Message::text(delta.clone())).await.is_err() {
            return;
        }
    }
}

/// The heap one open connection to `url` holds after a stretch of a call's traffic.
fn live_bytes_of_a_connection(url: &str, tls: &Tls) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let key = Secret::new("sk-test");
    let append = append();
    live_bytes::start();
    let socket = rt.block_on(async {
        let mut socket = openai::connect(url, "gpt-realtime", &key, tls)
            .await
            .expect("connected");
        for _ in 0..200 {
            socket
                .send(Message::text(append.clone()))
                .await
                .expect("sent");
            let answer = socket.next().await.expect("an answer").expect("a message");
            assert!(answer.is_text());
        }
        socket
    });
    let live = live_bytes::stop();
    drop(socket);
    usize::try_from(live).expect("more freed than allocated")
}

/// A certificate authority of the test's own, and a server certificate for `localhost` it
/// signed.
fn test_pki() -> (rustls::RootCertStore, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().expect("a key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("a key");
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &issuer)
        .expect("a server certificate");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).expect("the CA is a valid root");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports them")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .expect("a server config");
    (roots, Arc::new(server))
}

/// Measured 2026-12-01: 8,996 bytes (rustls's buffers and session state), over a plain
/// connection's 6,207; a client of its own per connection added 24,640 more before the relay
/// shared one. The bound leaves a little room; a TLS client built per connection again fails it
/// (and a connection that did not use the shared client could not trust the test's authority).
const TLS_BOUND: usize = 12 * 1024;

#[test]
fn tls_to_the_model_adds_little_to_a_calls_memory() {
    let (roots, server_config) = test_pki();
    let tls = Tls::trusting(roots);
    let plain = server(None);
    let secure = server(Some(server_config));
    let over_tcp = live_bytes_of_a_connection(&format!("ws://{plain}/v1/realtime"), &tls);
    let over_tls = live_bytes_of_a_connection(
        &format!("wss://localhost:{}/v1/realtime", secure.port()),
        &tls,
    );
    let added = over_tls.saturating_sub(over_tcp);
    println!(
        "a connection to the model holds {over_tcp} bytes over TCP, {over_tls} over TLS: TLS adds {added}"
    );
    // What each connection held on top before the TLS client was shared: a client of its
    // own with the web roots (tokio-tungstenite builds one per connection when given none).
    live_bytes::start();
    let own = Tls::web_roots();
    let own_client = live_bytes::stop();
    drop(own);
    println!("a TLS client of its own with the web roots holds {own_client} bytes");
    assert!(over_tls > over_tcp, "TLS was measured");
    assert!(added <= TLS_BOUND, "TLS adds {added} bytes");
}
