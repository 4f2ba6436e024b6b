//! A Twilio caller simulator: everything Twilio does on an inbound call, from this side.
//!
//! It posts the voice webhook to the functions (signed as Twilio signs), reads the TwiML,
//! opens the media stream to the relay with the TwiML's `<Parameter>`s (so the two cannot
//! drift), streams the caller in real-time 20 ms μ-law frames (silence between turns, as a
//! phone line does), plays the agent's audio back at real speed and echoes each mark when the
//! audio before it has played, honours `clear`, and at the end posts the status callback and
//! the `<Connect action>` request, as Twilio would.
#![forbid(unsafe_code)]

pub mod offline;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use salon_wire::twilio_signature;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// μ-law silence.
pub const SILENCE: u8 = 0xFF;
const FRAME: usize = 160;
const TICK: Duration = Duration::from_millis(20);

/// Where the simulated Twilio account points.
#[derive(Clone, Debug)]
pub struct Account {
    /// The functions' base URL, as requested.
    pub functions_url: String,
    /// The public base URL the functions check signatures against.
    pub public_base_url: String,
    /// Twilio's auth token: signs the webhooks and the stream upgrade.
    pub auth_token: String,
}

/// One thing the caller does.
#[derive(Clone, Debug)]
pub enum Step {
    /// Waits for the agent to finish speaking, then says this (μ-law 8 kHz), labelled.
    Say { label: String, audio: Vec<u8> },
    /// Waits until the agent has been speaking this long, then talks over it.
    Interrupt {
        after: Duration,
        label: String,
        audio: Vec<u8>,
    },
    /// Presses a key.
    Dtmf(char),
    /// Stays on the line, quiet, this long.
    Wait(Duration),
    /// Stays on the line, quiet, until the test says go on (another call runs meanwhile).
    Until(std::sync::Arc<tokio::sync::Notify>),
    /// Hangs up.
    HangUp,
}

/// What happened on the call.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// `(milliseconds since the stream opened, what)`.
    pub timeline: Vec<(u64, String)>,
    /// What the caller heard (cleared audio not included), μ-law 8 kHz.
    pub heard: Vec<u8>,
    /// The voice webhook's TwiML.
    pub twiml: String,
    /// The relay closed the stream (rather than the caller hanging up).
    pub closed_by_relay: bool,
    /// The TwiML Twilio got from `<Connect action>` after the relay closed the stream.
    pub after_stream: Option<String>,
    /// `clear` messages received.
    pub clears: usize,
    /// Milliseconds of agent audio the caller had heard when each `clear` came.
    pub heard_ms_at_clear: Vec<u64>,
}

impl Report {
    /// Prints the timeline as a person reads it.
    pub fn print(&self) {
        for (ms, what) in &self.timeline {
            println!("{:>3}.{:02}s  {what}", ms / 1000, (ms % 1000) / 10);
        }
    }
}

/// A parsed `<Connect><Stream>`.
#[derive(Clone, Debug, Default)]
pub struct StreamTwiml {
    pub action: Option<String>,
    pub url: String,
    pub parameters: Vec<(String, String)>,
}

/// Finds the `<Stream>` (and the `<Connect action>`) in a TwiML answer.
pub fn parse_twiml(xml: &str) -> Option<StreamTwiml> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = StreamTwiml::default();
    let mut has_stream = false;
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name.as_bytes())
            .and_then(|a| a.unescape_value().ok())
            .map(|v| v.into_owned())
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"Connect" => found.action = attr(&e, "action"),
                b"Stream" => {
                    found.url = attr(&e, "url")?;
                    has_stream = true;
                }
                b"Parameter" => found
                    .parameters
                    .push((attr(&e, "name")?, attr(&e, "value").unwrap_or_default())),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    has_stream.then_some(found)
}

