//! The LSTM: a stack of PyTorch-convention LSTM layers and a linear head, one sample at a
//! time (the recurrence allows nothing else). Weights are stored column-major so each
//! step is a sum of contiguous `4H` columns, which vectorises.

use super::LstmConfig;
use crate::activation::{fast_sigmoid, fast_tanh, sigmoid, tanh, ActivationMode};
use crate::conv::{run_block, Isa, PerIsa};
use crate::floats::{Floats, GAP};
use crate::kernels::{Arith, Level};
use crate::net::BuildCtx;

#[cfg(target_arch = "x86_64")]
use super::block256::block_avx2;
#[cfg(target_arch = "x86_64")]
use super::block512::block_avx512;
use super::step::{layer_step, two_steps};

pub(super) struct LstmLayer {
    input_size: usize,
    /// Column `j` of `W = [W_x | W_h]` (4H values, gate order i, f, g, o) at `j * 4H`,
    /// the sigmoid gates' rows (i, f, o) halved, as their bias: see [`halve_sigmoid_rows`].
    pub(super) w_cols: Floats,
    pub(super) bias: Floats,
    h0: Vec<f32>,
    c0: Vec<f32>,
    pub(super) h: Floats,
    pub(super) c: Floats,
    /// `h` and `c` after the first prewarm, which later ones restore.
    h_warm: Vec<f32>,
    c_warm: Vec<f32>,
}

/// A built, runnable LSTM. Owns every buffer it will ever touch.
pub struct Lstm {
    /// The instruction set (checked once, at build).
    level: Level,
    hidden: usize,
    layers: Vec<LstmLayer>,
    head_w: Floats,
    head_b: f32,
    mode: ActivationMode,
    /// Whether the layers' `h_warm` and `c_warm` hold the prewarmed state.
    warmed: bool,
    /// Pre-activation gates, 4H, for the general step only (empty where a specialised
    /// copy runs: see [`Lstm::specialised`]).
    gates: Floats,
    prewarm: usize,
}

impl PerIsa for Lstm {
    #[inline(always)]
    fn block_with<A: Isa>(&mut self, io: &mut [f32]) {
        self.process_with::<A>(io);
    }
}

