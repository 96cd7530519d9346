//! One step of one LSTM layer with its sizes constants: the gates' sums (in registers,
//! as several chains, per build), the gates' activations, the cell and the output, and
//! two layers' steps side by side for the wavefront (see `Lstm::process_fixed`).

use super::network::LstmLayer;
use super::Aligned;
use crate::activation::{fast_tanh, tanh_rational, ActivationMode};
#[cfg(target_arch = "x86_64")]
use crate::kernels::lstm256::{lstm_cells_row_avx2, lstm_gates_row_avx2};
#[cfg(target_arch = "x86_64")]
use crate::kernels::tanh512::tanh_short_row_avx512;
use crate::kernels::Arith;

/// One step of one layer (hidden size `H`, `G` = 4H gates, input width `K`): the new
/// `h`, with `h` and `c` updated in the layer.
#[inline(always)]
pub(super) fn layer_step<A: Arith, const H: usize, const G: usize, const K: usize>(
    layer: &mut LstmLayer,
    input: &[f32; K],
    mode: ActivationMode,
    scale: &[f32; G],
    off: &[f32; G],
) -> [f32; H] {
    let mut g = Aligned([0.0f32; G]);
    let g = &mut g.0;
    gates::<A, H, G, K>(layer, input, g);
    #[cfg(target_arch = "x86_64")]
    if in_registers::<A, H>(mode) {
        return cell_in_registers::<H, G>(layer, g);
    }
    activate::<A, G>(g, mode, scale, off);
    let mut t = Aligned([0.0f32; 32]);
    let t = &mut t.0;
    update_cell::<A, H, G>(layer, g, t);
    tanh_cells::<A>(&mut t[..lanes::<A>(H)], mode);
    output::<H, G>(layer, g, t)
}

/// `layer_step` on two layers at once, phase by phase, so that the two independent
/// recurrences' instructions sit side by side for the core to overlap; each layer's
/// arithmetic is `layer_step`'s (the same bits).
#[inline(always)]
pub(super) fn two_steps<
    A: Arith,
    const H: usize,
    const G: usize,
    const KA: usize,
    const KB: usize,
>(
    (la, ina): (&mut LstmLayer, &[f32; KA]),
    (lb, inb): (&mut LstmLayer, &[f32; KB]),
    mode: ActivationMode,
    scale: &[f32; G],
    off: &[f32; G],
) -> ([f32; H], [f32; H]) {
    let (mut ga, mut gb) = (Aligned([0.0f32; G]), Aligned([0.0f32; G]));
    let (ga, gb) = (&mut ga.0, &mut gb.0);
    gates::<A, H, G, KA>(la, ina, ga);
    gates::<A, H, G, KB>(lb, inb, gb);
    #[cfg(target_arch = "x86_64")]
    if in_registers::<A, H>(mode) {
        return (
            cell_in_registers::<H, G>(la, ga),
            cell_in_registers::<H, G>(lb, gb),
        );
    }
    activate::<A, G>(ga, mode, scale, off);
    activate::<A, G>(gb, mode, scale, off);
    let (mut ta, mut tb) = (Aligned([0.0f32; 32]), Aligned([0.0f32; 32]));
    let (ta, tb) = (&mut ta.0, &mut tb.0);
    update_cell::<A, H, G>(la, ga, ta);
    update_cell::<A, H, G>(lb, gb, tb);
    tanh_cells::<A>(&mut ta[..lanes::<A>(H)], mode);
    tanh_cells::<A>(&mut tb[..lanes::<A>(H)], mode);
    (output::<H, G>(la, ga, ta), output::<H, G>(lb, gb, tb))
}

/// The gates' pre-activations of one layer's step.
#[inline(always)]
fn gates<A: Arith, const H: usize, const G: usize, const K: usize>(
    layer: &LstmLayer,
    input: &[f32; K],
    g: &mut [f32; G],
) {
    let cols: &[[f32; G]] = as_columns(&layer.w_cols);
    let bias: &[f32; G] = layer.bias[..].try_into().expect("4H biases");
    let h: &[f32; H] = layer.h[..].try_into().expect("H states");
    sums::<A, H, G, K>(bias, cols, input, h, g);
}

