//! Steady 20 ms μ-law frames for Twilio out of the model's arbitrarily sized audio deltas.
//!
//! Twilio plays whatever it is sent, but steady 160-byte frames keep its jitter buffer and our
//! `mark` accounting simple, and let a barge-in `clear` drop whole frames.

use crate::audio::mulaw;

/// Bytes in 20 ms of μ-law at 8 kHz: one Twilio media frame.
pub const FRAME_BYTES: usize = 160;

/// μ-law bytes per millisecond at 8 kHz.
pub const BYTES_PER_MS: u64 = 8;

/// Room reserved at construction (a quarter second of μ-law): a delta larger than this grows the
/// queue once, after which it stays. Small, because it is per call.
const INITIAL_CAPACITY: usize = 2 * 1024;

/// Queues μ-law bytes of any size and hands them back in chunks of a fixed size.
///
/// Push a delta, then take chunks with [`next_chunk`](Self::next_chunk) until it returns `None`;
/// the remainder (less than one chunk) waits for the next delta. At the end of a response,
/// [`flush`](Self::flush) also hands out that remainder, padded with μ-law silence.
#[derive(Debug, Clone)]
pub struct OutboundChunker {
    /// The queue: `buf[head..]` is waiting, `buf[..head]` was already handed out.
    buf: Vec<u8>,
    /// Where the waiting bytes start; the consumed prefix is dropped on the next push.
    head: usize,
    /// Bytes per chunk.
    chunk: usize,
    /// Model audio bytes handed out since construction (padding excluded, see [`Self::bytes_emitted`]).
    emitted: u64,
}

impl OutboundChunker {
    /// Builds a chunker of 160-byte (20 ms) chunks.
    pub fn new() -> Self {
        Self::with_chunk_size(FRAME_BYTES)
    }

    /// Builds a chunker handing out chunks of `chunk` bytes.
    ///
    /// # Panics
    ///
    /// If `chunk` is zero.
    pub fn with_chunk_size(chunk: usize) -> Self {
        assert!(chunk > 0, "a chunk must hold at least one byte");
        Self {
            buf: Vec::with_capacity(INITIAL_CAPACITY.max(2 * chunk)),
            head: 0,
            chunk,
            emitted: 0,
        }
    }

    /// Queues μ-law bytes.
    ///
    /// Does not allocate while the queue (the remainder plus `mulaw`) fits the capacity it
    /// already has, which holds when the caller drains chunks after each push.
    pub fn push(&mut self, mulaw: &[u8]) {
        if self.head > 0 {
            // Move the remainder to the front instead of letting the buffer creep forward.
            self.buf.drain(..self.head);
            self.head = 0;
        }
        self.buf.extend_from_slice(mulaw);
    }

    /// Takes the next full chunk, or `None` if less than a chunk is queued.
    pub fn next_chunk(&mut self) -> Option<&[u8]> {
        if self.queued_len() < self.chunk {
            return None;
        }
        let start = self.head;
        self.head += self.chunk;
        self.emitted += self.chunk as u64;
        Some(&self.buf[start..self.head])
    }

    /// Takes what is queued, up to a chunk, unpadded; `None` once the queue is empty.
    ///
    /// For a listener with nothing left to play: the start of the next chunk now beats a whole
    /// chunk later. Counted in [`bytes_emitted`](Self::bytes_emitted); whole chunks follow from
    /// what comes next, as usual.
    pub fn take_partial(&mut self) -> Option<&[u8]> {
        let len = self.queued_len().min(self.chunk);
        if len == 0 {
            return None;
        }
        let start = self.head;
        self.head += len;
        self.emitted += len as u64;
        Some(&self.buf[start..self.head])
    }

    /// Takes the next chunk, including a final partial one padded to full size with
    /// [`mulaw::SILENCE`]; `None` once the queue is empty.
    ///
    /// Call it until `None` at the end of a response. The padding (at most 19.875 ms of
    /// silence) keeps every frame sent to Twilio the same size; it is not counted in
    /// [`bytes_emitted`](Self::bytes_emitted), which tracks the model's audio only.
    pub fn flush(&mut self) -> Option<&[u8]> {
        let queued = self.queued_len();
        if queued == 0 {
            return None;
        }
        if queued >= self.chunk {
            return self.next_chunk();
        }
        self.emitted += queued as u64;
        let start = self.head;
        self.head += self.chunk;
        self.buf.resize(self.head, mulaw::SILENCE);
        Some(&self.buf[start..self.head])
    }

