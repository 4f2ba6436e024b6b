//! The sender: every waiting text that is due, claimed, handed to Twilio and settled. Run by
//! a schedule in AWS and by a timer in the local stack; a tool call never waits for it.

use std::sync::Arc;

use salon_domain::Clock;
use salon_domain::sms::{Notice, NoticeKind};
use salon_store::{SmsOutcome, Store, StoreError};

use super::text::render;
use super::twilio::MessagesApi;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Texts Twilio took.
    pub sent: usize,
    /// Texts refused for good, or given up.
    pub failed: usize,
    /// Texts to try again later.
    pub retried: usize,
    /// Texts whose outcome is unknown (never sent again).
    pub unknown: usize,
    /// Texts that no longer held, or were too old, and were not sent.
    pub withdrawn: usize,
}

/// A text not sent within this long after its event is of no use any more (texts switched on
/// after a while off, a long outage): it is withdrawn, not sent late.
pub const MAX_AGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Sends what is owed.
#[derive(Clone)]
pub struct Sender {
    store: Store,
    api: MessagesApi,
    clock: Arc<dyn Clock>,
}

impl Sender {
    /// Why a claimed text should not be sent after all, if it should not: too old, or a
    /// reminder of an appointment since cancelled or moved.
    async fn stale(
        &self,
        record: &salon_domain::sms::SmsRecord,
        now: jiff::Timestamp,
    ) -> Result<Option<String>, StoreError> {
        if now.duration_since(record.created) > MAX_AGE {
            return Ok(Some("too old to be of use".into()));
        }
        let Notice::Appointment {
            kind: NoticeKind::Reminder,
            appointment: reminded,
        } = &record.notice
        else {
            return Ok(None);
        };
        let now_stored = self
            .store
            .appointment(&reminded.business, &reminded.id)
            .await?;
        Ok(match now_stored {
            Some(a) if a.is_booked() && a.start == reminded.start => None,
            _ => Some("the appointment was cancelled or moved".into()),
        })
    }

    pub fn new(store: Store, api: MessagesApi) -> Self {
        let clock = store.clock().clone();
        Self { store, api, clock }
    }

    /// Sends every text that is due, one after the other.
    pub async fn round(&self) -> Result<Round, StoreError> {
        let mut round = Round::default();
        for waiting in self.store.waiting_sms().await? {
            let now = self.clock.now();
            let Some(claimed) = self.store.claim_sms(&waiting, now).await? else {
                continue;
            };
            let business = self.store.business(&waiting.business).await?;
            let notice = &claimed.record.notice;
            let outcome = match (business, self.stale(&claimed.record, now).await?) {
                (_, Some(reason)) => SmsOutcome::Withdrawn { reason },
                (Some(b), None) => match notice.to() {
                    Some(to) => self.api.send(to, &render(&b, notice)).await,
                    None => SmsOutcome::Refused {
                        code: None,
                        reason: "no number to text".into(),
                    },
                },
                (None, None) => SmsOutcome::Refused {
                    code: None,
                    reason: "the salon no longer exists".into(),
                },
            };
            let settled = self
                .store
                .settle_sms(claimed, outcome, self.clock.now())
                .await?;
            use salon_domain::sms::SmsState::*;
            match &settled.state {
                Sent { .. } => round.sent += 1,
                Failed { code, .. } => {
                    // Twilio's code only: its message can quote the number (kept in the
                    // text's record, never in the logs).
                    tracing::warn!(code = ?code, "a text was not sent");
                    round.failed += 1;
                }
                Pending { .. } => round.retried += 1,
                Unknown { .. } => {
                    tracing::warn!("a text's outcome is unknown; it is not sent again");
                    round.unknown += 1;
                }
                Withdrawn { .. } => round.withdrawn += 1,
                Sending { .. } => {}
            }
        }
        Ok(round)
    }
}
