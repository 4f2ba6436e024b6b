//! Per-call PCM16 resamplers between Twilio's 8 kHz and OpenAI's 24 kHz, built on rubato's FFT resampler.
//!
//! The ratio is fixed (exactly 3), so rubato's synchronous [`Fft`] resampler fits: it is fast and
//! band-limits properly. It runs one FFT block of 10 ms per call (80 samples at 8 kHz, 240 at
//! 24 kHz), which sets its algorithmic delay to half a block, 5 ms, and the length of its
//! anti-aliasing filter, whose window is [`WINDOW`]. Measured through these types (tests/audio.rs):
//! flat within 0.02 dB from 100 Hz to 3.3 kHz both ways, and nothing of a tone's images or
//! aliases above 4.7 kHz shows in the 16-bit output (over 90 dB down; the product needs 60).
//!
//! Input arrives in pushes of any size (a Twilio frame is 20 ms, OpenAI deltas vary); a FIFO
//! holds the part of a block not yet complete. Output goes to a caller's closure as soon as a
//! block is complete, so a 20 ms frame comes out within the same call.
//!
//! The resamplers trim their own start-up delay and [`flush`](Upsampler::flush) emits the delayed
//! tail, so `n` input samples give exactly `n × ratio` output samples (rounded up when
//! downsampling): the milliseconds counted on one side equal those on the other.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// Twilio's sample rate.
pub const RATE_8K: usize = 8_000;
/// The only PCM rate OpenAI Realtime accepts.
pub const RATE_24K: usize = 24_000;

/// Milliseconds of audio in one FFT block; the algorithmic delay is half of it.
///
/// 10 ms divides Twilio's 20 ms frames, so a frame never waits in the FIFO. A 5 ms block would
/// halve the delay, but its filter, half as long, would roll off well below 3.3 kHz.
const BLOCK_MS: usize = 10;

/// The anti-aliasing filter's window.
///
/// Blackman-Harris keeps the telephone band: in a 10 ms block the filter is flat within 0.02 dB
/// to 3.3 kHz, and it falls steeply enough before 4 kHz, where the FFT drops everything, that
/// images and aliases from 4.7 kHz up stay under the 16-bit output's rounding. rubato's default,
/// BlackmanHarris2, cost the same and kept the same delay but rolled off earlier: −4.9 dB at
/// 3.3 kHz, for stopband depth the 16-bit output cannot show.
const WINDOW: WindowFunction = WindowFunction::BlackmanHarris;

/// Scales PCM16 to the ±1.0 floats that rubato works in, and back.
const PCM_SCALE: f32 = 32768.0;

/// Converts 8 kHz PCM16 from Twilio to 24 kHz PCM16 for OpenAI.
#[derive(Debug)]
pub struct Upsampler {
    /// The shared block-FIFO machinery, set to 8 kHz in, 24 kHz out.
    core: BlockResampler,
}

impl Upsampler {
    /// Builds an 8 kHz → 24 kHz resampler, allocating every buffer it will use.
    pub fn new() -> Self {
        Self {
            core: BlockResampler::new(RATE_8K, RATE_24K),
        }
    }

    /// Resamples `input` (8 kHz), handing each finished run of 24 kHz samples to `sink`.
    ///
    /// Samples that do not complete a 10 ms block wait in the FIFO for the next push.
    /// `sink` is called zero or more times with at most 240 samples each. Does not allocate.
    pub fn process(&mut self, input: &[i16], sink: impl FnMut(&[i16])) {
        self.core.process(input, sink);
    }

    /// Emits everything still inside (the partial block and the delayed tail), then resets.
    pub fn flush(&mut self, sink: impl FnMut(&[i16])) {
        self.core.flush(sink);
    }

    /// Drops all buffered audio and filter state, as if newly built.
    pub fn reset(&mut self) {
        self.core.reset();
    }

    /// The resampler's algorithmic delay in milliseconds (5 ms).
    pub fn delay_ms(&self) -> f64 {
        self.core.delay_ms()
    }
}

impl Default for Upsampler {
    fn default() -> Self {
        Self::new()
    }
}

/// Converts 24 kHz PCM16 from OpenAI to 8 kHz PCM16 for Twilio, filtering out everything above 4 kHz.
#[derive(Debug)]
pub struct Downsampler {
    /// The shared block-FIFO machinery, set to 24 kHz in, 8 kHz out.
    core: BlockResampler,
}

