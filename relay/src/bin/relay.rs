//! The relay's container entry point: reads the configuration, listens on `PORT` (default
//! 8080), and drains calls on SIGTERM.

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
    let port: u16 = std::env::var("PORT")
        .map_or(Ok(8080), |p| p.parse())
        .context("PORT")?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("binding port {port}"))?;
    tracing::info!(port, mode = %config.audio_mode, max_calls = config.max_calls, "relay listening");
    run(listener, config, Arc::new(Metrics::default()), shutdown()).await;
    Ok(())
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
