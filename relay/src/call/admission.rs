//! Admitting a stream: waiting (briefly, as a pending stream) for Twilio's `start`, then
//! checking its format and stream token before anything upstream is opened.

use std::sync::Arc;

use axum::extract::ws::Message;
use futures_util::StreamExt;
use salon_wire::{params, token};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Shared, TwilioRx};
use crate::pending::PendingSlot;
use crate::twilio::{Inbound, Start};

/// What a stream holds until it is admitted, and where its call slot comes from.
pub(crate) struct Admission {
    /// Its place among the pending streams, given up once `start` is admitted or refused.
    pub(crate) pending: PendingSlot,
    /// The call slots: one is taken only after admission.
    pub(crate) slots: Arc<Semaphore>,
}

/// Reads until Twilio's `start`: only `connected` may come before it (Twilio sends the two at
/// once), within the start limit, and unless a newer stream pushed this one out.
pub(super) async fn wait_for_start(
    rx: &mut TwilioRx,
    shared: &Shared,
    evicted: &CancellationToken,
) -> Result<Start, &'static str> {
    let deadline = Instant::now() + shared.config.start_limit;
    loop {
        let msg = tokio::select! {
            // Too many streams without a start: this, the oldest, made room for a newer one.
            () = evicted.cancelled() => return Err("too many streams without a start: dropped the oldest"),
            // Twilio sends `start` at once; a socket that does not is not Twilio.
            _ = tokio::time::sleep_until(deadline) => return Err("no start in time"),
            // The next message, or the socket's end.
            msg = rx.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                count_malformed(shared);
                return Err("a binary frame before start");
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return Err("closed (or oversized) before start");
            }
        };
        match Inbound::parse(&text) {
            Ok(Inbound::Start { start, .. }) => return Ok(start),
            Ok(Inbound::Connected { .. }) => {}
            Ok(_) => return Err("a message other than start"),
            Err(_) => {
                count_malformed(shared);
                return Err("a malformed message before start");
            }
        }
    }
}

fn count_malformed(shared: &Shared) {
    shared
        .metrics
        .malformed_messages
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Checks the stream's format and token before anything upstream is opened; returns what the
/// token signed. The stream's own parameters must agree with it: a stream that names another
/// business or another caller than its token is refused, and only the token's word is used.
pub(super) fn admit(start: &Start, shared: &Shared) -> Result<token::Claims, &'static str> {
    if !start.media_format.is_mulaw_8k_mono() {
        return Err("the stream is not μ-law 8 kHz mono");
    }
    let token = start
        .custom_parameters
        .get(params::TOKEN)
        .ok_or("no stream token")?;
    let now = shared.config.clock.now().as_second();
    let claims = token::verify(
        shared.config.stream_token_secret.expose().as_bytes(),
        token,
        &start.call_sid,
        now,
    )
    .map_err(|_| "invalid stream token")?;
    let param = |name| start.custom_parameters.get(name).map(String::as_str);
    if param(params::BUSINESS).is_some_and(|b| b != claims.business) {
        return Err("the business parameter does not match the token");
    }
    if param(params::CALLER).is_some_and(|c| c != claims.caller) {
        return Err("the caller parameter does not match the token");
    }
    Ok(claims)
}
