//! Zero-latency convolution with long impulse responses: a direct-form head and
//! non-uniformly partitioned FFT stages (overlap-save, one frequency-domain delay line
//! per stage), Gardner's scheme with the work of each partition spread over time.
//!
//! Taps `[0, 2*64)` are a plain dot product per sample. Stage k, with partitions of
//! `B` samples (64, 256, 1024, 4096, then 8192 for the rest), covers taps
//! `[2B, 2B_next)`: the block that completes at time t is needed from t + B on, so each
//! stage has one whole block period to do its multiply-accumulates, done a slice per
//! 64 samples. Only the two FFTs at a stage's block boundary come at once, which bounds
//! the worst call's extra cost by the FFTs of the largest partition (16384 points).
//! The cost per call therefore follows the samples in it, not the number of calls, and
//! no call carries a 10 s IR's whole tail (as a two-stage convolver's tail block does).
//!
//! Several IR channels (a stereo cab) share the input's spectra: one forward FFT per
//! block for any number of outputs.
//!
//! `new` allocates and plans everything; `process*` and `reset` never allocate, lock or
//! panic, for any block length.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::kernels::Kernels;
use crate::{clean, FLUSH};

/// The smallest partition; the direct head covers twice this.
pub const FIRST_PARTITION: usize = 64;
/// Each stage's partition is this many times the previous one's.
const GROWTH: usize = 4;
/// The largest partition (see the module doc).
pub const LAST_PARTITION: usize = 8192;
/// Spectra are padded to whole vectors.
const LANES: usize = 16;

struct Stage {
    /// Partition size; the FFTs are twice this.
    b: usize,
    segs: usize,
    /// Bins per spectrum (b + 1) and its padded stride.
    bins: usize,
    stride: usize,
    /// Samples into the current block period.
    pos: usize,
    /// Partitions accumulated in this period.
    done: usize,
    /// Ring slot of the newest input spectrum.
    cur: usize,
    /// The previous block, then the one being filled (overlap-save input).
    win: Vec<f32>,
    fft_time: Vec<f32>,
    spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    /// Input spectra, `segs` slots of `stride`, split real / imaginary.
    x_re: Vec<f32>,
    x_im: Vec<f32>,
    /// Per IR channel: partition spectra (scaled by 1 / FFT size), accumulator, and the
    /// block being played out.
    h_re: Vec<Vec<f32>>,
    h_im: Vec<Vec<f32>>,
    acc_re: Vec<Vec<f32>>,
    acc_im: Vec<Vec<f32>>,
    out: Vec<Vec<f32>>,
}

impl Stage {
    fn new(
        planner: &mut RealFftPlanner<f32>,
        b: usize,
        start: usize,
        segs: usize,
        ir: &[&[f32]],
    ) -> Self {
        let n = 2 * b;
        let fwd = planner.plan_fft_forward(n);
        let inv = planner.plan_fft_inverse(n);
        let bins = b + 1;
        let stride = bins.div_ceil(LANES) * LANES;
        let scratch_len = fwd.get_scratch_len().max(inv.get_scratch_len());
        let mut s = Stage {
            b,
            segs,
            bins,
            stride,
            pos: 0,
            done: 0,
            cur: 0,
            win: vec![0.0; n],
            fft_time: vec![0.0; n],
            spec: vec![Complex::new(0.0, 0.0); bins],
            scratch: vec![Complex::new(0.0, 0.0); scratch_len],
            fwd,
            inv,
            x_re: vec![0.0; segs * stride],
            x_im: vec![0.0; segs * stride],
            h_re: Vec::with_capacity(ir.len()),
            h_im: Vec::with_capacity(ir.len()),
            acc_re: vec![vec![0.0; stride]; ir.len()],
            acc_im: vec![vec![0.0; stride]; ir.len()],
            out: vec![vec![0.0; b]; ir.len()],
        };
        let scale = 1.0 / n as f32;
        for taps in ir {
            let (mut re, mut im) = (vec![0.0f32; segs * stride], vec![0.0f32; segs * stride]);
            for seg in 0..segs {
                s.fft_time.fill(0.0);
                let from = (start + seg * b).min(taps.len());
                let to = (start + (seg + 1) * b).min(taps.len());
                for (d, &t) in s.fft_time.iter_mut().zip(&taps[from..to]) {
                    *d = t * scale;
                }
                let _ = s
                    .fwd
                    .process_with_scratch(&mut s.fft_time, &mut s.spec, &mut s.scratch);
                for (k, c) in s.spec.iter().enumerate() {
                    re[seg * stride + k] = c.re;
                    im[seg * stride + k] = c.im;
                }
            }
            s.h_re.push(re);
            s.h_im.push(im);
        }
        s.fft_time.fill(0.0);
        s
    }

