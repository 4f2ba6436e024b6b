//! Call records: one per call, filled by the webhooks, the tools and the relay in any order.
//!
//! Every writer sends a [`CallEvent`]; [`CallRecord::apply`] merges it. Merging is pure and
//! order-tolerant, so a store can apply events with an optimistic read–merge–write loop and the
//! record ends right whatever order Twilio and the relay deliver them in.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{AppointmentId, BusinessId, CallSid};

// The relay writes the summary; its types live on the wire, defined once.
pub use salon_wire::summary::{CallOutcome, CallSummary, Speaker, TokenUsage, TranscriptLine};

/// Twilio's call status (`CallStatus` of the status callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    Failed,
    NoAnswer,
    Canceled,
}

impl CallStatus {
    /// Parses Twilio's spelling (`in-progress`, `no-answer`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "failed" => Self::Failed,
            "no-answer" => Self::NoAnswer,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    /// Returns whether the call is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

/// One tool call the agent made, as the functions saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// The tool's name (`create_voice_appointment`).
    pub name: String,
    /// The model's call id, so a retried call can be recognised.
    pub call_id: String,
    /// `None` when it succeeded, else the error code returned to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it ran.
    pub at: Timestamp,
    /// How long it took, in milliseconds.
    pub millis: u32,
}

/// Something that happened to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallEvent {
    /// The voice webhook or the session request saw the call.
    Started {
        business: BusinessId,
        from: String,
        to: String,
        at: Timestamp,
    },
    /// A status callback; `sequence` is Twilio's `SequenceNumber`.
    Status {
        status: CallStatus,
        sequence: u32,
        duration_seconds: Option<u32>,
        at: Timestamp,
    },
    /// A tool call ran.
    ToolCall(ToolCallRecord),
    /// A tool call booked (or moved) an appointment.
    Appointment(AppointmentId),
    /// The relay's summary.
    Summary { summary: CallSummary, at: Timestamp },
}

/// Another media stream already claimed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("another media stream already serves this call")]
pub struct AlreadyStreaming;

/// The last status applied, with its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSeen {
    pub status: CallStatus,
    pub sequence: u32,
}

/// The record of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_sid: CallSid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<BusinessId>,
    /// The caller ID as Twilio sent it (may be `anonymous`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The number dialled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The media stream that claimed the call: one stream per call, across relay instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Timestamp>,
    /// Twilio's billed `CallDuration`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSeen>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCallRecord>,
    #[serde(default)]
    pub appointments: Vec<AppointmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<CallSummary>,
}

impl CallRecord {
    /// Starts an empty record for a call.
    pub fn new(call_sid: CallSid) -> Self {
        Self {
            call_sid,
            business: None,
            from: None,
            to: None,
            stream_sid: None,
            started: None,
            ended: None,
            duration_seconds: None,
            status: None,
            tool_calls: Vec::new(),
            appointments: Vec::new(),
            summary: None,
        }
    }

    /// Claims the call for one media stream. The same stream may claim again (a retried
    /// session request); another stream of the same call is refused, so one stream token
    /// cannot open several streams and several model sessions.
    pub fn claim(&mut self, stream_sid: &str) -> Result<(), AlreadyStreaming> {
        match &self.stream_sid {
            Some(s) if s != stream_sid => Err(AlreadyStreaming),
            _ => {
                self.stream_sid = Some(stream_sid.to_owned());
                Ok(())
            }
        }
    }

