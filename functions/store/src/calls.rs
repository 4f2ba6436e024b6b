//! Call records: one per call SID, merged from every writer, and claimed by one media stream.

use salon_domain::call::AlreadyStreaming;
use salon_domain::call::ToolCallRecord;
use salon_domain::{AppointmentId, CallEvent, CallRecord, CallSid};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::store::{MAX_ATTEMPTS, Store, StoreError, decode, encode, jittered_pause, put};
use crate::table::{BackendError, Cond, Item, SkRange, TransactError, Write};

/// A tool call as stored in its own item, with the appointment it booked or moved.
#[derive(Serialize, Deserialize)]
struct ToolCallItem {
    call: ToolCallRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    appointment: Option<AppointmentId>,
}

/// A call in its salon's list.
#[derive(Serialize, Deserialize)]
struct CallListing {
    call_sid: CallSid,
}

/// Why a stream could not claim a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Another stream already serves the call.
    #[error(transparent)]
    AlreadyStreaming(#[from] AlreadyStreaming),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The write that records a tool call, alone or inside the transaction of what it did.
pub(crate) fn tool_call_write(
    sid: &CallSid,
    call: &ToolCallRecord,
    appointment: Option<&AppointmentId>,
) -> Write {
    let (pk, sk) = keys::tool_call(sid, &call.call_id, &call.name);
    let item = ToolCallItem {
        call: call.clone(),
        appointment: appointment.cloned(),
    };
    put(pk, sk, 1, &item, Cond::Any)
}

/// How many call records [`Store::recent_calls`] reads at once.
const CALL_READS_AT_ONCE: usize = 16;

impl Store {
    /// Reads a call record, with its tool calls and, while it is kept, its transcript: one
    /// query over the call's partition.
    pub async fn call(&self, sid: &CallSid) -> Result<Option<CallRecord>, StoreError> {
        let (pk, sk) = keys::call(sid);
        let items = self
            .table
            .query(&pk, SkRange::Between(keys::CALL_FIRST, keys::CALL_LAST))
            .await?;
        let Some(head) = items.iter().find(|i| i.sk == sk) else {
            return Ok(None);
        };
        let mut record: CallRecord = decode(head)?;
        let mut tools = items
            .iter()
            .filter(|i| i.sk.starts_with(keys::TOOL_PREFIX))
            .map(decode::<ToolCallItem>)
            .collect::<Result<Vec<_>, _>>()?;
        tools.sort_by_key(|t| t.call.at);
        for t in tools {
            record.apply(&CallEvent::ToolCall(t.call));
            if let Some(id) = t.appointment {
                record.apply(&CallEvent::Appointment(id));
            }
        }
        // An expired transcript is gone, whether or not the backend has deleted it yet.
        let now = self.clock.now().as_second();
        if let Some(summary) = record.summary.as_mut()
            && let Some(t) = items.iter().find(|i| i.sk == keys::TRANSCRIPT)
            && t.expires_at.is_none_or(|e| e > now)
        {
            summary.transcript = decode(t)?;
        }
        Ok(Some(record))
    }

    /// Records one tool call of a call (and the appointment it booked or moved) in one write,
    /// without reading the record: parallel tool calls never contend. A retried call (same
    /// call id and tool) replaces its earlier outcome.
    pub async fn record_tool_call(
        &self,
        sid: &CallSid,
        call: &ToolCallRecord,
        appointment: Option<&AppointmentId>,
    ) -> Result<(), StoreError> {
        match self
            .table
            .transact(vec![tool_call_write(sid, call, appointment)])
            .await
        {
            Ok(()) => Ok(()),
            Err(TransactError::Backend(e)) => Err(e.into()),
            Err(_) => Err(StoreError::Contended),
        }
    }

    /// Reads a call's record (a new one if there is none yet) with the version to write it
    /// back under and the condition that nobody wrote it in between.
    async fn record_for_update(
        &self,
        sid: &CallSid,
    ) -> Result<(CallRecord, u64, Cond), StoreError> {
        let (pk, sk) = keys::call(sid);
        Ok(match self.table.get(&pk, &sk).await? {
            Some(item) => (
                decode::<CallRecord>(&item)?,
                item.version + 1,
                Cond::Version(item.version),
            ),
            None => (CallRecord::new(sid.clone()), 1, Cond::Absent),
        })
    }

    /// Merges an event into a call's record, creating it if this is the first word of the call.
    pub async fn record_call(
        &self,
        sid: &CallSid,
        event: &CallEvent,
    ) -> Result<CallRecord, StoreError> {
        let (pk, sk) = keys::call(sid);
        // Parallel tool calls of one response write the same record at once: retry each
        // lost race after a random pause, so the writers spread out instead of colliding again.
        for attempt in 0..MAX_ATTEMPTS * 4 {
            let (mut record, version, cond) = self.record_for_update(sid).await?;
            record.apply(event);
            let mut writes = Vec::with_capacity(2);
            // The transcript is personal data: it lives in its own item that expires
            // (DynamoDB TTL, the embedded store's purge), while the record stays.
            let mut transcript = Vec::new();
            if let Some(summary) = record.summary.as_mut()
                && !summary.transcript.is_empty()
            {
                transcript = std::mem::take(&mut summary.transcript);
                let at = match event {
                    CallEvent::Summary { at, .. } => *at,
                    _ => self.clock.now(),
                };
                let expires = at.as_second() + i64::from(self.retention_days) * 86_400;
                writes.push(Write::Put {
                    item: Item {
                        pk: pk.clone(),
                        sk: keys::TRANSCRIPT.to_owned(),
                        version: 1,
                        data: encode(&transcript),
                        expires_at: Some(expires),
                    },
                    cond: Cond::Any,
                });
            }
            writes.push(put(pk.clone(), sk.clone(), version, &record, cond));
            match self.table.transact(writes).await {
                Ok(()) => {
                    if let Some(summary) = record.summary.as_mut()
                        && !transcript.is_empty()
                    {
                        summary.transcript = transcript;
                    }
                    return Ok(record);
                }
                Err(TransactError::Backend(e)) => return Err(e.into()),
                Err(_) => jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended)
    }

    /// The salon's calls that began at or after `since`, newest first, at most `limit`. The
    /// records are read [`CALL_READS_AT_ONCE`] at a time (each call is its own partition), so
    /// a quarter's calls cost seconds, not a minute, on DynamoDB.
    pub async fn recent_calls(
        &self,
        business: &salon_domain::BusinessId,
        since: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let from = keys::instant(since);
        let listed = self
            .table
            .query(&keys::calls_of(business), SkRange::Between(&from, "~"))
            .await?;
        let sids = listed
            .iter()
            .rev()
            .take(limit)
            .map(|item| decode::<CallListing>(item).map(|l| l.call_sid))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(sids.len());
        for chunk in sids.chunks(CALL_READS_AT_ONCE) {
            let mut reads = tokio::task::JoinSet::new();
            for (i, sid) in chunk.iter().enumerate() {
                let (store, sid) = (self.clone(), sid.clone());
                reads.spawn(async move { (i, store.call(&sid).await) });
            }
            let mut read = vec![None; chunk.len()];
            while let Some(done) = reads.join_next().await {
                let (i, record) =
                    done.map_err(|e| BackendError::new("reading a call record", e))?;
                read[i] = record?;
            }
            out.extend(read.into_iter().flatten());
        }
        Ok(out)
    }

    /// Records the call's start and claims it for `stream_sid`, atomically: of two streams
    /// racing for one call (one token replayed to several relay instances), one wins.
    pub async fn claim_call(
        &self,
        sid: &CallSid,
        started: &CallEvent,
        stream_sid: &str,
    ) -> Result<CallRecord, ClaimError> {
        let (pk, sk) = keys::call(sid);
        for attempt in 0..MAX_ATTEMPTS * 4 {
            let (mut record, version, cond) = self.record_for_update(sid).await?;
            record.claim(stream_sid)?;
            record.apply(started);
            let mut writes = vec![put(pk.clone(), sk.clone(), version, &record, cond)];
            // Listed under its salon by when it began, in the same write, for the owner.
            if let CallEvent::Started { business, at, .. } = started {
                // Keyed by when the call began as recorded, so a repeated claim (the relay
                // asking again) lists it once.
                let began = record.started.unwrap_or(*at);
                writes.push(put(
                    keys::calls_of(business),
                    format!("{}#{sid}", keys::instant(began)),
                    1,
                    &CallListing {
                        call_sid: sid.clone(),
                    },
                    Cond::Any,
                ));
            }
            match self.table.transact(writes).await {
                Ok(()) => return Ok(record),
                Err(TransactError::Backend(e)) => return Err(StoreError::from(e).into()),
                Err(_) => jittered_pause(attempt).await,
            }
        }
        Err(StoreError::Contended.into())
    }
}
