//! The WaveNet: layer arrays of dilated causal convolutions, run a block at a time.
//!
//! Layout: every signal is planar, one contiguous row of samples per channel, so each
//! convolution is a handful of long, vectorisable row updates (see `kernels`). Each layer
//! keeps the history of its own input in a per-channel linear buffer with slack after it;
//! the write position advances through the slack and jumps back (copying only the needed
//! history) when the slack is used up, so the copy cost is amortised to well under one
//! float per sample and channel.

pub(crate) mod kernels;

use kernels::{add, axpy, fill_rows, mac_rows, tile_weights, Arith, Fused, Plain};

use super::activation::{Activation, ActivationMode};
use super::file::{LayerArrayConfig, WaveNetConfig};

/// Slack after a layer's history: at least two blocks, at least the history itself (so a
/// rewind copies at most once per `history` samples), at least 1024.
fn slack(history: usize, max_block: usize) -> usize {
    (2 * max_block).max(history).max(1024)
}

struct Layer {
    /// Samples of past input the dilated conv reads: `(kernel - 1) * dilation`.
    history: usize,
    mid: usize,
    /// Dilated conv, `[mid][channels * kernel]` with column `i * kernel + k`, tiled.
    conv_w: Vec<f32>,
    /// Where each (input channel, tap) row of the conv starts, relative to `pos - history`.
    taps: Vec<usize>,
    conv_b: Vec<f32>,
    /// Input mixin: condition (mono) -> mid.
    mixin_w: Vec<f32>,
    /// Layer 1x1, `[channels][channels]`, tiled.
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    activation: Activation,
    gate: Option<Activation>,
    /// This layer's input, `channels` rows of `cap` samples.
    buf: Vec<f32>,
    cap: usize,
    /// Where the next block's input is written.
    pos: usize,
}

impl Layer {
    /// Guarantees `n` samples can be written at `pos` keeping `history` samples before it.
    #[inline]
    fn make_room(&mut self, channels: usize, n: usize) {
        if self.pos + n > self.cap {
            let (from, h) = (self.pos - self.history, self.history);
            for c in 0..channels {
                let row = &mut self.buf[c * self.cap..(c + 1) * self.cap];
                row.copy_within(from..from + h, 0);
            }
            self.pos = h;
        }
    }

    fn clear(&mut self) {
        self.buf.fill(0.0);
        self.pos = self.history;
    }
}

struct LayerArray {
    input_size: usize,
    channels: usize,
    head_size: usize,
    /// `[channels][input_size]`.
    rechannel_w: Vec<f32>,
    layers: Vec<Layer>,
    /// `[head_size][channels]`.
    head_w: Vec<f32>,
    head_b: Option<Vec<f32>>,
}

/// A built, runnable WaveNet. Owns every buffer it will ever touch.
pub struct WaveNet {
    /// Run the AVX2 + FMA build of the kernels (checked once, at build).
    fma: bool,
    arrays: Vec<LayerArray>,
    head_scale: f32,
    max_block: usize,
    mode: ActivationMode,
    /// The model input, which is also every layer's condition. One row.
    cond: Vec<f32>,
    /// An array's input and output residual streams, `width` rows of `max_block`.
    x_in: Vec<f32>,
    x_out: Vec<f32>,
    /// Head accumulator of the running array.
    acc: Vec<f32>,
    /// A head's output: the next array's initial accumulator; the last one's is the output.
    head_io: Vec<f32>,
    /// Dilated conv output / activations, `2 * width` rows.
    z: Vec<f32>,
    /// Row starts of a planar scratch (`r * max_block`), for the 1x1 convolutions.
    unit_rows: Vec<usize>,
}

/// Reads consecutive weights, in the file's order.
struct Weights<'a> {
    w: &'a [f32],
    at: usize,
}

impl Weights<'_> {
    fn take(&mut self, n: usize) -> Vec<f32> {
        let v = self.w[self.at..self.at + n].to_vec();
        self.at += n;
        v
    }
}

