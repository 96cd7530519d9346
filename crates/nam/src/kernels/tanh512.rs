//! The vector tanhs in intrinsics. The WaveNets' AVX-512 tanh, for the layers'
//! activation, which cost a third of a layer as Cephes' `tanhf` (33 instructions per 16
//! samples against 64 multiply-adds in the convolutions): piecewise polynomials picked
//! by permutes, 23 instructions; the same arranged for latency for the LSTM, whose
//! recurrence waits on it. The AVX2 WaveNets' rational tanh (the AVX2 LSTM's is in
//! `lstm256`).

use std::arch::x86_64::*;

use super::tanh_table::TANH;

/// [`tanh512`] over a row, 16 lanes at a time (the last vector masked).
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn tanh_row_avx512(xs: &mut [f32]) {
    let n = xs.len();
    let p = xs.as_mut_ptr();
    let mut t = 0;
    while t < n {
        let len = (n - t).min(16);
        let mask = ((1u32 << len) - 1) as __mmask16;
        // SAFETY: lanes under the mask are within `xs`.
        unsafe {
            let x = _mm512_maskz_loadu_ps(mask, p.add(t));
            let y = tanh512(x);
            _mm512_mask_storeu_ps(p.add(t), mask, y);
        }
        t += len;
    }
}

/// tanh of 16 lanes, piecewise: the interval of |x| (see [`super::tanh_table`]) picks one
/// degree-5 polynomial per lane from 32-lane tables, two registers each, with one
/// permute per coefficient. 23 instructions where Cephes' exponential, polynomial and
/// division took 33 (a standard WaveNet 9 % faster), and more accurate: within 0.73 ulp
/// of tanh, where [`tanh_with`](crate::activation::tanh_with) (Cephes) is within 1.26
/// and was 1.5 here with its division done as a reciprocal estimate.
#[target_feature(enable = "avx512f,fma")]
#[inline]
pub(super) fn tanh512(x: __m512) -> __m512 {
    tanh_table512::<false>(x)
}

/// [`tanh512`] arranged for latency rather than instructions, for the LSTM, whose every
/// step waits on two tanhs: |x| is not clamped before the table index is taken (the
/// index is, in integers, and 1 is blended in from 9 on), and the polynomial is
/// evaluated by Estrin's scheme (3 multiply-adds deep instead of 5): about 27 cycles
/// from x to tanh x instead of 33 by the instructions' latencies, for 3 more
/// instructions (the 1x16 LSTM 57 -> 49-53 ns a sample, measured).
#[target_feature(enable = "avx512f,fma")]
#[inline]
pub(crate) fn tanh512_short(x: __m512) -> __m512 {
    tanh_table512::<true>(x)
}