impl Downsampler {
    /// Builds a 24 kHz → 8 kHz resampler, allocating every buffer it will use.
    pub fn new() -> Self {
        Self {
            core: BlockResampler::new(RATE_24K, RATE_8K),
        }
    }

    /// Resamples `input` (24 kHz), handing each finished run of 8 kHz samples to `sink`.
    ///
    /// Samples that do not complete a 10 ms block wait in the FIFO for the next push.
    /// `sink` is called zero or more times with at most 80 samples each. Does not allocate.
    pub fn process(&mut self, input: &[i16], sink: impl FnMut(&[i16])) {
        self.core.process(input, sink);
    }

    /// Emits everything still inside (the partial block and the delayed tail), then resets.
    pub fn flush(&mut self, sink: impl FnMut(&[i16])) {
        self.core.flush(sink);
    }

    /// Drops all buffered audio and filter state, as if newly built (barge-in).
    pub fn reset(&mut self) {
        self.core.reset();
    }

    /// The resampler's algorithmic delay in milliseconds (5 ms).
    pub fn delay_ms(&self) -> f64 {
        self.core.delay_ms()
    }
}

impl Default for Downsampler {
    fn default() -> Self {
        Self::new()
    }
}

/// A fixed-ratio rubato resampler fed one block at a time from a FIFO, with PCM16 at both ends.
///
/// Every buffer is allocated in [`BlockResampler::new`]; `process` and `flush` only index into
/// them, so the per-frame path does not allocate (tests/no_alloc.rs checks this).
struct BlockResampler {
    /// rubato's FFT resampler in `FixedSync::Both` mode: exactly `block_in` in, `block_out` out.
    fft: Fft<f32>,
    /// Input rate in Hz, kept for the delay and flush arithmetic.
    rate_in: usize,
    /// Output rate in Hz.
    rate_out: usize,
    /// The FIFO: one block of input, of which the first `filled` samples are real.
    block_in: Vec<f32>,
    /// How much of `block_in` holds samples not yet resampled.
    filled: usize,
    /// rubato writes one block of output here.
    block_out: Vec<f32>,
    /// The output block converted back to PCM16, what `sink` sees.
    pcm_out: Vec<i16>,
    /// Output samples still to drop: the filter's start-up delay, once after each reset.
    skip: usize,
    /// Input samples taken since the last reset, to know how much output a flush still owes.
    taken: u64,
    /// Output samples emitted since the last reset.
    emitted: u64,
}

impl std::fmt::Debug for BlockResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockResampler")
            .field("rate_in", &self.rate_in)
            .field("rate_out", &self.rate_out)
            .field("block_in", &self.block_in.len())
            .field("block_out", &self.block_out.len())
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

impl BlockResampler {
    fn new(rate_in: usize, rate_out: usize) -> Self {
        let block = rate_in * BLOCK_MS / 1000;
        // `Both` runs a single FFT block of `block` input samples per call: the smallest
        // granularity and the least internal copying. `sub_chunks` only matters for the other modes.
        let fft = Fft::<f32>::new_custom(rate_in, rate_out, block, 1, 1, WINDOW, FixedSync::Both)
            .expect("the rates and block size are non-zero constants");
        debug_assert_eq!(fft.input_frames_next(), block);
        let block_out = fft.output_frames_next();
        let skip = fft.output_delay();
        Self {
            fft,
            rate_in,
            rate_out,
            block_in: vec![0.0; block],
            filled: 0,
            block_out: vec![0.0; block_out],
            pcm_out: vec![0; block_out],
            skip,
            taken: 0,
            emitted: 0,
        }
    }

    fn delay_ms(&self) -> f64 {
        self.fft.output_delay() as f64 * 1000.0 / self.rate_out as f64
    }

    fn process(&mut self, mut input: &[i16], mut sink: impl FnMut(&[i16])) {
        self.taken += input.len() as u64;
        while !input.is_empty() {
            let room = self.block_in.len() - self.filled;
            let (now, later) = input.split_at(room.min(input.len()));
            for (slot, &sample) in self.block_in[self.filled..].iter_mut().zip(now) {
                *slot = f32::from(sample) / PCM_SCALE;
            }
            self.filled += now.len();
            input = later;
            if self.filled == self.block_in.len() {
                let produced = self.run_block();
                self.emit(produced, u64::MAX, &mut sink);
            }
        }
    }

