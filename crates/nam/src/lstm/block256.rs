//! A one-layer LSTM's whole block in AVX2 registers, for hidden sizes 16 and 24 (the
//! trainer's 1x16 and 1x24 presets) in accurate mode: the gates' sums stay in registers
//! from their bias to their activation, `h` and `c` from the first sample to the last
//! (what sixteen registers cannot hold the compiler keeps on the stack, never in the
//! layer's heap buffers), and each step's `h` reaches the next step's sums by one store
//! and lane permutes.
//!
//! Why: the step at a time (`layer_step` for `Fused`) stores the gate sums, runs the
//! activations, the cell and the output as passes over memory, and reloads `h` from the
//! layer's buffer for every broadcast: each pass a store and a load on the recurrence's
//! critical path. Measured on Zen 3 (block 64, `crates/nam-bench`): the 1x16 preset 81
//! -> 72 ns a sample, the 1x24 170 -> 165.
//! The same operations in the same order as that step and the head, so the same bits
//! (`network::tests::the_avx2_block_in_registers_gives_the_steps_bits`).

use std::arch::x86_64::*;

use super::network::LstmLayer;
use super::step::chains_avx2;
use super::Aligned;
use crate::kernels::lstm256::lstm_act256;

/// Runs `io` (the first layer's mono input) through a single layer of hidden size `H`
/// (`G` = 4H) and the head, in place; `h` and `c` are read at the start and written back
/// at the end.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)]
pub(super) unsafe fn block_avx2<const H: usize, const G: usize>(
    layer: &mut LstmLayer,
    io: &mut [f32],
    head_w: &[f32; H],
    head_b: f32,
) {
    assert!(H.is_multiple_of(8) && G == 4 * H);
    let nh = H / 8;
    let nv = G / 8;
    let nc = chains_avx2(G);
    // One chain per gate vector (what `chains_avx2` gives these sizes): the accumulators
    // (at most twelve), a broadcast and a load fill AVX2's sixteen registers.
    assert!(nc == 1 && nv <= 12);
    let cols: &[[f32; G]] = layer.w_cols.as_chunks::<G>().0;
    assert!(cols.len() > H && layer.bias.len() >= G);
    assert!(layer.h.len() >= H && layer.c.len() >= H);
    let load = |p: &[f32], at: usize| {
        debug_assert!(at + 8 <= p.len());
        // SAFETY: `at + 8 <= p.len()` at every call below.
        unsafe { _mm256_loadu_ps(p.as_ptr().add(at)) }
    };
    let mut h = [_mm256_setzero_ps(); 4];
    let mut c = [_mm256_setzero_ps(); 4];
    for k in 0..nh {
        h[k] = load(&layer.h, 8 * k);
        c[k] = load(&layer.c, 8 * k);
    }
    // `h` in memory, for the sums' rounds (aligned: see `Aligned`).
    let mut hs = Aligned([0.0f32; 32]);
    let hs = &mut hs.0;
    // Horner's for the gates, several side by side; Estrin's for the cells, which the
    // step waits on alone (see `lstm256`).
    let sigmoid = lstm_act256::<true, false>;
    let tanh = lstm_act256::<false, false>;
    let tanh_cell = lstm_act256::<false, true>;
    // The sums as `gate_sums_avx2`: the bias, the input (column 0) on it, then the columns
    // of `h` in order.
    // Column by column, each a broadcast and n multiply-adds, in loops: left to itself
    // the compiler unrolled them, took the accumulators one at a time and kept all
    // sixteen broadcasts, spilled, which serialised the chains (116 against 81 ns a
    // sample for the 1x16). `black_box` hides the trip count (the `min` keeps every
    // access in bounds whatever it returns) and keeps `hs` in memory, so that the loops
    // stay loops.
    let sums = |x: __m256, hs: &[f32; 32]| {
        let mut acc = [_mm256_setzero_ps(); 12];
        for v in 0..nv {
            acc[v] = _mm256_fmadd_ps(x, load(&cols[0], 8 * v), load(&layer.bias, 8 * v));
        }
        let hv: &[f32; 32] = std::hint::black_box(hs);
        let rounds = std::hint::black_box(nh).min(nh);
        for k in 0..rounds {
            let hk = load(hv, 8 * k);
            for l in 0..8 {
                let j = 8 * k + l;
                let b = _mm256_permutevar8x32_ps(hk, _mm256_set1_epi32(l as i32));
                // SAFETY: `j < H`, so `cols[1 + j]` is within the `H + 1` columns.
                let w = unsafe { cols.get_unchecked(1 + j) };
                for v in 0..nv {
                    acc[v] = _mm256_fmadd_ps(b, load(w, 8 * v), acc[v]);
                }
            }
        }
        acc
    };
    for y in io.iter_mut() {
        let x = _mm256_set1_ps(*y);
        for k in 0..nh {
            // SAFETY: 8 floats at 8 k, within `hs`'s 32.
            unsafe { _mm256_storeu_ps(hs.as_mut_ptr().add(8 * k), h[k]) };
        }
        // The cell and the output, as `activate`, `update_cell`, `tanh_cells` and
        // `output` for `Fused`.
        let g = sums(x, hs);
        for k in 0..nh {
            let i = sigmoid(g[k]);
            let f = sigmoid(g[nh + k]);
            let gg = tanh(g[2 * nh + k]);
            let o = sigmoid(g[3 * nh + k]);
            c[k] = _mm256_fmadd_ps(i, gg, _mm256_mul_ps(f, c[k]));
            h[k] = _mm256_mul_ps(o, tanh_cell(c[k]));
        }
        // The head: partial sum p lane of j % 4, fused, in order of j; then
        // b + ((p0 + p1) + (p2 + p3)).
        let mut part = _mm_setzero_ps();
        for k in 0..nh {
            let w = load(head_w, 8 * k);
            part = _mm_fmadd_ps(
                _mm256_castps256_ps128(h[k]),
                _mm256_castps256_ps128(w),
                part,
            );
            part = _mm_fmadd_ps(
                _mm256_extractf128_ps::<1>(h[k]),
                _mm256_extractf128_ps::<1>(w),
                part,
            );
        }
        // [p0 + p1, _, p2 + p3, _], then (p0 + p1) + (p2 + p3).
        let pairs = _mm_add_ps(part, _mm_movehdup_ps(part));
        let sum = _mm_add_ss(pairs, _mm_movehl_ps(pairs, pairs));
        *y = head_b + _mm_cvtss_f32(sum);
    }
    for k in 0..nh {
        // SAFETY: 8 floats at 8 k, within `H` (asserted above).
        unsafe {
            _mm256_storeu_ps(layer.h.as_mut_ptr().add(8 * k), h[k]);
            _mm256_storeu_ps(layer.c.as_mut_ptr().add(8 * k), c[k]);
        }
    }
}
