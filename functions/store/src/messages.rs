//! Messages for the salon, in its partition (`MSG#{id}`), each texted to the salon's own phone
//! when it texts (`Notice::Message`): each kept once, whatever repeats
//! it (a retried tool call, Twilio repeating a webhook), and gone after the retention period
//! (they hold a name, a number and what a caller said).

use salon_domain::BusinessId;
use salon_domain::message::Message;
use salon_domain::sms::Notice;

use crate::keys;
use crate::notices::notice_write;
use crate::store::{Store, StoreError, decode, encode};
use crate::table::{Cond, Item, SkRange, TransactError, Write};

impl Store {
    /// Keeps a message, and owes the salon a text about it when it texts and has a phone of
    /// its own, in the same write; returns whether it is new (the same id again keeps the
    /// first, and owes nothing more).
    pub async fn leave_message(&self, message: &Message) -> Result<bool, StoreError> {
        let expires = message.at.as_second() + i64::from(self.retention_days) * 86_400;
        let mut writes = vec![Write::Put {
            item: Item {
                pk: keys::business(&message.business),
                sk: keys::message(&message.id),
                version: 1,
                data: encode(message),
                expires_at: Some(expires),
            },
            cond: Cond::Absent,
        }];
        // Kept by the catalogue: no request on a warm instance.
        let salon = self.business(&message.business).await?;
        if let Some(to) = salon
            .filter(|b| b.sms_confirmations)
            .and_then(|b| b.person_phone)
        {
            let notice = Notice::Message {
                message: message.clone(),
                to,
            };
            writes.push(notice_write(notice, 0, message.at, Some(expires)));
        }
        for attempt in 0..crate::store::MAX_ATTEMPTS {
            match self.table.transact(writes.clone()).await {
                Ok(()) => return Ok(true),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                // Kept before (a retried tool call, a repeated webhook).
                Err(TransactError::Conflict(_)) => return Ok(false),
                // Another write held the item a moment: try again, or the message is lost.
                Err(TransactError::Contended) => crate::store::jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended)
    }

    /// The salon's messages still kept, newest first.
    pub async fn messages(&self, business: &BusinessId) -> Result<Vec<Message>, StoreError> {
        let now = self.clock.now().as_second();
        let items = self
            .table
            .query(
                &keys::business(business),
                SkRange::Prefix(keys::MESSAGE_PREFIX),
            )
            .await?;
        let mut out = items
            .iter()
            // Expired, not yet removed by the TTL.
            .filter(|i| i.expires_at.is_none_or(|e| e > now))
            .map(decode::<Message>)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|m| std::cmp::Reverse(m.at));
        Ok(out)
    }

    /// Marks a message read; returns whether there was one.
    pub async fn mark_message_read(
        &self,
        business: &BusinessId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = (keys::business(business), keys::message(id));
        for _ in 0..crate::store::MAX_ATTEMPTS {
            let Some(item) = self.table.get(&pk, &sk).await? else {
                return Ok(false);
            };
            let mut message: Message = decode(&item)?;
            if message.read {
                return Ok(true);
            }
            message.read = true;
            let write = Write::Put {
                item: Item {
                    data: encode(&message),
                    version: item.version + 1,
                    ..item.clone()
                },
                cond: Cond::Version(item.version),
            };
            match self.table.transact(vec![write]).await {
                Ok(()) => return Ok(true),
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => continue,
            }
        }
        Err(StoreError::Contended)
    }
}
