//! Writes the demo salon into a store: `seed --store dynamodb --table NAME --number +40…`
//! (or `--store embedded --data-dir DIR`), `--sms on` to text its clients (`off` to stop; left
//! out, the salon keeps what it had), `--person-phone +40…` for the salon's own phone, where a
//! person answers transfers (`--person-phone none` to remove it; left out, kept). Running it
//! again changes nothing.

use anyhow::{Context, bail};
use std::sync::Arc;

use salon_domain::{PhoneE164, SystemClock};
use salon_functions::config::StoreConfig;
use salon_functions::open_store;
use salon_store::seed;

const USAGE: &str = "usage: seed --number +40XXXXXXXXX [--sms on|off] [--person-phone +40XXXXXXXXX|none] (--store dynamodb --table NAME [--endpoint-url URL] | --store embedded [--data-dir DIR])";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let number = value("--number").context(USAGE)?;
    let number = PhoneE164::parse(&number).with_context(|| format!("--number {number:?}"))?;
    let store = StoreConfig::from_flags(value).context(USAGE)?;
    let sms = match value("--sms").as_deref() {
        Some("on") => Some(true),
        Some("off") => Some(false),
        None => None,
        Some(other) => bail!("--sms {other:?}: expected on or off\n{USAGE}"),
    };
    let person_phone = match value("--person-phone").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(p) => Some(Some(
            PhoneE164::parse(p).with_context(|| format!("--person-phone {p:?}"))?,
        )),
    };
    let store = open_store(&store, 30, Arc::new(SystemClock)).await?;
    let settings = seed::DemoSettings { sms, person_phone };
    let b = seed::demo_salon_with(&store, number.clone(), settings).await?;
    let texts = if b.sms_confirmations { "on" } else { "off" };
    let person = b
        .person_phone
        .map_or_else(|| "none".to_owned(), |p| p.to_string());
    println!(
        "Seeded the demo salon, answering {number}; texts to clients {texts}; the salon's own phone {person}."
    );
    Ok(())
}