impl WaveNet {
    /// Floats the engine will allocate for `cfg` at `max_block`: checked against the
    /// memory limit before anything is allocated.
    pub fn floats_needed(cfg: &WaveNetConfig, max_block: usize) -> usize {
        let width = cfg
            .arrays
            .iter()
            .map(|a| a.channels.max(a.input_size))
            .max()
            .unwrap_or(1);
        let mut n: usize = 0;
        for a in &cfg.arrays {
            for l in &a.layers {
                let hist = (l.kernel_size - 1).saturating_mul(l.dilation);
                let cap = hist.saturating_add(slack(hist, max_block));
                n = n.saturating_add(a.channels.saturating_mul(cap));
            }
            n = n.saturating_add(a.weight_count());
        }
        n.saturating_add(max_block.saturating_mul(1 + 6 * width))
    }

    /// Builds the network from the file's weights. `weights` has been length-checked.
    pub fn build(
        cfg: &WaveNetConfig,
        weights: &[f32],
        max_block: usize,
        mode: ActivationMode,
        fma: bool,
    ) -> Self {
        let mut w = Weights { w: weights, at: 0 };
        let arrays: Vec<LayerArray> = cfg
            .arrays
            .iter()
            .map(|a| Self::build_array(a, &mut w, max_block))
            .collect();
        let head_scale = w.take(1)[0];
        debug_assert_eq!(w.at, weights.len());
        let width = cfg
            .arrays
            .iter()
            .map(|a| a.channels.max(a.input_size))
            .max()
            .unwrap_or(1);
        WaveNet {
            fma,
            arrays,
            head_scale,
            max_block,
            mode,
            cond: vec![0.0; max_block],
            x_in: vec![0.0; width * max_block],
            x_out: vec![0.0; width * max_block],
            acc: vec![0.0; width * max_block],
            head_io: vec![0.0; width * max_block],
            z: vec![0.0; 2 * width * max_block],
            unit_rows: (0..2 * width).map(|r| r * max_block).collect(),
        }
    }

    fn build_array(a: &LayerArrayConfig, w: &mut Weights, max_block: usize) -> LayerArray {
        let c = a.channels;
        let rechannel_w = tile_weights(&w.take(c * a.input_size), c, a.input_size);
        let layers = a
            .layers
            .iter()
            .map(|l| {
                let mid = l.mid(c);
                let k = l.kernel_size;
                // File order per output: input channel, then tap. That is already the
                // `[mid][channels * kernel]` layout with column `i * kernel + k`.
                let conv_w = tile_weights(&w.take(mid * c * k), mid, c * k);
                let conv_b = w.take(mid);
                let mixin_w = w.take(mid * a.condition_size);
                let out_w = tile_weights(&w.take(c * c), c, c);
                let out_b = w.take(c);
                let history = (k - 1) * l.dilation;
                let cap = history + slack(history, max_block);
                // Tap t of input channel i reads x[now - d*(K-1-t)]: from the start of
                // the history, that is channel row i plus t*d.
                let taps = (0..c * k)
                    .map(|j| (j / k) * cap + (j % k) * l.dilation)
                    .collect();
                Layer {
                    history,
                    mid,
                    conv_w,
                    taps,
                    conv_b,
                    mixin_w,
                    out_w,
                    out_b,
                    activation: l.activation.clone(),
                    gate: l.gate.clone(),
                    buf: vec![0.0; c * cap],
                    cap,
                    pos: history,
                }
            })
            .collect();
        let head_w = tile_weights(&w.take(a.head_size * c), a.head_size, c);
        let head_b = a.head_bias.then(|| w.take(a.head_size));
        LayerArray {
            input_size: a.input_size,
            channels: c,
            head_size: a.head_size,
            rechannel_w,
            layers,
            head_w,
            head_b,
        }
    }

    /// Zeroes every history (the state of a net that has never seen a sample).
    pub fn clear(&mut self) {
        for a in &mut self.arrays {
            for l in &mut a.layers {
                l.clear();
            }
        }
    }

    /// Runs `io` (at most `max_block` samples) through the net in place.
    pub fn process_block(&mut self, io: &mut [f32]) {
        let n = io.len();
        debug_assert!(n <= self.max_block);
        self.cond[..n].copy_from_slice(io);
        self.run(n);
        let scale = self.head_scale;
        for (y, h) in io.iter_mut().zip(&self.head_io[..n]) {
            *y = scale * h;
        }
    }

    /// Runs `n` samples of silence: the prewarm.
    pub fn process_silence(&mut self, mut n: usize) {
        while n > 0 {
            let m = n.min(self.max_block);
            self.cond[..m].fill(0.0);
            self.run(m);
            n -= m;
        }
    }