impl Lstm {
    pub fn floats_needed(cfg: &LstmConfig) -> usize {
        let h = cfg.hidden_size;
        // weights (transposed copy) + state + scratch, and at most a gap after each of the
        // four buffers a layer places and the network's two
        cfg.num_layers * (4 * h * (h + h.max(cfg.input_size)) + 10 * h + 4 * GAP)
            + 5 * h
            + 1
            + 2 * GAP
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
                let mut bias = take(4 * h).to_vec();
                halve_sigmoid_rows(&mut w_cols, h);
                halve_sigmoid_rows(&mut bias, h);
                let h0 = take(h).to_vec();
                let c0 = take(h).to_vec();
                let (h, c) = Floats::packed_pair(&h0, &c0);
                LstmLayer {
                    input_size,
                    w_cols: Floats::packed(&w_cols),
                    bias: Floats::packed(&bias),
                    h,
                    c,
                    h_warm: h0.clone(),
                    c_warm: c0.clone(),
                    h0,
                    c0,
                }
            })
            .collect();
        let head_w = Floats::packed(take(h));
        let head_b = take(1)[0];
        Lstm {
            level: ctx.level,
            hidden: h,
            layers,
            head_w,
            head_b,
            mode: ctx.mode,
            gates: Floats::zeroed(if Self::specialised(cfg.input_size, h) {
                0
            } else {
                4 * h
            }),
            warmed: false,
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
        run_block(self.level, self, io);
    }

    /// The hidden sizes real files use get a copy with every size a constant (the gates in
    /// registers, every loop unrolled); any other size, or an input wider than mono, runs
    /// the general step.
    #[inline(always)]
    fn process_with<A: Arith>(&mut self, io: &mut [f32]) {
        let input = self.layers.first().map_or(0, |l| l.input_size);
        match if Self::specialised(input, self.hidden) {
            self.hidden
        } else {
            0
        } {
            8 => self.process_fixed::<A, 8, 32>(io),
            12 => self.process_fixed::<A, 12, 48>(io),
            16 => self.process_fixed::<A, 16, 64>(io),
            20 => self.process_fixed::<A, 20, 80>(io),
            24 => self.process_fixed::<A, 24, 96>(io),
            32 => self.process_fixed::<A, 32, 128>(io),
            _ => {
                for y in io.iter_mut() {
                    *y = self.step::<A>(*y);
                }
            }
        }
    }

    /// Whether `process_with` has a copy for these sizes (its match's arms).
    const fn specialised(input_size: usize, hidden: usize) -> bool {
        input_size == 1 && matches!(hidden, 8 | 12 | 16 | 20 | 24 | 32)
    }

    /// The step for hidden size `H` (`G` = 4H gates), the first layer's input mono. The
    /// gates' sums run as several chains added at the end (see `step::chains`), so the
    /// recurrence waits on a fraction of the dependent multiply-adds.
    #[inline(always)]
    fn process_fixed<A: Arith, const H: usize, const G: usize>(&mut self, io: &mut [f32]) {
        debug_assert!(G == 4 * H && self.hidden == H);
        let mode = self.mode;
        let head_w: &[f32; H] = self.head_w[..].try_into().expect("H head weights");
        let head_b = self.head_b;
        // Four partial sums (one vector), not one chain of H: a chain this long per
        // sample would outlast the reorder window and stall the next sample.
        let head = |h: &[f32; H]| {
            let mut part = [0.0f32; 4];
            for (j, (h, w)) in h.iter().zip(head_w).enumerate() {
                part[j % 4] = A::madd(part[j % 4], *h, *w);
            }
            head_b + ((part[0] + part[1]) + (part[2] + part[3]))
        };
        // A constant: built here on every call it cost the 1x16 more instructions (646 a
        // block) than the plugin's whole chain around it.
        let (scale, off) = &GateAffine::<H, G>::SCALE_OFF;
        let depth = self.layers.len();
        if depth == 1 {
            #[cfg(target_arch = "x86_64")]
            if A::WIDE && mode == ActivationMode::Accurate {
                // SAFETY: `Wide` only runs in the AVX-512 build (checked at build).
                unsafe {
                    block_avx512::<H, G>(&mut self.layers[0], io, head_w, head_b, (scale, off))
                };
                return;
            }
            // The sizes whose gates AVX2's registers hold as one chain each (`block256`).
            #[cfg(target_arch = "x86_64")]
            if A::AVX2 && (H == 16 || H == 24) && mode == ActivationMode::Accurate {
                // SAFETY: `A::AVX2` holds only in the AVX2 + FMA build (checked at build).
                unsafe { block_avx2::<H, G>(&mut self.layers[0], io, head_w, head_b) };
                return;
            }
            let layer = &mut self.layers[0];
            for y in io.iter_mut() {
                let h = layer_step::<A, H, G, 1>(layer, &[*y], mode, scale, off);
                *y = head(&h);
            }
            return;
        }
        // Two layers (the trainer's 2x8 preset) as a wavefront: in each round the top
        // layer takes sample t - 1 and the bottom one sample t, so the two steps are
        // independent and their recurrences (each one latency-bound) overlap instead of
        // waiting on one another. Each layer does the same arithmetic on the same inputs
        // in the same order as sample by sample: the same bits. The wave fills and
        // drains within the block (no delay).
        let n = io.len();
        if depth == 2 && n > 0 {
            let [l0, l1] = &mut self.layers[..] else {
                unreachable!("two layers")
            };
            let mut below = layer_step::<A, H, G, 1>(l0, &[io[0]], mode, scale, off);
            for t in 1..n {
                let (top, next) = two_steps::<A, H, G, H, 1>(
                    (&mut *l1, &below),
                    (&mut *l0, &[io[t]]),
                    mode,
                    scale,
                    off,
                );
                io[t - 1] = head(&top);
                below = next;
            }
            let top = layer_step::<A, H, G, H>(l1, &below, mode, scale, off);
            io[n - 1] = head(&top);
            return;
        }
        // Deeper stacks (rare) sample by sample.
        for y in io.iter_mut() {
            let mut below = layer_step::<A, H, G, 1>(&mut self.layers[0], &[*y], mode, scale, off);
            for layer in &mut self.layers[1..] {
                below = layer_step::<A, H, G, H>(layer, &below, mode, scale, off);
            }
            *y = head(&below);
        }
    }

    /// The file's initial state, then half a second of silence. The first prewarm
    /// computes it and keeps the state; later ones (a reset on the audio thread) copy it
    /// back: the same bits, without the half second of compute.
    pub fn prewarm(&mut self) {
        if self.warmed {
            for l in &mut self.layers {
                l.h.copy_from_slice(&l.h_warm);
                l.c.copy_from_slice(&l.c_warm);
            }
            return;
        }
        self.clear();
        self.process_silence(self.prewarm);
        for l in &mut self.layers {
            l.h_warm.copy_from_slice(&l.h);
            l.c_warm.copy_from_slice(&l.c);
        }
        self.warmed = true;
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
            // Each nonlinearity as its own loop over the layer, so each vectorises; the
            // sigmoid gates' sums come halved (`halve_sigmoid_rows`), and doubling is exact.
            match mode {
                ActivationMode::Accurate => {
                    for v in i_g.iter_mut() {
                        *v = sigmoid(2.0 * *v);
                    }
                    for v in f_g.iter_mut() {
                        *v = sigmoid(2.0 * *v);
                    }
                    for v in g_g.iter_mut() {
                        *v = tanh(*v);
                    }
                    for v in o_g.iter_mut() {
                        *v = sigmoid(2.0 * *v);
                    }
                }
                ActivationMode::NamCompatible => {
                    for v in i_g.iter_mut() {
                        *v = fast_sigmoid(2.0 * *v);
                    }
                    for v in f_g.iter_mut() {
                        *v = fast_sigmoid(2.0 * *v);
                    }
                    for v in g_g.iter_mut() {
                        *v = fast_tanh(*v);
                    }
                    for v in o_g.iter_mut() {
                        *v = fast_sigmoid(2.0 * *v);
                    }
                }
            }
            for (((c, f), i), g) in layer.c.iter_mut().zip(&*f_g).zip(&*i_g).zip(&*g_g) {
                *c = f * *c + i * g;
            }
            let h_c_o = layer.h.iter_mut().zip(layer.c.iter()).zip(&*o_g);
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
                .zip(self.head_w.iter())
                .map(|(h, w)| h * w)
                .sum::<f32>()
    }
}

