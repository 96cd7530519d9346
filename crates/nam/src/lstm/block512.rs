//! A one-layer LSTM's whole block in AVX-512 registers, for every hidden size the
//! specialised copies cover (a multiple of 4, at most 32) in accurate mode: `h` and `c`
//! stay in registers from the first sample to the last and the gates never leave them;
//! each `h[j]` reaches the next step's sums by a lane permute, not a store and a
//! broadcast load. Where a gate's rows do not start on a vector (hidden sizes 8, 12, 20,
//! 24) a two-source permute lines it up with its cells.
//!
//! Why: the step at a time (`layer_step`, each phase its own pass) stores the gates, `h`
//! and `c` every sample and reloads them on the recurrence's critical path, from the
//! layer's heap buffers; a gate not on a vector boundary is then a load across two
//! stores, which the store buffer cannot forward. Measured on Zen 4 (block 64): the 1x16
//! preset 85 -> 68 ns a sample; the 1x12 58.5 -> 53, the 1x24 100 -> 96-100.
//! The same operations in the same order as those steps and the head: the same bits
//! (`network::tests::the_block_in_registers_gives_the_steps_bits`).

use std::arch::x86_64::*;

use super::network::LstmLayer;
use super::step::chains;
use crate::kernels::tanh512::tanh512_short;