    /// Accumulates partitions `done..upto` of the current period.
    #[inline]
    fn mac(&mut self, k: Kernels, upto: usize) {
        let st = self.stride;
        for seg in self.done..upto {
            // Partition `seg` meets the input spectrum `seg` blocks older than the newest.
            let slot = (self.cur + self.segs - seg) % self.segs;
            let (xr, xi) = (&self.x_re[slot * st..][..st], &self.x_im[slot * st..][..st]);
            for c in 0..self.h_re.len() {
                k.cmac(
                    (&mut self.acc_re[c], &mut self.acc_im[c]),
                    (
                        &self.h_re[c][seg * st..][..st],
                        &self.h_im[c][seg * st..][..st],
                    ),
                    (xr, xi),
                );
            }
        }
        self.done = self.done.max(upto);
    }

    /// Takes `n` new input samples (already cleaned), advancing the period.
    #[inline]
    fn push(&mut self, k: Kernels, x: &[f32]) {
        let n = x.len();
        self.win[self.b + self.pos..][..n].copy_from_slice(x);
        self.pos += n;
        if self.pos < self.b {
            let upto = self.segs * self.pos / self.b;
            if upto > self.done {
                self.mac(k, upto);
            }
        } else {
            self.boundary(k);
        }
    }

    /// A block is complete: finish and play out the period's sum, take in the block.
    fn boundary(&mut self, k: Kernels) {
        self.mac(k, self.segs);
        let b = self.b;
        for c in 0..self.h_re.len() {
            for (i, s) in self.spec.iter_mut().enumerate() {
                *s = Complex::new(self.acc_re[c][i], self.acc_im[c][i]);
            }
            // Real input and real partitions give real DC and Nyquist bins; make it
            // exact so the inverse transform has nothing to object to.
            self.spec[0].im = 0.0;
            self.spec[self.bins - 1].im = 0.0;
            let _ = self.inv.process_with_scratch(
                &mut self.spec,
                &mut self.fft_time,
                &mut self.scratch,
            );
            self.out[c].copy_from_slice(&self.fft_time[b..]);
            self.acc_re[c].fill(0.0);
            self.acc_im[c].fill(0.0);
        }
        self.fft_time.copy_from_slice(&self.win);
        let _ =
            self.fwd
                .process_with_scratch(&mut self.fft_time, &mut self.spec, &mut self.scratch);
        self.cur = (self.cur + 1) % self.segs;
        let st = self.stride;
        let (xr, xi) = (
            &mut self.x_re[self.cur * st..][..st],
            &mut self.x_im[self.cur * st..][..st],
        );
        for (i, s) in self.spec.iter().enumerate() {
            xr[i] = s.re;
            xi[i] = s.im;
        }
        self.win.copy_within(b.., 0);
        self.pos = 0;
        self.done = 0;
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.done = 0;
        self.cur = 0;
        self.win.fill(0.0);
        self.x_re.fill(0.0);
        self.x_im.fill(0.0);
        for c in 0..self.out.len() {
            self.acc_re[c].fill(0.0);
            self.acc_im[c].fill(0.0);
            self.out[c].fill(0.0);
        }
    }
}

/// A mono input convolved with one IR per output channel (1 = mono cab, 2 = stereo).
pub struct Convolver {
    rate: f64,
    len: usize,
    kernels: Kernels,
    /// Per channel, the head taps reversed so each output is one contiguous dot product.
    head: Vec<Vec<f32>>,
    /// The input's last `head_len - 1` samples, then the chunk being processed.
    line: Vec<f32>,
    stages: Vec<Stage>,
    /// Samples since the start, modulo the first partition: chunks never straddle a
    /// partition boundary, so every stage meets its boundaries exactly.
    phase: usize,
}

impl std::fmt::Debug for Convolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Convolver")
            .field("rate", &self.rate)
            .field("len", &self.len)
            .field("channels", &self.head.len())
            .field("partitions", &self.partitions())
            .finish_non_exhaustive()
    }
}

impl Convolver {
    /// Plans the convolution of a mono input with each of `ir` (one output channel per
    /// entry, at most two, shorter ones zero-padded; none at all is one silent channel). `sample_rate`
    /// is only recorded: the taps must already be at the rate they will run at.
    pub fn new(ir: &[&[f32]], sample_rate: f64) -> Self {
        let silent: [&[f32]; 1] = [&[0.0]];
        let ir: &[&[f32]] = if ir.is_empty() {
            &silent
        } else {
            &ir[..ir.len().min(2)]
        };
        let len = ir.iter().map(|c| c.len()).max().unwrap_or(0).max(1);
        let head_len = len.min(2 * FIRST_PARTITION);
        let head = ir
            .iter()
            .map(|taps| {
                (0..head_len)
                    .rev()
                    .map(|j| taps.get(j).copied().map_or(0.0, clean))
                    .collect()
            })
            .collect();
        // Flush denormal and non-finite taps once, here, rather than per sample.
        let cleaned: Vec<Vec<f32>> = ir
            .iter()
            .map(|t| t.iter().map(|&x| clean(x)).collect())
            .collect();
        let cleaned: Vec<&[f32]> = cleaned.iter().map(|v| v.as_slice()).collect();

        let mut planner = RealFftPlanner::new();
        let mut stages = Vec::new();
        let mut b = FIRST_PARTITION;
        while 2 * b < len {
            let next = (b * GROWTH).min(LAST_PARTITION);
            let end = if next == b { len } else { len.min(2 * next) };
            let segs = (end - 2 * b).div_ceil(b);
            stages.push(Stage::new(&mut planner, b, 2 * b, segs, &cleaned));
            if end == len {
                break;
            }
            b = next;
        }
        Convolver {
            rate: sample_rate,
            len,
            kernels: Kernels::detect(),
            head,
            line: vec![0.0; head_len - 1 + FIRST_PARTITION],
            stages,
            phase: 0,
        }
    }

