//! Real-time resampling around a model that runs at its own rate: host rate -> model rate
//! -> model -> host rate, in place on host-rate blocks, with a total delay that is a whole
//! number of host samples, known before the first call and the same for every block
//! pattern.
//!
//! # Design
//! Both directions use one causal low-pass prototype (see `design.rs`), designed at build
//! time for the rate pair: pass band to `min(20 kHz, 0.45 x the lower rate)`, stop band
//! from `lower rate - pass edge` (Standard: whatever lands in between folds to above the
//! pass band, never into it) or from the lower Nyquist (High: nothing folds at all). Its
//! passband response is `exp(-2 pi i f D)`: a pure delay of `D` lower-rate samples, with
//! `D` well under half the filter's length, which is where the low latency comes from.
//!
//! Model sample `m` is taken at host position `m * host / model` exactly, and host sample
//! `n` at model position `n * model / host`; each is computed as soon as its newest input
//! exists, so neither direction buffers. The round trip then delays by `D` lower-rate
//! samples per direction: `2 D x host / lower` host samples. The design picks the latency
//! `L` (a whole number of host samples) first and sets `D = L x lower / (2 host)`, so no
//! fraction of a sample is left over, at any ratio. Block lengths change nothing: every
//! output is one dot product over the same inputs whichever call computes it, so the output
//! is bit-identical for every way of splitting the stream.
//!
//! Why every host sample of a block is ready when the block ends: host sample `n` needs the
//! model samples up to position `n * model / host`, which need host samples up to that
//! position times `host / model`, i.e. up to `n`. One call therefore hands the model at
//! most `ceil(block * model / host)` samples and returns the whole block.
//!
//! Not `rubato`: its sinc resamplers are linear phase (delay = half the kernel per
//! direction, reported as a truncated integer), and its fixed-size chunks need a FIFO in
//! front for variable host blocks, which costs up to a chunk of extra delay. Within the
//! official plugin's 27 samples at 44.1k / 48k a linear-phase pair cannot pass -56 dB
//! (see `design.rs`'s tests); this one reaches -70 dB there.

mod design;
mod stage;

use design::{Prototype, Spec};
use stage::Stage;

pub const MIN_RATE: f64 = 8_000.0;
pub const MAX_RATE: f64 = 768_000.0;
/// Largest `max_block` accepted (as the engine's limit).
pub const MAX_BLOCK: usize = 65_536;

/// The top of the band kept flat and free of images and aliases, in Hz, unless the lower
/// rate's Nyquist is close: then 0.45 x the lower rate.
pub const PASS_EDGE_HZ: f64 = 20_000.0;
const PASS_FRACTION: f64 = 0.45;

/// How hard the filters work, at the cost of latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    /// Lowest latency: never more than the official NAM plugin reports at the same rates
    /// (its Lanczos a = 12 resampler), with images and aliases near -70 dB at common rates
    /// (-40 dB or better wherever that latency bound binds hardest).
    #[default]
    Standard,
    /// About -120 dB images and aliases with no folding above the pass band either, and
    /// a flat pass band to 1e-4 dB; four to five times Standard's latency.
    High,
}

