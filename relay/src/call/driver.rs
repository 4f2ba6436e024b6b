//! The call's I/O loop: fetches the session config, then feeds the state machine what the
//! sockets, the tool tasks and the clock bring, and performs what it asks (bounded writes,
//! tool tasks, connections, the summary and the close). No decision about the call is made
//! here; they are all in [`machine`](super::machine).

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use salon_relay_protocol::realtime::ServerEvent;
use salon_wire::{SessionRequest, ToolErrorCode, ToolReply, ToolRequest, token};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::machine::{Call, Finish, Input, Output, Peer, Setup, ToolCall, ToolDone};
use super::{Shared, TwilioRx, TwilioTx, close};
use crate::openai::{self, Upstream};
use crate::twilio::{Inbound, Start};
use axum::extract::ws::Message;
use salon_wire::CallOutcome;

type UpTx = SplitSink<Upstream, WsMessage>;
type UpRx = SplitStream<Upstream>;

/// Runs an admitted call to its end and returns how it ended.
pub(super) async fn run(
    start: Start,
    claims: token::Claims,
    twilio: TwilioTx,
    mut twilio_rx: TwilioRx,
    shared: &Shared,
    cancel: CancellationToken,
) -> CallOutcome {
    let config = &shared.config;
    let request = SessionRequest {
        business: claims.business.clone(),
        caller: claims.caller.clone(),
        dialled: claims.dialled,
        stream_sid: start.stream_sid.clone(),
    };
    let session = match shared.functions.session(&start.call_sid, &request).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "no session config: ending the stream so Twilio apologises");
            close(twilio, twilio_rx, config.write_limit).await;
            return CallOutcome::UpstreamFailed;
        }
    };
    let (model, voice) = (config.model.clone(), config.voice.clone());
    let (tool_tx, mut tool_rx) = mpsc::unbounded_channel();
    let mut call = Call::new(
        Setup {
            stream_sid: start.stream_sid.clone(),
            session,
            model: model.clone(),
            voice,
            mode: config.audio_mode,
            turn_detection: config.turn_detection,
            silence: config.silence,
            max_call: config.max_call,
            metrics: shared.metrics.clone(),
        },
        Instant::now(),
    );
    let mut io = Io {
        shared,
        call_sid: start.call_sid,
        business: claims.business,
        caller: claims.caller,
        model,
        twilio,
        up: None,
        up_rx: None,
        tool_tx,
        tools: JoinSet::new(),
    };
    // What the machine asked for and the driver has not done yet; reused for every input.
    let mut out = Vec::with_capacity(16);
    call.start(&mut out);
    // The drain limit was passed on to the call (it says goodbye once).
    let mut shutdown_seen = false;
    // The Realtime connection being opened, polled beside everything else.
    let mut connecting: Option<Connecting> = None;
    loop {
        // Do what the machine asked; what doing it found out (a connection opened, a peer that
        // stopped reading) goes back in, and may ask for more.
        while !out.is_empty() {
            match io.perform(&mut out, &call).await {
                Step::Finish(finish) => return io.finish(finish, twilio_rx).await,
                Step::Then(input, connect) => {
                    if connect {
                        // A new connection replaces the old: what was open is dropped now.
                        io.up = None;
                        io.up_rx = None;
                        connecting = Some(Box::pin(io.connect()));
                    }
                    if let Some(input) = input {
                        call.handle(input, Instant::now(), &mut out);
                    }
                }
            }
        }
        // While a session is set up (at the start, or after a drop), tool results wait and the
        // drain's goodbye is left to the machine's set-up; Twilio is read throughout.
        let live = call.live();
        let wake = call.next_wake();
        let event = tokio::select! {
            // The caller's side: audio, marks, stop; read while a session is set up too (a
            // reconnect), so marks and a hang-up are never left waiting.
            msg = twilio_rx.next() => Event::Twilio(msg),
            // The Realtime connection being opened (at the start, or after a drop).
            opened = poll_connecting(&mut connecting) => Event::Opened(opened),
            // The model's side: audio, transcripts, tool calls; its end means reconnecting.
            msg = next_upstream(&mut io.up_rx) => Event::Upstream(msg),
            // A tool call came back from the functions.
            Some(done) = tool_rx.recv(), if live => Event::Tool(done),
            // Whatever the call waits for: silence, the maximum length, a goodbye's or a
            // session's limit.
            () = sleep_until(wake) => Event::Timer,
            // The drain limit: say goodbye (once).
            () = cancel.cancelled(), if live && !shutdown_seen => Event::Shutdown,
        };
        let now = Instant::now();
        match event {
            Event::Opened(opened) => {
                connecting = None;
                let input = match opened {
                    Some((tx, rx)) => {
                        io.up = Some(tx);
                        io.up_rx = Some(rx);
                        Input::Connected
                    }
                    None => Input::ConnectFailed,
                };
                call.handle(input, now, &mut out);
            }
            Event::Twilio(msg) => {
                if let Some(input) = twilio_input(&msg) {
                    call.handle(input, now, &mut out);
                }
            }
            Event::Upstream(msg) => match msg {
                Some(Ok(WsMessage::Text(text))) => {
                    // What does not parse is ignored, as any event the relay does not act on.
                    if let Ok(event) = ServerEvent::parse(&text) {
                        call.handle(Input::Realtime(event), now, &mut out);
                    }
                }
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                    io.up_rx = None;
                    call.handle(Input::RealtimeClosed, now, &mut out);
                }
                Some(Ok(_)) => {}
            },
            Event::Tool(done) => call.handle(Input::Tool(done), now, &mut out),
            Event::Timer => call.handle(Input::Timer, now, &mut out),
            Event::Shutdown => {
                shutdown_seen = true;
                call.handle(Input::Shutdown, now, &mut out);
            }
        }
    }
}