    /// IR channels: 1 (mono) or 2 (stereo).
    pub fn channels(&self) -> usize {
        self.head.len()
    }

    pub fn is_stereo(&self) -> bool {
        self.channels() > 1
    }

    /// Taps per channel.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: an empty IR is one silent tap.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The rate the taps were prepared for.
    pub fn sample_rate(&self) -> f64 {
        self.rate
    }

    /// Always 0: the first output sample already has the first tap's contribution.
    pub fn latency(&self) -> usize {
        0
    }

    /// Partition sizes in use after the direct head, smallest first.
    pub fn partitions(&self) -> Vec<(usize, usize)> {
        self.stages.iter().map(|s| (s.b, s.segs)).collect()
    }

    /// Heap held, in bytes (a 10 s stereo IR at 48 kHz holds about 12 MB).
    pub fn memory_bytes(&self) -> usize {
        let f = std::mem::size_of::<f32>();
        let head = self.head.iter().map(|h| h.len()).sum::<usize>() + self.line.len();
        let stages: usize = self
            .stages
            .iter()
            .map(|s| {
                let ch = s.h_re.len();
                s.win.len()
                    + s.fft_time.len()
                    + 2 * (s.spec.len() + s.scratch.len())
                    + 2 * s.x_re.len()
                    + ch * (2 * s.segs * s.stride + 2 * s.stride + s.b)
            })
            .sum();
        (head + stages) * f
    }

    /// Clears the input history: silence in, silence out.
    pub fn reset(&mut self) {
        self.line.fill(0.0);
        self.phase = 0;
        for s in &mut self.stages {
            s.reset();
        }
    }

    /// Convolves `buf` in place with the first IR channel.
    pub fn process(&mut self, buf: &mut [f32]) {
        let mut at = 0;
        while at < buf.len() {
            let n = (buf.len() - at).min(FIRST_PARTITION - self.phase);
            self.chunk(&mut buf[at..at + n], None);
            at += n;
        }
    }

    /// Convolves the mono signal in `left` into `left` and `right` (a mono IR writes
    /// the same to both). Processes the shorter length.
    pub fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(right.len());
        let mut at = 0;
        while at < len {
            let n = (len - at).min(FIRST_PARTITION - self.phase);
            self.chunk(&mut left[at..at + n], Some(&mut right[at..at + n]));
            at += n;
        }
    }

    /// At most up to the next first-partition boundary.
    fn chunk(&mut self, io: &mut [f32], right: Option<&mut [f32]>) {
        let n = io.len();
        let hl = self.line.len() + 1 - FIRST_PARTITION;
        for (d, &x) in self.line[hl - 1..][..n].iter_mut().zip(io.iter()) {
            *d = clean(x);
        }
        let k = self.kernels;
        let stereo = self.head.len() > 1;
        for (i, y) in io.iter_mut().enumerate() {
            *y = k.dot(&self.head[0], &self.line[i..i + hl]);
        }
        for s in &self.stages {
            for (y, o) in io.iter_mut().zip(&s.out[0][s.pos..]) {
                *y += o;
            }
        }
        flush(io);
        if let Some(r) = right {
            if stereo {
                for (i, y) in r.iter_mut().enumerate() {
                    *y = k.dot(&self.head[1], &self.line[i..i + hl]);
                }
                for s in &self.stages {
                    for (y, o) in r.iter_mut().zip(&s.out[1][s.pos..]) {
                        *y += o;
                    }
                }
                flush(r);
            } else {
                r.copy_from_slice(io);
            }
        }
        let new = &self.line[hl - 1..][..n];
        for s in &mut self.stages {
            s.push(k, new);
        }
        self.line.copy_within(n..n + hl - 1, 0);
        self.phase = (self.phase + n) % FIRST_PARTITION;
    }
}

/// Sums of tiny products can land in the denormal range; the next block must not.
#[inline]
fn flush(buf: &mut [f32]) {
    for y in buf.iter_mut() {
        if y.abs() < FLUSH {
            *y = 0.0;
        }
    }
}
