//! One soak caller, as Twilio streams it to whichever relay is current: real-time 20 ms μ-law
//! frames, the agent's audio played back at real speed with marks echoed and `clear` honoured;
//! it waits for the greeting, says one sentence, listens until the relay ends the call (or
//! hangs up early when its plan says so), and notes what it heard and how long it sat in
//! silence after speaking.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use salon_domain::demo;
use salon_wire::token;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::plan::{CallPlan, Fault};
use super::relays::{AUTH_TOKEN, Current, PUBLIC_URL, Relays, STREAM_SECRET};
use super::tap::{ModelSide, lock};
use crate::caller::{
    Frames, FromRelay, Playback, Queued, base64_len, send_frame, start_stream, stream_request,
    token_expiry,
};

const TICK: Duration = Duration::from_millis(20);
/// The caller's sentence.
const TURN: Duration = Duration::from_millis(700);
/// How long the agent is quiet before the caller answers the greeting.
const ANSWER_AFTER: Duration = Duration::from_millis(600);
/// How far into their sentence a caller who hangs up mid-sentence goes.
const CUT_TURN_AFTER: Duration = Duration::from_millis(300);
/// How much of the agent's reply a caller who hangs up on it hears.
const CUT_REPLY_AFTER_MS: f64 = 400.0;
/// A call that has not ended by then is a failure.
const CALL_LIMIT: Duration = Duration::from_secs(40);
/// Dial attempts (a relay told SIGTERM refuses new streams; the next dial reads the new one).
const DIALS: usize = 5;

/// What one caller lived through.
#[derive(Debug, Default, Clone)]
pub(crate) struct Heard {
    /// The stream was up (the relay accepted it).
    pub connected: bool,
    /// The caller said their sentence (in full, or cut by their own hang-up).
    pub spoke: bool,
    /// The caller hung up on purpose, before the relay ended the call.
    pub hung_up: bool,
    /// The relay closed the stream.
    pub closed_by_relay: bool,
    /// Agent audio played to the caller after the model was told the booking was made, ms.
    pub heard_after_booking_ms: f64,
    /// The longest stretch after the caller's sentence ended, while on the line, with no agent
    /// audio playing, ms.
    pub longest_silence_ms: f64,
    /// The relay the call was on.
    pub relay_pid: u32,
    /// What went wrong on the harness's side, if anything.
    pub failure: Option<String>,
}

/// Places the call `plan` on the current relay.
pub(crate) async fn call(
    plan: &CallPlan,
    relays: &Relays,
    frames: &Frames,
    model: Arc<Mutex<ModelSide>>,
    restart: mpsc::UnboundedSender<usize>,
) -> Heard {
    let mut heard = Heard::default();
    if let Err(e) = run(plan, relays, frames, &model, &restart, &mut heard).await {
        heard.failure = Some(format!("{}: {e}", plan.call_sid));
    }
    heard
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Dials the current relay, as Twilio dials whichever address the relay's name resolves to.
async fn dial(relays: &Relays) -> Result<(Ws, Current), String> {
    let mut last = String::new();
    for _ in 0..DIALS {
        let current = relays.current();
        let url = format!("ws://127.0.0.1:{}/twilio/stream", current.port);
        let request = stream_request(&url, PUBLIC_URL, AUTH_TOKEN)?;
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => return Ok((ws, current)),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("no relay took the stream: {last}"))
}

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Waiting for the greeting to play and end.
    Greeting,
    /// Saying the sentence until then.
    Speaking(Instant),
    /// Listening to the agent.
    Listening,
}