/// Per gate lane of hidden size `H` (`G` = 4H): tanh(x) * scale + off, x already halved
/// for the sigmoids (see [`halve_sigmoid_rows`]): 0.5 and 0.5 on the i, f and o rows, 1
/// and 0 on the g rows.
struct GateAffine<const H: usize, const G: usize>;

impl<const H: usize, const G: usize> GateAffine<H, G> {
    const SCALE_OFF: ([f32; G], [f32; G]) = {
        let (mut scale, mut off) = ([1.0f32; G], [0.0f32; G]);
        let mut k = 0;
        while k < G {
            if k < 2 * H || k >= 3 * H {
                scale[k] = 0.5;
                off[k] = 0.5;
            }
            k += 1;
        }
        (scale, off)
    };
}

/// Every step takes its sigmoids as 0.5 + 0.5 tanh(x / 2): halving the i, f and o rows
/// of the weights and biases once, here, hands each step x / 2 directly, one multiply
/// fewer on the recurrence's critical path. Exact: halving is a power of two, so every
/// product and rounded sum is the unhalved one halved (weights below 2^-125 aside).
fn halve_sigmoid_rows(cols: &mut [f32], h: usize) {
    for col in cols.chunks_exact_mut(4 * h) {
        for (r, w) in col.iter_mut().enumerate() {
            if !(2 * h..3 * h).contains(&r) {
                *w *= 0.5;
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::kernels::{Fused, Wide};

    /// A whole-block path (`block512` for `Wide`, `block256` for `Fused`) against the
    /// step-at-a-time path it replaced for these sizes (`layer_step` and the head, sample
    /// by sample): the same bits, over blocks of several lengths.
    fn block_path_matches_steps<A: Arith, const H: usize, const G: usize>(level: Level) {
        let cfg = LstmConfig {
            input_size: 1,
            hidden_size: H,
            num_layers: 1,
        };
        let mut seed = 7u32;
        let weights: Vec<f32> = (0..4 * H * (1 + H) + 4 * H + 2 * H + H + 1)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.8 - 0.4
            })
            .collect();
        let ctx = BuildCtx {
            max_block: 512,
            mode: ActivationMode::Accurate,
            level,
        };
        let (mut fast, mut slow) = (
            Lstm::build(&cfg, &weights, &ctx, 48_000.0),
            Lstm::build(&cfg, &weights, &ctx, 48_000.0),
        );
        let input: Vec<f32> = (0..3000)
            .map(|i| 0.9 * (i as f32 * 0.021).sin() * (1 + i / 500) as f32)
            .collect();
        let mut got = input.clone();
        let mut at = 0;
        for block in [1, 7, 64, 512].iter().cycle() {
            if at >= got.len() {
                break;
            }
            let end = (at + block).min(got.len());
            fast.process_block(&mut got[at..end]);
            at = end;
        }
        let (mut scale, mut off) = ([1.0f32; G], [0.0f32; G]);
        for k in (0..2 * H).chain(3 * H..G) {
            scale[k] = 0.5;
            off[k] = 0.5;
        }
        let want: Vec<f32> = input
            .iter()
            .map(|&x| {
                // The step runs `A`'s intrinsics: the caller checked the CPU has them.
                let h = layer_step::<A, H, G, 1>(
                    &mut slow.layers[0],
                    &[x],
                    ActivationMode::Accurate,
                    &scale,
                    &off,
                );
                let mut part = [0.0f32; 4];
                for (j, (h, w)) in h.iter().zip(slow.head_w.iter()).enumerate() {
                    part[j % 4] = A::madd(part[j % 4], *h, *w);
                }
                slow.head_b + ((part[0] + part[1]) + (part[2] + part[3]))
            })
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "hidden size {H}");
        assert_eq!(bits(&fast.layers[0].c), bits(&slow.layers[0].c));
    }

    #[test]
    fn every_buffer_the_step_touches_starts_on_a_line_or_shares_one() {
        for (hidden, num_layers) in [(12, 1), (16, 1), (24, 1), (8, 2), (5, 3)] {
            let cfg = LstmConfig {
                input_size: 1,
                hidden_size: hidden,
                num_layers,
            };
            let weights = vec![0.01f32; cfg.weight_count()];
            let ctx = BuildCtx {
                max_block: 64,
                mode: ActivationMode::Accurate,
                level: Level::Portable,
            };
            // Behind a few odd-sized allocations, as in a host's heap.
            let _noise: Vec<Vec<u8>> = (1..6).map(|k| vec![0u8; 24 * k + 4]).collect();
            let layout = crate::floats::Layout::begin(Lstm::floats_needed(&cfg));
            let n = Lstm::build(&cfg, &weights, &ctx, 48_000.0);
            let on_line = |x: &[f32]| (x.as_ptr() as usize).is_multiple_of(64);
            assert!(on_line(&n.head_w), "{hidden}x{num_layers}");
            // The general step's scratch, which the specialised copies do without.
            assert_eq!(n.gates.len(), if hidden == 5 { 20 } else { 0 });
            assert!(n.gates.is_empty() || on_line(&n.gates));
            for l in &n.layers {
                assert!(
                    on_line(&l.w_cols) && on_line(&l.bias),
                    "{hidden}x{num_layers}"
                );
                // The cell on a line of its own, or after the state in the one line
                // both fit in (8 cells): no vector of either crosses a line.
                let line = |x: &[f32]| x.as_ptr() as usize / 64;
                let whole = |x: &[f32]| line(x) == line(&x[x.len() - 1..]);
                let shared = hidden * 8 <= 64 && whole(&l.h) && line(&l.c) == line(&l.h);
                assert!(on_line(&l.h), "{hidden}x{num_layers}");
                assert!(on_line(&l.c) || shared, "{hidden}x{num_layers}");
                assert!(whole(&l.c) || hidden * 4 > 64, "{hidden}x{num_layers}");
            }
            assert!(
                layout.placed() <= Lstm::floats_needed(&cfg),
                "the estimate holds the layout"
            );
        }
    }

    #[test]
    fn the_block_in_registers_gives_the_steps_bits() {
        if !std::is_x86_feature_detected!("avx512f") {
            eprintln!("SKIPPED: this CPU lacks AVX-512F");
            return;
        }
        // Gates on vector boundaries (16, 32) and across them (8, 12, 20, 24).
        block_path_matches_steps::<Wide, 8, 32>(Level::Avx512);
        block_path_matches_steps::<Wide, 12, 48>(Level::Avx512);
        block_path_matches_steps::<Wide, 16, 64>(Level::Avx512);
        block_path_matches_steps::<Wide, 20, 80>(Level::Avx512);
        block_path_matches_steps::<Wide, 24, 96>(Level::Avx512);
        block_path_matches_steps::<Wide, 32, 128>(Level::Avx512);
    }

    #[test]
    fn the_avx2_block_in_registers_gives_the_steps_bits() {
        if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")) {
            eprintln!("SKIPPED: this CPU lacks AVX2 or FMA");
            return;
        }
        block_path_matches_steps::<Fused, 16, 64>(Level::Avx2);
        block_path_matches_steps::<Fused, 24, 96>(Level::Avx2);
    }
}
