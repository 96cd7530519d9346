//! Loops of the chain that the compiler does not vectorise well on its own (it shuffles
//! lanes when a loop mixes f32 and f64), written out for AVX-512 and AVX2 beside a
//! portable build of the same arithmetic in the same order: all give the same bits, so
//! which one runs never changes a sample. Chosen once, when the owner is built.

use crate::FLUSH;

/// Which build runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Simd {
    avx2: bool,
    /// AVX2 and FMA: for loops whose AVX2 build fuses (and so rounds differently).
    fma: bool,
    /// AVX-512F too: the chain's two passes sixteen lanes wide (half the instructions of
    /// AVX2, the same bits).
    avx512: bool,
}

impl Simd {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2");
            let fma = avx2 && std::arch::is_x86_feature_detected!("fma");
            Simd {
                avx2,
                fma,
                avx512: fma && std::arch::is_x86_feature_detected!("avx512f"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Simd::portable()
        }
    }

    pub(crate) fn fma(self) -> bool {
        self.fma
    }

    /// AVX-512F, AVX2 and FMA.
    pub(crate) fn avx512(self) -> bool {
        self.avx512
    }

    #[cfg(any(test, not(target_arch = "x86_64")))]
    pub(crate) fn portable() -> Self {
        Simd {
            avx2: false,
            fma: false,
            avx512: false,
        }
    }

    /// What the CPU has but AVX-512: the AVX2 build, for tests that compare the builds.
    #[cfg(test)]
    pub(crate) fn without_avx512(self) -> Self {
        Simd {
            avx512: false,
            ..self
        }
    }

    /// The builds this CPU can run, widest first; each after the first is one the chain
    /// would not choose here, for tests that compare them.
    #[cfg(test)]
    pub(crate) fn builds() -> Vec<Self> {
        let mut all = vec![Simd::detect()];
        for b in [Simd::detect().without_avx512(), Simd::portable()] {
            if !all.contains(&b) {
                all.push(b);
            }
        }
        all
    }

    /// `sum(w[i] * clean(x[i])^2)` in f64 (each square exact) and `max |clean(x[i])|`,
    /// over the shorter length: the noise gate's detector over a block at once.
    #[inline]
    pub(crate) fn weighted_power_and_peak(self, x: &[f32], w: &[f64]) -> (f64, f32) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only where the CPU has it.
            return unsafe { weighted_power_and_peak_avx2(x, w) };
        }
        weighted_power_and_peak_portable(x, w)
    }
}

impl Simd {
    /// `dst[i] = (clean(l[i]) + clean(r[i])) / 2` (`r`: `None` for `clean(l[i])`), over
    /// the shortest length; returns the largest |dst[i]|.
    #[inline]
    pub(crate) fn mix_peak(self, dst: &mut [f32], l: &[f32], r: Option<&[f32]>) -> f32 {
        self.mix_in(dst, l, r, 1.0, None).0
    }

    /// `mix_peak` with each sample then times `gain`, and with `w` also the noise gate's
    /// block sum over the result, `weighted_power_and_peak(dst, w).0` but for what the
    /// gain took below the flush level (see `weighted_sum_portable`), in the same pass:
    /// the chain's whole input stage in its usual configuration. Returns the largest
    /// |dst[i]| and the sum (0 without `w`). The same bits as the stages one by one.
    /// Always inlined: once a block, where the chain's own build has already chosen
    /// the instruction set, the call and its length checks were a visible share of it.
    #[inline(always)]
    pub(crate) fn mix_in(
        self,
        dst: &mut [f32],
        l: &[f32],
        r: Option<&[f32]>,
        gain: f32,
        w: Option<&[f64]>,
    ) -> (f32, f64) {
        let n = dst
            .len()
            .min(l.len())
            .min(r.map_or(usize::MAX, |r| r.len()))
            .min(w.map_or(usize::MAX, |w| w.len()));
        let (dst, l, r) = (&mut dst[..n], &l[..n], r.map(|r| &r[..n]));
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            // SAFETY: `avx512` is set only where the CPU has AVX-512F, AVX2 and FMA.
            return unsafe {
                match w {
                    Some(w) => mix_in_avx512::<true>(dst, l, r, gain, &w[..n]),
                    None => mix_in_avx512::<false>(dst, l, r, gain, &[]),
                }
            };
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only where the CPU has it.
            return unsafe {
                match w {
                    Some(w) => mix_in_avx2::<true>(dst, l, r, gain, &w[..n]),
                    None => mix_in_avx2::<false>(dst, l, r, gain, &[]),
                }
            };
        }
        let top = mix_peak_portable(dst, l, r, gain);
        let sum = w.map_or(0.0, |w| weighted_sum_portable::<false>(dst, w).0);
        (top, sum)
    }

    /// `dst` becomes `src` (over the shorter length); returns the largest |src[i]|, NaN
    /// passed over.
    #[inline]
    pub(crate) fn copy_peak(self, dst: &mut [f32], src: &[f32]) -> f32 {
        let n = dst.len().min(src.len());
        dst[..n].copy_from_slice(&src[..n]);
        self.peak(&src[..n])
    }

    /// The largest |x[i]|, NaN passed over (a meter shows the rest).
    #[inline]
    pub(crate) fn peak(self, x: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: as above.
            return unsafe { peak_avx2(x) };
        }
        peak_portable(x)
    }
}