/// Reads the μ-law samples of a WAV file (format 7, 8 kHz mono).
pub fn read_mulaw_wav(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE",
        "not a WAV file"
    );
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into()?) as usize;
        let body = bytes.get(at + 8..at + 8 + len).unwrap_or(&bytes[at + 8..]);
        if id == b"fmt " {
            format = Some(u16::from_le_bytes(body[..2].try_into()?));
        } else if id == b"data" {
            anyhow::ensure!(format == Some(7), "the WAV is not μ-law (format 7)");
            return Ok(body.to_vec());
        }
        at += 8 + len + (len & 1);
    }
    anyhow::bail!("no data chunk")
}

/// Writes μ-law samples as a WAV file (format 7, 8 kHz mono).
pub fn mulaw_wav(samples: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() + 58);
    let data_len = samples.len() as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(50 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes()); // μ-law
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(samples);
    out
}

/// What the relay sent, waiting to be "played".
enum Queued {
    Frame(Vec<u8>),
    Mark(String),
}

#[derive(Default)]
struct Line {
    playback: VecDeque<Queued>,
    /// Caller audio still to send.
    speaking: VecDeque<u8>,
    heard: Vec<u8>,
    timeline: Vec<(u64, String)>,
    agent_talking_since: Option<Instant>,
    last_agent_frame: Option<Instant>,
    /// The agent has spoken since the caller's last turn ended.
    answered: bool,
    clears: usize,
    heard_ms_at_clear: Vec<u64>,
    closed: bool,
    /// Echoes to send (marks), in order.
    echoes: Vec<String>,
}

fn signed_post(
    http: &reqwest::Client,
    account: &Account,
    path_or_url: &str,
    form: &[(&str, String)],
) -> reqwest::RequestBuilder {
    let (public, actual) = if path_or_url.starts_with("http") {
        let path = path_or_url.find("/api/").map_or("", |i| &path_or_url[i..]);
        (
            path_or_url.to_owned(),
            format!("{}{path}", account.functions_url),
        )
    } else {
        (
            format!("{}{path_or_url}", account.public_base_url),
            format!("{}{path_or_url}", account.functions_url),
        )
    };
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let sig = twilio_signature::compute(&account.auth_token, &public, &params);
    http.post(actual)
        .header("X-Twilio-Signature", sig)
        .form(&params)
}

/// One side of a media stream, as Twilio holds it.
pub type StreamSide = (
    futures_util::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        Message,
    >,
    futures_util::stream::SplitStream<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    >,
);

/// Opens the media stream a `<Connect><Stream>` asks for, as Twilio does: a signed upgrade,
/// `connected`, then `start` with the TwiML's parameters.
pub async fn open_stream(
    account: &Account,
    stream: &StreamTwiml,
    call_sid: &str,
    stream_sid: &str,
) -> anyhow::Result<StreamSide> {
    // Twilio signs the upgrade over the stream URL with no parameters.
    let mut request = stream.url.as_str().into_client_request()?;
    let sig = twilio_signature::compute(&account.auth_token, &stream.url, &[]);
    request
        .headers_mut()
        .insert("x-twilio-signature", sig.parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut tx, rx) = ws.split();
    let params: serde_json::Map<String, Value> = stream
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    tx.send(Message::Text(
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            .to_string()
            .into(),
    ))
    .await?;
    tx.send(Message::Text(
        json!({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
            "accountSid": "AC00000000000000000000000000000000", "streamSid": stream_sid, "callSid": call_sid,
            "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": params}})
        .to_string()
        .into(),
    ))
    .await?;
    Ok((tx, rx))
}

