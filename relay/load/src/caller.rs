//! One simulated caller, as Twilio streams it: real-time 20 ms μ-law frames up (silence, or a
//! turn of speech that starts at full loudness so its onset can be timed), the agent's audio
//! played back at real speed with each mark echoed when the audio before it has played,
//! `clear` honoured (the marks of dropped audio echoed at once), and turns taken as a caller
//! does: after the agent falls quiet, and now and then over the agent (a barge-in).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use salon_wire::clock::{Clock, SystemClock};
use salon_wire::{params, token, twilio_signature};
use serde::Deserialize;
use serde_json::json;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::probe::{CallProbe, Probes};
use crate::stats::micros;

/// One frame: 20 ms of μ-law at 8 kHz.
const FRAME: usize = 160;
const TICK: Duration = Duration::from_millis(20);
/// A caller's turn.
const TURN: Duration = Duration::from_millis(800);
/// How long the agent is quiet before the caller answers.
const ANSWER_AFTER: Duration = Duration::from_millis(600);
/// A gap in the agent's audio this long means the next audio is a new reply.
const REPLY_GAP: Duration = Duration::from_millis(300);
/// How far into every third reply the caller talks over the agent.
const BARGE_IN_AFTER: Duration = Duration::from_millis(1_000);

/// The secrets and addresses a caller needs.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    /// `ws://127.0.0.1:PORT/twilio/stream`.
    pub url: String,
    /// The relay's public URL, which Twilio signs the upgrade over.
    pub public_url: String,
    pub auth_token: String,
    pub stream_secret: String,
}

/// What one caller saw.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallerReport {
    /// Frames sent in the measurement window.
    pub frames_sent: usize,
    /// Agent audio received in the window, in milliseconds.
    pub heard_ms: f64,
    pub replies: usize,
    /// `clear`s received in the window.
    pub clears: usize,
    pub barge_ins: usize,
    /// Ticks of the frame clock and how late each came, in microseconds.
    pub lateness_us: Vec<u32>,
    /// Why the call failed, if it did.
    pub failure: Option<String>,
}

/// The two frames a caller sends: silence, and speech (a tone at full loudness from its first
/// sample), base64 once.
#[derive(Debug)]
pub(crate) struct Frames {
    pub(crate) silence: String,
    pub(crate) speech: String,
}

impl Frames {
    pub(crate) fn new() -> Frames {
        let speech: Vec<u8> = (0..FRAME)
            .map(|n| {
                // 400 Hz: a whole number of periods per frame, so frames join without a click.
                let phase = 2.0 * std::f64::consts::PI * 400.0 * n as f64 / 8_000.0;
                salon_realtime_double::audio::mulaw_encode((phase.cos() * 8_000.0) as i16)
            })
            .collect();
        Frames {
            silence: B64.encode([0xFF; FRAME]),
            speech: B64.encode(speech),
        }
    }
}

/// A message from the relay, as far as a caller reads it.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(crate) enum FromRelay<'a> {
    Media {
        #[serde(borrow)]
        media: Payload<'a>,
    },
    Mark {
        #[serde(borrow)]
        mark: Name<'a>,
    },
    Clear,
}

#[derive(Deserialize)]
pub(crate) struct Payload<'a> {
    #[serde(borrow)]
    pub(crate) payload: &'a str,
}

#[derive(Deserialize)]
pub(crate) struct Name<'a> {
    #[serde(borrow)]
    pub(crate) name: std::borrow::Cow<'a, str>,
}

/// The agent's audio queued for playback, and the marks between it.
#[derive(Debug, Default)]
pub(crate) struct Playback {
    /// Milliseconds of audio, or a mark, in order.
    pub(crate) queue: VecDeque<Queued>,
}

#[derive(Debug)]
pub(crate) enum Queued {
    Audio(f64),
    Mark(String),
}

impl Playback {
    /// Plays `ms` of audio; returns the marks reached.
    pub(crate) fn play(&mut self, mut ms: f64, reached: &mut Vec<String>) {
        while let Some(front) = self.queue.front_mut() {
            match front {
                Queued::Mark(_) => {
                    if let Some(Queued::Mark(name)) = self.queue.pop_front() {
                        reached.push(name);
                    }
                }
                Queued::Audio(left) if *left <= ms => {
                    ms -= *left;
                    self.queue.pop_front();
                }
                Queued::Audio(left) => {
                    *left -= ms;
                    return;
                }
            }
        }
    }