#[inline(always)]
fn larger(m: f32, x: f32) -> f32 {
    if x > m {
        x
    } else {
        m
    }
}

fn mix_peak_portable(dst: &mut [f32], l: &[f32], r: Option<&[f32]>, gain: f32) -> f32 {
    let mut top = 0.0f32;
    match r {
        Some(r) => {
            for ((d, l), r) in dst.iter_mut().zip(l).zip(r) {
                *d = (crate::clean(*l) + crate::clean(*r)) * 0.5 * gain;
                top = larger(top, d.abs());
            }
        }
        None => {
            for (d, l) in dst.iter_mut().zip(l) {
                *d = crate::clean(*l) * gain;
                top = larger(top, d.abs());
            }
        }
    }
    top
}

fn peak_portable(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| larger(m, v.abs()))
}

/// The largest of a vector's lanes (none NaN).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) fn max_lane(v: std::arch::x86_64::__m256) -> f32 {
    use std::arch::x86_64::*;
    let h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    let h = _mm_max_ss(h, _mm_movehdup_ps(h));
    _mm_cvtss_f32(h)
}

/// The lane-wise maximum of a 512-bit vector's two halves (none NaN).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) fn max_halves(v: std::arch::x86_64::__m512) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let hi = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v));
    _mm256_max_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(hi))
}

/// `mix_peak_portable` over what the vector steps of a mix left from `i` on. Skipped on
/// whole steps, the usual block: the call would cost the caller's vectors a spill.
#[inline(always)]
fn tail_peak(dst: &mut [f32], l: &[f32], r: Option<&[f32]>, gain: f32, i: usize) -> f32 {
    if i < dst.len() {
        mix_peak_portable(&mut dst[i..], &l[i..], r.map(|r| &r[i..]), gain)
    } else {
        0.0
    }
}

/// The gate's sum over eight samples `v` of a sixteen-sample step, half `h` of it: lane j
/// of `acc[2h]` and `acc[2h + 1]` gains `w[j] * v[j]^2` and `w[j + 4] * v[j + 4]^2` in
/// f64 (each square exact).
///
/// # Safety
/// `w` points to eight readable f64; the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn power_step(
    acc: &mut [std::arch::x86_64::__m256d; 4],
    h: usize,
    v: std::arch::x86_64::__m256,
    w: *const f64,
) {
    use std::arch::x86_64::*;
    // SAFETY: eight f64 at `w` (the caller's promise); unaligned loads.
    let (w_lo, w_hi) = unsafe { (_mm256_loadu_pd(w), _mm256_loadu_pd(w.add(4))) };
    let p_lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    let p_hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
    acc[2 * h] = _mm256_add_pd(acc[2 * h], _mm256_mul_pd(w_lo, _mm256_mul_pd(p_lo, p_lo)));
    acc[2 * h + 1] = _mm256_add_pd(
        acc[2 * h + 1],
        _mm256_mul_pd(w_hi, _mm256_mul_pd(p_hi, p_hi)),
    );
}