    fn run(&mut self, n: usize) {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is only set when the CPU reports AVX2 and FMA (Engine::build).
            unsafe { self.run_fma(n) };
            return;
        }
        self.run_with::<Plain, 8>(n);
    }

    /// The same code compiled for AVX2 + FMA: twice the vector width, fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_fma(&mut self, n: usize) {
        self.run_with::<Fused, 16>(n);
    }

    #[inline(always)]
    fn run_with<A: Arith, const T: usize>(&mut self, n: usize) {
        let mb = self.max_block;
        let mode = self.mode;
        for (ai, array) in self.arrays.iter_mut().enumerate() {
            let c = array.channels;
            // Head accumulator starts at zero for the first array, else at the previous
            // array's head output (same width, checked at load).
            if ai == 0 {
                fill_rows(&mut self.acc, mb, None, c, n);
            } else {
                for r in 0..c {
                    self.acc[r * mb..][..n].copy_from_slice(&self.head_io[r * mb..][..n]);
                }
            }

            // Rechannel the array's input into the first layer's history.
            {
                let l0 = &mut array.layers[0];
                l0.make_room(c, n);
                let (cap, pos) = (l0.cap, l0.pos);
                let dst = &mut l0.buf[pos..];
                fill_rows(dst, cap, None, c, n);
                let src: &[f32] = if ai == 0 { &self.cond } else { &self.x_in };
                let rows = &self.unit_rows[..array.input_size];
                mac_rows::<A, T>(dst, cap, c, src, rows, &array.rechannel_w, n);
            }

            let n_layers = array.layers.len();
            for li in 0..n_layers {
                let (done, rest) = array.layers.split_at_mut(li + 1);
                let layer = &mut done[li];
                let (cap, pos, hist) = (layer.cap, layer.pos, layer.history);
                let mid = layer.mid;
                let z = &mut self.z;

                // z = conv_b + mixin * cond + dilated_conv(h)
                fill_rows(z, mb, Some(&layer.conv_b), mid, n);
                for m in 0..mid {
                    axpy::<A>(&mut z[m * mb..], layer.mixin_w[m], &self.cond, n);
                }
                let base = &layer.buf[pos - hist..];
                mac_rows::<A, T>(z, mb, mid, base, &layer.taps, &layer.conv_w, n);

                // a = act(z) (gated: act(top) * gate(bottom)), written over z's top rows.
                for r in 0..c {
                    layer.activation.apply(mode, r, &mut z[r * mb..][..n]);
                }
                if let Some(gate) = &layer.gate {
                    let (top, bottom) = z.split_at_mut(c * mb);
                    for r in 0..c {
                        let g = &mut bottom[r * mb..][..n];
                        gate.apply(mode, r, g);
                        for (a, g) in top[r * mb..][..n].iter_mut().zip(g.iter()) {
                            *a *= *g;
                        }
                    }
                }

                // Skip path: the head accumulates the activations, before the 1x1.
                for r in 0..c {
                    add(&mut self.acc[r * mb..], &z[r * mb..], n);
                }

                // Residual: next = h + out_b + out_w * a, into the next layer's history
                // or, after the last layer, the array's output.
                let (dst, dst_stride): (&mut [f32], usize) = match rest.first_mut() {
                    Some(next) => {
                        next.make_room(c, n);
                        let p = next.pos;
                        (&mut next.buf[p..], next.cap)
                    }
                    None => (&mut self.x_out[..], mb),
                };
                for r in 0..c {
                    let h = &layer.buf[r * cap + pos..][..n];
                    let b = layer.out_b[r];
                    for (y, x) in dst[r * dst_stride..][..n].iter_mut().zip(h) {
                        *y = x + b;
                    }
                }
                let rows = &self.unit_rows[..c];
                mac_rows::<A, T>(dst, dst_stride, c, z, rows, &layer.out_w, n);
                layer.pos += n;
            }

            // Head rechannel: acc -> head_io.
            fill_rows(
                &mut self.head_io,
                mb,
                array.head_b.as_deref(),
                array.head_size,
                n,
            );
            let rows = &self.unit_rows[..c];
            mac_rows::<A, T>(
                &mut self.head_io,
                mb,
                array.head_size,
                &self.acc,
                rows,
                &array.head_w,
                n,
            );

            std::mem::swap(&mut self.x_in, &mut self.x_out);
        }
    }
}
