//! The model's side of a call: its events (audio, transcripts, turns, function calls) and the
//! tools' answers going back to it. A child of the machine, so it works on the call's own
//! state.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use salon_relay_protocol::realtime::{OutputItem, ServerEvent, Usage};
use salon_wire::tools::{self, ToolErrorCode};
use salon_wire::{CallOutcome, Speaker, TokenUsage, ToolReply, TranscriptLine};
use tokio::time::Instant;

use super::{Call, Flow, HOLD_AFTER, Output, Playing, ToolCall, ToolDone};
use crate::call::history::Said;
use crate::openai::ClientEvent;

impl Call {
    pub(super) fn on_upstream(
        &mut self,
        event: ServerEvent<'_>,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Flow {
        match event {
            ServerEvent::AudioDelta { item_id, delta } => {
                if self.interrupted.as_deref() == Some(&*item_id) {
                    return Flow::Continue;
                }
                if self.playing.as_ref().is_none_or(|p| p.item_id != item_id) {
                    self.pump(true, out);
                    self.playing = Some(Playing {
                        item_id: item_id.into_owned(),
                        model_bytes: 0,
                        sent_bytes: 0,
                        played_bytes: 0,
                    });
                }
                self.scratch.clear();
                if B64.decode_vec(delta.as_bytes(), &mut self.scratch).is_ok() {
                    if let Some(p) = self.playing.as_mut() {
                        p.model_bytes += self.scratch.len() as u64;
                    }
                    self.outbound.push_delta(&self.scratch);
                    self.pump(false, out);
                }
            }
            // The item's last partial frame goes out padded, so the next item starts on a frame.
            ServerEvent::AudioDone { item_id }
                if self.interrupted.as_deref() != item_id.as_deref() =>
            {
                self.pump(true, out);
            }
            ServerEvent::AgentTranscript { transcript } => {
                self.transcribe(Speaker::Agent, transcript);
            }
            ServerEvent::CallerTranscript { transcript } => {
                self.transcribe(Speaker::Caller, transcript);
            }
            ServerEvent::SpeechStarted => {
                self.last_activity = now;
                self.checked_in = false;
                self.barge_in(out);
            }
            ServerEvent::SpeechStopped => self.last_activity = now,
            ServerEvent::ResponseCreated => {
                self.response_active = true;
                self.last_create = None;
            }
            ServerEvent::OutputItemDone {
                item:
                    OutputItem::FunctionCall {
                        name,
                        call_id,
                        arguments,
                    },
            } => {
                if name == tools::END_CALL {
                    self.end_after_response = Some(CallOutcome::EndedByAgent);
                } else if !self.session.tools.iter().any(|t| t.name == name) {
                    // Not a tool the session declared: never sent to the functions (the name
                    // would become part of a URL), answered here so the model can go on.
                    let reply = ToolReply::error(ToolErrorCode::UnknownTool, "Nu pot face asta.");
                    self.send_up(
                        out,
                        ClientEvent::FunctionOutput {
                            call_id,
                            output: serde_json::to_string(&reply).expect("tool replies serialise"),
                        },
                    );
                    self.outputs_pending_response = true;
                } else if self.end_after_response.is_none() {
                    if self.tools_in_flight == 0 {
                        self.hold_at = Some(now + HOLD_AFTER);
                    }
                    if name == tools::TRANSFER_TO_HUMAN {
                        self.transfer_call = Some(call_id.clone());
                    }
                    self.tools_in_flight += 1;
                    self.history.push(Said::Call {
                        call_id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                    });
                    out.push(Output::Tool(ToolCall {
                        connection: self.connection,
                        name,
                        call_id,
                        arguments,
                    }));
                }
            }
            ServerEvent::ResponseDone { usage: reported } => {
                self.response_active = false;
                self.last_activity = now;
                if let Some(u) = reported {
                    self.usage.add(&usage(&u));
                }
                // The model's own response (the caller spoke as the tool results came in)
                // refused ours: ask again now, so the caller hears the answer, once.
                if let Some(turn) = self.retry_create.take() {
                    self.respond(out, turn);
                    return Flow::Continue;
                }
                if let Some(outcome) = self.end_after_response.take() {
                    return self.begin_ending(outcome, now, out);
                }
                // The agent has said it puts the caller through, and nothing else is due.
                if self.transferring && self.tools_in_flight == 0 && !self.outputs_pending_response
                {
                    self.transferring = false;
                    return self.begin_ending(CallOutcome::Transferred, now, out);
                }
                // Tool answers that came in during the response are spoken before a goodbye.
                self.maybe_respond(out);
                self.goodbye_if_due(out);
            }
            ServerEvent::Error { code, message }
                if code.as_deref() == Some("conversation_already_has_active_response") =>
            {
                tracing::info!(
                    message = message.as_deref().unwrap_or(""),
                    "the model was already responding: asking again after its response"
                );
                // A response is active after all; ours waits for its end.
                self.response_active = true;
                if let Some(turn) = self.last_create.take() {
                    self.retry_create = Some(turn);
                }
            }
            ServerEvent::Error { code, message } => {
                tracing::warn!(
                    code = code.as_deref().unwrap_or(""),
                    message = message.as_deref().unwrap_or(""),
                    "the Realtime API reported an error"
                );
                self.count(&self.metrics.openai_errors);
            }
            _ => {}
        }
        Flow::Continue
    }

    /// Keeps a non-empty transcript line for the summary.
    fn transcribe(&mut self, speaker: Speaker, transcript: Option<String>) {
        if let Some(text) = transcript.filter(|t| !t.trim().is_empty()) {
            let line = TranscriptLine { speaker, text };
            self.history.push(Said::Line(line.clone()));
            self.transcript.push(line);
        }
    }

    pub(super) fn on_tool(&mut self, done: ToolDone, now: Instant, out: &mut Vec<Output>) -> Flow {
        if done.connection != self.connection {
            return Flow::Continue;
        }
        self.tools_in_flight = self.tools_in_flight.saturating_sub(1);
        if self.tools_in_flight == 0 {
            self.hold_at = None;
        }
        self.last_activity = now;
        if self.transfer_call.as_deref() == Some(done.call_id.as_str()) {
            self.transfer_call = None;
            self.transferring =
                matches!(&done.reply, ToolReply::Ok(v) if v[tools::TRANSFER_FIELD] == true);
        }
        let output = serde_json::to_string(&done.reply).expect("tool replies serialise");
        self.history.push(Said::Output {
            call_id: done.call_id.clone(),
            output: output.clone(),
        });
        self.send_up(
            out,
            ClientEvent::FunctionOutput {
                call_id: done.call_id,
                output,
            },
        );
        self.outputs_pending_response = true;
        self.maybe_respond(out);
        Flow::Continue
    }

    /// One `response.create` once every tool output of a finished response is in.
    pub(super) fn maybe_respond(&mut self, out: &mut Vec<Output>) {
        if !self.response_active
            && self.tools_in_flight == 0
            && self.outputs_pending_response
            && self.end_after_response.is_none()
            && self.ending.is_none()
        {
            self.outputs_pending_response = false;
            self.respond(out, None);
        }
    }
}

/// Converts `response.done`'s usage into the summary's.
fn usage(u: &Usage) -> TokenUsage {
    TokenUsage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        input_audio_tokens: u.input_token_details.audio_tokens,
        output_audio_tokens: u.output_token_details.audio_tokens,
        cached_input_tokens: u.input_token_details.cached_tokens,
    }
}