/// `clean` on a vector: finite and at least FLUSH in magnitude, else 0 (NaN fails both).
/// On the bits, one comparison: for a non-negative float the order of its bits is its
/// order (NaN's above infinity's), so the magnitude's bits are kept where they lie in
/// [FLUSH, infinity); shifted by i32::MIN - FLUSH that range is the bottom of the signed
/// range and everything else is above it. Four operations where two float comparisons
/// took five, on every sample of the input twice.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn clean_avx2(v: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    const FLUSH_BITS: i32 = FLUSH.to_bits() as i32;
    const SHIFT: i32 = i32::MIN.wrapping_sub(FLUSH_BITS);
    const KEPT_BELOW: i32 = i32::MIN.wrapping_add(f32::INFINITY.to_bits() as i32 - FLUSH_BITS);
    let bits = _mm256_castps_si256(v);
    let a = _mm256_and_si256(bits, _mm256_set1_epi32(i32::MAX));
    let t = _mm256_add_epi32(a, _mm256_set1_epi32(SHIFT));
    let keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(KEPT_BELOW), t);
    _mm256_castsi256_ps(_mm256_and_si256(bits, keep))
}

/// Sixteen samples a step, each half of eight mixed, scaled, stored and measured; with
/// `POWER` also summed as `weighted_power_and_peak_avx2` sums them (`w` as long as
/// `dst`, else unused); the rest as the portable build does it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mix_in_avx2<const POWER: bool>(
    dst: &mut [f32],
    l: &[f32],
    r: Option<&[f32]>,
    gain: f32,
    w: &[f64],
) -> (f32, f64) {
    use std::arch::x86_64::*;
    // All of one length (see `mix_in`).
    let n = dst.len();
    let whole = n / 16 * 16;
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    // Cleaned, two inputs sum to 0 or at least 2^-123 in magnitude, so halving is exact
    // and (sum * 0.5) * gain rounds once, as sum * (0.5 * gain) does: one multiply.
    let (g_stereo, g) = (_mm256_set1_ps(0.5 * gain), _mm256_set1_ps(gain));
    let (pl, pd, pw) = (l.as_ptr(), dst.as_mut_ptr(), w.as_ptr());
    let pr = r.map(|r| r.as_ptr());
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut top = [_mm256_setzero_ps(); 2];
    let mut i = 0;
    // (No closures here: a closure would not get this function's target features.)
    while i < whole {
        for (h, top) in top.iter_mut().enumerate() {
            let at = i + 8 * h;
            // SAFETY: at + 8 <= whole <= n, within every slice (and `w` with POWER).
            unsafe {
                let a = clean_avx2(_mm256_loadu_ps(pl.add(at)));
                let v = match pr {
                    Some(pr) => _mm256_mul_ps(
                        _mm256_add_ps(a, clean_avx2(_mm256_loadu_ps(pr.add(at)))),
                        g_stereo,
                    ),
                    None => _mm256_mul_ps(a, g),
                };
                _mm256_storeu_ps(pd.add(at), v);
                // No lane is NaN (cleaned): `max` is the portable `larger`.
                *top = _mm256_max_ps(_mm256_and_ps(v, abs_mask), *top);
                if POWER {
                    power_step(&mut acc, h, v, pw.add(at));
                }
            }
        }
        i += 16;
    }
    let tail_top = tail_peak(dst, l, r, gain, i);
    if !POWER {
        return (
            larger(max_lane(_mm256_max_ps(top[0], top[1])), tail_top),
            0.0,
        );
    }
    let (sum, top) = finish_avx2::<false>(acc, top, &dst[i..], &w[i..]);
    (top, sum)
}

/// `clean` as a mask: the lanes finite and at least FLUSH in magnitude (NaN fails both).
/// (A function, not a closure, so that it surely gets the target features.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn kept_avx512(v: std::arch::x86_64::__m512) -> std::arch::x86_64::__mmask16 {
    use std::arch::x86_64::*;
    let a = _mm512_abs_ps(v);
    let big = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, _mm512_set1_ps(FLUSH));
    _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(big, a, _mm512_set1_ps(f32::INFINITY))
}