/// Places a call from `from` to `to` and plays `steps`; gives up after `limit`.
pub async fn call(
    account: &Account,
    call_sid: &str,
    from: &str,
    to: &str,
    steps: Vec<Step>,
    limit: Duration,
) -> anyhow::Result<Report> {
    let http = reqwest::Client::new();
    let base = |status: &str| {
        vec![
            ("CallSid", call_sid.to_owned()),
            (
                "AccountSid",
                "AC00000000000000000000000000000000".to_owned(),
            ),
            ("From", from.to_owned()),
            ("To", to.to_owned()),
            ("CallStatus", status.to_owned()),
            ("Direction", "inbound".to_owned()),
        ]
    };
    let twiml = signed_post(&http, account, "/api/twilio/voice", &base("ringing"))
        .send()
        .await?
        .text()
        .await?;
    let mut report = Report {
        twiml: twiml.clone(),
        ..Report::default()
    };
    let Some(stream) = parse_twiml(&twiml) else {
        return Ok(report);
    };
    let mut status = base("in-progress");
    status.push(("SequenceNumber", "0".into()));
    signed_post(&http, account, "/api/twilio/status", &status)
        .send()
        .await?;

    let stream_sid = "MZ00000000000000000000000000000000";
    let (mut tx, mut rx) = open_stream(account, &stream, call_sid, stream_sid).await?;
    let opened = Instant::now();
    let since = move || opened.elapsed().as_millis() as u64;
    let line = Arc::new(Mutex::new(Line::default()));

    // What the relay sends goes onto the playback queue.
    let reader_line = line.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = rx.next().await {
            let Message::Text(text) = msg else { continue };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let mut l = reader_line.lock().expect("the line lock is never poisoned");
            match v["event"].as_str() {
                Some("media") => {
                    let audio = B64
                        .decode(v["media"]["payload"].as_str().unwrap_or(""))
                        .unwrap_or_default();
                    if l.agent_talking_since.is_none() {
                        l.agent_talking_since = Some(Instant::now());
                        let at = since();
                        l.timeline.push((at, "agent speaks".into()));
                    }
                    l.playback.push_back(Queued::Frame(audio));
                }
                Some("mark") => l.playback.push_back(Queued::Mark(
                    v["mark"]["name"].as_str().unwrap_or("").to_owned(),
                )),
                Some("clear") => {
                    l.clears += 1;
                    let heard_ms = l.heard.len() as u64 / 8;
                    l.heard_ms_at_clear.push(heard_ms);
                    let at = since();
                    l.timeline.push((at, "clear: the agent stops".into()));
                    // Twilio drops the queued audio and returns its marks at once.
                    let drained: Vec<Queued> = l.playback.drain(..).collect();
                    for q in drained {
                        if let Queued::Mark(n) = q {
                            l.echoes.push(n);
                        }
                    }
                    l.agent_talking_since = None;
                }
                _ => {}
            }
        }
        let mut l = reader_line.lock().expect("the line lock is never poisoned");
        l.closed = true;
    });

    // The phone line: every 20 ms one caller frame goes out and one agent frame "plays".
    let line_tx = line.clone();
    let (cmd_tx, mut cmd_rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let (frame, echoes, extra) = {
                let mut l = line_tx.lock().expect("the line lock is never poisoned");
                if l.closed {
                    break;
                }
                let mut frame = vec![SILENCE; FRAME];
                for b in frame.iter_mut() {
                    match l.speaking.pop_front() {
                        Some(s) => *b = s,
                        None => break,
                    }
                }
                // Play one agent frame; echo the marks around it.
                let mut echoes = std::mem::take(&mut l.echoes);
                while let Some(Queued::Mark(_)) = l.playback.front() {
                    if let Some(Queued::Mark(n)) = l.playback.pop_front() {
                        echoes.push(n);
                    }
                }
                if let Some(Queued::Frame(f)) = l.playback.pop_front() {
                    l.heard.extend_from_slice(&f);
                    l.last_agent_frame = Some(Instant::now());
                    if l.speaking.is_empty() {
                        l.answered = true;
                    }
                    while let Some(Queued::Mark(_)) = l.playback.front() {
                        if let Some(Queued::Mark(n)) = l.playback.pop_front() {
                            echoes.push(n);
                        }
                    }
                    if l.playback.is_empty() {
                        l.agent_talking_since = None;
                        let at = since();
                        l.timeline.push((at, "agent done".into()));
                    }
                }
                let mut extra = Vec::new();
                while let Ok(c) = cmd_rx.try_recv() {
                    extra.push(c);
                }
                (frame, echoes, extra)
            };
            let media = json!({"event": "media", "streamSid": stream_sid, "media": {"track": "inbound", "payload": B64.encode(&frame)}});
            if tx
                .send(Message::Text(media.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
            for n in echoes {
                let _ = tx
                    .send(Message::Text(
                        json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": n}})
                            .to_string()
                            .into(),
                    ))
                    .await;
            }
            for c in extra {
                let hang_up = c["event"] == "stop";
                let _ = tx.send(Message::Text(c.to_string().into())).await;
                if hang_up {
                    let _ = tx.close().await;
                    return;
                }
            }
        }
    });

    let deadline = Instant::now() + limit;
    let wait = |cond: fn(&Line, Duration) -> bool, arg: Duration| {
        wait_until(line.clone(), deadline, cond, arg)
    };
    let mut hung_up = false;
    for step in steps {
        match step {
            Step::Say { label, audio } => {
                // The agent has spoken and gone quiet for 700 ms.
                wait(
                    |l, _| {
                        l.answered
                            && l.playback.is_empty()
                            && l.speaking.is_empty()
                            && l.last_agent_frame
                                .is_some_and(|t| t.elapsed() > Duration::from_millis(700))
                    },
                    Duration::ZERO,
                )
                .await;
                let mut l = line.lock().expect("the line lock is never poisoned");
                let at = since();
                l.timeline.push((at, format!("caller: {label}")));
                l.speaking.extend(audio);
                l.answered = false;
            }
            Step::Interrupt {
                after,
                label,
                audio,
            } => {
                wait(
                    |l, after| l.agent_talking_since.is_some_and(|t| t.elapsed() >= after),
                    after,
                )
                .await;
                let mut l = line.lock().expect("the line lock is never poisoned");
                let at = since();
                l.timeline.push((at, format!("caller interrupts: {label}")));
                l.speaking.extend(audio);
                l.answered = false;
            }
            Step::Dtmf(d) => {
                let _ = cmd_tx.send(json!({"event": "dtmf", "streamSid": stream_sid, "dtmf": {"track": "inbound_track", "digit": d.to_string()}}));
            }
            Step::Wait(d) => tokio::time::sleep(d).await,
            Step::Until(go) => {
                line.lock()
                    .expect("the line lock is never poisoned")
                    .timeline
                    .push((since(), "caller waits".into()));
                go.notified().await;
            }
            Step::HangUp => {
                wait(|l, _| l.speaking.is_empty(), Duration::ZERO).await;
                line.lock()
                    .expect("the line lock is never poisoned")
                    .timeline
                    .push((since(), "caller hangs up".into()));
                let _ = cmd_tx.send(json!({"event": "stop", "streamSid": stream_sid, "stop": {"callSid": call_sid}}));
                hung_up = true;
                break;
            }
        }
    }
    if !hung_up {
        wait(|_, _| false, Duration::ZERO).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(3), ticker).await;
    reader.abort();
    let duration = opened.elapsed().as_secs().max(1).to_string();
    {
        let mut l = line.lock().expect("the line lock is never poisoned");
        report.closed_by_relay = l.closed && !hung_up;
        if report.closed_by_relay {
            let at = since();
            l.timeline.push((at, "the relay ends the stream".into()));
        }
        report.timeline = std::mem::take(&mut l.timeline);
        report.heard = std::mem::take(&mut l.heard);
        report.clears = l.clears;
        report.heard_ms_at_clear = std::mem::take(&mut l.heard_ms_at_clear);
    }
    if report.closed_by_relay
        && let Some(action) = &stream.action
    {
        let after = signed_post(&http, account, action, &base("in-progress"))
            .send()
            .await?
            .text()
            .await?;
        report.after_stream = Some(after);
    }
    let mut done = base("completed");
    done.push(("SequenceNumber", "1".into()));
    done.push(("CallDuration", duration));
    signed_post(&http, account, "/api/twilio/status", &done)
        .send()
        .await?;
    Ok(report)
}

/// Waits until `cond` holds, the stream closes, or the call's time is up.
async fn wait_until(
    line: Arc<Mutex<Line>>,
    deadline: Instant,
    cond: fn(&Line, Duration) -> bool,
    arg: Duration,
) {
    loop {
        {
            let l = line.lock().expect("the line lock is never poisoned");
            if cond(&l, arg) || l.closed || Instant::now() > deadline {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
