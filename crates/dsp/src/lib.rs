//! The signal chain around the NAM engine, shared by the plugin and the CLI. Real-time
//! blocks (`new` allocates; `process` and `reset` never do), the one streaming [`Chain`]
//! that both front ends drive, and the offline pieces the CLI and the plugin's loader need
//! (WAV files, whole-file rendering). Imports no plugin API.
//!
//! The blocks of the amp chain, in the reference plugin's order: [`gate`] (detector on
//! the input, gain after the model), [`tone_stack`], [`ir`] (cabinet), [`dc_blocker`];
//! [`levels`] computes the output-mode and input-calibration gains, [`smoother`] ramps
//! parameters.

pub mod chain;
pub mod dc_blocker;
pub mod delay;
pub mod gate;
pub mod ir;
pub mod levels;
pub mod model_slot;
pub mod preset;
pub mod render;
pub mod resample;
mod simd;
pub mod smoother;
pub mod source;
pub mod stream_resample;
pub mod tone_stack;
pub mod wav;

pub use chain::{
    Chain, ChainSettings, ChannelMode, GateSettings, Meter, OutputMode, Retired, ToneSettings,
};
pub use model_slot::{ModelSlot, Side, SlotSpec};

/// The loudness the reference plugin's "Normalized" output mode brings a model to.
pub const NORMALIZED_LOUDNESS_DB: f64 = -18.0;

/// dB to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Lowest and highest host rates the real-time blocks are designed and tested for.
pub const MIN_SAMPLE_RATE: f64 = 8_000.0;
pub const MAX_SAMPLE_RATE: f64 = 768_000.0;

/// A host rate the blocks can work with: clamped to the supported range, 48 kHz if it is
/// not a number at all (a host that has not said yet).
pub fn sanitize_rate(rate: f64) -> f64 {
    if rate.is_finite() && rate > 0.0 {
        rate.clamp(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
    } else {
        48_000.0
    }
}

/// Below this a sample is treated as silence: far under any converter's noise floor, far
/// above the f32 denormal range (1.2e-38) that makes some CPUs crawl.
pub(crate) const FLUSH: f32 = 1e-30;

/// The audio-thread guard on every block's input: NaN and infinities become silence (one
/// bad sample must not poison a filter's state or a 10 s convolution), tiny values zero.
#[inline(always)]
pub(crate) fn clean(x: f32) -> f32 {
    if x.is_finite() && x.abs() >= FLUSH {
        x
    } else {
        0.0
    }
}

/// Zero for anything in the flush range (outputs of decaying filters, products of tiny
/// values), so no block hands a denormal to the next.
#[inline(always)]
pub(crate) fn flush(x: f32) -> f32 {
    if x.abs() < FLUSH {
        0.0
    } else {
        x
    }
}

/// Eight independent partial sums, so the loop vectorises (a single running sum is a
/// dependency chain the compiler may not reorder), added pairwise. The summation order
/// depends only on the length, so a result never depends on how a stream was split into
/// blocks.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}