/// Runs `io` (the first layer's mono input) through a single layer of hidden size `H`
/// (`G` = 4H) and the head, in place; `h` and `c` are read at the start and written back
/// at the end. `scale` and `off` are each gate lane's affine after its tanh (0.5 and 0.5
/// for the sigmoids, whose rows come halved; 1 and 0 for g).
///
/// # Safety
/// The CPU has AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::needless_range_loop)]
pub(super) unsafe fn block_avx512<const H: usize, const G: usize>(
    layer: &mut LstmLayer,
    io: &mut [f32],
    head_w: &[f32; H],
    head_b: f32,
    (scale, off): (&[f32; G], &[f32; G]),
) {
    assert!(H.is_multiple_of(4) && H <= 32 && G == 4 * H);
    // Vectors of cells, of gates.
    let nh = H.div_ceil(16);
    let nv = G / 16;
    let nc = chains(G);
    let cols: &[[f32; G]] = layer.w_cols.as_chunks::<G>().0;
    assert!(cols.len() > H && layer.bias.len() >= G);
    assert!(layer.h.len() >= H && layer.c.len() >= H);
    let load = |p: &[f32], at: usize| {
        debug_assert!(at + 16 <= p.len());
        // SAFETY: `at + 16 <= p.len()` at every call below.
        unsafe { _mm512_loadu_ps(p.as_ptr().add(at)) }
    };
    // `h`, `c` and the head's weights padded to whole vectors (the padding lanes hold
    // whatever the other gates' lanes give them: never stored, never summed).
    let pad = |v: &[f32]| {
        let mut p = [0.0f32; 32];
        p[..H].copy_from_slice(&v[..H]);
        p
    };
    let (hp, cp, wp) = (pad(&layer.h), pad(&layer.c), pad(head_w));
    let mut h = [_mm512_setzero_ps(); 2];
    let mut c = [_mm512_setzero_ps(); 2];
    for k in 0..nh {
        h[k] = load(&hp, 16 * k);
        c[k] = load(&cp, 16 * k);
    }
    // Gate lanes s.. of the activations as one vector: lane l from lane s + l.
    let iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let gate = |a: &[__m512; 8], s: usize| {
        let (v, sh) = (s / 16, s % 16);
        if sh == 0 {
            a[v]
        } else {
            let idx = _mm512_add_epi32(iota, _mm512_set1_epi32(sh as i32));
            _mm512_permutex2var_ps(a[v], idx, a[(v + 1).min(nv - 1)])
        }
    };
    for y in io.iter_mut() {
        // The sums: column c of [x | h] into chain c % nc, the bias first in chain 0
        // (the input is column 0: its multiply-add comes first, on the bias). In rounds
        // of `nc` hidden columns, so that every chain index is a constant.
        let mut acc = [[_mm512_setzero_ps(); 8]; 4];
        let x = _mm512_set1_ps(*y);
        for v in 0..nv {
            acc[0][v] = _mm512_fmadd_ps(x, load(&cols[0], 16 * v), load(&layer.bias, 16 * v));
        }
        for k in 0..nh {
            for l0 in (0..16).step_by(nc) {
                for dq in 0..nc {
                    let (l, j) = (l0 + dq, 16 * k + l0 + dq);
                    if j >= H {
                        continue;
                    }
                    let q = (1 + j) % nc;
                    let b = _mm512_permutexvar_ps(_mm512_set1_epi32(l as i32), h[k]);
                    for v in 0..nv {
                        acc[q][v] = _mm512_fmadd_ps(b, load(&cols[1 + j], 16 * v), acc[q][v]);
                    }
                }
            }
        }
        // Each gate lane's activation, as `activate`: tanh, then its affine.
        let mut a = [_mm512_setzero_ps(); 8];
        for v in 0..nv {
            let s = if nc == 4 {
                _mm512_add_ps(
                    _mm512_add_ps(acc[0][v], acc[1][v]),
                    _mm512_add_ps(acc[2][v], acc[3][v]),
                )
            } else {
                _mm512_add_ps(acc[0][v], acc[1][v])
            };
            a[v] = _mm512_fmadd_ps(load(scale, 16 * v), tanh512_short(s), load(off, 16 * v));
        }
        // The cell and the output, as `update_cell` and `output`.
        for k in 0..nh {
            let i = gate(&a, 16 * k);
            let f = gate(&a, H + 16 * k);
            let gg = gate(&a, 2 * H + 16 * k);
            let o = gate(&a, 3 * H + 16 * k);
            c[k] = _mm512_fmadd_ps(i, gg, _mm512_mul_ps(f, c[k]));
            h[k] = _mm512_mul_ps(o, tanh512_short(c[k]));
        }
        // The head: partial sum p lane of j % 4, fused, in order of j; then
        // b + ((p0 + p1) + (p2 + p3)).
        let mut part = _mm_setzero_ps();
        for k in 0..nh {
            let w = load(&wp, 16 * k);
            let quarters = (H - 16 * k).min(16) / 4;
            part = head_quarter::<0>(h[k], w, part);
            if quarters > 1 {
                part = head_quarter::<1>(h[k], w, part);
            }
            if quarters > 2 {
                part = head_quarter::<2>(h[k], w, part);
            }
            if quarters > 3 {
                part = head_quarter::<3>(h[k], w, part);
            }
        }
        // [p0 + p1, _, p2 + p3, _], then (p0 + p1) + (p2 + p3).
        let pairs = _mm_add_ps(part, _mm_movehdup_ps(part));
        let sum = _mm_add_ss(pairs, _mm_movehl_ps(pairs, pairs));
        *y = head_b + _mm_cvtss_f32(sum);
    }
    let (mut hp, mut cp) = ([0.0f32; 32], [0.0f32; 32]);
    for k in 0..nh {
        // SAFETY: 16 floats at 16 k < 32.
        unsafe {
            _mm512_storeu_ps(hp.as_mut_ptr().add(16 * k), h[k]);
            _mm512_storeu_ps(cp.as_mut_ptr().add(16 * k), c[k]);
        }
    }
    layer.h[..H].copy_from_slice(&hp[..H]);
    layer.c[..H].copy_from_slice(&cp[..H]);
}

/// `part + h * w` on lanes 4Q..4Q + 4 of `h` and `w`: the head's partial sums take the
/// hidden units four at a time, lane `j % 4` for unit `j`.
#[target_feature(enable = "avx512f,fma")]
#[inline]
fn head_quarter<const Q: i32>(h: __m512, w: __m512, part: __m128) -> __m128 {
    _mm_fmadd_ps(
        _mm512_extractf32x4_ps::<Q>(h),
        _mm512_extractf32x4_ps::<Q>(w),
        part,
    )
}