impl Quality {
    /// Stop band as a fraction of the lower rate, given the pass band fraction.
    fn stop(self, pass: f64) -> f64 {
        match self {
            Quality::Standard => 1.0 - pass,
            Quality::High => 0.5,
        }
    }
    /// Passband delay per direction, times the transition width (both in lower-rate
    /// units): what sets the rejection (-70 dB and -120 dB with the lengths below).
    fn delay_x_width(self) -> f64 {
        match self {
            Quality::Standard => 1.35,
            Quality::High => 3.0,
        }
    }
    /// Filter length over passband delay. Longer buys rejection at the same delay, until
    /// the transition band starts to bulge (+0.3 dB here).
    fn length_over_delay(self) -> f64 {
        match self {
            Quality::Standard => 3.25,
            Quality::High => 2.6,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResampleError {
    #[error("{which} sample rate {rate} Hz is outside {MIN_RATE}..={MAX_RATE} Hz")]
    RateOutOfRange { which: &'static str, rate: f64 },
    #[error("max_block {max_block} is outside 1..={MAX_BLOCK}")]
    BadMaxBlock { max_block: usize },
}

/// The resampler pair. `new` allocates everything; `process` and `reset` allocate nothing,
/// lock nothing and cannot panic, on any input, so both may run on an audio thread.
#[derive(Debug, Clone)]
pub struct ResamplerPair {
    host_rate: f64,
    model_rate: f64,
    quality: Quality,
    max_block: usize,
    /// `None`: identical rates, the model runs on the host's blocks directly.
    inner: Option<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    up: Stage,
    down: Stage,
    model_buf: Vec<f32>,
    latency: usize,
    info: FilterInfo,
}

/// The filters behind a pair, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterInfo {
    /// Taps per output sample, host -> model and model -> host.
    pub taps_up: usize,
    pub taps_down: usize,
    /// Prototype length and passband delay, in samples of the lower rate.
    pub length: f64,
    pub delay: f64,
    /// Pass band edge and stop band edge, Hz.
    pub pass_hz: f64,
    pub stop_hz: f64,
    /// Worst deviation from the target the design reached, dB (pass band: complex error
    /// against the pure delay; stop band: level at the edge).
    pub pass_error_db: f64,
    pub stop_error_db: f64,
}

impl ResamplerPair {
    /// Designs the filters and allocates everything. Rates from 8 kHz to 768 kHz, any pair
    /// (not only integer ratios); `max_block` is the longest run `process` works on at once
    /// (longer buffers are split), which bounds [`max_model_block`](Self::max_model_block).
    /// Takes milliseconds (Standard) to a fraction of a second (High): off the audio thread.
    pub fn new(
        host_rate: f64,
        model_rate: f64,
        max_block: usize,
        quality: Quality,
    ) -> Result<Self, ResampleError> {
        for (which, rate) in [("host", host_rate), ("model", model_rate)] {
            if !(MIN_RATE..=MAX_RATE).contains(&rate) {
                return Err(ResampleError::RateOutOfRange { which, rate });
            }
        }
        if !(1..=MAX_BLOCK).contains(&max_block) {
            return Err(ResampleError::BadMaxBlock { max_block });
        }
        let inner = (host_rate != model_rate)
            .then(|| Inner::new(host_rate, model_rate, max_block, quality));
        Ok(ResamplerPair {
            host_rate,
            model_rate,
            quality,
            max_block,
            inner,
        })
    }

    /// Identical rates: `process` hands the host's blocks to the model untouched.
    pub fn is_bypass(&self) -> bool {
        self.inner.is_none()
    }

    /// Total delay from host input to host output, in whole host samples (the model's own
    /// delay excluded: NAM models are causal). Fixed for the rate pair and quality,
    /// whatever the block lengths; 0 in bypass.
    pub fn latency(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.latency)
    }

    /// The most model-rate samples one `process` call hands the model at once: size the
    /// engine's block for it (larger is fine too).
    pub fn max_model_block(&self) -> usize {
        match &self.inner {
            None => self.max_block,
            Some(i) => i.model_buf.len(),
        }
    }

    /// What was designed for this rate pair; `None` in bypass.
    pub fn filter_info(&self) -> Option<FilterInfo> {
        self.inner.as_ref().map(|i| i.info)
    }

    pub fn host_rate(&self) -> f64 {
        self.host_rate
    }

    pub fn model_rate(&self) -> f64 {
        self.model_rate
    }

    pub fn quality(&self) -> Quality {
        self.quality
    }

    pub fn max_block(&self) -> usize {
        self.max_block
    }

    /// Runs `buf` (host rate, any length, including 0 and more than `max_block`) through
    /// host -> model rate, `model`, and back, in place. `model` receives the model-rate
    /// samples in order, in blocks of at most [`max_model_block`](Self::max_model_block)
    /// (never empty), and processes them in place. Non-finite input is treated as silence,
    /// so it cannot poison the filters' history or reach the model. Real-time safe.
    pub fn process(&mut self, buf: &mut [f32], mut model: impl FnMut(&mut [f32])) {
        let Some(inner) = &mut self.inner else {
            for chunk in buf.chunks_mut(self.max_block) {
                model(chunk);
            }
            return;
        };
        for chunk in buf.chunks_mut(self.max_block) {
            inner.up.push(chunk);
            let m = inner.up.pull(&mut inner.model_buf);
            let block = &mut inner.model_buf[..m];
            // Finite input can still overflow a filter (|x| near f32::MAX): the model only
            // ever sees finite samples.
            for x in block.iter_mut() {
                if !x.is_finite() {
                    *x = 0.0;
                }
            }
            if m > 0 {
                model(block);
            }
            inner.down.push(block);
            let n = inner.down.pull(chunk);
            debug_assert_eq!(n, chunk.len(), "the way back came up short");
            // `n == chunk.len()` always (see the module comment); were it ever short,
            // silence is better than the stale input left in the buffer.
            chunk[n..].fill(0.0);
        }
    }

    /// Back to the freshly built state (silence since forever). Does not reset the model.
    pub fn reset(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.up.reset();
            inner.down.reset();
        }
    }
}

impl Inner {
    fn new(host: f64, model: f64, max_block: usize, quality: Quality) -> Inner {
        // host / model = num / den exactly (or to 1e-15 for rates that are not whole Hz);
        // both directions use this one ratio, so the round trip is exactly consistent.
        let (num, den) = ratio(host, model);
        let host_is_low = host < model;
        let low = host.min(model);
        // Host samples per lower-rate sample.
        let host_per_low = if host_is_low {
            1.0
        } else {
            num as f64 / den as f64
        };
        let pass = PASS_EDGE_HZ.min(PASS_FRACTION * low) / low;
        let stop = quality.stop(pass);
        let min_delay = quality.delay_x_width() / (stop - pass);
        let mut latency = (2.0 * min_delay * host_per_low - 1e-9).ceil() as usize;
        if quality == Quality::Standard {
            latency = latency.min(reference_latency(host, model));
        }
        let latency = latency.max(1);
        let delay = latency as f64 / (2.0 * host_per_low);
        let spec = Spec {
            support: (quality.length_over_delay() * delay).max(2.0),
            delay,
            pass,
            stop,
        };
        let proto = Prototype::design(&spec);

        let max_model_block = ((max_block as u64 * den).div_ceil(num)) as usize;
        let up_stretch = if host_is_low { 1.0 } else { model / host };
        let down_stretch = if host_is_low { host / model } else { 1.0 };
        let up = Stage::new(&proto, spec.support, num, den, up_stretch, max_block);
        let down = Stage::new(
            &proto,
            spec.support,
            den,
            num,
            down_stretch,
            max_model_block,
        );
        let info = FilterInfo {
            taps_up: up.taps(),
            taps_down: down.taps(),
            length: spec.support,
            delay,
            pass_hz: pass * low,
            stop_hz: stop * low,
            pass_error_db: 20.0 * proto.pass_error.log10(),
            stop_error_db: 20.0 * proto.stop_error.log10(),
        };
        Inner {
            up,
            down,
            model_buf: vec![0.0; max_model_block],
            latency,
            info,
        }
    }
}

/// The delay the official NAM plugin reports for its resampler (NeuralAmpModelerPlugin
/// 0.7.x: AudioDSPTools' ResamplingContainer around two Lanczos a = 12 resamplers):
/// `floor(14 + r * floor(14 + 1 / r))` with `r = host / model` (as it computes, in f32).
/// 27 samples at 44.1 kHz host / 48 kHz model, 39 at 88.2k, 42 at 96k, 70 at 192k; 29 for
/// a 44.1 kHz model at 48k, 22 for a 96 kHz model. Standard never reports more.
pub fn reference_latency(host: f64, model: f64) -> usize {
    const A: f64 = 12.0;
    let r = (host as f32 / model as f32) as f64;
    let inv = (model as f32 / host as f32) as f64;
    let mid = (A + 2.0 + inv).floor();
    (A + 2.0 + r * mid).floor() as usize
}

/// Renders a whole recording (host rate) through `model` at its own rate and back, with
/// the reported latency removed: output sample `i` lines up with input sample `i`, and
/// equals what a host with delay compensation records from [`ResamplerPair::process`]
/// (the input is followed by `latency()` zeros so the tail comes out too). Allocates; not
/// for the audio thread.
pub fn render_aligned(
    host_rate: f64,
    model_rate: f64,
    quality: Quality,
    input: &[f32],
    model: impl FnMut(&mut [f32]),
) -> Result<Vec<f32>, ResampleError> {
    const BLOCK: usize = 4096;
    let mut pair = ResamplerPair::new(host_rate, model_rate, BLOCK, quality)?;
    let latency = pair.latency();
    let mut buf = Vec::with_capacity(input.len() + latency);
    buf.extend_from_slice(input);
    buf.resize(input.len() + latency, 0.0);
    pair.process(&mut buf, model);
    buf.drain(..latency);
    Ok(buf)
}

/// `a / b` as a reduced fraction: exact for whole-Hz rates, else the closest fraction with a
/// denominator below 2^26 (continued fractions), off by less than 1e-15.
fn ratio(a: f64, b: f64) -> (u64, u64) {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    if a.fract() == 0.0 && b.fract() == 0.0 {
        let (a, b) = (a as u64, b as u64);
        let g = gcd(a, b);
        return (a / g, b / g);
    }
    const LIMIT: u64 = 1 << 26;
    let x = a / b;
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut r = x;
    loop {
        let t = r.floor();
        if t > (LIMIT * 128) as f64 {
            break;
        }
        let (p2, q2) = (t as u64 * p1 + p0, t as u64 * q1 + q0);
        if q2 > LIMIT || p2 > LIMIT * 128 {
            break;
        }
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        let f = r - t;
        if f < 1e-12 || ((p1 as f64 / q1 as f64) - x).abs() <= x * 1e-16 {
            break;
        }
        r = 1.0 / f;
    }
    (p1, q1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_reduced_and_exact() {
        assert_eq!(ratio(44_100.0, 48_000.0), (147, 160));
        assert_eq!(ratio(96_000.0, 48_000.0), (2, 1));
        assert_eq!(ratio(8_000.0, 768_000.0), (1, 96));
        let (p, q) = ratio(47_999.5, 48_000.0);
        assert_eq!((p, q), (95_999, 96_000));
        let (p, q) = ratio(44_100.0 * std::f64::consts::SQRT_2, 48_000.0);
        let x = 44_100.0 * std::f64::consts::SQRT_2 / 48_000.0;
        assert!(((p as f64 / q as f64) - x).abs() < 1e-14 * x && q < 1 << 26);
    }

    #[test]
    fn reference_latency_matches_the_published_figures() {
        for (host, model, want) in [
            (44_100.0, 48_000.0, 27),
            (88_200.0, 48_000.0, 39),
            (96_000.0, 48_000.0, 42),
            (192_000.0, 48_000.0, 70),
            (48_000.0, 44_100.0, 29),
            (48_000.0, 96_000.0, 22),
        ] {
            assert_eq!(reference_latency(host, model), want, "{host} / {model}");
        }
    }
}