/// `mix_in_avx2` sixteen lanes wide: the same operations on each lane, the gate's
/// sixteen f64 sums in two vectors (lanes 0-7 and 8-15), summed in the same tree.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn mix_in_avx512<const POWER: bool>(
    dst: &mut [f32],
    l: &[f32],
    r: Option<&[f32]>,
    gain: f32,
    w: &[f64],
) -> (f32, f64) {
    use std::arch::x86_64::*;
    // All of one length (see `mix_in`).
    let n = dst.len();
    let whole = n / 16 * 16;
    let (half, g) = (_mm512_set1_ps(0.5), _mm512_set1_ps(gain));
    let (pl, pd, pw) = (l.as_ptr(), dst.as_mut_ptr(), w.as_ptr());
    let pr = r.map(|r| r.as_ptr());
    let (mut acc_lo, mut acc_hi) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    let mut top = _mm512_setzero_ps();
    let mut i = 0;
    while i < whole {
        // SAFETY: i + 16 <= whole <= n, within every slice (and `w` with POWER).
        unsafe {
            let x = _mm512_loadu_ps(pl.add(i));
            let a = _mm512_maskz_mov_ps(kept_avx512(x), x);
            let v = match pr {
                Some(pr) => {
                    let y = _mm512_loadu_ps(pr.add(i));
                    // a + clean(y): where y is dropped, a alone (a + 0 is a: never -0).
                    _mm512_mul_ps(_mm512_mask_add_ps(a, kept_avx512(y), a, y), half)
                }
                None => a,
            };
            let v = _mm512_mul_ps(v, g);
            _mm512_storeu_ps(pd.add(i), v);
            // No lane is NaN (cleaned): `max` is the portable `larger`.
            top = _mm512_max_ps(_mm512_abs_ps(v), top);
            if POWER {
                let (w_lo, w_hi) = (_mm512_loadu_pd(pw.add(i)), _mm512_loadu_pd(pw.add(i + 8)));
                let p_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
                let hi = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v));
                let p_hi = _mm512_cvtps_pd(_mm256_castpd_ps(hi));
                acc_lo = _mm512_add_pd(acc_lo, _mm512_mul_pd(w_lo, _mm512_mul_pd(p_lo, p_lo)));
                acc_hi = _mm512_add_pd(acc_hi, _mm512_mul_pd(w_hi, _mm512_mul_pd(p_hi, p_hi)));
            }
        }
        i += 16;
    }
    let top = max_halves(top);
    let tail_top = tail_peak(dst, l, r, gain, i);
    if !POWER {
        return (larger(max_lane(top), tail_top), 0.0);
    }
    // The AVX2 build's four accumulators: lanes 0-3, 4-7, 8-11, 12-15.
    let acc = [
        _mm512_castpd512_pd256(acc_lo),
        _mm512_extractf64x4_pd::<1>(acc_lo),
        _mm512_castpd512_pd256(acc_hi),
        _mm512_extractf64x4_pd::<1>(acc_hi),
    ];
    let (sum, top) = finish_avx2::<false>(acc, [top, top], &dst[i..], &w[i..]);
    (top, sum)
}

/// `finish` on the vector accumulators, in registers: the same tree of adds (lane j of
/// vector k is lane 4k + j there), the same maxima.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn finish_avx2<const CLEAN: bool>(
    acc: [std::arch::x86_64::__m256d; 4],
    top: [std::arch::x86_64::__m256; 2],
    xt: &[f32],
    wt: &[f64],
) -> (f64, f32) {
    use std::arch::x86_64::*;
    // a[j] = (acc[j] + acc[j + 4]) + (acc[j + 8] + acc[j + 12]).
    let a = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
    // (a[0] + a[2]) + (a[1] + a[3]).
    let h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd::<1>(a));
    let sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    let top = max_lane(_mm256_max_ps(top[0], top[1]));
    finish_tail::<CLEAN>(sum, top, xt, wt)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn peak_avx2(x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    // max(a, m) returns m when a is NaN: NaN passed over, as `larger` does.
    let mut m = [_mm256_setzero_ps(); 4];
    let n = x.len();
    let mut i = 0;
    while i + 8 <= n {
        let group = if i + 32 <= n { 4 } else { 1 };
        for (k, m) in m.iter_mut().enumerate().take(group) {
            // SAFETY: i + 8 k + 8 <= x.len().
            let a = unsafe { _mm256_and_ps(_mm256_loadu_ps(x.as_ptr().add(i + 8 * k)), abs_mask) };
            *m = _mm256_max_ps(a, *m);
        }
        i += 8 * group;
    }
    let m = _mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3]));
    larger(max_lane(m), peak_portable(&x[i..]))
}

