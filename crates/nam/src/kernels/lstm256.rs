//! The AVX2 LSTM's activations: Eigen's rational tanh (the coefficients of
//! [`tanh_rational`](crate::activation::tanh_rational)) arranged for the recurrence,
//! whose every step runs ten of these on 8 lanes (the 1x16: eight for the gates, two for
//! the cells) beside 136 multiply-adds, all on the same two FMA pipes.
//!
//! Against the WaveNets' `tanh_rational256` (and this build's LSTM before), per vector: |x| clamped by one `min` and
//! the sign put back by a bit operation (which runs on any pipe) instead of a `max`, a
//! `min` and a blend; no separate path for |x| < 4e-4, where the quotient is within a
//! couple of ulp of x (what the LSTM adds it to is larger by orders of magnitude); the
//! division a reciprocal estimate and a Newton step; and for a sigmoid gate
//! (0.5 + 0.5 tanh(x), x already halved) the 0.5 folded into the numerator's
//! coefficients, so that the last multiply-add adds the 0.5: 16 instructions on the FMA
//! pipes where 22 were.
//!
//! Halving every coefficient of a polynomial halves every partial result exactly (no
//! value here is near the ends of the exponent range), so [`lstm_act256`] and
//! [`lstm_act256_with`] (a lane's scale and offset as vectors, for gate rows that
//! straddle a vector) give the same bits: the block kernel (`lstm/block256.rs`) uses the
//! one, the step at a time (`lstm/step.rs`) the other.

use std::arch::x86_64::*;

const CLAMP: f32 = 7.905_311;
/// The numerator's odd coefficients, x^1 to x^13.
#[allow(clippy::excessive_precision)]
const P: [f32; 7] = [
    4.893_524_6e-3,
    6.372_619_3e-4,
    1.485_722_4e-5,
    5.122_297e-8,
    -8.604_671_5e-11,
    2.000_187_9e-13,
    -2.760_768_5e-16,
];
/// The denominator's even coefficients, x^0 to x^6.
#[allow(clippy::excessive_precision)]
const Q: [f32; 4] = [
    4.893_525_2e-3,
    2.268_434_6e-3,
    1.185_347_1e-4,
    1.198_258_4e-6,
];

/// `off + scale * tanh(x)` for the LSTM's gates and cells: `SIGMOID` gives 0.5 + 0.5
/// tanh(x) (the sigmoid of 2x), otherwise tanh(x). `ESTRIN` evaluates the numerator by
/// Estrin's scheme (two more multiplies, three multiply-adds less deep) where the step
/// waits on this result alone (the cells' tanh); Horner's where several run side by side
/// and the pipes' throughput bounds them (the gates).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn lstm_act256<const SIGMOID: bool, const ESTRIN: bool>(x: __m256) -> __m256 {
    let s = if SIGMOID { 0.5 } else { 1.0 };
    let (p, r) = parts::<ESTRIN>(x, s);
    let off = if SIGMOID {
        _mm256_set1_ps(0.5)
    } else {
        _mm256_setzero_ps()
    };
    _mm256_fmadd_ps(p, r, off)
}

/// [`lstm_act256`] with each lane's scale (0.5 or 1) and offset (0.5 or 0) given: the
/// same bits as the sigmoid or the tanh on each lane.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn lstm_act256_with<const ESTRIN: bool>(
    x: __m256,
    scale: __m256,
    off: __m256,
) -> __m256 {
    let (p, r) = parts::<ESTRIN>(x, 1.0);
    _mm256_fmadd_ps(_mm256_mul_ps(p, scale), r, off)
}

