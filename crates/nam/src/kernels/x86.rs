//! [`mac_rows`](super::mac_rows) written out in AVX-512 and AVX2 intrinsics: the one loop
//! where nearly all of a WaveNet's time goes. Left to the compiler, the tile's
//! accumulators did not stay in registers; written out, every sum lives in a register
//! from its first multiply-add to its store.
//!
//! Same job, layout and order of operations as the portable kernel: the vector runs along
//! time (one lane per sample), so each sample's sum is the same chain of fused
//! multiply-adds, from zero, over the source rows in order, whatever the tile shape, the
//! block length or the instruction set: the AVX-512, AVX2 and portable `Fused` kernels
//! give bit-identical sums.
//!
//! Tiles: AVX-512 takes up to 64 samples (4 vectors of 16) at a time, the last vector
//! masked, so any block length runs at full width; 4 output rows a tile when there are 3
//! or 4 vectors (16 or 12 accumulators), 8 rows when there are 1 or 2, so each source
//! vector loaded always feeds at least 8 multiply-adds. AVX2 (16 registers) takes 4 rows
//! x 3 vectors of 8: 12 accumulators, three source vectors and a broadcast fill the
//! register file, and hide the multiply-add latency that 8 accumulators (4 x 2) did not
//! (the standard WaveNet 4 % faster).

use std::arch::x86_64::*;

use super::tanh512::{tanh512, tanh_rational256};
use super::Epi;

/// Everything a tile needs, as raw pointers: bounds were checked once, in `check`.
struct K<'a> {
    dst: *mut f32,
    dst_stride: usize,
    n_out: usize,
    groups: usize,
    src: *const f32,
    rows: &'a [usize],
    w: *const f32,
    /// By reference: copied in here, the caller's scalar stores of it met this one's
    /// vector loads, a store-forwarding stall on every call (6 % of a narrow model's
    /// time at block 16). The stores copy it into a local first: as far as the compiler
    /// knows, their stores could alias it.
    epi: &'a Epi<'a>,
    /// A WaveNet layer's whole head end, done on the sums in registers (see
    /// [`tanh_layer_x86`]); `None` for a plain convolution.
    layer: Option<LayerEpi>,
}

/// `z = tanh(S + (mix[o] * cond[t] + bias[o]))`, `acc += z`.
#[derive(Clone, Copy)]
struct LayerEpi {
    bias: *const f32,
    has_bias: bool,
    mix: *const f32,
    cond: *const f32,
    acc: *mut f32,
    acc_stride: usize,
}

/// What the unchecked loads and stores rely on: every row read and written lies inside its
/// slice (the masked lanes past `n` are neither read nor written), and there is a bias
/// for every output row. `last`, at least the largest of `rows`, comes from the caller (a
/// `Conv` keeps it beside its taps), as finding it here on every call was measurable.
#[allow(clippy::too_many_arguments)]
fn check(
    dst: &[f32],
    dst_stride: usize,
    n_out: usize,
    src: &[f32],
    rows: &[usize],
    last: usize,
    w: &[f32],
    n: usize,
    epi: &Epi,
) {
    debug_assert!(rows.iter().all(|&r| r <= last), "`last` bounds the rows");
    assert!(
        last + n <= src.len()
            && (n_out - 1) * dst_stride + n <= dst.len()
            && w.len() >= n_out * rows.len()
            && match *epi {
                Epi::Set(Some(b)) | Epi::AddBias(b) => b.len() >= n_out,
                Epi::AddBiasFrom { bias, from, stride } =>
                    bias.len() >= n_out && (n_out - 1) * stride + n <= from.len(),
                _ => true,
            },
        "kernel bounds"
    );
}