/// Whether the step after the sums runs in registers ([`cell_avx512`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn in_registers<A: Arith, const H: usize>(mode: ActivationMode) -> bool {
    A::WIDE && H.is_multiple_of(16) && mode == ActivationMode::Accurate
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn cell_in_registers<const H: usize, const G: usize>(
    layer: &mut LstmLayer,
    g: &[f32; G],
) -> [f32; H] {
    let c: &mut [f32; H] = (&mut layer.c[..]).try_into().expect("H cells");
    let h: &mut [f32; H] = (&mut layer.h[..]).try_into().expect("H states");
    // SAFETY: `Wide` only runs in the AVX-512 build (checked at build).
    unsafe { cell_avx512::<H, G>(g, c, h) };
    *h
}

/// Every gate through one tanh over all 4H lanes (no ragged ends for the vectoriser): the
/// sigmoids as 0.5 + 0.5 tanh(x / 2), which halves their latency on the recurrence's
/// critical path at the same absolute error; for the g gate 0 + 1 * t is exact. The
/// plugin's fast sigmoid is this formula exactly (0.5 (t + 1) rounds as 0.5 + 0.5 t).
#[inline(always)]
fn activate<A: Arith, const G: usize>(
    g: &mut [f32; G],
    mode: ActivationMode,
    scale: &[f32; G],
    off: &[f32; G],
) {
    match mode {
        #[cfg(target_arch = "x86_64")]
        ActivationMode::Accurate if A::WIDE => {
            // SAFETY: `Wide` only runs in the AVX-512 build; G = 4H is a multiple of 16
            // for every size with a copy here.
            unsafe { tanh_short_row_avx512(g) };
            for ((v, &s), &o) in g.iter_mut().zip(scale).zip(off) {
                *v = A::madd(o, s, *v);
            }
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Fused` only runs in the AVX2 + FMA build; G = 4H is a multiple of 8.
        ActivationMode::Accurate if A::AVX2 => unsafe { lstm_gates_row_avx2(g, scale, off) },
        ActivationMode::Accurate => {
            for ((v, &s), &o) in g.iter_mut().zip(scale).zip(off) {
                *v = A::madd(o, s, tanh_rational::<A>(*v));
            }
        }
        ActivationMode::NamCompatible => {
            for ((v, &s), &o) in g.iter_mut().zip(scale).zip(off) {
                *v = A::madd(o, s, fast_tanh(*v));
            }
        }
    }
}

/// c = f c + i g, and c into `t` for its tanh.
#[inline(always)]
fn update_cell<A: Arith, const H: usize, const G: usize>(
    layer: &mut LstmLayer,
    g: &[f32; G],
    t: &mut [f32; 32],
) {
    let c: &mut [f32; H] = (&mut layer.c[..]).try_into().expect("H cells");
    for j in 0..H {
        c[j] = A::madd(g[H + j] * c[j], g[j], g[2 * H + j]);
    }
    t[..H].copy_from_slice(c);
}

/// tanh(c) over a whole number of the build's vectors (`lanes`), the padding lanes zero.
#[inline(always)]
fn tanh_cells<A: Arith>(t: &mut [f32], mode: ActivationMode) {
    match mode {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `activate`; `t` a whole number of vectors, at most 32 lanes.
        ActivationMode::Accurate if A::WIDE => unsafe { tanh_short_row_avx512(t) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `activate`.
        ActivationMode::Accurate if A::AVX2 => unsafe { lstm_cells_row_avx2(t) },
        ActivationMode::Accurate => {
            for t in t.iter_mut() {
                *t = tanh_rational::<A>(*t);
            }
        }
        ActivationMode::NamCompatible => {
            for t in t.iter_mut() {
                *t = fast_tanh(*t);
            }
        }
    }
}

/// The lanes `tanh_cells` runs for hidden size `h`.
#[inline(always)]
fn lanes<A: Arith>(h: usize) -> usize {
    if A::WIDE {
        h.next_multiple_of(16)
    } else {
        h.next_multiple_of(8)
    }
}

/// h = o tanh(c).
#[inline(always)]
fn output<const H: usize, const G: usize>(
    layer: &mut LstmLayer,
    g: &[f32; G],
    t: &[f32; 32],
) -> [f32; H] {
    let h: &mut [f32; H] = (&mut layer.h[..]).try_into().expect("H states");
    for j in 0..H {
        h[j] = g[3 * H + j] * t[j];
    }
    *h
}

/// `4H`-float columns, as `[f32; G]` each.
fn as_columns<const G: usize>(w: &[f32]) -> &[[f32; G]] {
    let (cols, rest) = w.as_chunks::<G>();
    debug_assert!(rest.is_empty());
    cols
}

/// Independent chains the gates' sums are split into: the recurrence waits on their
/// depth. Four up to 4H = 64 (four vectors each); beyond that the accumulators and the
/// loads would not fit in the 32 AVX-512 registers.
pub(super) const fn chains(g: usize) -> usize {
    if g <= 64 {
        4
    } else {
        2
    }
}

/// [`gate_sums`] in the instruction set of `A`'s build.
#[inline(always)]
fn sums<A: Arith, const H: usize, const G: usize, const K: usize>(
    bias: &[f32; G],
    cols: &[[f32; G]],
    input: &[f32; K],
    h: &[f32; H],
    g: &mut [f32; G],
) {
    #[cfg(target_arch = "x86_64")]
    if A::WIDE {
        // SAFETY: `Wide` only runs in the AVX-512 build (checked at build).
        unsafe { gate_sums_avx512::<H, G, K>(bias, cols, input, h, g) };
        return;
    } else if A::AVX2 {
        // SAFETY: `Fused` only runs in the AVX2 + FMA build (checked at build).
        unsafe { gate_sums_avx2::<H, G, K>(bias, cols, input, h, g) };
        return;
    }
    gate_sums::<A, H, G, K>(bias, cols, input, h, g);
}

/// The gates' pre-activations: `bias + W_x input + W_h h`. Column `c` of `[input | h]`
/// goes into chain `c % chains`, the bias starts chain 0, and the chains are added
/// pairwise at the end.
#[inline(always)]
fn gate_sums<A: Arith, const H: usize, const G: usize, const K: usize>(
    bias: &[f32; G],
    cols: &[[f32; G]],
    input: &[f32; K],
    h: &[f32; H],
    g: &mut [f32; G],
) {
    let nc = chains(G);
    let mut acc = [[0.0f32; G]; 4];
    acc[0] = *bias;
    // In rounds of `nc` columns, so that every chain index is a constant.
    let total = K + H;
    for c0 in (0..total).step_by(nc) {
        for (q, acc) in acc.iter_mut().enumerate().take(nc) {
            let c = c0 + q;
            if c < total {
                let v = if c < K { input[c] } else { h[c - K] };
                for (a, &w) in acc.iter_mut().zip(&cols[c]) {
                    *a = A::madd(*a, v, w);
                }
            }
        }
    }
    for (i, g) in g.iter_mut().enumerate() {
        *g = if nc == 4 {
            (acc[0][i] + acc[1][i]) + (acc[2][i] + acc[3][i])
        } else {
            acc[0][i] + acc[1][i]
        };
    }
}

/// [`gate_sums`] in AVX-512 registers (`G` a multiple of 16, at most 128): the same
/// multiply-adds in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
// One index walks the accumulators, the columns and the bias together.
#[allow(clippy::needless_range_loop)]
unsafe fn gate_sums_avx512<const H: usize, const G: usize, const K: usize>(
    bias: &[f32; G],
    cols: &[[f32; G]],
    input: &[f32; K],
    h: &[f32; H],
    g: &mut [f32; G],
) {
    use std::arch::x86_64::*;
    const { assert!(G.is_multiple_of(16) && G <= 128 && G / 4 <= 32) };
    let nv = G / 16;
    let nc = chains(G);
    assert!(cols.len() >= K + H);
    // SAFETY: every load and store is within a `[f32; G]` (`16 * nv == G`).
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 8]; 4];
        for v in 0..nv {
            acc[0][v] = _mm512_loadu_ps(bias.as_ptr().add(16 * v));
        }
        let total = K + H;
        for c0 in (0..total).step_by(nc) {
            for q in 0..nc {
                let c = c0 + q;
                if c < total {
                    let b = _mm512_set1_ps(if c < K { input[c] } else { h[c - K] });
                    for v in 0..nv {
                        let w = _mm512_loadu_ps(cols[c].as_ptr().add(16 * v));
                        acc[q][v] = _mm512_fmadd_ps(b, w, acc[q][v]);
                    }
                }
            }
        }
        for v in 0..nv {
            let s = if nc == 4 {
                _mm512_add_ps(
                    _mm512_add_ps(acc[0][v], acc[1][v]),
                    _mm512_add_ps(acc[2][v], acc[3][v]),
                )
            } else {
                _mm512_add_ps(acc[0][v], acc[1][v])
            };
            _mm512_storeu_ps(g.as_mut_ptr().add(16 * v), s);
        }
    }
}

/// Chains for [`gate_sums_avx2`]: as many as fit in AVX2's 16 registers beside a load and
/// a broadcast (12 accumulators), at most four. Wider gates have enough independent
/// vectors to hide the multiply-add latency on their own.
pub(super) const fn chains_avx2(g: usize) -> usize {
    let nv = g / 8;
    let n = 12 / nv;
    if n == 0 {
        1
    } else if n > 4 {
        4
    } else {
        n
    }
}

/// [`gate_sums`] in AVX2 registers (`G` a multiple of 8, at most 128), the accumulators
/// held in registers where the compiler kept the portable version's in memory (every
/// multiply-add of the recurrence then waited on a store and a load). The chains are
/// AVX2's (see [`chains_avx2`]), so the sums may differ from the AVX-512 build's in the
/// last bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::needless_range_loop)]
unsafe fn gate_sums_avx2<const H: usize, const G: usize, const K: usize>(
    bias: &[f32; G],
    cols: &[[f32; G]],
    input: &[f32; K],
    h: &[f32; H],
    g: &mut [f32; G],
) {
    use std::arch::x86_64::*;
    const { assert!(G.is_multiple_of(8) && G <= 128) };
    let nv = G / 8;
    let nc = chains_avx2(G);
    assert!(cols.len() >= K + H);
    // SAFETY: every load and store is within a `[f32; G]` (`8 * nv == G`).
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); 16]; 4];
        for v in 0..nv {
            acc[0][v] = _mm256_loadu_ps(bias.as_ptr().add(8 * v));
        }
        let total = K + H;
        for c0 in (0..total).step_by(nc) {
            for q in 0..nc {
                let c = c0 + q;
                if c < total {
                    let b = _mm256_set1_ps(if c < K { input[c] } else { h[c - K] });
                    for v in 0..nv {
                        let w = _mm256_loadu_ps(cols[c].as_ptr().add(8 * v));
                        acc[q][v] = _mm256_fmadd_ps(b, w, acc[q][v]);
                    }
                }
            }
        }
        for v in 0..nv {
            let s = match nc {
                1 => acc[0][v],
                2 => _mm256_add_ps(acc[0][v], acc[1][v]),
                3 => _mm256_add_ps(_mm256_add_ps(acc[0][v], acc[1][v]), acc[2][v]),
                _ => _mm256_add_ps(
                    _mm256_add_ps(acc[0][v], acc[1][v]),
                    _mm256_add_ps(acc[2][v], acc[3][v]),
                ),
            };
            _mm256_storeu_ps(g.as_mut_ptr().add(8 * v), s);
        }
    }
}

/// The step after the gate sums, for a hidden size that is a whole number of AVX-512
/// vectors: each gate a vector, the cell and the output computed in registers, with the
/// same operations in the same order as the portable step (so the same bits as the
/// row-at-a-time AVX-512 path).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn cell_avx512<const H: usize, const G: usize>(
    g: &[f32; G],
    c: &mut [f32; H],
    h: &mut [f32; H],
) {
    use crate::kernels::tanh512::tanh512_short;
    use std::arch::x86_64::*;
    assert!(H.is_multiple_of(16) && G == 4 * H);
    let half = _mm512_set1_ps(0.5);
    let sigmoid = |v: __m512| _mm512_fmadd_ps(half, tanh512_short(v), half);
    // SAFETY: every load and store is 16 floats inside `g`, `c` or `h`.
    unsafe {
        for k in (0..H).step_by(16) {
            let at = |o: usize| _mm512_loadu_ps(g.as_ptr().add(o + k));
            let i = sigmoid(at(0));
            let f = sigmoid(at(H));
            let gg = _mm512_fmadd_ps(
                _mm512_set1_ps(1.0),
                tanh512_short(at(2 * H)),
                _mm512_setzero_ps(),
            );
            let o = sigmoid(at(3 * H));
            let cv = _mm512_loadu_ps(c.as_ptr().add(k));
            let cn = _mm512_fmadd_ps(i, gg, _mm512_mul_ps(f, cv));
            _mm512_storeu_ps(c.as_mut_ptr().add(k), cn);
            let hv = _mm512_mul_ps(o, tanh512_short(cn));
            _mm512_storeu_ps(h.as_mut_ptr().add(k), hv);
        }
    }
}