    /// Merges an event; applying the same event twice, or events out of order, ends the same.
    pub fn apply(&mut self, event: &CallEvent) {
        match event {
            CallEvent::Started {
                business,
                from,
                to,
                at,
            } => {
                self.business.get_or_insert_with(|| business.clone());
                self.from.get_or_insert_with(|| from.clone());
                self.to.get_or_insert_with(|| to.clone());
                self.started = Some(self.started.map_or(*at, |s| s.min(*at)));
            }
            CallEvent::Status {
                status,
                sequence,
                duration_seconds,
                at,
            } => {
                let newer = self.status.is_none_or(|s| *sequence > s.sequence);
                if newer {
                    self.status = Some(StatusSeen {
                        status: *status,
                        sequence: *sequence,
                    });
                }
                if let Some(d) = duration_seconds {
                    self.duration_seconds = Some(*d);
                }
                if status.is_final() {
                    self.ended = Some(self.ended.map_or(*at, |e| e.min(*at)));
                } else {
                    self.started = Some(self.started.map_or(*at, |s| s.min(*at)));
                }
            }
            CallEvent::ToolCall(call) => {
                // A retried tool call (same name and call id) is one call: keep its latest outcome.
                match self
                    .tool_calls
                    .iter_mut()
                    .find(|c| c.call_id == call.call_id && c.name == call.name)
                {
                    Some(seen) if seen.at <= call.at => *seen = call.clone(),
                    Some(_) => {}
                    None => {
                        self.tool_calls.push(call.clone());
                        self.tool_calls.sort_by_key(|c| c.at);
                    }
                }
            }
            CallEvent::Appointment(id) => {
                if !self.appointments.contains(id) {
                    self.appointments.push(id.clone());
                }
            }
            CallEvent::Summary { summary, at } => {
                self.summary = Some(summary.clone());
                // The call ended at the first sign of its end: the stream's or Twilio's.
                self.ended = Some(self.ended.map_or(*at, |e| e.min(*at)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid() -> CallSid {
        CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap()
    }

    fn status(status: CallStatus, sequence: u32, secs: i64) -> CallEvent {
        CallEvent::Status {
            status,
            sequence,
            duration_seconds: status.is_final().then_some(42),
            at: Timestamp::from_second(1_800_000_000 + secs).unwrap(),
        }
    }

    #[test]
    fn status_callbacks_end_right_in_any_order_and_repeated() {
        let events = [
            status(CallStatus::Ringing, 0, 0),
            status(CallStatus::InProgress, 1, 2),
            status(CallStatus::Completed, 2, 60),
        ];
        let orders: [[usize; 5]; 3] = [[0, 1, 2, 2, 1], [2, 1, 0, 0, 2], [1, 2, 0, 1, 0]];
        for order in orders {
            let mut r = CallRecord::new(sid());
            for i in order {
                r.apply(&events[i]);
            }
            assert_eq!(r.status.unwrap().status, CallStatus::Completed, "{order:?}");
            assert_eq!(r.duration_seconds, Some(42));
            assert_eq!(
                r.started,
                Some(Timestamp::from_second(1_800_000_000).unwrap())
            );
            assert_eq!(
                r.ended,
                Some(Timestamp::from_second(1_800_000_060).unwrap())
            );
        }
    }

    #[test]
    fn tool_calls_and_appointments_are_not_duplicated() {
        let mut r = CallRecord::new(sid());
        let call = ToolCallRecord {
            name: "create_voice_appointment".into(),
            call_id: "call_1".into(),
            error: None,
            at: Timestamp::from_second(1_800_000_000).unwrap(),
            millis: 12,
        };
        let id = AppointmentId::parse("a1").unwrap();
        for _ in 0..2 {
            r.apply(&CallEvent::ToolCall(call.clone()));
            r.apply(&CallEvent::Appointment(id.clone()));
        }
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.appointments, vec![id]);
    }

    #[test]
    fn a_call_is_claimed_by_one_stream() {
        let mut r = CallRecord::new(sid());
        assert_eq!(r.claim("MZ1"), Ok(()));
        assert_eq!(r.claim("MZ1"), Ok(()), "a retried claim");
        assert_eq!(r.claim("MZ2"), Err(AlreadyStreaming));
        assert_eq!(r.stream_sid.as_deref(), Some("MZ1"));
    }

    #[test]
    fn twilio_status_names_parse() {
        assert_eq!(
            CallStatus::parse("in-progress"),
            Some(CallStatus::InProgress)
        );
        assert_eq!(CallStatus::parse("no-answer"), Some(CallStatus::NoAnswer));
        assert_eq!(CallStatus::parse("bogus"), None);
        assert_eq!(
            serde_json::to_string(&CallStatus::NoAnswer).unwrap(),
            "\"no-answer\""
        );
    }
}