impl<'a> K<'a> {
    /// A plain convolution's tiles, its bounds checked.
    #[allow(clippy::too_many_arguments)]
    fn plain(
        dst: &'a mut [f32],
        dst_stride: usize,
        n_out: usize,
        src: &'a [f32],
        rows: &'a [usize],
        last: usize,
        w: &'a [f32],
        n: usize,
        epi: &'a Epi<'a>,
    ) -> Self {
        check(dst, dst_stride, n_out, src, rows, last, w, n, epi);
        K {
            dst: dst.as_mut_ptr(),
            dst_stride,
            n_out,
            groups: n_out / 4,
            src: src.as_ptr(),
            rows,
            w: w.as_ptr(),
            epi,
            layer: None,
        }
    }

    /// These tiles as a WaveNet layer's (see [`tanh_layer_x86`]; `n` samples), the
    /// layer's bounds checked. The layer's epilogue replaces `epi`.
    fn with_layer(
        self,
        n: usize,
        bias: Option<&'a [f32]>,
        mix: &'a [f32],
        cond: &'a [f32],
        acc: &'a mut [f32],
        acc_stride: usize,
    ) -> Self {
        let n_out = self.n_out;
        assert!(
            mix.len() >= n_out
                && cond.len() >= n
                && bias.is_none_or(|b| b.len() >= n_out)
                && (n_out - 1) * acc_stride + n <= acc.len(),
            "layer kernel bounds"
        );
        let layer = LayerEpi {
            bias: bias.map_or(std::ptr::null(), |b| b.as_ptr()),
            has_bias: bias.is_some(),
            mix: mix.as_ptr(),
            cond: cond.as_ptr(),
            acc: acc.as_mut_ptr(),
            acc_stride,
        };
        K {
            layer: Some(layer),
            ..self
        }
    }
}

/// [`mac_rows`](super::mac_rows) in AVX-512 (`wide`) or AVX2.
///
/// # Safety
/// The CPU must have AVX-512F when `wide`, AVX2 and FMA always; no offset in `rows`
/// exceeds `last`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn mac_rows_x86(
    wide: bool,
    dst: &mut [f32],
    dst_stride: usize,
    n_out: usize,
    src: &[f32],
    rows: &[usize],
    last: usize,
    w: &[f32],
    n: usize,
    epi: Epi,
) {
    if n == 0 || n_out == 0 {
        return;
    }
    let k = K::plain(dst, dst_stride, n_out, src, rows, last, w, n, &epi);
    // SAFETY: bounds checked by `K::plain`; the instruction sets the caller's.
    unsafe { run(wide, &k, n) };
}

/// A plain WaveNet layer's dilated conv (`n_out` rows, no groups) with everything up to
/// the skip term done on its sums while they are in registers: the bias and the mono
/// condition's mixin, the tanh, and the head accumulator's update. The same operations
/// in the same order as the separate passes (`z = bias`, `z += mix * cond`, `z = S + z`,
/// `z = tanh(z)`, `acc += z`), so the same bits, without four trips through memory. In
/// AVX-512 (`wide`) with its piecewise tanh; in AVX2 with that build's (Eigen's rational,
/// its division exact).
///
/// # Safety
/// The CPU must have AVX-512F when `wide`, AVX2 and FMA always; no offset in `rows`
/// exceeds `last`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn tanh_layer_x86(
    wide: bool,
    z: &mut [f32],
    z_stride: usize,
    n_out: usize,
    src: &[f32],
    rows: &[usize],
    last: usize,
    w: &[f32],
    n: usize,
    bias: Option<&[f32]>,
    mix: &[f32],
    cond: &[f32],
    acc: &mut [f32],
    acc_stride: usize,
) {
    if n == 0 || n_out == 0 {
        return;
    }
    let k = K::plain(z, z_stride, n_out, src, rows, last, w, n, &Epi::Add)
        .with_layer(n, bias, mix, cond, acc, acc_stride);
    // SAFETY: bounds checked by `K::plain` and `with_layer`; the instruction sets the
    // caller's.
    unsafe { run(wide, &k, n) };
}

/// # Safety
/// `k`'s bounds checked; the CPU has AVX-512F when `wide`, AVX2 and FMA always.
unsafe fn run(wide: bool, k: &K, n: usize) {
    // SAFETY: the caller's.
    unsafe {
        if wide {
            run512(k, n)
        } else {
            run256(k, n)
        }
    }
}