/// Lane j of sixteen takes samples j, j + 16, ... (four f64 vectors, so that the sums do
/// not wait on each other); the lanes are summed in a fixed tree, then the remainder in
/// order.
fn weighted_power_and_peak_portable(x: &[f32], w: &[f64]) -> (f64, f32) {
    weighted_sum_portable::<true>(x, w)
}

/// The sum and peak of `weighted_power_and_peak`, of `clean(x)` with `CLEAN`, else of `x`
/// as it is (the chain's input, cleaned before its gain: what a gain takes below the
/// flush level adds under 1e-56 to a level that is at least 1e-10 on this path, far
/// below its last bit).
fn weighted_sum_portable<const CLEAN: bool>(x: &[f32], w: &[f64]) -> (f64, f32) {
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &w[..n]);
    let (mut acc, mut top) = ([0.0f64; 16], [0.0f32; 16]);
    let (xs, ws) = (x.chunks_exact(16), w.chunks_exact(16));
    let (xt, wt) = (xs.remainder(), ws.remainder());
    for (x, w) in xs.zip(ws) {
        for j in 0..16 {
            let v = if CLEAN { crate::clean(x[j]) } else { x[j] };
            acc[j] += w[j] * (v as f64 * v as f64);
            top[j] = larger(top[j], v.abs());
        }
    }
    finish::<CLEAN>(acc, top, xt, wt)
}

#[inline(always)]
fn finish<const CLEAN: bool>(acc: [f64; 16], top: [f32; 16], xt: &[f32], wt: &[f64]) -> (f64, f32) {
    // Vector-wise first (lanes j, j + 4, j + 8, j + 12), then within the vector.
    let a: [f64; 4] = std::array::from_fn(|j| (acc[j] + acc[j + 4]) + (acc[j + 8] + acc[j + 12]));
    let sum = (a[0] + a[2]) + (a[1] + a[3]);
    // As a tree too: a fold would wait on sixteen maxima in a row.
    let t8: [f32; 8] = std::array::from_fn(|j| larger(top[j], top[j + 8]));
    let t4: [f32; 4] = std::array::from_fn(|j| larger(t8[j], t8[j + 4]));
    let top = larger(larger(t4[0], t4[2]), larger(t4[1], t4[3]));
    finish_tail::<CLEAN>(sum, top, xt, wt)
}

