//! One call: everything between Twilio's `start` and the end of the stream, in one task.
//!
//! The task admits the stream (format, stream token: [`admission`]), takes a call slot, fetches
//! the session config and runs the call. The call itself is a sans-I/O state machine
//! ([`machine::Call`]: caller audio up, agent audio down in steady 20 ms chunks each followed
//! by a mark (a shorter one when the caller has heard everything sent), tool calls, barge-in,
//! silence and length limits, reconnection, the summary), which writes the texts it sends
//! itself ([`outbox`]), driven by a thin I/O loop ([`driver`]) that reads both sockets and the
//! tool results, feeds the machine, performs what it asks with bounded writes (one flush per
//! socket per batch) and sleeps until its next wake.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::Config;
use crate::functions::Functions;
use crate::metrics::Metrics;
use crate::throttle::LogThrottle;

mod admission;
mod driver;
mod history;
// Public only so the allocation test and the benchmarks, crates of their own, can reach the
// call's core; not an API (hidden from the docs).
#[doc(hidden)]
pub mod hot_path;
pub(crate) mod machine;
mod outbox;
#[cfg(test)]
mod tests;

pub(crate) use admission::Admission;
/// The hold line the relay asks for while a tool runs long (the soak's double answers it).
pub use machine::HOLD;

/// How much a call's writes to a socket may gather before they are written. The call flushes
/// each socket after each batch of outputs, so a batch (a frame and its mark, a few frames, a
/// turn's events) leaves in one write; a larger one is written as it goes. Small, because it is
/// per socket and per call.
pub(crate) const WRITE_BUFFER_BYTES: usize = 4 * 1024;

/// Each socket's read buffer: with the write buffer, most of a call's own memory, and a cost
/// per read too (tungstenite zero-fills the buffer's free space before every read: with 16 KiB
/// that `memset` was 8 % of the relay's CPU under load). A media message is under 1 KiB and a
/// 20 ms delta under 2 KiB, so 4 KiB still takes several per read; a larger event grows the
/// buffer while it is read.
pub(crate) const READ_BUFFER_BYTES: usize = 4 * 1024;

/// What every call shares.
pub struct Shared {
    pub config: Arc<Config>,
    pub functions: Functions,
    /// The TLS client of every connection to the Realtime API.
    pub tls: crate::openai::Tls,
    pub metrics: Arc<Metrics>,
    /// Keeps refusals at the door (bad upgrades, streams without a valid `start`) to a few
    /// log lines however many sockets try.
    pub(crate) door_log: LogThrottle,
}

type TwilioTx = SplitSink<WebSocket, Message>;
type TwilioRx = SplitStream<WebSocket>;

/// Logs a refusal at the door: the first, then at most one line per period with the count.
pub(crate) fn log_refused(shared: &Shared, why: &'static str) {
    if let Some(refused) = shared.door_log.hit() {
        tracing::warn!(why, refused, "refused streams (this reason is the latest)");
    }
}

/// Serves one Twilio media stream to its end: waits (briefly, as a pending stream) for a
/// valid `start`, then takes a call slot and runs the call.
pub(crate) async fn serve(
    socket: WebSocket,
    shared: Arc<Shared>,
    admission: Admission,
    cancel: CancellationToken,
) {
    let (tx, mut rx) = socket.split();
    let Admission { pending, slots } = admission;
    let start = match admission::wait_for_start(&mut rx, &shared, &pending.evicted).await {
        Ok(s) => s,
        Err(why) => {
            drop(pending);
            refused(&shared, why);
            close(tx, rx, shared.config.write_limit).await;
            return;
        }
    };
    let span = tracing::info_span!("call", call_sid = %start.call_sid);
    async move {
        let admitted = admission::admit(&start, &shared);
        // Admitted or not, this stream is no longer pending.
        drop(pending);
        let claims = match admitted {
            Ok(claims) => claims,
            Err(why) => {
                refused(&shared, why);
                close(tx, rx, shared.config.write_limit).await;
                return;
            }
        };
        // Only an admitted stream takes a call slot, so idle sockets never hold one.
        let Ok(_slot) = slots.try_acquire_owned() else {
            refused(&shared, "at the call limit");
            close(tx, rx, shared.config.write_limit).await;
            return;
        };
        // Counted as active until the guard drops, however the call ends (a panic included);
        // the outcome is counted first, so a call no longer active has its outcome counted.
        let active = shared.metrics.call_started();
        let outcome = driver::run(start, claims, tx, rx, &shared, cancel).await;
        shared.metrics.call_ended(outcome);
        drop(active);
        tracing::info!(?outcome, "call ended");
    }
    .instrument(span)
    .await
}

/// Counts and logs (rarely) a stream refused before its call began.
fn refused(shared: &Shared, why: &'static str) {
    shared
        .metrics
        .streams_refused
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    log_refused(shared, why);
}

/// Closes Twilio's socket with a close handshake, giving up after `limit` if Twilio stopped
/// reading or never answers. Twilio streams the line's audio until it sees the close, so its
/// frames are read (and dropped) until its own close comes back: a socket dropped with data
/// unread is reset by the kernel, which Twilio reports as a stream error.
async fn close(mut tx: TwilioTx, mut rx: TwilioRx, limit: Duration) {
    let _ = tokio::time::timeout(limit, async {
        if tx.send(Message::Close(None)).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = rx.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
        let _ = tx.close().await;
    })
    .await;
}