async fn run(
    plan: &CallPlan,
    relays: &Relays,
    frames: &Frames,
    model: &Mutex<ModelSide>,
    restart: &mpsc::UnboundedSender<usize>,
    heard: &mut Heard,
) -> Result<(), String> {
    let (ws, relay) = dial(relays).await?;
    heard.connected = true;
    heard.relay_pid = relay.pid;
    if plan.fault == Some(Fault::RelayRestart) {
        // Mid-greeting, whatever happens to the call after (a restart asked for only once the
        // caller spoke would not come when a functions outage ends the call first).
        let restart = restart.clone();
        let index = plan.index;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let _ = restart.send(index);
        });
    }
    let (mut tx, mut rx) = ws.split();
    let claims = token::Claims {
        call_sid: plan.call_sid.clone(),
        business: demo::BUSINESS_ID.into(),
        caller: plan.phone.to_string(),
        dialled: demo::DEMO_NUMBER.into(),
        expires_at: token_expiry(120),
    };
    let stream_sid = start_stream(&mut tx, &claims, STREAM_SECRET.as_bytes()).await?;

    let began = Instant::now();
    let mut playback = Playback::default();
    let mut reached = Vec::new();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut seq = 1u64;
    let mut stage = Stage::Greeting;
    let mut last_audio: Option<Instant> = None;
    // After the sentence: when the line last fell quiet, and agent audio played since.
    let mut quiet_since: Option<Instant> = None;
    let mut reply_ms = 0.0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let now = Instant::now();
                if now.duration_since(began) > CALL_LIMIT {
                    return Err(format!("the call did not end within {CALL_LIMIT:?}"));
                }
                let playing = playback.playing();
                playback.play(20.0, &mut reached);
                let booked = lock(model).booked_at.is_some_and(|t| t <= now.into_std());
                if playing && booked {
                    heard.heard_after_booking_ms += 20.0;
                }
                match stage {
                    Stage::Greeting => {
                        let quiet = !playback.playing()
                            && last_audio.is_some_and(|t| now.duration_since(t) >= ANSWER_AFTER);
                        if quiet {
                            stage = Stage::Speaking(now + TURN);
                            heard.spoke = true;
                        }
                    }
                    Stage::Speaking(until) => {
                        if plan.fault == Some(Fault::HangUpMidTurn)
                            && now + TURN >= until + CUT_TURN_AFTER
                        {
                            break;
                        }
                        if now >= until {
                            stage = Stage::Listening;
                            quiet_since = Some(now);
                        }
                    }
                    Stage::Listening => {
                        if playing {
                            reply_ms += 20.0;
                            if let Some(q) = quiet_since.take() {
                                let gap = now.duration_since(q).as_secs_f64() * 1000.0;
                                heard.longest_silence_ms = heard.longest_silence_ms.max(gap);
                            }
                        } else if quiet_since.is_none() {
                            quiet_since = Some(now);
                        }
                        if plan.fault == Some(Fault::HangUpMidReply) && reply_ms >= CUT_REPLY_AFTER_MS {
                            break;
                        }
                    }
                }
                seq += 1;
                let speech = matches!(stage, Stage::Speaking(until) if now < until);
                let payload = if speech { &frames.speech } else { &frames.silence };
                send_frame(&mut tx, seq, payload, &stream_sid, &mut reached).await?;
            }
            msg = rx.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        heard.closed_by_relay = true;
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                match serde_json::from_str::<FromRelay<'_>>(&text) {
                    Ok(FromRelay::Media { media }) => {
                        last_audio = Some(Instant::now());
                        playback.queue.push_back(Queued::Audio(base64_len(media.payload) as f64 / 8.0));
                    }
                    Ok(FromRelay::Mark { mark }) => playback.queue.push_back(Queued::Mark(mark.name.into_owned())),
                    Ok(FromRelay::Clear) => playback.clear(&mut reached),
                    Err(_) => return Err("the relay sent something Twilio does not read".into()),
                }
            }
        }
    }
    // Audio still queued when the relay closes the stream is not counted: Twilio ends the
    // stream's playback with the stream, so a relay that closes early cuts its own words.
    if let Some(q) = quiet_since
        && matches!(stage, Stage::Listening)
    {
        let gap = Instant::now().duration_since(q).as_secs_f64() * 1000.0;
        heard.longest_silence_ms = heard.longest_silence_ms.max(gap);
    }
    if !heard.closed_by_relay {
        heard.hung_up = true;
        let stop = json!({"event": "stop", "sequenceNumber": (seq + 1).to_string(), "streamSid": stream_sid,
                          "stop": {"accountSid": "ACload", "callSid": plan.call_sid}});
        let _ = tx.send(Message::Text(stop.to_string().into())).await;
        let _ = tx.close().await;
    }
    Ok(())
}
