//! Texts owed to clients: owed in the same transaction as the change they tell of, then
//! claimed, sent and settled by a sender that never holds up a tool call.
//!
//! A text waits as a pointer in the `OUTBOX` partition (the sender reads them with one query),
//! written with the change itself: one write, keyed by the event (the appointment and the
//! version the change wrote), so an event owes one text and a replay none. Its record under
//! the appointment (`SMS#{appointment}#{event}` in the business's partition: what it says and
//! what became of it, kept) is created when a sender claims it, on condition it does not exist
//! yet, or moved from `Pending` to `Sending` on condition of its version: a text is handed to
//! the provider at most once, whatever happens after. A reminder is queued with its record,
//! so a reminder already sent is never queued again.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use salon_domain::sms::{Notice, NoticeKind, SmsRecord, SmsState, wants_reminder};
use salon_domain::{AppointmentId, Business, BusinessId};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::store::{Store, StoreError, decode, put};
use crate::table::{Cond, SkRange, TransactError, Write};

/// How many times a text refused by the provider for a passing reason is tried.
pub const SMS_ATTEMPTS: u32 = 3;

/// A text claimed longer ago than this was left by a sender that stopped mid-send: it is
/// settled as unknown, never sent again.
pub const SENDING_LEASE: SignedDuration = SignedDuration::from_mins(5);

/// A waiting text: where its record goes, and what it tells.
#[derive(Serialize, Deserialize)]
struct OutboxItem {
    business: BusinessId,
    sms: String,
    notice: Notice,
    created: Timestamp,
}

/// A text waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub business: BusinessId,
    sms_key: String,
    outbox_key: String,
    notice: Notice,
    created: Timestamp,
}

impl Waiting {
    /// What the text tells.
    pub fn notice(&self) -> &Notice {
        &self.notice
    }
}

/// A text claimed by this sender: hand it over, then settle it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub waiting: Waiting,
    pub record: SmsRecord,
    version: u64,
}

/// What became of a claimed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    /// The provider took it.
    Sent { sid: String },
    /// Refused for good (a number that replied STOP, an invalid number).
    Refused { code: Option<u32>, reason: String },
    /// Refused for now, before the provider took it (its outage, a rate limit, no
    /// connection): tried again after `after`, up to [`SMS_ATTEMPTS`].
    Retry {
        reason: String,
        after: SignedDuration,
    },
    /// Handed over and never answered: it may have gone out.
    Unknown,
    /// Not handed over: it no longer holds, or is too old to be of use.
    Withdrawn { reason: String },
}

/// The key of a text's record: what it is about (an appointment, a message), and what makes
/// the event one of its kind (the version the change wrote, the reminded start).
fn sms_key(notice: &Notice, version: u64) -> String {
    let appointment = match notice {
        Notice::Appointment { appointment, .. } => appointment,
        Notice::Message { message, .. } => return keys::sms_for_message(&message.id),
        // One offer per entry.
        Notice::Waitlist { entry } => return keys::sms_for_waitlist(&entry.id),
    };
    let event = match notice.kind() {
        NoticeKind::Booked => format!("booked#{version}"),
        NoticeKind::Moved => format!("moved#{version}"),
        NoticeKind::Cancelled => format!("cancelled#{version}"),
        NoticeKind::Reminder => format!("reminder#{}", keys::instant(appointment.start)),
        NoticeKind::Message | NoticeKind::WaitlistOffer => "message".to_owned(),
    };
    keys::sms(&appointment.id, &event)
}

/// The write that owes a text for a change: its pointer, on condition it does not exist,
/// gone at `expires_at` when what it tells is personal data kept for a while only.
pub(crate) fn notice_write(
    notice: Notice,
    version: u64,
    now: Timestamp,
    expires_at: Option<i64>,
) -> Write {
    let (_, pointer) = pointer_of(notice, version, now);
    expiring(pointer, expires_at)
}

/// Sets when a written item expires (DynamoDB TTL, the embedded store's purge).
fn expiring(mut write: Write, at: Option<i64>) -> Write {
    if let Write::Put { item, .. } = &mut write {
        item.expires_at = at;
    }
    write
}