/// What woke the loop.
enum Event {
    Opened(Option<(UpTx, UpRx)>),
    Twilio(Option<Result<Message, axum::Error>>),
    Upstream(Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>),
    Tool(ToolDone),
    Timer,
    Shutdown,
}

/// One socket's part in performing a batch of outputs.
#[derive(Default)]
struct Batch {
    /// When the batch's writes to this socket must be done: set at its first write.
    deadline: Option<Instant>,
    /// Something was fed and awaits the flush.
    fed: bool,
    /// A write did not finish by the deadline: the peer stopped reading.
    stalled: bool,
}

impl Batch {
    /// The deadline of this socket's writes, `limit` after the first.
    fn deadline(&mut self, limit: Duration) -> Instant {
        *self.deadline.get_or_insert_with(|| Instant::now() + limit)
    }
}

/// What performing a batch of outputs leads to.
enum Step {
    /// The call is over: report it and close.
    Finish(Finish),
    /// Go on, feeding the machine this first, if anything; open a Realtime connection if asked.
    Then(Option<Input<'static>>, bool),
}

/// Turns what Twilio's socket gave into an input, borrowing its text; `None` for what the call
/// ignores (pings).
fn twilio_input(msg: &Option<Result<Message, axum::Error>>) -> Option<Input<'_>> {
    let text = match msg {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Some(Input::TwilioClosed),
        Some(Ok(Message::Binary(_))) => return Some(Input::TwilioMalformed("a binary frame")),
        Some(Ok(_)) => return None,
    };
    // Oversized audio is refused here too: it never reaches the model.
    Some(match Inbound::parse(text) {
        Ok(msg) => Input::Twilio(msg),
        Err(_) => Input::TwilioMalformed("a message that did not parse or was too large"),
    })
}

/// The next message of the Realtime connection; never, while there is none.
async fn next_upstream(
    rx: &mut Option<UpRx>,
) -> Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>> {
    match rx.as_mut() {
        Some(rx) => rx.next().await,
        None => std::future::pending().await,
    }
}

/// The most tool calls one call runs at once; a turn needs one to three.
const MAX_TOOLS_IN_FLIGHT: usize = 4;

/// What the model hears for a tool call beyond [`MAX_TOOLS_IN_FLIGHT`].
const BUSY: &str = "Am prea multe cereri deodată. Vă rog să repetați, pe rând.";

/// A Realtime connection being opened.
type Connecting = std::pin::Pin<Box<dyn Future<Output = Option<(UpTx, UpRx)>> + Send>>;