#[target_feature(enable = "avx512f,fma")]
#[inline]
fn tanh_table512<const SHORT: bool>(x: __m512) -> __m512 {
    let c = _mm512_set1_ps;
    let zero = _mm512_setzero_si512();
    let abs = _mm512_abs_ps(x);
    let a = if SHORT {
        abs
    } else {
        _mm512_min_ps(abs, c(9.0))
    };
    let bits = _mm512_castps_si512(a);
    // The exponent and top two mantissa bits, counted from 1/16 (interval 1); below
    // it, interval 0.
    let idx = _mm512_max_epi32(
        _mm512_sub_epi32(_mm512_srli_epi32::<21>(bits), _mm512_set1_epi32(491)),
        zero,
    );
    let idx = if SHORT {
        _mm512_min_epi32(idx, _mm512_set1_epi32(29))
    } else {
        idx
    };
    let above = if SHORT {
        _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, c(0.0625))
    } else {
        _mm512_cmpgt_epi32_mask(idx, zero)
    };
    // Interval 0 starts at 0; the others at |x| with the lower mantissa bits cleared.
    let edge = _mm512_castsi512_ps(_mm512_maskz_and_epi32(
        above,
        bits,
        _mm512_set1_epi32(0xFFE0_0000u32 as i32),
    ));
    let t = _mm512_sub_ps(a, edge);
    let tab = &TANH.0;
    // SAFETY: each table is 32 floats, 64-byte aligned.
    let term = |k: usize| unsafe {
        _mm512_permutex2var_ps(
            _mm512_load_ps(tab[k].as_ptr()),
            idx,
            _mm512_load_ps(tab[k].as_ptr().add(16)),
        )
    };
    let s = if SHORT {
        let t2 = _mm512_mul_ps(t, t);
        let hi = _mm512_fmadd_ps(term(6), t, term(5));
        let mid = _mm512_fmadd_ps(term(4), t, term(3));
        let lo = _mm512_fmadd_ps(term(2), t, term(1));
        _mm512_fmadd_ps(t2, _mm512_fmadd_ps(t2, hi, mid), lo)
    } else {
        let mut q = term(6);
        for k in [5, 4, 3, 2] {
            q = _mm512_fmadd_ps(q, t, term(k));
        }
        _mm512_fmadd_ps(q, t, term(1))
    };
    // The largest term last, so it costs no rounding: tanh(edge)'s high half, or on
    // interval 0, t itself (tanh t = t + t^3 (...)).
    let y = _mm512_add_ps(s, _mm512_mask_mov_ps(a, above, term(0)));
    let y = if SHORT {
        // Also where |x| is NaN: tanh is 1 in f32 from 9 on.
        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(abs, c(9.0));
        _mm512_mask_mov_ps(c(1.0), small, y)
    } else {
        y
    };
    // The sign of x back (y >= 0): bits of x where the mask is set, else of y.
    _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xD8>(
        _mm512_castps_si512(y),
        _mm512_castps_si512(x),
        _mm512_set1_epi32(i32::MIN),
    ))
}

/// [`tanh512_short`] over a row whose length is a multiple of 16: the LSTM's gates.
///
/// # Safety
/// The CPU must have AVX-512F; `xs.len()` a multiple of 16.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
pub(crate) unsafe fn tanh_short_row_avx512(xs: &mut [f32]) {
    debug_assert!(xs.len().is_multiple_of(16));
    for chunk in xs.chunks_exact_mut(16) {
        // SAFETY: 16 floats.
        unsafe {
            let y = tanh512_short(_mm512_loadu_ps(chunk.as_ptr()));
            _mm512_storeu_ps(chunk.as_mut_ptr(), y);
        }
    }
}

/// [`tanh_rational`](crate::activation::tanh_rational) on 8 lanes: its very operations
/// (the division too), so the same bits as the scalar `Fused` one.
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::excessive_precision)]
pub(crate) fn tanh_rational256(x: __m256) -> __m256 {
    let c = _mm256_set1_ps;
    let m = |a: f32, b: f32, y: __m256| _mm256_fmadd_ps(c(b), y, c(a));
    let mv = |a: __m256, b: __m256, y: __m256| _mm256_fmadd_ps(b, y, a);
    let sign = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MIN));
    let xc = _mm256_min_ps(_mm256_max_ps(x, c(-7.905_311)), c(7.905_311));
    let x2 = _mm256_mul_ps(xc, xc);
    let x4 = _mm256_mul_ps(x2, x2);
    let x8 = _mm256_mul_ps(x4, x4);
    let p = _mm256_mul_ps(
        mv(
            mv(
                m(4.893_524_6e-3, 6.372_619_3e-4, x2),
                m(1.485_722_4e-5, 5.122_297e-8, x2),
                x4,
            ),
            mv(
                m(-8.604_671_5e-11, 2.000_187_9e-13, x2),
                c(-2.760_768_5e-16),
                x4,
            ),
            x8,
        ),
        xc,
    );
    let q = mv(
        m(4.893_525_2e-3, 2.268_434_6e-3, x2),
        m(1.185_347_1e-4, 1.198_258_4e-6, x2),
        x4,
    );
    let y = _mm256_div_ps(p, q);
    let tiny = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_andnot_ps(sign, x), c(4e-4));
    _mm256_blendv_ps(y, x, tiny)
}

