//! The convolver's two inner loops: the direct head's dot product and the spectral
//! multiply-accumulate. Written as plain loops over eight independent lanes so they
//! vectorise, compiled twice: baseline, and for AVX2 + FMA when the CPU has them (the
//! engine's own choice, `tubeless_nam::Kernels::Fast`).

/// Which build of the loops runs; chosen once when a convolver is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernels {
    fma: bool,
}

impl Kernels {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            Kernels {
                fma: std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Kernels { fma: false }
        }
    }

    #[cfg(test)]
    pub(crate) fn portable() -> Self {
        Kernels { fma: false }
    }

    /// Sum of `a[i] * b[i]` over the shorter length.
    #[inline]
    pub(crate) fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is set only when the CPU reports AVX2 and FMA.
            return unsafe { dot_fma(a, b) };
        }
        dot_body::<false>(a, b)
    }

    /// `acc += h * x` on split complex arrays (real parts, imaginary parts), over the
    /// shortest length.
    #[inline]
    pub(crate) fn cmac(
        self,
        acc: (&mut [f32], &mut [f32]),
        h: (&[f32], &[f32]),
        x: (&[f32], &[f32]),
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: as above.
            return unsafe { cmac_fma(acc, h, x) };
        }
        cmac_body::<false>(acc, h, x)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
    dot_body::<true>(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn cmac_fma(acc: (&mut [f32], &mut [f32]), h: (&[f32], &[f32]), x: (&[f32], &[f32])) {
    cmac_body::<true>(acc, h, x)
}

#[inline(always)]
fn dot_body<const FUSED: bool>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            lanes[i] = madd::<FUSED>(x[i], y[i], lanes[i]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[inline(always)]
fn cmac_body<const FUSED: bool>(
    acc: (&mut [f32], &mut [f32]),
    h: (&[f32], &[f32]),
    x: (&[f32], &[f32]),
) {
    let n = acc
        .0
        .len()
        .min(acc.1.len())
        .min(h.0.len())
        .min(h.1.len())
        .min(x.0.len())
        .min(x.1.len());
    let (ar, ai) = (&mut acc.0[..n], &mut acc.1[..n]);
    let (hr, hi, xr, xi) = (&h.0[..n], &h.1[..n], &x.0[..n], &x.1[..n]);
    for k in 0..n {
        ar[k] = madd::<FUSED>(hr[k], xr[k], madd::<FUSED>(-hi[k], xi[k], ar[k]));
        ai[k] = madd::<FUSED>(hr[k], xi[k], madd::<FUSED>(hi[k], xr[k], ai[k]));
    }
}

/// `a * b + c`; fused in the AVX2 + FMA build (where `mul_add` is one instruction; on
/// a CPU without FMA it would be a slow library call, hence the plain form there).
#[inline(always)]
fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_builds_compute_the_same_sums() {
        let a: Vec<f32> = (0..203)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let b: Vec<f32> = (0..203)
            .map(|i| ((i * 53) % 97) as f32 / 48.0 - 1.0)
            .collect();
        let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        for k in [Kernels::detect(), Kernels::portable()] {
            assert!((k.dot(&a, &b) as f64 - exact).abs() < 1e-4);
            let (mut r, mut i) = (vec![1.0f32; 203], vec![-1.0f32; 203]);
            k.cmac((&mut r, &mut i), (&a, &b), (&b, &a));
            for j in 0..203 {
                // (a + jb)(b + ja) = ab - ba + j(a^2 + b^2)
                let er = 1.0 + a[j] * b[j] - b[j] * a[j];
                let ei = -1.0 + a[j] * a[j] + b[j] * b[j];
                assert!((r[j] - er).abs() < 1e-5 && (i[j] - ei).abs() < 1e-5);
            }
        }
    }
}
