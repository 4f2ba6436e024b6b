//! The console's accounts, sessions and failed sign-ins: an account per login, created once;
//! a session found until it ends; failures counted (racing ones too) and forgotten.

use std::sync::Arc;

use jiff::SignedDuration;
use salon_domain::owner::{ConsoleSession, Login, OwnerAccount};
use salon_store::Store;

use super::{demo_id, monday_morning};

pub(crate) async fn console_accounts_sessions_and_failed_sign_ins(store: Store) {
    let now = monday_morning();
    let login = Login::parse("Ana@Salon-Demo.ro").unwrap();
    let account = OwnerAccount {
        login: login.clone(),
        business: demo_id(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created: now,
    };
    assert!(store.create_owner(&account).await.unwrap());
    let mut other = account.clone();
    other.password_hash = "another".into();
    assert!(
        !store.create_owner(&other).await.unwrap(),
        "a login is taken once"
    );
    assert_eq!(store.owner(&login).await.unwrap(), Some(account));
    let nobody = Login::parse("nimeni@salon-demo.ro").unwrap();
    assert_eq!(store.owner(&nobody).await.unwrap(), None);

    let session = ConsoleSession {
        business: demo_id(),
        login: login.clone(),
        csrf: "c".repeat(64),
        expires: now + SignedDuration::from_hours(12),
    };
    store.start_session("h1", &session).await.unwrap();
    assert_eq!(
        store.console_session("h1", now).await.unwrap(),
        Some(session.clone())
    );
    let item = store
        .table()
        .get("SESSION#h1", "SESSION")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.expires_at,
        Some(session.expires.as_second()),
        "the TTL ends it"
    );
    // Ended by its time, even before the TTL deletes it; or by signing out.
    assert_eq!(
        store.console_session("h1", session.expires).await.unwrap(),
        None
    );
    store.end_session("h1").await.unwrap();
    assert_eq!(store.console_session("h1", now).await.unwrap(), None);

    // Failed sign-ins, ten at once: each counted.
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (store, login) = (store.clone(), login.clone());
            tokio::spawn(async move { store.record_signin_failure(&login, now).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let failures = store.signin_failures(&login).await.unwrap();
    assert_eq!(failures.count, 10);
    assert_eq!(failures.last, Some(now));
    assert_eq!(store.signin_failures(&nobody).await.unwrap().count, 0);
    store.clear_signin_failures(&login).await.unwrap();
    assert_eq!(store.signin_failures(&login).await.unwrap().count, 0);
}
