//! The engine's guard around every block: the input scrubbed (non-finite and denormal
//! samples are silence, the rest clamped to +-`INPUT_LIMIT`) and the output checked for
//! a non-finite sample. Both run on every sample of every block, so they get the block
//! kernels' vector widths; every build gives the portable build's bits (selects, min and
//! max are exact), which `tests::every_build_gives_the_portable_bits` holds.

use crate::engine::{DENORMAL_FLOOR, INPUT_LIMIT};
use crate::kernels::Level;

#[inline]
fn scrub_one(x: f32) -> f32 {
    if x.is_finite() && x.abs() >= DENORMAL_FLOOR {
        x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
    } else {
        0.0
    }
}

/// Scrubs `buf` in place for the network (see the module).
pub(crate) fn scrub(level: Level, buf: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: a level is chosen only where the CPU has its instructions.
        Level::Avx512 => return unsafe { x86::scrub_avx512(buf) },
        Level::Avx2 => return unsafe { x86::scrub_avx2(buf) },
        Level::Portable => {}
    }
    let _ = level;
    scrub_portable(buf);
}

/// The portable build, and the vector builds' remainder.
fn scrub_portable(buf: &mut [f32]) {
    buf.iter_mut().for_each(|x| *x = scrub_one(*x));
}

/// True when some sample of `buf` is NaN or infinite.
pub(crate) fn any_non_finite(level: Level, buf: &[f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: as in `scrub`.
        Level::Avx512 => return unsafe { x86::any_non_finite_avx512(buf) },
        Level::Avx2 => return unsafe { x86::any_non_finite_avx2(buf) },
        Level::Portable => {}
    }
    let _ = level;
    any_non_finite_portable(buf)
}

/// The portable build, and the vector builds' remainder.
fn any_non_finite_portable(buf: &[f32]) -> bool {
    // A fold rather than `any`: no early exit, so the loop vectorises (a fault is rare).
    buf.iter().fold(false, |bad, y| bad | !y.is_finite())
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{any_non_finite_portable, scrub_portable, DENORMAL_FLOOR, INPUT_LIMIT};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub(super) fn scrub_avx2(buf: &mut [f32]) {
        let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let (floor, inf) = (
            _mm256_set1_ps(DENORMAL_FLOOR),
            _mm256_set1_ps(f32::INFINITY),
        );
        let (lo, hi) = (_mm256_set1_ps(-INPUT_LIMIT), _mm256_set1_ps(INPUT_LIMIT));
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            // SAFETY: `c` holds exactly eight floats.
            unsafe {
                let v = _mm256_loadu_ps(c.as_ptr());
                let a = _mm256_and_ps(v, abs);
                // Ordered compares: NaN fails both, as `is_finite` fails it.
                let keep = _mm256_and_ps(
                    _mm256_cmp_ps::<_CMP_GE_OQ>(a, floor),
                    _mm256_cmp_ps::<_CMP_LT_OQ>(a, inf),
                );
                let v = _mm256_min_ps(_mm256_max_ps(_mm256_and_ps(v, keep), lo), hi);
                _mm256_storeu_ps(c.as_mut_ptr(), v);
            }
        }
        scrub_portable(chunks.into_remainder());
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn scrub_avx512(buf: &mut [f32]) {
        let (floor, inf) = (
            _mm512_set1_ps(DENORMAL_FLOOR),
            _mm512_set1_ps(f32::INFINITY),
        );
        let (lo, hi) = (_mm512_set1_ps(-INPUT_LIMIT), _mm512_set1_ps(INPUT_LIMIT));
        let mut chunks = buf.chunks_exact_mut(16);
        for c in &mut chunks {
            // SAFETY: `c` holds exactly sixteen floats.
            unsafe {
                let v = _mm512_loadu_ps(c.as_ptr());
                let a = _mm512_abs_ps(v);
                let big = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, floor);
                let keep = _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(big, a, inf);
                let v = _mm512_min_ps(_mm512_max_ps(_mm512_maskz_mov_ps(keep, v), lo), hi);
                _mm512_storeu_ps(c.as_mut_ptr(), v);
            }
        }
        scrub_portable(chunks.into_remainder());
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn any_non_finite_avx2(buf: &[f32]) -> bool {
        let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let inf = _mm256_set1_ps(f32::INFINITY);
        let mut bad = _mm256_setzero_ps();
        let mut chunks = buf.chunks_exact(8);
        for c in &mut chunks {
            // SAFETY: `c` holds exactly eight floats.
            let v = unsafe { _mm256_loadu_ps(c.as_ptr()) };
            // Not less than infinity, or unordered: infinite or NaN.
            bad = _mm256_or_ps(
                bad,
                _mm256_cmp_ps::<_CMP_NLT_UQ>(_mm256_and_ps(v, abs), inf),
            );
        }
        _mm256_movemask_ps(bad) != 0 || any_non_finite_portable(chunks.remainder())
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn any_non_finite_avx512(buf: &[f32]) -> bool {
        let inf = _mm512_set1_ps(f32::INFINITY);
        let mut bad: __mmask16 = 0;
        let mut chunks = buf.chunks_exact(16);
        for c in &mut chunks {
            // SAFETY: `c` holds exactly sixteen floats.
            let v = unsafe { _mm512_loadu_ps(c.as_ptr()) };
            bad |= _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(_mm512_abs_ps(v), inf);
        }
        bad != 0 || any_non_finite_portable(chunks.remainder())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of sample the guard tells apart, at every position a vector loop and
    /// its remainder put it in.
    fn nasty() -> Vec<f32> {
        let special = [
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            -f32::MAX,
            INPUT_LIMIT,
            INPUT_LIMIT * 1.0001,
            -INPUT_LIMIT * 3.0,
            DENORMAL_FLOOR,
            -DENORMAL_FLOOR,
            DENORMAL_FLOOR * 0.999,
            f32::MIN_POSITIVE / 4.0,
            0.0,
            -0.0,
            0.25,
            -0.7,
        ];
        (0..200)
            .map(|i| special[(i * 7 + i / 17) % special.len()])
            .collect()
    }

    fn levels() -> Vec<Level> {
        let mut v = vec![Level::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if crate::engine::has_avx2() {
                v.push(Level::Avx2);
            } else {
                eprintln!("guard: AVX2 + FMA not on this CPU, skipped");
            }
            if crate::engine::has_avx512() {
                v.push(Level::Avx512);
            } else {
                eprintln!("guard: AVX-512F not on this CPU, skipped");
            }
        }
        v
    }

    #[test]
    fn every_build_gives_the_portable_bits() {
        let input = nasty();
        for len in [0, 1, 7, 8, 15, 16, 17, 64, 199, 200] {
            let mut want = input[..len].to_vec();
            want.iter_mut().for_each(|x| *x = scrub_one(*x));
            for level in levels() {
                let mut got = input[..len].to_vec();
                scrub(level, &mut got);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{level:?}, {len} samples");
                assert!(
                    !any_non_finite(level, &got),
                    "{level:?}: scrubbed is finite"
                );
                assert!(got.iter().all(|x| x.abs() <= INPUT_LIMIT));
            }
        }
    }

    #[test]
    fn a_single_bad_sample_is_found_wherever_it_is() {
        for level in levels() {
            for len in [1, 7, 16, 33, 64] {
                assert!(!any_non_finite(level, &vec![f32::MAX; len]));
                for at in 0..len {
                    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                        let mut v = vec![0.5f32; len];
                        v[at] = bad;
                        assert!(any_non_finite(level, &v), "{level:?} {len} {at} {bad}");
                    }
                }
            }
        }
    }
}
