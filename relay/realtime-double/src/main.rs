//! Serves a script file as a Realtime double on a fixed port, for manual runs.
//!
//! ```text
//! realtime-double --script scenario.json [--port 8089] [--audio-dir DIR] [--speed 1.0]
//!                 [--var tomorrow=2026-12-15]...
//! ```
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use salon_realtime_double::{Double, Options, Script};

struct Args {
    script: String,
    port: u16,
    options: Options,
    vars: Vec<(String, String)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut script = None;
    let mut port = 8089;
    let mut options = Options::default();
    let mut vars = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--script" => script = Some(value()?),
            "--port" => port = value()?.parse().context("--port must be a port number")?,
            "--audio-dir" => options.audio_dir = value()?.into(),
            "--speed" => {
                let speed: f64 = value()?.parse().context("--speed must be a number")?;
                options.speed = Some(speed);
            }
            "--var" => {
                let pair = value()?;
                let (name, val) = pair
                    .split_once('=')
                    .context("--var must look like name=value")?;
                vars.push((name.to_string(), val.to_string()));
            }
            "--help" | "-h" => {
                println!(
                    "usage: realtime-double --script FILE [--port N] [--audio-dir DIR] [--speed X] [--var name=value]..."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let script = script.context("--script FILE is required")?;
    Ok(Args {
        script,
        port,
        options,
        vars,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "salon_realtime_double=debug,info".into()),
        )
        .init();
    let args = parse_args()?;
    let vars: Vec<(&str, &str)> = args
        .vars
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let script = Script::from_file(&args.script)
        .with_context(|| format!("loading {}", args.script))?
        .with_vars(&vars);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    let double = Double::serve(listener, script, args.options).context("starting the double")?;
    println!("Realtime double at {}?model=gpt-realtime", double.url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
