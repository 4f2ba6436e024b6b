//! The console's accounts, sessions and failed sign-ins, each in a partition of its own
//! (`OWNER#{login}`, `SESSION#{hash}`, `SIGNIN#{login}`), so the stateless functions find them
//! with one read. A session is stored under a hash of its cookie's value: the table never holds
//! a live cookie. Sessions expire (TTL) at their end; failed sign-ins a day after the last.

use jiff::Timestamp;
use salon_domain::owner::{ConsoleSession, Login, OwnerAccount, SignInFailures};

use crate::store::{MAX_ATTEMPTS, Store, StoreError, decode, encode, jittered_pause};
use crate::table::{Cond, Item, TransactError, Write};

fn owner_key(login: &Login) -> (String, String) {
    (format!("OWNER#{login}"), "OWNER".to_owned())
}

fn session_key(hash: &str) -> (String, String) {
    (format!("SESSION#{hash}"), "SESSION".to_owned())
}

fn signin_key(login: &Login) -> (String, String) {
    (format!("SIGNIN#{login}"), "SIGNIN".to_owned())
}

/// Failed sign-ins are forgotten a day after the last.
const FAILURES_KEPT_SECS: i64 = 86_400;

impl Store {
    /// Creates an owner account; `false` when the login is taken (nothing changes).
    pub async fn create_owner(&self, account: &OwnerAccount) -> Result<bool, StoreError> {
        let (pk, sk) = owner_key(&account.login);
        let write = Write::Put {
            item: Item {
                pk,
                sk,
                version: 1,
                data: encode(account),
                expires_at: None,
            },
            cond: Cond::Absent,
        };
        match self.table.transact(vec![write]).await {
            Ok(()) => Ok(true),
            Err(TransactError::Backend(e)) => Err(e.into()),
            Err(_) => Ok(false),
        }
    }

    /// The account of a login, if there is one.
    pub async fn owner(&self, login: &Login) -> Result<Option<OwnerAccount>, StoreError> {
        let (pk, sk) = owner_key(login);
        let item = self.table.get(&pk, &sk).await?;
        item.as_ref().map(decode).transpose()
    }

    /// Keeps a new session under the hash of its cookie's value, until it ends.
    pub async fn start_session(
        &self,
        hash: &str,
        session: &ConsoleSession,
    ) -> Result<(), StoreError> {
        let (pk, sk) = session_key(hash);
        let write = Write::Put {
            item: Item {
                pk,
                sk,
                version: 1,
                data: encode(session),
                expires_at: Some(session.expires.as_second()),
            },
            cond: Cond::Absent,
        };
        self.table.transact(vec![write]).await.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }

    /// The session under a hash, unless it has ended by `now` (the TTL deletes late).
    pub async fn console_session(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let (pk, sk) = session_key(hash);
        let Some(item) = self.table.get(&pk, &sk).await? else {
            return Ok(None);
        };
        let session: ConsoleSession = decode(&item)?;
        Ok((session.expires > now).then_some(session))
    }

    /// Ends a session (signing out).
    pub async fn end_session(&self, hash: &str) -> Result<(), StoreError> {
        let (pk, sk) = session_key(hash);
        let write = Write::Delete {
            pk,
            sk,
            cond: Cond::Any,
        };
        self.table.transact(vec![write]).await.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }

    /// A login's failed sign-ins.
    pub async fn signin_failures(&self, login: &Login) -> Result<SignInFailures, StoreError> {
        let (pk, sk) = signin_key(login);
        let now = self.clock.now().as_second();
        match self.table.get(&pk, &sk).await? {
            Some(item) if item.expires_at.is_none_or(|t| t > now) => decode(&item),
            _ => Ok(SignInFailures::default()),
        }
    }

    /// Counts one more failed sign-in of a login at `now`; returns the count. Racing failures
    /// are each counted (a conditional write, read again when another got in first; a
    /// guesser sending many at once makes many rounds, so this one tries longer than others).
    pub async fn record_signin_failure(
        &self,
        login: &Login,
        now: Timestamp,
    ) -> Result<SignInFailures, StoreError> {
        let (pk, sk) = signin_key(login);
        for attempt in 0..4 * MAX_ATTEMPTS {
            let item = self.table.get(&pk, &sk).await?;
            let (old, cond, version) = match &item {
                Some(item) => (decode(item)?, Cond::Version(item.version), item.version + 1),
                None => (SignInFailures::default(), Cond::Absent, 1),
            };
            let new = SignInFailures::failed(&old, now);
            let write = Write::Put {
                item: Item {
                    pk: pk.clone(),
                    sk: sk.clone(),
                    version,
                    data: encode(&new),
                    expires_at: Some(now.as_second() + FAILURES_KEPT_SECS),
                },
                cond,
            };
            match self.table.transact(vec![write]).await {
                Ok(()) => return Ok(new),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended)
    }

    /// Forgets a login's failed sign-ins (it signed in).
    pub async fn clear_signin_failures(&self, login: &Login) -> Result<(), StoreError> {
        let (pk, sk) = signin_key(login);
        let write = Write::Delete {
            pk,
            sk,
            cond: Cond::Any,
        };
        self.table.transact(vec![write]).await.map_err(|e| match e {
            TransactError::Backend(e) => e.into(),
            _ => StoreError::Contended,
        })
    }
}