    /// Drops everything queued (the caller barged in) and returns how many bytes were dropped.
    pub fn clear(&mut self) -> usize {
        let dropped = self.queued_len();
        self.buf.clear();
        self.head = 0;
        dropped
    }

    /// Bytes waiting to be handed out.
    pub fn queued_len(&self) -> usize {
        self.buf.len() - self.head
    }

    /// The chunk size in bytes.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Model audio bytes handed out so far, excluding flush padding.
    ///
    /// Excluding padding means the derived milliseconds never exceed the audio the model sent,
    /// which is the bound on `conversation.item.truncate`'s `audio_end_ms`.
    pub fn bytes_emitted(&self) -> u64 {
        self.emitted
    }

    /// Milliseconds of model audio handed out so far (8 bytes per ms at 8 kHz), rounded down.
    pub fn ms_emitted(&self) -> u64 {
        self.emitted / BYTES_PER_MS
    }
}

impl Default for OutboundChunker {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(chunker: &mut OutboundChunker, out: &mut Vec<Vec<u8>>) {
        while let Some(chunk) = chunker.next_chunk() {
            out.push(chunk.to_vec());
        }
    }

    #[test]
    fn odd_deltas_come_out_as_full_chunks_in_order() {
        let mut chunker = OutboundChunker::new();
        let mut chunks = Vec::new();
        let mut sent = Vec::new();
        let mut next = 0u8;
        for size in [1, 159, 161, 7, 3_333, 0, 480, 99] {
            let delta: Vec<u8> = (0..size)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            sent.extend_from_slice(&delta);
            chunker.push(&delta);
            drain(&mut chunker, &mut chunks);
        }
        let total: usize = sent.len();
        assert!(chunks.iter().all(|c| c.len() == FRAME_BYTES));
        assert_eq!(chunks.len(), total / FRAME_BYTES);
        assert_eq!(chunker.queued_len(), total % FRAME_BYTES);

        let last = chunker.flush().expect("a remainder is queued").to_vec();
        assert_eq!(last.len(), FRAME_BYTES);
        assert_eq!(chunker.flush(), None);
        chunks.push(last);

        let joined: Vec<u8> = chunks.concat();
        assert_eq!(&joined[..total], &sent[..], "every byte, in order");
        assert!(joined[total..].iter().all(|&b| b == mulaw::SILENCE));
        assert_eq!(
            chunker.bytes_emitted(),
            total as u64,
            "padding is not counted"
        );
    }

    #[test]
    fn flush_hands_out_full_chunks_before_the_padded_one() {
        let mut chunker = OutboundChunker::with_chunk_size(4);
        chunker.push(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(chunker.flush(), Some(&[1, 2, 3, 4][..]));
        assert_eq!(chunker.flush(), Some(&[5, 6, 0xFF, 0xFF][..]));
        assert_eq!(chunker.flush(), None);
        assert_eq!(chunker.bytes_emitted(), 6);
    }

    #[test]
    fn a_partial_chunk_can_be_taken_early_and_whole_chunks_follow() {
        let mut chunker = OutboundChunker::with_chunk_size(4);
        chunker.push(&[1, 2, 3]);
        assert_eq!(chunker.next_chunk(), None);
        assert_eq!(chunker.take_partial(), Some(&[1, 2, 3][..]));
        assert_eq!(chunker.take_partial(), None);
        chunker.push(&[4, 5, 6, 7, 8]);
        assert_eq!(chunker.next_chunk(), Some(&[4, 5, 6, 7][..]));
        assert_eq!(chunker.take_partial(), Some(&[8][..]));
        assert_eq!(chunker.bytes_emitted(), 8);
    }

    #[test]
    fn clear_drops_the_queue_but_keeps_the_count() {
        let mut chunker = OutboundChunker::new();
        chunker.push(&[0x55; 400]);
        assert!(chunker.next_chunk().is_some());
        assert_eq!(chunker.clear(), 240);
        assert_eq!(chunker.queued_len(), 0);
        assert_eq!(chunker.next_chunk(), None);
        assert_eq!(chunker.flush(), None);
        assert_eq!(chunker.bytes_emitted(), 160);
        assert_eq!(chunker.ms_emitted(), 20);

        // The next response starts on a chunk boundary.
        chunker.push(&[0x11; 160]);
        assert_eq!(chunker.next_chunk(), Some(&[0x11; 160][..]));
    }
}
