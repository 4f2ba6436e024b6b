//! The double's side of each soak call: which Realtime connections served it, the script each
//! one plays, and what the model was told each tool answered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use salon_realtime_double::{Say, Script, ScriptedResponse, Scripts, Tap};
use serde_json::Value;

use super::plan::CallPlan;

/// Where a call's tag sits in its session instructions (the fault proxy appends it).
pub(crate) const TAG_PREFIX: &str = "[soak-call ";

/// The tag the proxy appends to a call's instructions.
pub(crate) fn tag(call_sid: &str) -> String {
    format!("\n{TAG_PREFIX}{call_sid}]")
}

/// What the double saw of one call.
#[derive(Debug, Default)]
pub(crate) struct ModelSide {
    /// Realtime connections that served it.
    pub connections: u32,
    /// When the model was first told the booking was made (`ok` with `confirmat`, or the
    /// caller's appointments looked up with one found).
    pub booked_at: Option<Instant>,
    /// Tool outputs that were errors, by code.
    pub errors: Vec<String>,
    /// Error outputs whose message is the relay's Romanian apology for the functions.
    pub apologies: usize,
    /// Error outputs saying a booking was sent and not answered (it may have been made).
    pub unknown: usize,
}

/// One call as the double knows it.
#[derive(Debug)]
struct Entry {
    first: Script,
    again: Script,
    side: Arc<Mutex<ModelSide>>,
}

/// Every soak call's scripts and model side, by tag and by Realtime connection.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    by_sid: HashMap<String, Entry>,
    by_connection: Mutex<HashMap<u64, Arc<Mutex<ModelSide>>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Calls {
    pub(crate) fn new(plans: &[CallPlan]) -> Calls {
        let by_sid = plans
            .iter()
            .map(|p| {
                let (first, again) = p.scripts();
                let entry = Entry {
                    first,
                    again,
                    side: Arc::default(),
                };
                (p.call_sid.clone(), entry)
            })
            .collect();
        Calls {
            by_sid,
            by_connection: Mutex::default(),
        }
    }

    /// The model side of a call.
    pub(crate) fn side(&self, call_sid: &str) -> Arc<Mutex<ModelSide>> {
        self.by_sid
            .get(call_sid)
            .map(|e| e.side.clone())
            .unwrap_or_default()
    }
}

/// A third connection for one call is not planned: it says goodbye and ends the call.
fn closing() -> Script {
    Script {
        caller_transcripts: vec![],
        responses: vec![ScriptedResponse {
            say: Some(Say {
                text: "Ne pare rău, a apărut o problemă. Vă rugăm să sunați din nou.".into(),
                audio: None,
                ms: Some(1_200),
            }),
            calls: vec![salon_realtime_double::Call {
                name: "end_call".into(),
                arguments: serde_json::json!({}),
            }],
            drop: None,
        }],
        ..Script::default()
    }
}

impl Scripts for Calls {
    fn script(&self, connection: u64, instructions: &str) -> Option<Script> {
        let at = instructions.rfind(TAG_PREFIX)? + TAG_PREFIX.len();
        let sid = instructions[at..].split(']').next()?;
        let entry = self.by_sid.get(sid)?;
        lock(&self.by_connection).insert(connection, entry.side.clone());
        let mut side = lock(&entry.side);
        side.connections += 1;
        Some(match side.connections {
            1 => entry.first.clone(),
            2 => entry.again.clone(),
            _ => closing(),
        })
    }
}

impl Tap for Calls {
    fn function_output(&self, connection: u64, _call_id: &str, output: &str) {
        let Some(side) = lock(&self.by_connection).get(&connection).cloned() else {
            return;
        };
        let reply: Value = serde_json::from_str(output).unwrap_or_default();
        let mut side = lock(&side);
        if reply["ok"] == true {
            // Only the booking's answer says `confirmat` (end_call's does not).
            // Or, after an unknown outcome, the caller's appointments looked up: each caller's
            // number is their own and books once, so one found is the booking.
            let found = reply["result"]["programari"]
                .as_array()
                .is_some_and(|list| !list.is_empty());
            if (reply["result"]["confirmat"] == true || found) && side.booked_at.is_none() {
                side.booked_at = Some(Instant::now());
            }
        } else {
            side.errors
                .push(reply["error"]["code"].as_str().unwrap_or("?").to_owned());
            if reply["error"]["message"] == APOLOGY {
                side.apologies += 1;
            }
            if reply["error"]["message"] == OUTCOME_UNKNOWN {
                side.unknown += 1;
            }
        }
    }

    fn closed(&self, connection: u64) {
        lock(&self.by_connection).remove(&connection);
    }
}

/// What the relay tells the model when a booking was sent and no answer came back
/// (`salon_relay::functions::OUTCOME_UNKNOWN`; the soak's test compares them).
pub(crate) const OUTCOME_UNKNOWN: &str = "Sistemul de programări nu a răspuns, deci nu știm sigur dacă modificarea s-a făcut. Nu spune că a reușit și nici că a eșuat: verifică mai întâi cu list_client_appointments. Dacă nici verificarea nu merge, spune-i apelantului că nu putem confirma acum și să sune din nou puțin mai târziu.";

/// The relay's Romanian apology when the functions fail (`salon_relay::functions::UNREACHABLE`:
/// the load crate runs the relay's binary and does not link it; the soak's test compares them).
pub(crate) const APOLOGY: &str =
    "Ne pare rău, sistemul de programări nu răspunde acum. Vă rugăm să reveniți puțin mai târziu.";
