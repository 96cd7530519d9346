//! The LSTM: a stack of PyTorch-convention LSTM layers and a linear head, one sample at a
//! time (the recurrence allows nothing else). Weights are stored column-major so each
//! step is a sum of contiguous `4H` columns, which vectorises.

use super::LstmConfig;
use crate::activation::{fast_sigmoid, fast_tanh, sigmoid, tanh, ActivationMode};
use crate::kernels::{Arith, Fused, Level, Plain, Wide};
use crate::net::BuildCtx;

struct LstmLayer {
    input_size: usize,
    /// Column `j` of `W = [W_x | W_h]` (4H values, gate order i, f, g, o) at `j * 4H`.
    w_cols: Vec<f32>,
    bias: Vec<f32>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    h: Vec<f32>,
    c: Vec<f32>,
}

/// A built, runnable LSTM. Owns every buffer it will ever touch.
pub struct Lstm {
    /// The instruction set (checked once, at build).
    level: Level,
    hidden: usize,
    layers: Vec<LstmLayer>,
    head_w: Vec<f32>,
    head_b: f32,
    mode: ActivationMode,
    /// Pre-activation gates, 4H.
    gates: Vec<f32>,
    prewarm: usize,
}

impl Lstm {
    pub fn floats_needed(cfg: &LstmConfig) -> usize {
        let h = cfg.hidden_size;
        // weights (transposed copy) + state + scratch
        cfg.num_layers * (4 * h * (h + h.max(cfg.input_size)) + 8 * h) + 5 * h + 1
    }

    pub fn build(cfg: &LstmConfig, weights: &[f32], ctx: &BuildCtx, sample_rate: f64) -> Self {
        let h = cfg.hidden_size;
        let mut at = 0;
        let mut take = |n: usize| {
            let s = &weights[at..at + n];
            at += n;
            s
        };
        let layers = (0..cfg.num_layers)
            .map(|l| {
                let input_size = if l == 0 { cfg.input_size } else { h };
                let cols = input_size + h;
                let w = take(4 * h * cols); // row-major [4H][cols]
                let mut w_cols = vec![0.0; 4 * h * cols];
                for r in 0..4 * h {
                    for j in 0..cols {
                        w_cols[j * 4 * h + r] = w[r * cols + j];
                    }
                }
                let bias = take(4 * h).to_vec();
                let h0 = take(h).to_vec();
                let c0 = take(h).to_vec();
                LstmLayer {
                    input_size,
                    w_cols,
                    bias,
                    h: h0.clone(),
                    c: c0.clone(),
                    h0,
                    c0,
                }
            })
            .collect();
        let head_w = take(h).to_vec();
        let head_b = take(1)[0];
        Lstm {
            level: ctx.level,
            hidden: h,
            layers,
            head_w,
            head_b,
            mode: ctx.mode,
            gates: vec![0.0; 4 * h],
            prewarm: LstmConfig::prewarm_samples(sample_rate),
        }
    }

    /// Back to the file's initial state (the state after about a second of silence).
    pub fn clear(&mut self) {
        for l in &mut self.layers {
            l.h.copy_from_slice(&l.h0);
            l.c.copy_from_slice(&l.c0);
        }
    }

    pub fn process_block(&mut self, io: &mut [f32]) {
        match self.level {
            // SAFETY: `level` is only above Portable when the CPU has that instruction
            // set (checked at Engine::build).
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.process_avx512(io) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { self.process_fma(io) },
            _ => self.process_with::<Plain>(io),
        }
    }

    /// The same code compiled for AVX2 + FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn process_fma(&mut self, io: &mut [f32]) {
        self.process_with::<Fused>(io);
    }

    /// The same code compiled for AVX-512: the AVX-512 kernels, 16 samples a vector.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn process_avx512(&mut self, io: &mut [f32]) {
        self.process_with::<Wide>(io);
    }

    #[inline(always)]
    fn process_with<A: Arith>(&mut self, io: &mut [f32]) {
        for y in io.iter_mut() {
            *y = self.step::<A>(*y);
        }
    }

    /// The file's initial state, then half a second of silence.
    pub fn prewarm(&mut self) {
        self.clear();
        self.process_silence(self.prewarm);
    }

    /// Runs `n` samples of silence.
    pub fn process_silence(&mut self, n: usize) {
        let mut block = [0.0f32; 64];
        let mut left = n;
        while left > 0 {
            let m = left.min(block.len());
            block[..m].fill(0.0);
            self.process_block(&mut block[..m]);
            left -= m;
        }
    }

    #[inline(always)]
    fn step<A: Arith>(&mut self, x: f32) -> f32 {
        let h4 = 4 * self.hidden;
        let hs = self.hidden;
        let mode = self.mode;
        for li in 0..self.layers.len() {
            let (before, rest) = self.layers.split_at_mut(li);
            let layer = &mut rest[0];
            let g = &mut self.gates[..h4];
            g.copy_from_slice(&layer.bias);
            let mut col = |j: usize, v: f32| {
                let w = &layer.w_cols[j * h4..][..h4];
                for (gi, wi) in g.iter_mut().zip(w) {
                    *gi = A::madd(*gi, v, *wi);
                }
            };
            match before.last() {
                None => col(0, x),
                Some(prev) => {
                    for (j, &v) in prev.h.iter().enumerate() {
                        col(j, v);
                    }
                }
            }
            let ni = layer.input_size;
            for j in 0..hs {
                let v = layer.h[j];
                col(ni + j, v);
            }
            let (i_g, rest) = g.split_at_mut(hs);
            let (f_g, rest) = rest.split_at_mut(hs);
            let (g_g, o_g) = rest.split_at_mut(hs);
            // Each nonlinearity as its own loop over the layer, so each vectorises.
            match mode {
                ActivationMode::Accurate => {
                    for v in i_g.iter_mut() {
                        *v = sigmoid(*v);
                    }
                    for v in f_g.iter_mut() {
                        *v = sigmoid(*v);
                    }
                    for v in g_g.iter_mut() {
                        *v = tanh(*v);
                    }
                    for v in o_g.iter_mut() {
                        *v = sigmoid(*v);
                    }
                }
                ActivationMode::NamCompatible => {
                    for v in i_g.iter_mut() {
                        *v = fast_sigmoid(*v);
                    }
                    for v in f_g.iter_mut() {
                        *v = fast_sigmoid(*v);
                    }
                    for v in g_g.iter_mut() {
                        *v = fast_tanh(*v);
                    }
                    for v in o_g.iter_mut() {
                        *v = fast_sigmoid(*v);
                    }
                }
            }
            for (((c, f), i), g) in layer.c.iter_mut().zip(&*f_g).zip(&*i_g).zip(&*g_g) {
                *c = f * *c + i * g;
            }
            let h_c_o = layer.h.iter_mut().zip(&layer.c).zip(&*o_g);
            match mode {
                ActivationMode::Accurate => {
                    for ((h, c), o) in h_c_o {
                        *h = o * tanh(*c);
                    }
                }
                ActivationMode::NamCompatible => {
                    for ((h, c), o) in h_c_o {
                        *h = o * fast_tanh(*c);
                    }
                }
            }
        }
        let last = &self.layers[self.layers.len() - 1];
        self.head_b
            + last
                .h
                .iter()
                .zip(&self.head_w)
                .map(|(h, w)| h * w)
                .sum::<f32>()
    }
}
