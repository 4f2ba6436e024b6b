//! Writes the demo salon into a store: `seed --store dynamodb --table NAME --number +40…`
//! (or `--store embedded --data-dir DIR`), `--sms on` to text its clients (`off` to stop; left
//! out, the salon keeps what it had), `--person-phone +40…` for the salon's own phone, where a
//! person answers transfers (`--person-phone none` to remove it; left out, kept), `--owner
//! LOGIN` to create the salon owner's console account with the password in `OWNER_PASSWORD`
//! (read from the environment, never from the command line: it stays out of the shell's
//! history and the process list). Running it again changes nothing.

use anyhow::{Context, bail};
use std::sync::Arc;

use salon_domain::owner::{Login, OwnerAccount};
use salon_domain::{PhoneE164, SystemClock};
use salon_functions::config::StoreConfig;
use salon_functions::console::hash_password;
use salon_functions::open_store;
use salon_store::seed;

const USAGE: &str = "usage: seed --number +40XXXXXXXXX [--sms on|off] [--person-phone +40XXXXXXXXX|none] [--owner LOGIN, with OWNER_PASSWORD set] (--store dynamodb --table NAME [--endpoint-url URL] | --store embedded [--data-dir DIR])";

/// The shortest password an account may have.
const MIN_PASSWORD: usize = 12;

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
    // The account's login and password, checked before anything is written.
    let owner = match value("--owner") {
        None => None,
        Some(login) => {
            let login = Login::parse(&login).with_context(|| format!("--owner {login:?}"))?;
            let password = std::env::var("OWNER_PASSWORD")
                .context("--owner needs the password in OWNER_PASSWORD")?;
            if password.chars().count() < MIN_PASSWORD {
                bail!("OWNER_PASSWORD must have at least {MIN_PASSWORD} characters");
            }
            Some((login, password))
        }
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
    if let Some((login, password)) = owner {
        let account = OwnerAccount {
            login: login.clone(),
            business: b.id.clone(),
            password_hash: hash_password(&password)
                .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?,
            created: store.clock().now(),
        };
        match store.create_owner(&account).await? {
            true => println!("Created the console account {login} for {}.", b.id),
            false => println!("The console account {login} exists already: left as it is."),
        }
    }
    Ok(())
}
