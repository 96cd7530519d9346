//! This core's peak single-precision FMA throughput (the roofline the engines are held
//! to), as `shared/bench/fma_peak.c` measures it: many independent FMA chains in
//! registers, best of three.

use std::time::Instant;

pub struct Peaks {
    /// FLOP/s (an FMA is two).
    pub avx2: f64,
    pub avx512: Option<f64>,
}

pub fn measure() -> Peaks {
    let best = |f: &dyn Fn() -> f64| (0..3).map(|_| f()).fold(0.0, f64::max);
    Peaks {
        // SAFETY: each is only called when the CPU reports the features it is built for.
        avx2: best(&|| unsafe { avx2() }),
        avx512: std::arch::is_x86_feature_detected!("avx512f")
            .then(|| best(&|| unsafe { avx512() })),
    }
}

const ITERS: usize = 20_000_000;

#[target_feature(enable = "avx2,fma")]
unsafe fn avx2() -> f64 {
    use std::arch::x86_64::*;
    let m = _mm256_set1_ps(0.999_99);
    let a = _mm256_set1_ps(1e-7);
    let mut r = [_mm256_set1_ps(1.0); 12];
    let t = Instant::now();
    for _ in 0..ITERS {
        for x in r.iter_mut() {
            *x = _mm256_fmadd_ps(*x, m, a);
        }
    }
    let dt = t.elapsed().as_secs_f64();
    let mut s = _mm256_setzero_ps();
    for x in r {
        s = _mm256_add_ps(s, x);
    }
    std::hint::black_box(s);
    (ITERS * 12 * 8 * 2) as f64 / dt
}

#[target_feature(enable = "avx512f")]
unsafe fn avx512() -> f64 {
    use std::arch::x86_64::*;
    let m = _mm512_set1_ps(0.999_99);
    let a = _mm512_set1_ps(1e-7);
    let mut r = [_mm512_set1_ps(1.0); 12];
    let t = Instant::now();
    for _ in 0..ITERS {
        for x in r.iter_mut() {
            *x = _mm512_fmadd_ps(*x, m, a);
        }
    }
    let dt = t.elapsed().as_secs_f64();
    let mut s = _mm512_setzero_ps();
    for x in r {
        s = _mm512_add_ps(s, x);
    }
    std::hint::black_box(s);
    (ITERS * 12 * 16 * 2) as f64 / dt
}