#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn run512(k: &K, n: usize) {
    let mut t0 = 0;
    while t0 < n {
        let len = (n - t0).min(64);
        let nv = len.div_ceil(16);
        let mask = ((1u32 << (len - 16 * (nv - 1))) - 1) as __mmask16;
        // SAFETY: the caller's; `t0 + len <= n`.
        unsafe {
            match nv {
                1 => chunk512::<1>(k, t0, mask),
                2 => chunk512::<2>(k, t0, mask),
                3 => chunk512::<3>(k, t0, mask),
                _ => chunk512::<4>(k, t0, mask),
            }
        }
        t0 += len;
    }
}

#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn chunk512<const V: usize>(k: &K, t0: usize, mask: __mmask16) {
    let mut g = 0;
    // SAFETY (all three): the caller's.
    if V <= 2 {
        while g + 2 <= k.groups {
            unsafe { groups512::<2, V>(k, g, t0, mask) };
            g += 2;
        }
    }
    while g < k.groups {
        unsafe { groups512::<1, V>(k, g, t0, mask) };
        g += 1;
    }
    for o in 4 * k.groups..k.n_out {
        unsafe { row512::<V>(k, o, t0, mask) };
    }
}

/// Vector `v` of `V` at `p` (the last one masked).
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load512<const V: usize>(p: *const f32, v: usize, mask: __mmask16) -> __m512 {
    // SAFETY: the caller's: lanes under the mask are in bounds.
    unsafe {
        if v + 1 == V {
            _mm512_maskz_loadu_ps(mask, p.add(16 * v))
        } else {
            _mm512_loadu_ps(p.add(16 * v))
        }
    }
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store512<const V: usize>(k: &K, o: usize, t0: usize, mask: __mmask16, acc: &[__m512; V]) {
    // SAFETY: the caller's: row `o` < `n_out`, samples under the mask < `n`.
    unsafe {
        let p = k.dst.add(o * k.dst_stride + t0);
        if let Some(l) = k.layer {
            let b = _mm512_set1_ps(if l.has_bias { *l.bias.add(o) } else { 0.0 });
            let m = _mm512_set1_ps(*l.mix.add(o));
            let h = l.acc.add(o * l.acc_stride + t0);
            for (v, &a) in acc.iter().enumerate() {
                let c = load512::<V>(l.cond.add(t0), v, mask);
                let y = tanh512(_mm512_add_ps(a, _mm512_fmadd_ps(m, c, b)));
                let s = _mm512_add_ps(load512::<V>(h, v, mask), y);
                if v + 1 == V {
                    _mm512_mask_storeu_ps(p.add(16 * v), mask, y);
                    _mm512_mask_storeu_ps(h.add(16 * v), mask, s);
                } else {
                    _mm512_storeu_ps(p.add(16 * v), y);
                    _mm512_storeu_ps(h.add(16 * v), s);
                }
            }
            return;
        }
        let epi = *k.epi;
        for (v, &a) in acc.iter().enumerate() {
            let y = match epi {
                Epi::Set(None) => _mm512_add_ps(a, _mm512_setzero_ps()),
                Epi::Set(Some(b)) => _mm512_add_ps(a, _mm512_set1_ps(*b.get_unchecked(o))),
                Epi::Add => _mm512_add_ps(a, load512::<V>(p, v, mask)),
                Epi::AddBias(b) => _mm512_add_ps(
                    _mm512_add_ps(a, _mm512_set1_ps(*b.get_unchecked(o))),
                    load512::<V>(p, v, mask),
                ),
                Epi::AddBiasFrom { bias, from, stride } => _mm512_add_ps(
                    _mm512_add_ps(a, _mm512_set1_ps(*bias.get_unchecked(o))),
                    load512::<V>(from.as_ptr().add(o * stride + t0), v, mask),
                ),
            };
            if v + 1 == V {
                _mm512_mask_storeu_ps(p.add(16 * v), mask, y);
            } else {
                _mm512_storeu_ps(p.add(16 * v), y);
            }
        }
    }
}

/// `G` groups of 4 output rows, from group `g`, x `V` vectors.
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn groups512<const G: usize, const V: usize>(k: &K, g: usize, t0: usize, mask: __mmask16) {
    let n_in = k.rows.len();
    let mut acc = [[[_mm512_setzero_ps(); V]; 4]; G];
    // SAFETY: the caller's; weights of group `g + gi` are `4 * n_in` floats at
    // `(g + gi) * 4 * n_in`.
    unsafe {
        for (j, &off) in k.rows.iter().enumerate() {
            let s = k.src.add(off + t0);
            let mut x = [_mm512_setzero_ps(); V];
            for (v, x) in x.iter_mut().enumerate() {
                *x = load512::<V>(s, v, mask);
            }
            for (gi, acc) in acc.iter_mut().enumerate() {
                let wj = k.w.add((g + gi) * 4 * n_in + 4 * j);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let b = _mm512_set1_ps(*wj.add(r));
                    for (a, &x) in acc.iter_mut().zip(&x) {
                        *a = _mm512_fmadd_ps(b, x, *a);
                    }
                }
            }
        }
        for (gi, acc) in acc.iter().enumerate() {
            for (r, acc) in acc.iter().enumerate() {
                store512::<V>(k, 4 * (g + gi) + r, t0, mask, acc);
            }
        }
    }
}