/// `s` times the numerator (its sign x's) and about 1 / the denominator.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn parts<const ESTRIN: bool>(x: __m256, s: f32) -> (__m256, __m256) {
    let c = _mm256_set1_ps;
    let sign = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MIN));
    let a = _mm256_min_ps(_mm256_andnot_ps(sign, x), c(CLAMP));
    let z = _mm256_mul_ps(a, a);
    let k = |i: usize| c(s * P[i]);
    let (p, q) = if ESTRIN {
        let z2 = _mm256_mul_ps(z, z);
        let z4 = _mm256_mul_ps(z2, z2);
        let m = |i: usize| _mm256_fmadd_ps(k(i + 1), z, k(i));
        let p = _mm256_fmadd_ps(
            _mm256_fmadd_ps(k(6), z2, m(4)),
            z4,
            _mm256_fmadd_ps(m(2), z2, m(0)),
        );
        let q = _mm256_fmadd_ps(
            _mm256_fmadd_ps(c(Q[3]), z, c(Q[2])),
            z2,
            _mm256_fmadd_ps(c(Q[1]), z, c(Q[0])),
        );
        (p, q)
    } else {
        let mut p = k(6);
        for i in (0..6).rev() {
            p = _mm256_fmadd_ps(p, z, k(i));
        }
        let mut q = c(Q[3]);
        for i in (0..3).rev() {
            q = _mm256_fmadd_ps(q, z, c(Q[i]));
        }
        (p, q)
    };
    // p(a) a >= 0: x's sign bit goes in by an exclusive or.
    let p = _mm256_xor_ps(_mm256_mul_ps(p, a), _mm256_and_ps(sign, x));
    let r0 = _mm256_rcp_ps(q);
    let r = _mm256_fmadd_ps(r0, _mm256_fnmadd_ps(q, r0, c(1.0)), r0);
    (p, r)
}

/// [`lstm_act256_with`] (Horner's) over a row of gates whose length is a multiple of 8.
///
/// # Safety
/// The CPU must have AVX2 and FMA; all three slices of one length, a multiple of 8.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) unsafe fn lstm_gates_row_avx2(g: &mut [f32], scale: &[f32], off: &[f32]) {
    debug_assert!(g.len().is_multiple_of(8) && scale.len() == g.len() && off.len() == g.len());
    for i in (0..g.len()).step_by(8) {
        // SAFETY: 8 floats at i in each (the caller's lengths).
        unsafe {
            let y = lstm_act256_with::<false>(
                _mm256_loadu_ps(g.as_ptr().add(i)),
                _mm256_loadu_ps(scale.as_ptr().add(i)),
                _mm256_loadu_ps(off.as_ptr().add(i)),
            );
            _mm256_storeu_ps(g.as_mut_ptr().add(i), y);
        }
    }
}