    /// Drops the audio; returns every mark queued.
    pub(crate) fn clear(&mut self, reached: &mut Vec<String>) {
        for queued in self.queue.drain(..) {
            if let Queued::Mark(name) = queued {
                reached.push(name);
            }
        }
    }

    pub(crate) fn playing(&self) -> bool {
        self.queue.iter().any(|q| matches!(q, Queued::Audio(_)))
    }
}

/// Calls the relay as call `call_sid` until `until`, then hangs up.
pub(crate) async fn call(
    line: &Line,
    call_sid: &str,
    frames: &Frames,
    probe: Arc<CallProbe>,
    probes: &Probes,
    until: Instant,
) -> CallerReport {
    let mut report = CallerReport::default();
    if let Err(e) = run(line, call_sid, frames, &probe, probes, until, &mut report).await {
        report.failure = Some(e);
    }
    probe.lock().hung_up = true;
    report
}

async fn run(
    line: &Line,
    call_sid: &str,
    frames: &Frames,
    probe: &CallProbe,
    probes: &Probes,
    until: Instant,
    report: &mut CallerReport,
) -> Result<(), String> {
    let request = stream_request(&line.url, &line.public_url, &line.auth_token)?;
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| format!("the relay refused the stream: {e}"))?;
    let (mut tx, mut rx) = ws.split();
    let claims = token::Claims {
        call_sid: call_sid.into(),
        business: "salon-load".into(),
        caller: "+40722000000".into(),
        dialled: "+40312345678".into(),
        expires_at: token_expiry(300),
    };
    let stream_sid = start_stream(&mut tx, &claims, line.stream_secret.as_bytes()).await?;

    let mut playback = Playback::default();
    let mut reached = Vec::new();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut seq = 1u64;
    // The caller's turn in progress ends then.
    let mut speaking_until: Option<Instant> = None;
    // When the agent's audio last arrived, and when its current reply began.
    let mut last_heard: Option<Instant> = None;
    let mut reply_began: Option<Instant> = None;
    // The caller has answered the latest reply (or talked over it).
    let mut answered = true;
    loop {
        tokio::select! {
            scheduled = ticks.tick() => {
                let now = Instant::now();
                if probes.measuring() {
                    report.lateness_us.push(micros(now.saturating_duration_since(scheduled)));
                }
                if now >= until {
                    break;
                }
                playback.play(20.0, &mut reached);
                let agent_quiet = !playback.playing()
                    && last_heard.is_none_or(|t| now.duration_since(t) >= ANSWER_AFTER);
                // The agent is still talking: its audio keeps coming (playback alone may run
                // dry between deltas that arrive just in time).
                let agent_talking = last_heard.is_some_and(|t| now.duration_since(t) < TICK * 5);
                let barge_in = report.replies % 3 == 2
                    && reply_began.is_some_and(|t| now.duration_since(t) >= BARGE_IN_AFTER)
                    && agent_talking;
                let idle = speaking_until.is_none_or(|t| now >= t);
                if idle && !answered && (agent_quiet || barge_in) {
                    answered = true;
                    report.barge_ins += usize::from(barge_in && !agent_quiet);
                    speaking_until = Some(now + TURN);
                    probe.lock().onset_sent = Some(now.into_std());
                }
                let speech = speaking_until.is_some_and(|t| now < t);
                seq += 1;
                let payload = if speech { &frames.speech } else { &frames.silence };
                send_frame(&mut tx, seq, payload, &stream_sid, &mut reached).await?;
                if probes.measuring() {
                    report.frames_sent += 1;
                }
            }
            msg = rx.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None => return Err("the relay closed the stream".into()),
                    Some(Err(e)) => return Err(format!("the stream failed: {e}")),
                    Some(Ok(_)) => continue,
                };
                let now = Instant::now();
                match serde_json::from_str::<FromRelay<'_>>(&text) {
                    Ok(FromRelay::Media { media }) => {
                        let ms = base64_len(media.payload) as f64 / 8.0;
                        if probes.measuring() {
                            report.heard_ms += ms;
                        }
                        if last_heard.is_none_or(|t| now.duration_since(t) >= REPLY_GAP) {
                            report.replies += 1;
                            reply_began = Some(now);
                            answered = false;
                        }
                        last_heard = Some(now);
                        playback.queue.push_back(Queued::Audio(ms));
                        let mut call = probe.lock();
                        if let Some(started) = call.reply_started.take()
                            && probes.measuring()
                        {
                            call.outbound_us.push(micros(now.into_std().saturating_duration_since(started)));
                        }
                    }
                    Ok(FromRelay::Mark { mark }) => playback.queue.push_back(Queued::Mark(mark.name.into_owned())),
                    Ok(FromRelay::Clear) => {
                        if probes.measuring() {
                            report.clears += 1;
                        }
                        playback.clear(&mut reached);
                    }
                    Err(_) => return Err("the relay sent something Twilio does not read".into()),
                }
            }
        }
    }
    probe.lock().hung_up = true;
    let stop = json!({"event": "stop", "sequenceNumber": (seq + 1).to_string(), "streamSid": stream_sid,
                      "stop": {"accountSid": "ACload", "callSid": call_sid}});
    let _ = tx.send(Message::Text(stop.to_string().into())).await;
    let _ = tx.close().await;
    Ok(())
}