/// One of the output rows after the groups of 4 (their weights are row-major).
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn row512<const V: usize>(k: &K, o: usize, t0: usize, mask: __mmask16) {
    let n_in = k.rows.len();
    let mut acc = [_mm512_setzero_ps(); V];
    // SAFETY: the caller's; row `o`'s weights are `n_in` floats after the groups'.
    unsafe {
        let wr = k.w.add(4 * k.groups * n_in + (o - 4 * k.groups) * n_in);
        for (j, &off) in k.rows.iter().enumerate() {
            let s = k.src.add(off + t0);
            let b = _mm512_set1_ps(*wr.add(j));
            for (v, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(b, load512::<V>(s, v, mask), *a);
            }
        }
        store512::<V>(k, o, t0, mask, &acc);
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn run256(k: &K, n: usize) {
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut t0 = 0;
    while t0 < n {
        let len = (n - t0).min(24);
        let nv = len.div_ceil(8);
        let rem = (len - 8 * (nv - 1)) as i32;
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), lane);
        // SAFETY: the caller's; `t0 + len <= n`.
        unsafe {
            match (nv, rem == 8) {
                (1, true) => chunk256::<1, false>(k, t0, mask),
                (1, false) => chunk256::<1, true>(k, t0, mask),
                (2, true) => chunk256::<2, false>(k, t0, mask),
                (2, false) => chunk256::<2, true>(k, t0, mask),
                (_, true) => chunk256::<3, false>(k, t0, mask),
                (_, false) => chunk256::<3, true>(k, t0, mask),
            }
        }
        t0 += len;
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn chunk256<const V: usize, const M: bool>(k: &K, t0: usize, mask: __m256i) {
    // SAFETY (both): the caller's.
    for g in 0..k.groups {
        unsafe { group256::<V, M>(k, g, t0, mask) };
    }
    for o in 4 * k.groups..k.n_out {
        unsafe { row256::<V, M>(k, o, t0, mask) };
    }
}

/// Vector `v` of `V` at `p` (the last one masked when `M`).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn load256<const V: usize, const M: bool>(p: *const f32, v: usize, mask: __m256i) -> __m256 {
    // SAFETY: the caller's: lanes under the mask are in bounds.
    unsafe {
        if M && v + 1 == V {
            _mm256_maskload_ps(p.add(8 * v), mask)
        } else {
            _mm256_loadu_ps(p.add(8 * v))
        }
    }
}

#[target_feature(enable = "avx2")]
#[inline]
unsafe fn store256<const V: usize, const M: bool>(
    k: &K,
    o: usize,
    t0: usize,
    mask: __m256i,
    acc: &[__m256; V],
) {
    // SAFETY: the caller's: row `o` < `n_out`, samples under the mask < `n`.
    unsafe {
        let p = k.dst.add(o * k.dst_stride + t0);
        if let Some(l) = k.layer {
            let b = _mm256_set1_ps(if l.has_bias { *l.bias.add(o) } else { 0.0 });
            let m = _mm256_set1_ps(*l.mix.add(o));
            let h = l.acc.add(o * l.acc_stride + t0);
            for (v, &a) in acc.iter().enumerate() {
                let c = load256::<V, M>(l.cond.add(t0), v, mask);
                let y = tanh_rational256(_mm256_add_ps(a, _mm256_fmadd_ps(m, c, b)));
                let s = _mm256_add_ps(load256::<V, M>(h, v, mask), y);
                if M && v + 1 == V {
                    _mm256_maskstore_ps(p.add(8 * v), mask, y);
                    _mm256_maskstore_ps(h.add(8 * v), mask, s);
                } else {
                    _mm256_storeu_ps(p.add(8 * v), y);
                    _mm256_storeu_ps(h.add(8 * v), s);
                }
            }
            return;
        }
        let epi = *k.epi;
        for (v, &a) in acc.iter().enumerate() {
            let y = match epi {
                Epi::Set(None) => _mm256_add_ps(a, _mm256_setzero_ps()),
                Epi::Set(Some(b)) => _mm256_add_ps(a, _mm256_set1_ps(*b.get_unchecked(o))),
                Epi::Add => _mm256_add_ps(a, load256::<V, M>(p, v, mask)),
                Epi::AddBias(b) => _mm256_add_ps(
                    _mm256_add_ps(a, _mm256_set1_ps(*b.get_unchecked(o))),
                    load256::<V, M>(p, v, mask),
                ),
                Epi::AddBiasFrom { bias, from, stride } => _mm256_add_ps(
                    _mm256_add_ps(a, _mm256_set1_ps(*bias.get_unchecked(o))),
                    load256::<V, M>(from.as_ptr().add(o * stride + t0), v, mask),
                ),
            };
            if M && v + 1 == V {
                _mm256_maskstore_ps(p.add(8 * v), mask, y);
            } else {
                _mm256_storeu_ps(p.add(8 * v), y);
            }
        }
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn group256<const V: usize, const M: bool>(k: &K, g: usize, t0: usize, mask: __m256i) {
    let n_in = k.rows.len();
    let mut acc = [[_mm256_setzero_ps(); V]; 4];
    // SAFETY: the caller's; group `g`'s weights are `4 * n_in` floats at `g * 4 * n_in`.
    unsafe {
        let wg = k.w.add(g * 4 * n_in);
        for (j, &off) in k.rows.iter().enumerate() {
            let s = k.src.add(off + t0);
            let mut x = [_mm256_setzero_ps(); V];
            for (v, x) in x.iter_mut().enumerate() {
                *x = load256::<V, M>(s, v, mask);
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let b = _mm256_broadcast_ss(&*wg.add(4 * j + r));
                for (a, &x) in acc.iter_mut().zip(&x) {
                    *a = _mm256_fmadd_ps(b, x, *a);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            store256::<V, M>(k, 4 * g + r, t0, mask, acc);
        }
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn row256<const V: usize, const M: bool>(k: &K, o: usize, t0: usize, mask: __m256i) {
    let n_in = k.rows.len();
    let mut acc = [_mm256_setzero_ps(); V];
    // SAFETY: the caller's; row `o`'s weights are `n_in` floats after the groups'.
    unsafe {
        let wr = k.w.add(4 * k.groups * n_in + (o - 4 * k.groups) * n_in);
        for (j, &off) in k.rows.iter().enumerate() {
            let s = k.src.add(off + t0);
            let b = _mm256_broadcast_ss(&*wr.add(j));
            for (v, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(b, load256::<V, M>(s, v, mask), *a);
            }
        }
        store256::<V, M>(k, o, t0, mask, &acc);
    }
}