    fn flush(&mut self, mut sink: impl FnMut(&[i16])) {
        if self.taken == 0 {
            // Nothing since the last reset: the state is already clean.
            return;
        }
        // What the input so far is worth at the output rate, rounded up.
        let owed = (self.taken * self.rate_out as u64).div_ceil(self.rate_in as u64);
        // The delay is less than a block, so at most two zero-padded blocks drain it.
        while self.emitted < owed {
            self.block_in[self.filled..].fill(0.0);
            self.filled = self.block_in.len();
            let produced = self.run_block();
            self.emit(produced, owed, &mut sink);
        }
        self.reset();
    }

    fn reset(&mut self) {
        self.fft.reset();
        self.filled = 0;
        self.skip = self.fft.output_delay();
        self.taken = 0;
        self.emitted = 0;
    }

    /// Resamples the full input block into `pcm_out` and returns how many samples it holds.
    fn run_block(&mut self) -> usize {
        let frames_in = self.block_in.len();
        let frames_out = self.block_out.len();
        let input = InterleavedSlice::new(&self.block_in[..], 1, frames_in)
            .expect("the slice holds exactly one block");
        let mut output = InterleavedSlice::new_mut(&mut self.block_out[..], 1, frames_out)
            .expect("the slice holds exactly one block");
        let (_, produced) = self
            .fft
            .process_into_buffer(&input, &mut output, None)
            .expect("buffers are sized from the resampler's own frame counts");
        self.filled = 0;
        for (pcm, &x) in self.pcm_out.iter_mut().zip(&self.block_out[..produced]) {
            // `as` saturates, which is the clipping we want for overshoot past full scale.
            *pcm = (x * PCM_SCALE).round() as i16;
        }
        produced
    }

    /// Hands `pcm_out[..produced]` to `sink`, minus any start-up samples still to skip and
    /// anything past `limit` total output samples.
    fn emit(&mut self, produced: usize, limit: u64, sink: &mut impl FnMut(&[i16])) {
        let skipped = self.skip.min(produced);
        self.skip -= skipped;
        let wanted = usize::try_from(limit.saturating_sub(self.emitted)).unwrap_or(usize::MAX);
        let end = produced.min(skipped.saturating_add(wanted));
        if end > skipped {
            sink(&self.pcm_out[skipped..end]);
            self.emitted += (end - skipped) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_out(resample: impl FnOnce(&mut dyn FnMut(&[i16]))) -> usize {
        let mut n = 0;
        resample(&mut |pcm: &[i16]| n += pcm.len());
        n
    }

    #[test]
    fn delay_is_five_milliseconds_each_way() {
        assert_eq!(Upsampler::new().delay_ms(), 5.0);
        assert_eq!(Downsampler::new().delay_ms(), 5.0);
    }

    #[test]
    fn a_twilio_frame_comes_out_in_the_same_call() {
        let mut up = Upsampler::new();
        // The first frame loses the 5 ms start-up delay (120 samples at 24 kHz)...
        assert_eq!(count_out(|sink| up.process(&[0; 160], sink)), 480 - 120);
        // ...and every later 20 ms frame gives 20 ms at once.
        assert_eq!(count_out(|sink| up.process(&[0; 160], sink)), 480);
    }

    #[test]
    fn odd_pushes_and_flush_give_exactly_three_times_the_input() {
        let mut up = Upsampler::new();
        let mut total = 0;
        for size in [1, 7, 79, 80, 81, 3, 250] {
            total += count_out(|sink| up.process(&vec![100; size], sink));
        }
        total += count_out(|sink| up.flush(sink));
        assert_eq!(total, 3 * (1 + 7 + 79 + 80 + 81 + 3 + 250));
    }

    #[test]
    fn downsampler_flush_rounds_a_partial_sample_up() {
        let mut down = Downsampler::new();
        let mut total = count_out(|sink| down.process(&[0; 1000], sink));
        total += count_out(|sink| down.flush(sink));
        assert_eq!(total, 334); // 1000 / 3 = 333.3
        // Flush resets: a new stream starts clean.
        assert_eq!(count_out(|sink| down.process(&[0; 480], sink)), 160 - 40);
    }
}
