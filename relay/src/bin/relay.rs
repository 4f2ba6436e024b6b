//! The relay's container entry point: reads the configuration, listens on `PORT` (default
//! 8080) and serves `/metrics` on `METRICS_PORT` (default 9091), and drains calls on SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use salon_relay::metrics::Metrics;
use salon_relay::{Config, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .init();
    // One TLS provider for wss://api.openai.com and the functions' HTTPS, chosen explicitly:
    // a build that links two (ring and aws-lc) would otherwise refuse to pick one at runtime.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config::from_env()?;
    let port = read_port("PORT", 8080)?;
    let metrics_port = read_port("METRICS_PORT", 9091)?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("binding port {port}"))?;
    // Prometheus scrapes this one; it is not the public port (Fly's [metrics] reads it).
    let metrics_listener = tokio::net::TcpListener::bind(("0.0.0.0", metrics_port))
        .await
        .with_context(|| format!("binding METRICS_PORT {metrics_port}"))?;
    tracing::info!(
        port = listener.local_addr()?.port(),
        metrics_port = metrics_listener.local_addr()?.port(),
        mode = %config.audio_mode,
        max_calls = config.max_calls,
        max_pending_streams = config.max_pending_streams,
        "relay listening"
    );
    run(
        listener,
        metrics_listener,
        config,
        Arc::new(Metrics::default()),
        shutdown(),
    )
    .await;
    Ok(())
}

/// Reads a port number (0 picks a free one; the log line says which).
fn read_port(name: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(name) {
        Ok(p) if !p.trim().is_empty() => p.trim().parse().with_context(|| name.to_owned()),
        _ => Ok(default),
    }
}

/// Resolves on SIGTERM (a deploy on Fly or Railway) or Ctrl-C.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