/// The writes that queue a reminder: its record too, each on condition it does not exist, so
/// a reminder is queued once even after it was sent.
pub(crate) fn reminder_writes(notice: Notice, now: Timestamp) -> [Write; 2] {
    let (item, pointer) = pointer_of(notice, 0, now);
    let record = SmsRecord {
        notice: item.notice,
        state: SmsState::Pending { due: now },
        attempts: 0,
        created: now,
    };
    [
        put(
            keys::business(&item.business),
            item.sms,
            1,
            &record,
            Cond::Absent,
        ),
        pointer,
    ]
}

fn pointer_of(notice: Notice, version: u64, now: Timestamp) -> (OutboxItem, Write) {
    let sms = sms_key(&notice, version);
    let business = notice.business().clone();
    let outbox_key = keys::outbox(&business, &sms);
    let item = OutboxItem {
        business,
        sms,
        notice,
        created: now,
    };
    let pointer = put(keys::OUTBOX.to_owned(), outbox_key, 1, &item, Cond::Absent);
    (item, pointer)
}

impl Store {
    /// Lists the texts waiting to be sent, with one query.
    pub async fn waiting_sms(&self) -> Result<Vec<Waiting>, StoreError> {
        // Every pointer: their keys start with a business id, printable ASCII.
        let items = self
            .table
            .query(keys::OUTBOX, SkRange::Between("!", "~"))
            .await?;
        let mut waiting = items
            .iter()
            .map(|item| {
                let p: OutboxItem = decode(item)?;
                Ok(Waiting {
                    business: p.business,
                    sms_key: p.sms,
                    outbox_key: item.sk.clone(),
                    notice: p.notice,
                    created: p.created,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // In the order the events happened: a move then a cancellation must not reach the
        // client as "cancelled", then "moved".
        waiting.sort_by(|a, b| (a.created, &a.outbox_key).cmp(&(b.created, &b.outbox_key)));
        Ok(waiting)
    }

    /// Claims a waiting text that is due, so that no other sender hands it over. `None`: not
    /// due yet, claimed by another sender, or settled (its pointer is then removed).
    pub async fn claim_sms(
        &self,
        waiting: &Waiting,
        now: Timestamp,
    ) -> Result<Option<Claimed>, StoreError> {
        let pk = keys::business(&waiting.business);
        let (mut record, version, cond) = match self.table.get(&pk, &waiting.sms_key).await? {
            // Owed by a change: its record begins with this claim.
            None => {
                let record = SmsRecord {
                    notice: waiting.notice.clone(),
                    state: SmsState::Pending { due: now },
                    attempts: 0,
                    created: waiting.created,
                };
                (record, 0, Cond::Absent)
            }
            Some(item) => (
                decode::<SmsRecord>(&item)?,
                item.version,
                Cond::Version(item.version),
            ),
        };
        match record.state {
            SmsState::Pending { due } if due <= now => {}
            SmsState::Pending { .. } => return Ok(None),
            SmsState::Sending { since } if since + SENDING_LEASE < now => {
                // Its sender stopped mid-send: the text may have gone out.
                let stale = Claimed {
                    waiting: waiting.clone(),
                    record,
                    version,
                };
                self.settle_sms(stale, SmsOutcome::Unknown, now).await?;
                return Ok(None);
            }
            SmsState::Sending { .. } => return Ok(None),
            _ => {
                self.drop_pointer(waiting).await?;
                return Ok(None);
            }
        }
        record.state = SmsState::Sending { since: now };
        let expires = self.sms_expiry(&record.notice);
        let claim = expiring(
            put(pk, waiting.sms_key.clone(), version + 1, &record, cond),
            expires,
        );
        match self.table.transact(vec![claim]).await {
            Ok(()) => Ok(Some(Claimed {
                waiting: waiting.clone(),
                record,
                version: version + 1,
            })),
            Err(TransactError::Backend(e)) => Err(e.into()),
            // Another sender claimed it first.
            Err(_) => Ok(None),
        }
    }

    /// Records what became of a claimed text; a settled one leaves the outbox.
    pub async fn settle_sms(
        &self,
        claimed: Claimed,
        outcome: SmsOutcome,
        now: Timestamp,
    ) -> Result<SmsRecord, StoreError> {
        let Claimed {
            waiting,
            mut record,
            version,
        } = claimed;
        record.state = match outcome {
            SmsOutcome::Sent { sid } => SmsState::Sent { sid, at: now },
            SmsOutcome::Refused { code, reason } => SmsState::Failed {
                code,
                reason,
                at: now,
            },
            SmsOutcome::Unknown => SmsState::Unknown { at: now },
            SmsOutcome::Withdrawn { reason } => SmsState::Withdrawn { reason, at: now },
            SmsOutcome::Retry { reason, after } => {
                record.attempts += 1;
                if record.attempts >= SMS_ATTEMPTS {
                    SmsState::Failed {
                        code: None,
                        reason,
                        at: now,
                    }
                } else {
                    SmsState::Pending { due: now + after }
                }
            }
        };
        let mut writes = vec![expiring(
            put(
                keys::business(&waiting.business),
                waiting.sms_key.clone(),
                version + 1,
                &record,
                Cond::Version(version),
            ),
            self.sms_expiry(&record.notice),
        )];
        if record.state.is_settled() {
            writes.push(Write::Delete {
                pk: keys::OUTBOX.to_owned(),
                sk: waiting.outbox_key.clone(),
                cond: Cond::Any,
            });
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(record),
            Err(TransactError::Backend(e)) => Err(e.into()),
            // Only this sender writes a text it claimed: a conflict is a store gone wrong.
            Err(_) => Err(StoreError::Contended),
        }
    }

    /// The texts owed for an appointment and what became of them, oldest first.
    pub async fn sms_of(
        &self,
        business: &BusinessId,
        appointment: &AppointmentId,
    ) -> Result<Vec<SmsRecord>, StoreError> {
        let prefix = keys::sms(appointment, "");
        let items = self
            .table
            .query(&keys::business(business), SkRange::Prefix(&prefix))
            .await?;
        let mut records = items
            .iter()
            .map(decode::<SmsRecord>)
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by_key(|r| r.created);
        Ok(records)
    }

    /// Queues the day-before reminder of every appointment of `business` on its local date
    /// `day` that wants one ([`wants_reminder`]), once each however often it runs; returns how
    /// many were queued now.
    pub async fn queue_reminders(
        &self,
        business: &Business,
        day: Date,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let tz = business.time_zone.tz().clone();
        let appointments = self.appointments_on(business, day).await?;
        let mut queued = 0;
        for appointment in appointments {
            let starts_that_day = appointment.start.to_zoned_datetime(tz.clone()).date() == day;
            if !starts_that_day || !wants_reminder(&appointment, now) {
                continue;
            }
            // A walk-in without a number is owed no reminder.
            let Some(notice) = Notice::appointment(NoticeKind::Reminder, appointment) else {
                continue;
            };
            match self
                .table
                .transact(reminder_writes(notice, now).into())
                .await
            {
                Ok(()) => queued += 1,
                Err(TransactError::Backend(e)) => return Err(e.into()),
                // Queued before.
                Err(_) => {}
            }
        }
        Ok(queued)
    }

    /// When a text's items expire: a text about a message holds the message (a name, a
    /// number, what a caller said), kept as long as the message; one about an appointment
    /// stays with the appointment's history.
    fn sms_expiry(&self, notice: &Notice) -> Option<i64> {
        match notice {
            Notice::Message { message, .. } => {
                Some(message.at.as_second() + i64::from(self.retention_days) * 86_400)
            }
            // A name and a number, kept as long as a message.
            Notice::Waitlist { entry } => {
                Some(entry.created.as_second() + i64::from(self.retention_days) * 86_400)
            }
            Notice::Appointment { .. } => None,
        }
    }

    async fn drop_pointer(&self, waiting: &Waiting) -> Result<(), StoreError> {
        let delete = Write::Delete {
            pk: keys::OUTBOX.to_owned(),
            sk: waiting.outbox_key.clone(),
            cond: Cond::Any,
        };
        match self.table.transact(vec![delete]).await {
            Ok(()) => Ok(()),
            Err(TransactError::Backend(e)) => Err(e.into()),
            Err(_) => Ok(()),
        }
    }
}
