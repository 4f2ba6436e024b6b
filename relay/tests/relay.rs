//! The relay driven through real WebSockets on loopback: a Twilio-side peer, the in-tree
//! Realtime double, and fake functions.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use salon_realtime_double::{Double, Script};
use salon_relay::audio::{AudioMode, OutboundAudio};
use salon_wire::CallOutcome;
use serde_json::{Value, json};

fn script(v: Value) -> Script {
    Script::from_json(&v.to_string()).unwrap()
}

/// The caller's recorded words (μ-law 8 kHz), from the double's audio.
fn caller(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/realtime-double/audio/caller/{name}.wav",
        env!("CARGO_MANIFEST_DIR")
    );
    salon_realtime_double::audio::Wav::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .data
}

struct Rig {
    double: Double,
    functions: FakeFunctions,
    relay: Relay,
    mode: AudioMode,
}

async fn rig(s: Value, mode: AudioMode, tune: impl FnOnce(&mut salon_relay::Config)) -> Rig {
    let double = Double::start(script(s)).await.unwrap();
    let functions = FakeFunctions::start().await;
    let mut config = config(&functions, &double.url(), mode);
    tune(&mut config);
    let relay = Relay::start(config).await;
    Rig {
        double,
        functions,
        relay,
        mode,
    }
}