/// tanh (Estrin's, as [`lstm_act256`] for the cells) over a row whose length is a
/// multiple of 8.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `xs.len()` a multiple of 8.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) unsafe fn lstm_cells_row_avx2(xs: &mut [f32]) {
    debug_assert!(xs.len().is_multiple_of(8));
    for chunk in xs.chunks_exact_mut(8) {
        // SAFETY: 8 floats.
        unsafe {
            let y = lstm_act256::<false, true>(_mm256_loadu_ps(chunk.as_ptr()));
            _mm256_storeu_ps(chunk.as_mut_ptr(), y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep() -> Vec<f32> {
        let mut xs = vec![
            0.0f32,
            -0.0,
            20.0,
            -20.0,
            f32::MAX,
            -f32::MAX,
            1e-30,
            -1e-30,
        ];
        let mut x = 1e-6f32;
        while x < 12.0 {
            xs.extend([x, -x]);
            x *= 1.0003;
        }
        xs.truncate(xs.len() / 8 * 8);
        xs
    }

    /// Each lane through `f`, 8 at a time.
    fn run(xs: &[f32], f: impl Fn(__m256) -> __m256) -> Vec<f32> {
        let mut out = vec![0.0f32; xs.len()];
        for (o, x) in out.chunks_exact_mut(8).zip(xs.chunks_exact(8)) {
            // SAFETY: 8 floats each.
            unsafe { _mm256_storeu_ps(o.as_mut_ptr(), f(_mm256_loadu_ps(x.as_ptr()))) };
        }
        out
    }

    fn has_avx2() -> bool {
        let yes = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        if !yes {
            eprintln!("SKIPPED: this CPU lacks AVX2 or FMA");
        }
        yes
    }

    /// tanh within 5 ulp and odd, the sigmoid (0.5 + 0.5 tanh, whose sum rounds to the
    /// ulp of 0.5 near 0) within 3 x 2^-24, in both evaluation orders: what the LSTM's
    /// parity with the trainer rests on. Measured: tanh 4.73 ulp (Horner's) and 4.91
    /// (Estrin's), near x = 2.6-2.9, where the reciprocal estimate's Newton step leaves
    /// its error (the Estrin tanh with the blend and the two-sided clamp this replaced:
    /// 4.91 at the same x); the sigmoid 2.52.
    #[test]
    fn the_lstm_tanh_is_within_5_ulp_and_the_sigmoid_3() {
        if !has_avx2() {
            return;
        }
        let xs = sweep();
        let ulps = |y: f32, e: f64| {
            let u = (e.abs() as f32).max(f32::MIN_POSITIVE).to_bits();
            let ulp = (f32::from_bits(u + 1) - f32::from_bits(u)) as f64;
            (y as f64 - e).abs() / ulp
        };
        // SAFETY (each closure): the CPU has AVX2 and FMA.
        let cases: [(&str, bool, Vec<f32>); 4] = [
            (
                "tanh, Horner",
                false,
                run(&xs, |v| unsafe { lstm_act256::<false, false>(v) }),
            ),
            (
                "tanh, Estrin",
                false,
                run(&xs, |v| unsafe { lstm_act256::<false, true>(v) }),
            ),
            (
                "sigmoid, Horner",
                true,
                run(&xs, |v| unsafe { lstm_act256::<true, false>(v) }),
            ),
            (
                "sigmoid, Estrin",
                true,
                run(&xs, |v| unsafe { lstm_act256::<true, true>(v) }),
            ),
        ];
        for (name, sigmoid, ys) in cases {
            let mut worst = 0.0f64;
            let mut at = 0.0f32;
            for (&x, &y) in xs.iter().zip(&ys) {
                let before = worst;
                let t = (x as f64).tanh();
                let e = if sigmoid { 0.5 + 0.5 * t } else { t };
                worst = worst.max(if sigmoid {
                    (y as f64 - e).abs() * (1u32 << 24) as f64
                } else {
                    ulps(y, e)
                });
                if worst > before {
                    at = x;
                }
                if !sigmoid && x != 0.0 {
                    assert_eq!(y.is_sign_negative(), x.is_sign_negative(), "{name}: {x}");
                }
            }
            eprintln!("LSTM {name}: max {worst:.2} ulp (at {at})");
            let bound = if sigmoid { 3.0 } else { 5.0 };
            assert!(worst <= bound, "{name}: {worst} ulp");
        }
    }

    /// The folded sigmoid and the per-lane scale give the same bits, so the block kernel
    /// and the step agree.
    #[test]
    fn the_folded_and_the_per_lane_forms_give_the_same_bits() {
        if !has_avx2() {
            return;
        }
        same_bits::<false>();
        same_bits::<true>();
    }

    /// The sigmoid and the tanh of one evaluation order, folded and per lane.
    fn same_bits<const ESTRIN: bool>() {
        let xs = sweep();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        // SAFETY (each closure): the caller checked the CPU has AVX2 and FMA.
        let with = |s: f32, o: f32| {
            run(&xs, |v| unsafe {
                lstm_act256_with::<ESTRIN>(v, _mm256_set1_ps(s), _mm256_set1_ps(o))
            })
        };
        let sig = run(&xs, |v| unsafe { lstm_act256::<true, ESTRIN>(v) });
        let tanh = run(&xs, |v| unsafe { lstm_act256::<false, ESTRIN>(v) });
        assert_eq!(bits(sig), bits(with(0.5, 0.5)), "sigmoid, Estrin {ESTRIN}");
        assert_eq!(bits(tanh), bits(with(1.0, 0.0)), "tanh, Estrin {ESTRIN}");
    }
}
