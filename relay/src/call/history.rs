//! The conversation as the call keeps it to replay into a new Realtime session after a
//! dropped connection: the lines said and the tool calls with their outputs, in order.

use salon_wire::TranscriptLine;

use crate::openai::ClientEvent;

/// One thing in the conversation, kept to replay into a new session.
#[derive(Debug, Clone)]
pub(super) enum Said {
    Line(TranscriptLine),
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
    Output {
        call_id: String,
        output: String,
    },
}

/// The events that replay `history` into a new session: every line, and every tool call whose
/// output came back, with that output. A call still in flight when the connection dropped is
/// left out: its result belongs to the old session, and the model may ask again (a booking
/// asked again books once, by its natural key).
pub(super) fn restore(history: &[Said]) -> Vec<ClientEvent> {
    let answered = |id: &str| {
        history
            .iter()
            .any(|s| matches!(s, Said::Output { call_id, .. } if call_id == id))
    };
    history
        .iter()
        .filter_map(|said| match said {
            Said::Line(line) => Some(ClientEvent::Restore(line.clone())),
            Said::Call {
                call_id,
                name,
                arguments,
            } if answered(call_id) => Some(ClientEvent::RestoreCall {
                call_id: call_id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
            }),
            Said::Call { .. } => None,
            Said::Output { call_id, output } => Some(ClientEvent::FunctionOutput {
                call_id: call_id.clone(),
                output: output.clone(),
            }),
        })
        .collect()
}