fn events(double: &Double, kind: &str) -> Vec<Value> {
    double
        .received()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// How many 20 ms frames the relay makes of the audio the double has sent so far: the same
/// deltas through the relay's own outbound path, each item's tail flushed at its end. Exact
/// while no item was interrupted.
fn frames_sent(double: &Double, mode: AudioMode) -> usize {
    let mut audio = OutboundAudio::new(mode);
    let mut frames = 0;
    for e in double.sent() {
        match e["type"].as_str() {
            Some("response.output_audio.delta") => {
                audio.push_delta(&B64.decode(e["delta"].as_str().unwrap()).unwrap());
                while audio.next_chunk().is_some() {
                    frames += 1;
                }
            }
            Some("response.output_audio.done") => {
                while audio.flush().is_some() {
                    frames += 1;
                }
            }
            _ => {}
        }
    }
    frames
}

/// Waits until the double has played `n` responses of its script (a `drop` counts as one).
async fn wait_played(double: &Double, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while double.responses_played() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the double played {} of {n} responses",
            double.responses_played()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the double has sent `n` event(s) matching `pred`.
async fn wait_sent(double: &Double, n: usize, what: &str, pred: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while double.sent().iter().filter(|e| pred(e)).count() < n {
        assert!(tokio::time::Instant::now() < deadline, "{what}: not sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the model has finished its first `responses` responses and Twilio has played
/// every frame of them (each one's mark echoed); returns how many frames that was. Exact
/// while no item was interrupted.
async fn played(r: &Rig, twilio: &TwilioSide, responses: usize) -> usize {
    wait_sent(&r.double, responses, "response.done", |e| {
        e["type"] == "response.done"
    })
    .await;
    let frames = frames_sent(&r.double, r.mode);
    twilio.wait_played(frames, Duration::from_secs(10)).await;
    frames
}

/// The functions answering tools as `mode`, a caller dials, hears the greeting and says yes to
/// a booking (the scripts then call the tool).
async fn asks_to_book(r: &Rig, mode: ToolMode) -> TwilioSide {
    *r.functions.mode.lock().unwrap() = mode;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(r, &twilio, 1).await;
    twilio.speak(&caller("03-confirmare")).await;
    twilio
}

/// Sends the relay one frame of the line's quiet and waits until the model has had every
/// frame the caller sent: whatever the relay sent the model before reading that frame has
/// arrived too (the relay reads Twilio in order and writes to the model in order).
async fn caught_up(r: &Rig, twilio: &TwilioSide) {
    twilio.media(&silence(20));
    let sent = twilio.media_sent();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events(&r.double, "input_audio_buffer.append").len() < sent {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the model did not get the caller's audio"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Media frames Twilio heard after its last `clear`.
fn frames_after_clear(heard: &[Heard]) -> usize {
    let clear_at = heard.iter().rposition(|h| *h == Heard::Clear).unwrap();
    heard[clear_at..]
        .iter()
        .filter(|h| matches!(h, Heard::Media(_)))
        .count()
}

async fn greets_first_in_steady_chunks(mode: AudioMode) {
    let r = rig(
        json!({"responses": [{"say": {"text": GREETING, "audio": "01-salut"}}]}),
        mode,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    let update = r
        .double
        .wait_for(|e| e["type"] == "session.update", Duration::from_secs(5))
        .await
        .expect("session.update");
    let format = &update["session"]["audio"]["input"]["format"];
    assert_eq!(format, &mode.openai_format());
    assert_eq!(
        update["session"]["audio"]["output"]["format"],
        mode.openai_format()
    );
    assert_eq!(
        update["session"]["audio"]["input"]["transcription"]["language"],
        "ro"
    );
    let greet = r
        .double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        greet["response"]["instructions"]
            .as_str()
            .unwrap()
            .contains(GREETING)
    );

    // The whole greeting arrives, in 160-byte frames, each followed by its own mark.
    wait_sent(&r.double, 1, "the greeting", |e| {
        e["type"] == "response.done"
    })
    .await;
    let frames = frames_sent(&r.double, mode);
    assert!(frames > 50, "{frames} frames");
    twilio
        .wait(
            Duration::from_secs(10),
            "every frame of the greeting and its mark",
            |h| {
                h.iter().filter(|x| matches!(x, Heard::Mark(_))).count() == frames
                    && matches!(h.last(), Some(Heard::Mark(_)))
            },
        )
        .await;
    let heard = twilio.heard.lock().unwrap().clone();
    let mut names = std::collections::HashSet::new();
    for pair in heard.chunks(2) {
        match pair {
            [Heard::Media(m), Heard::Mark(n)] => {
                assert_eq!(m.len(), 160, "steady 20 ms chunks");
                assert!(names.insert(n.clone()), "mark names are unique");
            }
            other => panic!("expected media then mark, got {other:?}"),
        }
    }
    let total: usize = twilio.media_frames().iter().map(Vec::len).sum();
    let greeting_ms = r
        .double
        .sent()
        .iter()
        .filter(|e| e["type"] == "response.output_audio.delta")
        .count();
    assert!(greeting_ms > 0);
    // 3.0 to 8 seconds of Romanian greeting, give or take the last padded frame.
    assert!(
        (3 * 8000..8 * 8000).contains(&total),
        "{total} bytes of μ-law"
    );

    twilio.hang_up();
    let summary = r.functions.wait_summary(Duration::from_secs(5)).await;
    assert_eq!(summary.outcome, CallOutcome::CallerHungUp);
    assert!(summary.transcript.iter().any(|l| l.text == GREETING));
    assert!(
        summary.usage.output_tokens > 0,
        "usage summed from response.done"
    );
    assert_eq!(
        *r.functions.unsigned.lock().unwrap(),
        0,
        "every request to the functions was signed"
    );
}

#[tokio::test]
async fn greets_first_in_steady_chunks_pcm24() {
    greets_first_in_steady_chunks(AudioMode::Pcm24).await;
}

#[tokio::test]
async fn greets_first_in_steady_chunks_pcmu() {
    greets_first_in_steady_chunks(AudioMode::Pcmu).await;
}

async fn barge_in_truncates_at_what_was_heard(mode: AudioMode) {
    let r = rig(
        json!({"caller_transcripts": ["Stați puțin, nu asta am vrut să spun."],
               "responses": [{"say": {"text": "O frază lungă despre servicii.", "ms": 6000}}, {"say": {"text": "Vă ascult.", "ms": 500}}]}),
        mode,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    // Let about a third of a second play, then hold playback where it is.
    twilio.wait_played(15, Duration::from_secs(10)).await;
    let played = twilio.hold_playback() as u64;
    twilio.speak(&caller("10-intrerupere")).await;

    let truncate = r
        .double
        .wait_for(
            |e| e["type"] == "conversation.item.truncate",
            Duration::from_secs(5),
        )
        .await
        .expect("a truncate");
    assert_eq!(
        truncate["audio_end_ms"].as_u64(),
        Some(played * 20),
        "what the caller heard, by marks"
    );
    assert_eq!(truncate["content_index"], 0);
    let sent_ms = twilio.media_frames().len() as u64 * 20;
    assert!(played * 20 <= sent_ms);
    twilio
        .wait(Duration::from_secs(2), "a clear", |h| {
            h.contains(&Heard::Clear)
        })
        .await;
    assert!(
        !r.double.sent().iter().any(|e| e["type"] == "error"),
        "the double accepted the truncate: {:?}",
        r.double
            .sent()
            .iter()
            .filter(|e| e["type"] == "error")
            .collect::<Vec<_>>()
    );
    // Nothing of the interrupted item reaches Twilio after the clear: only the next
    // response ("Vă ascult.", 500 ms = 25 frames, the last one padded) follows it. The
    // interrupted item's deltas came before the next one's, so once the next response is
    // heard, anything leaked would have been heard too; the call then ends, and with it what
    // the relay sends.
    twilio.resume_playback();
    twilio
        .wait(Duration::from_secs(5), "the next response", |h| {
            frames_after_clear(h) >= 25
        })
        .await;
    twilio.hang_up();
    let summary = r.functions.wait_summary(Duration::from_secs(5)).await;
    let after = frames_after_clear(&twilio.heard.lock().unwrap());
    assert!(after <= 26, "{after} frames after the clear");
    assert_eq!(r.relay.metric("relay_barge_ins_total"), 1.0);
    assert_eq!(summary.barge_ins, 1);
}

#[tokio::test]
async fn barge_in_truncates_at_what_was_heard_pcm24() {
    barge_in_truncates_at_what_was_heard(AudioMode::Pcm24).await;
}

#[tokio::test]
async fn barge_in_truncates_at_what_was_heard_pcmu() {
    barge_in_truncates_at_what_was_heard(AudioMode::Pcmu).await;
}

#[tokio::test]
async fn no_truncate_when_nothing_is_playing() {
    let r = rig(
        json!({"caller_transcripts": ["Aș dori o programare."], "responses": [{"say": {"text": "Bună ziua!", "ms": 400}}, {"say": {"text": "Sigur.", "ms": 300}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    let greeting = played(&r, &twilio, 1).await;
    twilio.speak(&caller("01-cerere-tuns")).await;
    // The answer follows the caller's turn: a clear would have come before it, and a truncate
    // before the relay read the caller's next frame.
    twilio
        .wait(Duration::from_secs(5), "the answer", |h| {
            h.iter().filter(|x| matches!(x, Heard::Media(_))).count() > greeting
        })
        .await;
    caught_up(&r, &twilio).await;
    assert!(events(&r.double, "conversation.item.truncate").is_empty());
    assert!(!twilio.heard.lock().unwrap().contains(&Heard::Clear));
    twilio.hang_up();
}

#[tokio::test]
async fn at_most_four_tool_calls_of_a_call_run_at_once() {
    let call = |i: u32| json!({"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "2026-12-15", "time": format!("1{i}:00")}});
    let r = rig(
        json!({"responses": [
                   {"say": {"text": "Bună ziua!", "ms": 300}},
                   {"calls": (0..6).map(call).collect::<Vec<_>>()},
                   {"say": {"text": "Gata.", "ms": 300}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    *r.functions.mode.lock().unwrap() = ToolMode::Slow(1500);
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    twilio.speak(&caller("01-cerere-tuns")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while events(&r.double, "conversation.item.create")
        .iter()
        .filter(|e| e["item"]["type"] == "function_call_output")
        .count()
        < 6
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "every call was answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        r.functions.tools.lock().unwrap().len(),
        4,
        "the fifth and sixth never reached the functions"
    );
    let busy = events(&r.double, "conversation.item.create")
        .into_iter()
        .filter(|e| {
            e["item"]["type"] == "function_call_output"
                && e["item"]["output"]
                    .as_str()
                    .is_some_and(|o| o.contains("prea multe cereri"))
        })
        .count();
    assert_eq!(busy, 2);
    twilio.hang_up();
    r.functions.wait_summary(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn tool_calls_go_to_the_functions_and_one_response_follows() {
    let r = rig(
        json!({"caller_transcripts": ["Aș dori un tuns mâine la zece."],
               "responses": [
                   {"say": {"text": "Bună ziua!", "ms": 300}},
                   {"calls": [
                       {"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "2026-12-15", "time": "10:00"}},
                       {"name": "check_appointment_availability", "arguments": {"service": "barbierit", "date": "2026-12-15", "time": "10:00"}}]},
                   {"say": {"text": "Avem liber la zece.", "ms": 300}}]}),
        AudioMode::Pcm24,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    twilio.speak(&caller("01-cerere-tuns")).await;
    r.double
        .wait_for(
            |e| e["type"] == "response.create" && e.get("response").is_none(),
            Duration::from_secs(8),
        )
        .await
        .expect("a response after the tools");
    let outputs: Vec<Value> = events(&r.double, "conversation.item.create")
        .into_iter()
        .filter(|e| e["item"]["type"] == "function_call_output")
        .collect();
    assert_eq!(outputs.len(), 2, "both parallel calls answered");
    for o in &outputs {
        let reply: Value = serde_json::from_str(o["item"]["output"].as_str().unwrap()).unwrap();
        assert_eq!(reply["ok"], true);
    }
    let tools = r.functions.tools.lock().unwrap().clone();
    assert_eq!(tools.len(), 2);
    assert!(
        tools
            .iter()
            .all(|(n, body)| n == "check_appointment_availability" && body["call_id"].is_string())
    );
    // Each carries who the stream token says is calling which salon, so the functions need
    // not read the call record for it.
    let signed = claims();
    assert!(
        tools
            .iter()
            .all(|(_, body)| body["business"] == signed.business.as_str()
                && body["caller"] == signed.caller.as_str()),
        "{tools:?}"
    );
    // A second response.create would have gone out with the outputs, long before the answer
    // is over and the relay reads the caller's next frame.
    wait_sent(&r.double, 3, "the answer", |e| e["type"] == "response.done").await;
    caught_up(&r, &twilio).await;
    let creates_after = r
        .double
        .received()
        .iter()
        .filter(|e| e["type"] == "response.create" && e.get("response").is_none())
        .count();
    assert_eq!(creates_after, 1, "one response.create for the two outputs");
    assert!(
        !r.double
            .sent()
            .iter()
            .any(|e| e["error"]["code"] == "conversation_already_has_active_response"),
        "never while a response is active"
    );
    twilio.hang_up();
    let s = r.functions.wait_summary(Duration::from_secs(5)).await;
    assert!(s.transcript.iter().any(|l| l.text == "Avem liber la zece."));
}

/// A booking the functions take long to make: the caller hears the hold line while it runs,
/// then its answer. Judged by what the relay asked the model and when, and what Twilio got.
#[tokio::test]
async fn a_slow_booking_gets_the_hold_line_while_it_runs_then_its_answer() {
    let r = rig(
        json!({"responses": [
                   {"say": {"text": "Bună ziua!", "ms": 300}},
                   {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns"}}]},
                   {"say": {"text": "Gata, v-am programat.", "ms": 400}}],
               "asides": [{"when": "Un moment, vă rog", "say": {"text": "Un moment, vă rog, verific.", "ms": 600}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = asks_to_book(&r, ToolMode::Slow(1_900)).await;
    // The greeting, the booking call, the hold line, the answer.
    played(&r, &twilio, 4).await;
    let received = r.double.received();
    let position = |pred: &dyn Fn(&Value) -> bool| received.iter().position(pred);
    let hold = position(&|e| {
        e["type"] == "response.create"
            && e["response"]["instructions"]
                .as_str()
                .is_some_and(|i| i.contains(salon_relay::call::HOLD))
    })
    .expect("the hold line was asked for");
    let output = position(&|e| {
        e["type"] == "conversation.item.create" && e["item"]["type"] == "function_call_output"
    })
    .expect("the booking's answer reached the model");
    assert!(hold < output, "the hold line came while the booking ran");
    let holds = received
        .iter()
        .filter(|e| {
            e["response"]["instructions"]
                .as_str()
                .is_some_and(|i| i.contains(salon_relay::call::HOLD))
        })
        .count();
    assert_eq!(holds, 1, "one hold line per wait");
    let transcripts: Vec<_> = r
        .double
        .sent()
        .into_iter()
        .filter(|e| e["type"] == "response.output_audio_transcript.done")
        .map(|e| e["transcript"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        transcripts[1..],
        ["Un moment, vă rog, verific.", "Gata, v-am programat."],
        "the answer was still the model's to give after the hold line"
    );
    twilio.hang_up();
}

#[tokio::test]
async fn a_booking_in_flight_when_the_caller_hangs_up_finishes_before_the_summary() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns"}}]}, {"say": {"text": "Gata.", "ms": 300}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = asks_to_book(&r, ToolMode::Slow(1500)).await;
    // The booking reached the functions; the caller hangs up while it is being made.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while r.functions.tools.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the booking was sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    twilio.hang_up();
    r.functions.wait_summary(Duration::from_secs(10)).await;
    assert_eq!(
        *r.functions.finished.lock().unwrap(),
        ["tool:create_voice_appointment", "summary"],
        "the call's booking was finished, not cut off, before the call was reported"
    );
}

/// A booking sent and never answered may have been made: the model is told the outcome is
/// unknown (and to check), never that it failed; a question never answered is only
/// unreachable.
#[tokio::test]
async fn a_booking_never_answered_is_an_unknown_outcome_not_a_failure() {
    let r = rig(
        json!({"responses": [
                   {"say": {"text": "Bună ziua!", "ms": 300}},
                   {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns"}},
                              {"name": "check_appointment_availability", "arguments": {"service": "tuns"}}]},
                   {"say": {"text": "Verific.", "ms": 300}}],
               "asides": [{"when": "Un moment, vă rog", "say": {"text": "Un moment, vă rog, verific.", "ms": 300}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = asks_to_book(&r, ToolMode::Hang).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let outputs = loop {
        let outputs: Vec<Value> = events(&r.double, "conversation.item.create")
            .into_iter()
            .filter(|e| e["item"]["type"] == "function_call_output")
            .map(|e| serde_json::from_str(e["item"]["output"].as_str().unwrap()).unwrap())
            .collect();
        if outputs.len() == 2 {
            break outputs;
        }
        assert!(tokio::time::Instant::now() < deadline, "both were answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let code = |i: usize| outputs[i]["error"]["code"].as_str().unwrap().to_owned();
    let mut codes = vec![code(0), code(1)];
    codes.sort();
    assert_eq!(codes, ["functions_unreachable", "outcome_unknown"]);
    let unknown = outputs
        .iter()
        .find(|o| o["error"]["code"] == "outcome_unknown")
        .unwrap();
    assert_eq!(
        unknown["error"]["message"],
        salon_relay::functions::OUTCOME_UNKNOWN
    );
    assert!(
        r.functions.tools.lock().unwrap().len() >= 4,
        "each was asked again within the budget"
    );
    twilio.hang_up();
}

/// A call that starts while the functions are restarting waits briefly for its session
/// instead of ending in the apology at once.
#[tokio::test]
async fn a_call_starting_during_a_short_functions_outage_gets_its_session() {
    let double = Double::start(script(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}]}),
    ))
    .await
    .unwrap();
    // The functions' port, reserved and closed: nothing answers there yet.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stand_in = FakeFunctions::start().await;
    let mut config = config(&stand_in, &double.url(), AudioMode::Pcmu);
    config.functions_url = format!("http://{addr}");
    let relay = Relay::start(config).await;
    let twilio = TwilioSide::dial(&relay, Some(stream_token())).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let functions = FakeFunctions::start_at(addr).await;
    twilio
        .wait(Duration::from_secs(10), "the greeting", |h| {
            h.iter().any(|h| matches!(h, Heard::Media(_)))
        })
        .await;
    assert_eq!(functions.sessions.lock().unwrap().len(), 1);
    assert!(!twilio.closed(), "the call goes on");
    twilio.hang_up();
}

#[tokio::test]
async fn failing_functions_become_an_error_the_model_can_apologise_for() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"calls": [{"name": "create_voice_appointment", "arguments": {"service": "tuns"}}]}, {"say": {"text": "Ne pare rău.", "ms": 300}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = asks_to_book(&r, ToolMode::Fail).await;
    let out = r
        .double
        .wait_for(
            |e| {
                e["type"] == "conversation.item.create"
                    && e["item"]["type"] == "function_call_output"
            },
            Duration::from_secs(10),
        )
        .await
        .expect("an output even when the functions fail");
    let reply: Value = serde_json::from_str(out["item"]["output"].as_str().unwrap()).unwrap();
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["code"], "functions_unreachable");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nu răspunde")
    );
    r.double
        .wait_for(
            |e| e["type"] == "response.create" && e.get("response").is_none(),
            Duration::from_secs(3),
        )
        .await
        .expect("the call goes on");
    assert!(!twilio.closed());
    twilio.hang_up();
}

#[tokio::test]
async fn end_call_hangs_up_after_the_goodbye_has_played() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"say": {"text": "La revedere!", "audio": "08-la-revedere"}, "calls": [{"name": "end_call", "arguments": {"reason": "booked"}}]}]}),
        AudioMode::Pcm24,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    twilio.speak(&caller("09-la-revedere")).await;
    twilio
        .wait(Duration::from_secs(15), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    let summary = r
        .functions
        .summary()
        .expect("the summary was posted before the stream closed");
    assert_eq!(summary.outcome, CallOutcome::EndedByAgent);
    // Every frame of the goodbye had played (its mark echoed) before the close.
    let heard = twilio.heard.lock().unwrap().clone();
    let marks: Vec<String> = heard
        .iter()
        .filter_map(|h| {
            if let Heard::Mark(n) = h {
                Some(n.clone())
            } else {
                None
            }
        })
        .collect();
    let echoed = twilio.echoed.lock().unwrap().clone();
    assert_eq!(
        echoed.last(),
        marks.last(),
        "closed only after the last mark came back"
    );
    assert!(
        r.functions.tools.lock().unwrap().is_empty(),
        "end_call is the relay's own"
    );
}

/// Twilio streams the line's audio until the stream is closed, so the relay's close finds the
/// caller's frames unread: it must finish the close handshake (reading what still comes)
/// rather than drop the socket, which resets the connection and shows as a stream error.
#[tokio::test]
async fn the_relay_closes_a_stream_the_caller_still_streams_on_with_a_handshake_not_a_reset() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"say": {"text": "La revedere!", "ms": 200}, "calls": [{"name": "end_call", "arguments": {"reason": "booked"}}]}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    // The summary takes a while, as it may from Lambda: the line's frames pile up meanwhile.
    *r.functions.summary_delay_ms.lock().unwrap() = 400;
    let twilio = Arc::new(TwilioSide::dial(&r.relay, Some(stream_token())).await);
    played(&r, &twilio, 1).await;
    twilio.speak(&caller("09-la-revedere")).await;
    let line = twilio.clone();
    let streaming = tokio::spawn(async move {
        // The line's quiet, in real time, for as long as the stream lasts.
        while !line.closed() {
            line.media(&silence(20));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    twilio
        .wait(Duration::from_secs(15), "the stream ended", |h| {
            h.iter()
                .any(|h| matches!(h, Heard::Closed | Heard::Broken(_)))
        })
        .await;
    streaming.abort();
    let heard = twilio.heard.lock().unwrap().clone();
    assert_eq!(heard.last(), Some(&Heard::Closed), "{:?}", heard.last());
    assert_eq!(
        r.functions.summary().unwrap().outcome,
        CallOutcome::EndedByAgent
    );
}

#[tokio::test]
async fn openai_refusing_ends_the_stream_within_seconds() {
    let r = rig(json!({"responses": []}), AudioMode::Pcm24, |_| {}).await;
    r.double.refuse_next(1000);
    let began = std::time::Instant::now();
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    twilio
        .wait(Duration::from_secs(6), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    let took = began.elapsed();
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    assert_eq!(r.double.connections(), 0);
    assert_eq!(
        r.functions
            .wait_summary(Duration::from_secs(2))
            .await
            .outcome,
        CallOutcome::UpstreamFailed
    );
    r.relay
        .wait_metric("relay_active_calls", Duration::from_secs(2), |v| v == 0.0)
        .await;
}

#[tokio::test]
async fn a_dropped_model_connection_is_restored_with_the_conversation() {
    let r = rig(
        json!({"caller_transcripts": ["Aș dori o programare pentru tuns."],
               "responses": [{"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 300}}, {"drop": "before"}, {"say": {"text": "Scuze, continuăm.", "ms": 300}}]}),
        AudioMode::Pcm24,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    twilio.speak(&caller("01-cerere-tuns")).await;
    r.double
        .wait_for(
            |e| {
                e["type"] == "response.create"
                    && e["response"]["instructions"]
                        .as_str()
                        .is_some_and(|i| i.contains("întrerupt"))
            },
            Duration::from_secs(8),
        )
        .await
        .expect("the relay resumed the conversation");
    assert_eq!(r.double.connections(), 2);
    let restored: Vec<Value> = events(&r.double, "conversation.item.create")
        .into_iter()
        .filter(|e| e["item"]["type"] == "message")
        .collect();
    assert!(restored.iter().any(|e| e["item"]["role"] == "assistant"
        && e["item"]["content"][0]["text"] == "Bună ziua! Cu ce vă pot ajuta?"));
    assert!(restored.iter().any(|e| e["item"]["role"] == "user"
        && e["item"]["content"][0]["text"] == "Aș dori o programare pentru tuns."));
    assert!(!twilio.closed(), "the caller is still on the line");
    twilio.hang_up();
    let s = r.functions.wait_summary(Duration::from_secs(5)).await;
    assert_eq!(s.reconnects, 1);
    assert_eq!(r.relay.metric("relay_openai_reconnects_total"), 1.0);
}

#[tokio::test]
async fn twilio_is_read_while_the_model_reconnects_so_a_hang_up_ends_the_call_at_once() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 300}}, {"drop": "before"}]}),
        AudioMode::Pcmu,
        |c| c.connect_budget = Duration::from_secs(6),
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    // The model's next response drops the connection, and it will not come back soon.
    r.double.refuse_next(1000);
    twilio.speak(&caller("01-cerere-tuns")).await;
    wait_played(&r.double, 2).await;
    // The caller hangs up during the (up to six-second) reconnect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.double.connections(), 1, "still reconnecting");
    let hung_up = std::time::Instant::now();
    twilio.hang_up();
    let s = r.functions.wait_summary(Duration::from_secs(10)).await;
    assert!(
        hung_up.elapsed() < Duration::from_secs(2),
        "the hang-up was read during the reconnect, not after it: {:?}",
        hung_up.elapsed()
    );
    assert_eq!(s.outcome, CallOutcome::CallerHungUp);
}

#[tokio::test]
async fn a_model_that_does_not_come_back_within_the_connect_budget_ends_the_call_for_the_apology() {
    // The README's bound: a dropped connection is restored within the connect budget (3 s by
    // default) and the session's set-up, or the call ends and Twilio plays the apology.
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua! Cu ce vă pot ajuta?", "ms": 300}}, {"drop": "before"}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    played(&r, &twilio, 1).await;
    r.double.refuse_next(1000);
    twilio.speak(&caller("01-cerere-tuns")).await;
    wait_played(&r.double, 2).await;
    let dropped = std::time::Instant::now();
    twilio
        .wait(Duration::from_secs(10), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    let took = dropped.elapsed();
    // Generous: the budget is 3 s; a call left hanging in silence would take the full 10.
    assert!(took < Duration::from_secs(6), "closed after {took:?}");
    assert_eq!(r.double.connections(), 1, "no second session opened");
    let s = r.functions.wait_summary(Duration::from_secs(2)).await;
    assert_eq!(s.outcome, CallOutcome::UpstreamFailed);
    assert_eq!(s.reconnects, 0);
    assert_eq!(r.relay.metric("relay_openai_reconnects_total"), 0.0);
}

#[tokio::test]
async fn a_caller_hanging_up_ends_everything_and_nothing_leaks() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 5000}}]}),
        AudioMode::Pcm24,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.relay.metric("relay_active_calls"), 1.0);
    twilio.hang_up();
    let s = r.functions.wait_summary(Duration::from_secs(3)).await;
    assert_eq!(s.outcome, CallOutcome::CallerHungUp);
    r.relay
        .wait_metric("relay_active_calls", Duration::from_secs(2), |v| v == 0.0)
        .await;
    assert_eq!(
        r.relay
            .metric("relay_calls_total{outcome=\"caller_hung_up\"}"),
        1.0
    );
}

#[tokio::test]
async fn a_silent_caller_is_checked_on_once_then_bid_goodbye() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"say": {"text": "Mai sunteți acolo?", "audio": "07-mai-sunteti"}}, {"say": {"text": "La revedere!", "ms": 400}}]}),
        AudioMode::Pcmu,
        // As short as lets the greeting and the check-in play between the silences.
        |c| c.silence = Duration::from_millis(500),
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    twilio
        .wait(Duration::from_secs(15), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    let creates: Vec<String> = events(&r.double, "response.create")
        .iter()
        .map(|e| {
            e["response"]["instructions"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(creates.len(), 3, "{creates:?}");
    assert!(creates[1].contains("Mai sunteți acolo?"));
    assert!(creates[2].contains("La revedere"));
    assert_eq!(r.functions.summary().unwrap().outcome, CallOutcome::Silence);
}

#[tokio::test]
async fn a_call_at_its_maximum_length_ends_politely() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"say": {"text": "Trebuie să încheiem. La revedere!", "ms": 500}}]}),
        AudioMode::Pcm24,
        |c| c.max_call = Duration::from_secs(1),
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    // The line streams its quiet past the limit.
    twilio.speak(&silence(500)).await;
    twilio
        .wait(Duration::from_secs(10), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    let last = events(&r.double, "response.create")
        .last()
        .cloned()
        .unwrap();
    assert!(
        last["response"]["instructions"]
            .as_str()
            .unwrap()
            .contains("încheiem")
    );
    assert_eq!(
        r.functions.summary().unwrap().outcome,
        CallOutcome::MaxLength
    );
}

#[tokio::test]
async fn streams_without_a_valid_token_or_format_are_refused_before_anything_opens() {
    let r = rig(json!({"responses": []}), AudioMode::Pcm24, |_| {}).await;
    let none = TwilioSide::dial(&r.relay, None).await;
    none.wait(Duration::from_secs(3), "closed", |h| {
        h.contains(&Heard::Closed)
    })
    .await;
    let forged = salon_wire::token::issue(b"another-secret-0123456789abcdef", &claims());
    let bad = TwilioSide::dial(&r.relay, Some(forged)).await;
    bad.wait(Duration::from_secs(3), "closed", |h| {
        h.contains(&Heard::Closed)
    })
    .await;
    let linear = TwilioSide::dial_with(
        &r.relay,
        Some(stream_token()),
        json!({"encoding": "audio/l16", "sampleRate": 16000, "channels": 1}),
    )
    .await;
    linear
        .wait(Duration::from_secs(3), "closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    assert_eq!(r.double.connections(), 0, "nothing upstream was opened");
    assert_eq!(r.relay.metric("relay_streams_refused_total"), 3.0);

    // A forged upgrade signature is refused at the door.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("{}/twilio/stream", r.relay.url),
    )
    .unwrap();
    req.headers_mut()
        .insert("x-twilio-signature", "Zm9yZ2Vk".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}

#[tokio::test]
async fn a_stream_cannot_claim_another_caller_or_business_than_its_token() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 500}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let mulaw = json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1});
    for params in [
        json!({"business": "salon-demo", "caller": "+40744999888", "token": stream_token()}),
        json!({"business": "another-salon", "caller": CALLER, "token": stream_token()}),
    ] {
        let side = TwilioSide::dial_params(&r.relay, params, mulaw.clone()).await;
        side.wait(Duration::from_secs(3), "closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    }
    assert_eq!(r.double.connections(), 0, "nothing upstream was opened");
    assert!(r.functions.sessions.lock().unwrap().is_empty());

    // Without the caller parameter, the caller is still the one the token signed.
    let side = TwilioSide::dial_params(
        &r.relay,
        json!({"business": "salon-demo", "token": stream_token()}),
        mulaw,
    )
    .await;
    side.wait(Duration::from_secs(5), "the greeting", |h| {
        h.iter().any(|x| matches!(x, Heard::Media(_)))
    })
    .await;
    let sessions = r.functions.sessions.lock().unwrap().clone();
    assert_eq!(
        sessions,
        vec![json!({
            "business": "salon-demo",
            "caller": CALLER,
            "dialled": "+40312345678",
            "stream_sid": "MZ1"
        })]
    );
}

#[tokio::test]
async fn malformed_messages_are_counted_and_not_fatal() {
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 2000}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    twilio.raw("{not json".into());
    twilio.raw(json!({"event": "telepathy"}).to_string());
    twilio.raw(json!({"event": "media", "media": {"payload": "***"}}).to_string());
    // The relay reads Twilio in order: once the next frame reached the model, it had read all
    // three.
    caught_up(&r, &twilio).await;
    assert_eq!(r.relay.metric("relay_malformed_messages_total"), 3.0);
    assert!(!twilio.closed());
    twilio.hang_up();
}

#[tokio::test]
async fn shutdown_drains_calls_and_refuses_new_ones() {
    let mut r = rig(json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 300}}, {"say": {"text": "La revedere!", "ms": 300}}]}), AudioMode::Pcmu, |c| {
        c.drain = Duration::from_secs(2)
    })
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    let _ = r.relay.stop.take().unwrap().send(());
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let health = http
            .get(format!("{}/health", r.relay.http()))
            .send()
            .await
            .unwrap();
        if health.status() == 503 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not draining");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The call in progress goes on; new ones are refused.
    assert!(!twilio.closed());
    assert!(
        tokio_tungstenite::connect_async(r.relay.stream_request())
            .await
            .is_err()
    );
    // At the drain limit the agent says goodbye and the call ends; then the relay exits.
    tokio::time::timeout(Duration::from_secs(20), &mut r.relay.done)
        .await
        .expect("the relay exits after draining")
        .unwrap();
    twilio
        .wait(Duration::from_secs(2), "the stream closed", |h| {
            h.contains(&Heard::Closed)
        })
        .await;
    assert_eq!(
        r.functions.summary().unwrap().outcome,
        CallOutcome::Shutdown
    );
}

/// Every event of a call that barges in, calls tools and reconnects, checked against the
/// official `openai` package's models (unknown fields fail too).
#[tokio::test]
async fn relay_events_match_the_openai_package() {
    let r = rig(
        json!({"caller_transcripts": ["Stați puțin.", "Aș dori un tuns.", "Mulțumesc."],
               "responses": [
                   {"say": {"text": "Bună ziua! Salon Voice Booking.", "ms": 4000}},
                   {"calls": [{"name": "check_appointment_availability", "arguments": {"service": "tuns", "date": "2026-12-15"}}]},
                   {"say": {"text": "Avem liber mâine.", "ms": 300}},
                   {"drop": "before"},
                   {"say": {"text": "Scuze, continuăm.", "ms": 300}}]}),
        AudioMode::Pcm24,
        |_| {},
    )
    .await;
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    twilio.wait_played(10, Duration::from_secs(10)).await;
    twilio.speak(&caller("10-intrerupere")).await;
    r.double
        .wait_for(
            |e| e["type"] == "conversation.item.truncate",
            Duration::from_secs(5),
        )
        .await
        .expect("a truncate");
    r.double
        .wait_for(
            |e| {
                e["type"] == "conversation.item.create"
                    && e["item"]["type"] == "function_call_output"
            },
            Duration::from_secs(8),
        )
        .await
        .expect("a tool output");
    // Let the answer play out before the caller speaks again (were its last frame still
    // unplayed, one more barge-in would change nothing this test checks).
    wait_sent(&r.double, 1, "the answer", |e| {
        e["type"] == "response.output_audio_transcript.done"
            && e["transcript"] == "Avem liber mâine."
    })
    .await;
    twilio
        .wait(Duration::from_secs(10), "the answer played", |h| {
            let last = h.iter().rev().find_map(|x| match x {
                Heard::Mark(n) => Some(n.clone()),
                _ => None,
            });
            last.is_some_and(|n| twilio.echoed.lock().unwrap().contains(&n))
        })
        .await;
    twilio.speak(&caller("01-cerere-tuns")).await;
    r.double
        .wait_for(
            |e| e["type"] == "conversation.item.create" && e["item"]["type"] == "message",
            Duration::from_secs(8),
        )
        .await
        .expect("the conversation restored after the drop");
    wait_sent(&r.double, 1, "the resumed answer", |e| {
        e["type"] == "response.output_audio_transcript.done"
            && e["transcript"] == "Scuze, continuăm."
    })
    .await;
    twilio.hang_up();
    r.functions.wait_summary(Duration::from_secs(5)).await;

    let kinds: std::collections::BTreeSet<String> = r
        .double
        .received()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for k in [
        "session.update",
        "input_audio_buffer.append",
        "response.create",
        "conversation.item.truncate",
        "conversation.item.create",
    ] {
        assert!(kinds.contains(k), "the relay sent no {k}");
    }
    let python = salon_realtime_double::oracle::python()
        .expect("the openai oracle (installed by the README's test command)");
    let checked =
        salon_realtime_double::oracle::check(&python, &r.double.received(), &r.double.sent());
    assert!(
        checked.is_ok(),
        "the openai package refused events:\n{}",
        checked.unwrap_err()
    );
}

#[tokio::test]
async fn health_and_metrics_are_served_over_http() {
    // /metrics is on the metrics listener; the public one is tested in front_door.rs.
    let r = rig(
        json!({"responses": [{"say": {"text": "Bună ziua!", "ms": 2000}}]}),
        AudioMode::Pcmu,
        |_| {},
    )
    .await;
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/health", r.relay.http()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (health.status().as_u16(), health.text().await.unwrap()),
        (200, "ok".to_owned())
    );
    let twilio = TwilioSide::dial(&r.relay, Some(stream_token())).await;
    r.double
        .wait_for(|e| e["type"] == "response.create", Duration::from_secs(5))
        .await
        .unwrap();
    let metrics = http
        .get(format!("{}/metrics", r.relay.metrics_url))
        .send()
        .await
        .unwrap();
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    for line in [
        "relay_active_calls 1",
        "# TYPE relay_tool_call_seconds histogram",
        "relay_calls_total{outcome=\"ended_by_agent\"} 0",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    twilio.hang_up();
}