/// The remainder after the lanes, in order.
#[inline(always)]
fn finish_tail<const CLEAN: bool>(
    mut sum: f64,
    mut top: f32,
    xt: &[f32],
    wt: &[f64],
) -> (f64, f32) {
    for (x, w) in xt.iter().zip(wt) {
        let v = if CLEAN { crate::clean(*x) } else { *x };
        sum += w * (v as f64 * v as f64);
        top = larger(top, v.abs());
    }
    (sum, top)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn weighted_power_and_peak_avx2(x: &[f32], w: &[f64]) -> (f64, f32) {
    use std::arch::x86_64::*;
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &w[..n]);
    let (xs, ws) = (x.chunks_exact(16), w.chunks_exact(16));
    let (xt, wt) = (xs.remainder(), ws.remainder());
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut top = [_mm256_setzero_ps(); 2];
    for (x, w) in xs.zip(ws) {
        for (h, top) in top.iter_mut().enumerate() {
            // SAFETY: `x` holds 16 f32 and `w` 16 f64 (exact chunks); unaligned loads.
            let v = clean_avx2(unsafe { _mm256_loadu_ps(x.as_ptr().add(8 * h)) });
            // SAFETY: as above, eight f64 from 8 h.
            unsafe { power_step(&mut acc, h, v, w.as_ptr().add(8 * h)) };
            // Neither operand is NaN: the same as the portable `larger`.
            *top = _mm256_max_ps(_mm256_and_ps(v, abs_mask), *top);
        }
    }
    finish_avx2::<true>(acc, top, xt, wt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_build_gives_the_same_bits() {
        let x: Vec<f32> = (0..1000)
            .map(|i| match i % 97 {
                3 => f32::NAN,
                5 => f32::INFINITY,
                7 => -1e-35,
                // The edges of what `clean` keeps, each side.
                11 => f32::NEG_INFINITY,
                13 => FLUSH,
                17 => -FLUSH,
                19 => f32::from_bits(FLUSH.to_bits() - 1),
                23 => -f32::NAN,
                29 => f32::MAX,
                31 => -1e-40,
                _ => ((i as f32) * 0.37).sin() * 0.8,
            })
            .collect();
        let w: Vec<f64> = (0..1000).map(|i| 0.999f64.powi(i)).collect();
        let builds = Simd::builds();
        if !Simd::detect().avx512() {
            println!("skipped the AVX-512 build: this CPU has no AVX-512F");
        }
        if builds.len() == 1 {
            println!("skipped the AVX2 build: this CPU has no AVX2");
        }
        for (simd, n) in builds
            .into_iter()
            .flat_map(|b| [0, 1, 7, 8, 9, 16, 64, 511, 1000].map(|n| (b, n)))
        {
            let (a, b) = (&x[..n], &w[..n]);
            let want = weighted_power_and_peak_portable(a, b);
            assert_eq!(simd.weighted_power_and_peak(a, b), want, "n = {n}");
            // The portable build against the plain definition.
            let sum: f64 = a
                .iter()
                .zip(b)
                .map(|(x, w)| w * (crate::clean(*x) as f64).powi(2))
                .sum();
            let top = a.iter().fold(0.0f32, |m, x| m.max(crate::clean(*x).abs()));
            assert_eq!(want.1, top);
            assert!(
                (want.0 - sum).abs() <= 1e-12 * sum.max(1e-30),
                "{} vs {sum}",
                want.0
            );

            let r: Vec<f32> = a.iter().rev().copied().collect();
            for right in [None, Some(&r[..])] {
                let (mut d0, mut d1) = (vec![9.0f32; n], vec![9.0f32; n]);
                let p0 = Simd::portable().mix_peak(&mut d0, a, right);
                let p1 = simd.mix_peak(&mut d1, a, right);
                assert_eq!(p0.to_bits(), p1.to_bits(), "n = {n}");
                assert!(d0.iter().zip(&d1).all(|(x, y)| x.to_bits() == y.to_bits()));
                let top = d0.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                assert_eq!(p0, top);
            }
            // The fused input pass: the mix, the gain, then the gate's sum, in both builds.
            for right in [None, Some(&r[..])] {
                for gain in [1.0f32, 0.3, -2.0] {
                    let mut staged = vec![0.0f32; n];
                    let peak = Simd::portable().mix_peak(&mut staged, a, right);
                    staged.iter_mut().for_each(|v| *v *= gain);
                    let (sum, _) = weighted_sum_portable::<false>(&staged, b);
                    for build in [Simd::portable(), simd] {
                        let mut d = vec![9.0f32; n];
                        let (p, s) = build.mix_in(&mut d, a, right, gain, Some(b));
                        assert!(d
                            .iter()
                            .zip(&staged)
                            .all(|(x, y)| x.to_bits() == y.to_bits()));
                        assert_eq!(p, peak * gain.abs(), "n = {n}");
                        assert_eq!(s.to_bits(), sum.to_bits(), "n = {n}");
                        assert_eq!(build.mix_in(&mut d, a, right, gain, None).0, p);
                    }
                    // Without values below the flush level the sum is the gate's own.
                    if gain == 1.0
                        && a.iter()
                            .all(|x| !x.is_finite() || x.abs() >= FLUSH || *x == 0.0)
                    {
                        assert_eq!(
                            sum.to_bits(),
                            weighted_power_and_peak_portable(&staged, b).0.to_bits()
                        );
                    }
                }
            }
            let (mut d0, mut d1) = (vec![0.0f32; n], vec![0.0f32; n]);
            let p0 = Simd::portable().copy_peak(&mut d0, a);
            let p1 = simd.copy_peak(&mut d1, a);
            assert_eq!(p0.to_bits(), p1.to_bits(), "n = {n}");
            let finite_top = a
                .iter()
                .filter(|x| !x.is_nan())
                .fold(0.0f32, |m, x| m.max(x.abs()));
            assert_eq!(p0, finite_top, "NaN passed over");
        }
    }
}