/// The result of the connection being opened; never, while none is.
async fn poll_connecting(connecting: &mut Option<Connecting>) -> Option<(UpTx, UpRx)> {
    match connecting.as_mut() {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `wake`; never, without one.
async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The call's sockets and what it needs to reach the functions.
struct Io<'a> {
    shared: &'a Shared,
    call_sid: String,
    /// Who the stream token says is calling which salon: each tool request carries them.
    business: String,
    caller: String,
    /// The model to connect to.
    model: String,
    twilio: TwilioTx,
    /// The Realtime connection's sending half; `None` before it opens and after it stalls.
    up: Option<UpTx>,
    /// Its receiving half; `None` before it opens and after it ends.
    up_rx: Option<UpRx>,
    /// Where tool tasks send their results.
    tool_tx: mpsc::UnboundedSender<ToolDone>,
    /// The call's tool tasks: a booking in flight when the call ends is waited for (the
    /// functions record its outcome on the call), within the tool limit; the rest are
    /// cancelled when the call's task ends.
    tools: JoinSet<()>,
}

impl Io<'_> {
    /// Performs `out` in order, emptying it; `call` holds the texts to send.
    ///
    /// Each text is fed to its socket, and each socket fed is flushed once at the end: a frame
    /// and its mark, and whatever else one input led to, leave in one write. A socket's feeds
    /// and flush together get the write limit; past it the peer stopped reading, it gets
    /// nothing more (after any stall, neither does Twilio), and the stall is fed back to end
    /// the call.
    async fn perform(&mut self, out: &mut Vec<Output>, call: &Call) -> Step {
        let limit = self.shared.config.write_limit;
        let (mut twilio, mut up) = (Batch::default(), Batch::default());
        let mut connect = false;
        let mut finish = None;
        for output in out.drain(..) {
            match output {
                Output::Twilio(text) => {
                    if !twilio.stalled && !up.stalled {
                        self.feed_twilio(call.text(&text), &mut twilio, limit).await;
                    }
                }
                Output::Realtime(text) => self.feed_up(call.text(&text), &mut up, limit).await,
                Output::Tool(tool) => self.start_tool(tool),
                // Opened beside the loop, which goes on reading Twilio meanwhile.
                Output::Connect => connect = true,
                // Nothing follows it; what came before it is still flushed.
                Output::Finish(f) => {
                    finish = Some(f);
                    break;
                }
            }
        }
        self.flush_twilio(&mut twilio, limit).await;
        self.flush_up(&mut up, limit).await;
        if let Some(finish) = finish {
            return Step::Finish(*finish);
        }
        Step::Then(
            if twilio.stalled {
                Some(Input::Stalled(Peer::Twilio))
            } else if up.stalled {
                Some(Input::Stalled(Peer::Realtime))
            } else {
                None
            },
            connect,
        )
    }

    /// Feeds Twilio one text (written with the batch's flush); a write past the batch's
    /// deadline marks Twilio stalled.
    async fn feed_twilio(&mut self, text: &str, batch: &mut Batch, limit: Duration) {
        let write = self.twilio.feed(Message::Text(text.into()));
        match tokio::time::timeout_at(batch.deadline(limit), write).await {
            Ok(Ok(())) => batch.fed = true,
            Ok(Err(_)) => tracing::debug!("Twilio's socket is closed"),
            Err(_) => batch.stalled = true,
        }
    }

    /// Writes what was fed to Twilio in this batch, within the batch's deadline.
    async fn flush_twilio(&mut self, batch: &mut Batch, limit: Duration) {
        if !batch.fed || batch.stalled {
            return;
        }
        match tokio::time::timeout_at(batch.deadline(limit), self.twilio.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::debug!("Twilio's socket is closed"),
            Err(_) => batch.stalled = true,
        }
    }

    /// Feeds the model one text, bounded like Twilio's; nothing while no connection is open.
    async fn feed_up(&mut self, text: &str, batch: &mut Batch, limit: Duration) {
        let Some(up) = self.up.as_mut() else { return };
        let write = up.feed(WsMessage::Text(text.into()));
        match tokio::time::timeout_at(batch.deadline(limit), write).await {
            Ok(Ok(())) => batch.fed = true,
            Ok(Err(_)) => tracing::warn!("the Realtime socket refused a write"),
            Err(_) => self.up_stalled(batch),
        }
    }

    /// Writes what was fed to the model in this batch, within the batch's deadline.
    async fn flush_up(&mut self, batch: &mut Batch, limit: Duration) {
        let Some(up) = self.up.as_mut().filter(|_| batch.fed) else {
            return;
        };
        match tokio::time::timeout_at(batch.deadline(limit), up.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::warn!("the Realtime socket refused a write"),
            Err(_) => self.up_stalled(batch),
        }
    }

    /// The Realtime connection stopped reading: it is dropped, and counted.
    fn up_stalled(&mut self, batch: &mut Batch) {
        self.up = None;
        batch.stalled = true;
        self.shared
            .metrics
            .openai_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens a Realtime connection, retrying within the connect budget; the future owns what
    /// it needs, so the loop polls it beside Twilio's socket.
    fn connect(&self) -> impl Future<Output = Option<(UpTx, UpRx)>> + Send + 'static {
        let config = self.shared.config.clone();
        let tls = self.shared.tls.clone();
        let model = self.model.clone();
        async move {
            match openai::connect_with_retry(
                &config.openai_url,
                &model,
                &config.openai_api_key,
                &tls,
                config.connect_budget,
            )
            .await
            {
                Ok(socket) => Some(socket.split()),
                Err(e) => {
                    tracing::error!(error = %e, "the Realtime API cannot be reached");
                    None
                }
            }
        }
    }

    /// Runs a tool at the functions in its own task; its result comes back on the channel.
    fn start_tool(&mut self, call: ToolCall) {
        let ToolCall {
            connection,
            name,
            call_id,
            arguments,
        } = call;
        let functions = self.shared.functions.clone();
        let metrics = self.shared.metrics.clone();
        let call_sid = self.call_sid.clone();
        let req = ToolRequest {
            call_id: call_id.clone(),
            arguments,
            business: self.business.clone(),
            caller: self.caller.clone(),
        };
        let tx = self.tool_tx.clone();
        // Only a known tool's name reaches a log: the rest is whatever the model wrote.
        let span = tracing::info_span!("tool", tool = salon_wire::tools::known(&name));
        // Finished tasks are reaped as new ones start, so the set holds what is in flight.
        while self.tools.try_join_next().is_some() {}
        if self.tools.len() >= MAX_TOOLS_IN_FLIGHT {
            // More at once than any turn needs: answered here, so a model (or a slow functions
            // endpoint) cannot pile requests up.
            tracing::warn!("too many tool calls in flight: answering one without the functions");
            let _ = tx.send(ToolDone {
                connection,
                call_id,
                reply: ToolReply::error(ToolErrorCode::FunctionsUnreachable, BUSY),
            });
            return;
        }
        self.tools.spawn(
            async move {
                let began = std::time::Instant::now();
                let reply = functions.tool(&call_sid, &name, &req).await;
                metrics.tool_latency(began.elapsed());
                let _ = tx.send(ToolDone {
                    connection,
                    call_id,
                    reply,
                });
            }
            .instrument(span),
        );
    }

    /// Reports the call and closes both sockets. A deliberate end waits for the summary's
    /// 2xx before closing the stream, so the stream-ended webhook knows not to apologise.
    async fn finish(mut self, finish: Finish, twilio_rx: TwilioRx) -> CallOutcome {
        let limit = self.shared.config.write_limit;
        // A booking in flight is finished, not cut off: it is recorded on the call by the
        // functions before the summary says how the call ended. A tool takes at most twice its
        // timeout (its retries fit in that: `functions::Retry`); past that, what is left is
        // cancelled with the set.
        let tool_limit = self.shared.config.tool_timeout * 2 + std::time::Duration::from_secs(1);
        let _ = tokio::time::timeout(tool_limit, async {
            while self.tools.join_next().await.is_some() {}
        })
        .await;
        if let Some(mut up) = self.up.take() {
            let _ = tokio::time::timeout(limit, async {
                let _ = up.send(WsMessage::Close(None)).await;
                let _ = up.close().await;
            })
            .await;
        }
        if let Err(e) = self
            .shared
            .functions
            .summary(&self.call_sid, &finish.summary)
            .await
        {
            tracing::error!(error = %e, "could not post the call summary");
        }
        if finish.close_twilio {
            close(self.twilio, twilio_rx, limit).await;
        }
        finish.outcome
    }
}