#[cfg(test)]
mod tests {
    use crate::activation::tanh_with;
    use crate::kernels::{Fused, Plain};

    /// Largest and RMS error in ulp of the result against f64 tanh, over a dense sweep.
    fn ulps(f: impl Fn(&mut [f32])) -> (f64, f64) {
        let mut xs: Vec<f32> = Vec::new();
        let mut x = 1e-4f32;
        while x < 12.0 {
            xs.extend([x, -x]);
            x *= 1.0001;
        }
        let mut y = xs.clone();
        f(&mut y);
        let (mut worst, mut sq) = (0.0f64, 0.0f64);
        for (x, y) in xs.iter().zip(&y) {
            let e = (*x as f64).tanh();
            let u = (e.abs() as f32).to_bits();
            let ulp = (f32::from_bits(u + 1) - f32::from_bits(u)) as f64;
            let d = (*y as f64 - e).abs() / ulp;
            worst = worst.max(d);
            sq += d * d;
        }
        (worst, (sq / xs.len() as f64).sqrt())
    }

    #[test]
    fn every_build_of_tanh_is_within_1_5_ulp_and_avx512_within_0_75() {
        let row = |f: fn(f32) -> f32| move |v: &mut [f32]| v.iter_mut().for_each(|x| *x = f(*x));
        let mut builds: Vec<(&str, (f64, f64))> = vec![
            ("portable", ulps(row(tanh_with::<Plain>))),
            // Off an FMA CPU `mul_add` is a (slow, exact) libm call: the same numbers.
            ("fused", ulps(row(tanh_with::<Fused>))),
        ];
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            // What the table's script promises (`tools/fit_tanh_table.py`), in both
            // evaluation orders.
            let short = |v: &mut [f32]| {
                let mut padded = v.to_vec();
                padded.resize(v.len().div_ceil(16) * 16, 0.0);
                // SAFETY: the CPU has AVX-512F; the length is a multiple of 16.
                unsafe { super::tanh_short_row_avx512(&mut padded) };
                v.copy_from_slice(&padded[..v.len()]);
            };
            for (name, f) in [
                ("avx512", ulps(|v| unsafe { super::tanh_row_avx512(v) })),
                ("avx512 short", ulps(short)),
            ] {
                assert!(f.0 <= 0.75 && f.1 <= 0.3, "{name}: {} / {}", f.0, f.1);
                builds.push((name, f));
            }
        } else {
            eprintln!("avx512 tanh: SKIPPED, this CPU lacks AVX-512F");
        }
        for (name, (worst, rms)) in builds {
            eprintln!("{name} tanh: max {worst:.2} ulp, rms {rms:.3} ulp");
            assert!(worst <= 1.5 && rms <= 0.4, "{name}: {worst} / {rms}");
        }
    }

    /// The AVX2 WaveNets' vector rational tanh gives the scalar `Fused` one's bits.
    #[test]
    fn vector_rational_tanh_is_the_scalar_one() {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            eprintln!("vector rational tanh: SKIPPED, this CPU lacks AVX2");
            return;
        }
        let mut xs: Vec<f32> = vec![0.0, -0.0, 20.0, -20.0, 3e-4, -3e-4];
        let mut x = 1e-5f32;
        while x < 12.0 {
            xs.extend([x, -x]);
            x *= 1.0003;
        }
        xs.truncate(xs.len() / 8 * 8);
        for chunk in xs.chunks_exact(8) {
            let mut y = [0.0f32; 8];
            // SAFETY: the CPU has AVX2 and FMA; 8 floats each.
            unsafe {
                let v = super::tanh_rational256(super::_mm256_loadu_ps(chunk.as_ptr()));
                super::_mm256_storeu_ps(y.as_mut_ptr(), v);
            }
            for (&x, &y) in chunk.iter().zip(&y) {
                let want = crate::activation::tanh_rational::<Fused>(x);
                assert_eq!(y.to_bits(), want.to_bits(), "tanh({x})");
            }
        }
    }
}