/// The caller's side of a stream.
pub(crate) type WsTx = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// The upgrade to `url` (the relay's `/twilio/stream`), signed over the relay's public URL
/// as Twilio signs it.
pub(crate) fn stream_request(
    url: &str,
    public_url: &str,
    auth_token: &str,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let signature =
        twilio_signature::compute(auth_token, &format!("{public_url}/twilio/stream"), &[]);
    request.headers_mut().insert(
        "x-twilio-signature",
        signature.parse().map_err(|_| "signature header")?,
    );
    Ok(request)
}

/// Sends the caller's frame number `seq` and the echoes of the marks `reached`, in one flush,
/// as Twilio sends a frame and the marks whose audio has played.
pub(crate) async fn send_frame(
    tx: &mut WsTx,
    seq: u64,
    payload: &str,
    stream_sid: &str,
    reached: &mut Vec<String>,
) -> Result<(), String> {
    let media = format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{}","payload":"{payload}"}},"streamSid":"{stream_sid}"}}"#,
        seq * 20
    );
    tx.feed(Message::Text(media.into()))
        .await
        .map_err(|e| e.to_string())?;
    for name in reached.drain(..) {
        let echo = json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}});
        tx.feed(Message::Text(echo.to_string().into()))
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.flush().await.map_err(|e| e.to_string())
}

/// When a stream token signed now should expire, `secs` from now. The relay under test
/// checks the token against its clock (the system clock when CLOCK_START is not set), so this
/// process, a peer like Twilio, signs by the same clock.
pub(crate) fn token_expiry(secs: i64) -> i64 {
    SystemClock.now().as_second() + secs
}

/// Sends Twilio's `connected` and `start` (μ-law 8 kHz, the stream token signed for `claims`
/// with `secret`), in one flush; returns the stream's SID.
pub(crate) async fn start_stream(
    tx: &mut WsTx,
    claims: &token::Claims,
    secret: &[u8],
) -> Result<String, String> {
    let call_sid = &claims.call_sid;
    let stream_sid = format!("MZ{}", call_sid.get(2..).unwrap_or(call_sid));
    let start = json!({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {"accountSid": "ACload", "streamSid": stream_sid, "callSid": call_sid,
                  "tracks": ["inbound"],
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                  "customParameters": {params::TOKEN: token::issue(secret, claims)}}});
    let connected = json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
    for m in [connected, start] {
        tx.feed(Message::Text(m.to_string().into()))
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.flush().await.map_err(|e| e.to_string())?;
    Ok(stream_sid)
}

/// The decoded length of a base64 text.
pub(crate) fn base64_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
    (text.len() / 4 * 3).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_come_back_when_the_audio_before_them_has_played() {
        let mut playback = Playback::default();
        let mut reached = Vec::new();
        playback.queue.push_back(Queued::Audio(20.0));
        playback.queue.push_back(Queued::Mark("1".into()));
        playback.queue.push_back(Queued::Audio(10.0));
        playback.queue.push_back(Queued::Mark("2".into()));
        playback.play(15.0, &mut reached);
        assert!(reached.is_empty());
        playback.play(10.0, &mut reached);
        assert_eq!(reached, ["1"]);
        playback.queue.push_back(Queued::Audio(500.0));
        playback.queue.push_back(Queued::Mark("3".into()));
        playback.clear(&mut reached);
        assert_eq!(reached, ["1", "2", "3"]);
        assert!(!playback.playing());
    }

    #[test]
    fn base64_lengths_are_decoded_lengths() {
        for n in 0..10 {
            assert_eq!(base64_len(&B64.encode(vec![0u8; n])), n);
        }
    }
}
