//! The block kernels: every convolution in the engine is a sum of scaled rows, each row a
//! contiguous run of `n` samples of one channel. Four output rows are updated per source
//! row read, so each source sample is loaded once per four multiply-adds. The portable
//! kernel here is a plain slice loop the compiler vectorises; `x86` has it written out for
//! AVX-512 and AVX2.

/// How a multiply-add is computed. `Plain` (`a + w * x`) is what every x86-64 CPU runs;
/// `Fused` (`mul_add`) is only used inside functions compiled for AVX2 + FMA, where it is
/// one instruction (elsewhere it would be a libm call).
pub trait Arith: Copy {
    /// Code compiled for AVX-512 (so AVX-512 intrinsics may run).
    const WIDE: bool = false;
    /// Code compiled for AVX2 + FMA (so AVX2 intrinsics may run; `Fused`).
    const AVX2: bool = false;
    fn madd(acc: f32, w: f32, x: f32) -> f32;

    /// The accurate tanh of every sample of a row, in place.
    #[inline(always)]
    fn tanh_row(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            *x = crate::activation::tanh_with::<Self>(*x);
        }
    }
}

#[derive(Clone, Copy)]
pub struct Plain;

#[derive(Clone, Copy)]
pub struct Fused;

impl Arith for Plain {
    #[inline(always)]
    fn madd(acc: f32, w: f32, x: f32) -> f32 {
        acc + w * x
    }
}

impl Arith for Fused {
    const AVX2: bool = true;

    /// Eigen's rational tanh, as NeuralAmpModelerCore runs it, rather than the Cephes
    /// one of the portable build (AVX-512 has its own, see `tanh512`): in AVX2 the
    /// Cephes tanh (an exponential and a polynomial, both computed for every lane) cost
    /// a fifth of a standard WaveNet's time, which made this build slower than before it
    /// started from zero (measured side by side: 565 against 465 ns/sample on the
    /// standard preset, 96 against 72 on nano). The price is a little accuracy: against
    /// the float64 network, a median 1.19x NAM Core's RMS error on 22 WaveNets instead of
    /// 1.02x (1.6x before the sums started from zero).
    #[inline(always)]
    fn tanh_row(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            *x = crate::activation::tanh_rational::<Self>(*x);
        }
    }
    #[inline(always)]
    fn madd(acc: f32, w: f32, x: f32) -> f32 {
        w.mul_add(x, acc)
    }
}

/// AVX-512: the same arithmetic as `Fused` (one rounding per multiply-add), in functions
/// compiled for AVX-512, whose convolutions run the AVX-512 kernel.
#[derive(Clone, Copy)]
pub struct Wide;

impl Arith for Wide {
    const WIDE: bool = true;

    #[inline(always)]
    fn tanh_row(xs: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Wide` only runs in the AVX-512 builds (checked at `Engine::build`).
        unsafe {
            tanh512::tanh_row_avx512(xs)
        }
        #[cfg(not(target_arch = "x86_64"))]
        for x in xs.iter_mut() {
            *x = crate::activation::tanh_with::<Self>(*x);
        }
    }
    #[inline(always)]
    fn madd(acc: f32, w: f32, x: f32) -> f32 {
        w.mul_add(x, acc)
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod lstm256;
#[cfg(target_arch = "x86_64")]
pub(crate) mod tanh512;
#[cfg(target_arch = "x86_64")]
mod tanh_table;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

/// The instruction set the networks run in, chosen once at build (see
/// `Kernels` in `engine`): every network has a copy of its block loop compiled for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Baseline: `Plain`, what every CPU runs.
    Portable,
    /// AVX2 + FMA: `Fused`.
    Avx2,
    /// AVX-512F (+ AVX2, FMA): `Wide`.
    Avx512,
}

/// Reorders a row-major `[n_out][n_in]` weight matrix for [`mac_rows`]: groups of four
/// output rows interleaved (`[j][r]`), then the remaining rows as they are.
pub fn tile_weights(w: &[f32], n_out: usize, n_in: usize) -> Vec<f32> {
    let mut t = Vec::with_capacity(n_out * n_in);
    let groups = n_out / 4;
    for g in 0..groups {
        for j in 0..n_in {
            for r in 0..4 {
                t.push(w[(4 * g + r) * n_in + j]);
            }
        }
    }
    t.extend_from_slice(&w[groups * 4 * n_in..n_out * n_in]);
    t
}

/// What a kernel does with each finished sum `S` (accumulated from zero, so that the
/// large sum is rounded on its own before the small terms join it: this halves the error
/// against the exact network on wide layers).
#[derive(Clone, Copy)]
pub enum Epi<'a> {
    /// `dst = S + bias[o]` (or `S`).
    Set(Option<&'a [f32]>),
    /// `dst = S + dst`.
    Add,
    /// `dst = (S + bias[o]) + dst`: the sum and its bias, then what `dst` held (a
    /// residual, a mixin).
    AddBias(&'a [f32]),
    /// `dst = (S + bias[o]) + from[o * stride + t]`: [`Epi::AddBias`] with the residual
    /// read where it lies instead of first copied into `dst` (the same bits, one trip
    /// through memory fewer).
    AddBiasFrom {
        bias: &'a [f32],
        from: &'a [f32],
        stride: usize,
    },
}

impl Epi<'_> {
    /// Sample `t` of row `o`.
    #[inline(always)]
    pub fn apply(self, o: usize, t: usize, s: f32, d: &mut f32) {
        *d = match self {
            Epi::Set(b) => s + b.map_or(0.0, |b| b[o]),
            Epi::Add => s + *d,
            Epi::AddBias(b) => (s + b[o]) + *d,
            Epi::AddBiasFrom { bias, from, stride } => (s + bias[o]) + from[o * stride + t],
        };
    }
}

/// `dst[o][t] = epi(sum_j W[o][j] * src[rows[j] + t])` for `o < n_out`, `t < n`, with `W`
/// as laid out by [`tile_weights`].
///
/// `dst` rows are `dst_stride` apart; source row `j` starts at `rows[j]` in `src` (for a
/// dilated conv, one row per input channel and tap). Tiles of 4 output rows x `T` samples
/// are accumulated in registers over every source row, then stored once: per source row,
/// `T` loads feed `4 * T` multiply-adds. Every sample's sum is the same chain of
/// multiply-adds in the same order wherever the block boundaries fall, in every kernel.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn mac_rows<A: Arith, const T: usize>(
    dst: &mut [f32],
    dst_stride: usize,
    n_out: usize,
    src: &[f32],
    rows: &[usize],
    w: &[f32],
    n: usize,
    epi: Epi,
) {
    let n_in = rows.len();
    debug_assert!(w.len() >= n_out * n_in);
    let tiled = n - n % T;
    let groups = n_out / 4;
    for g in 0..groups {
        let o = 4 * g;
        let wg = &w[g * 4 * n_in..][..4 * n_in];
        let mut t0 = 0;
        while t0 < tiled {
            let mut acc = [[0.0f32; T]; 4];
            for (&off, w4) in rows.iter().zip(wg.chunks_exact(4)) {
                let s: &[f32; T] = src[off + t0..][..T].try_into().unwrap();
                for (a, &wj) in acc.iter_mut().zip(w4) {
                    for t in 0..T {
                        a[t] = A::madd(a[t], wj, s[t]);
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                let d = &mut dst[(o + r) * dst_stride + t0..][..T];
                for (t, (d, &s)) in d.iter_mut().zip(a).enumerate() {
                    epi.apply(o + r, t0 + t, s, d);
                }
            }
            t0 += T;
        }
        for r in 0..4 {
            let d = &mut dst[(o + r) * dst_stride..];
            for t in tiled..n {
                let mut s = 0.0;
                for (j, &off) in rows.iter().enumerate() {
                    s = A::madd(s, wg[4 * j + r], src[off + t]);
                }
                epi.apply(o + r, t, s, &mut d[t]);
            }
        }
    }
    let rest = &w[groups * 4 * n_in..];
    for o in 4 * groups..n_out {
        let wr = &rest[(o - 4 * groups) * n_in..][..n_in];
        let mut t0 = 0;
        while t0 < tiled {
            let mut a = [0.0f32; T];
            for (&off, &wj) in rows.iter().zip(wr) {
                let s: &[f32; T] = src[off + t0..][..T].try_into().unwrap();
                for t in 0..T {
                    a[t] = A::madd(a[t], wj, s[t]);
                }
            }
            let d = &mut dst[o * dst_stride + t0..][..T];
            for (t, (d, &s)) in d.iter_mut().zip(&a).enumerate() {
                epi.apply(o, t0 + t, s, d);
            }
            t0 += T;
        }
        let d = &mut dst[o * dst_stride..];
        for t in tiled..n {
            let mut s = 0.0;
            for (&off, &wj) in rows.iter().zip(wr) {
                s = A::madd(s, wj, src[off + t]);
            }
            epi.apply(o, t, s, &mut d[t]);
        }
    }
}

/// Sets each of `rows` rows of `dst` to a constant (its bias, or zero).
#[inline(always)]
pub fn fill_rows(dst: &mut [f32], stride: usize, values: Option<&[f32]>, rows: usize, n: usize) {
    for r in 0..rows {
        let v = values.map_or(0.0, |b| b[r]);
        dst[r * stride..][..n].fill(v);
    }
}

/// `dst[..n] += a * src[..n]`.
#[inline(always)]
pub fn axpy<A: Arith>(dst: &mut [f32], a: f32, src: &[f32], n: usize) {
    let (d, s) = (&mut dst[..n], &src[..n]);
    for t in 0..n {
        d[t] = A::madd(d[t], a, s[t]);
    }
}

/// `dst[..n] += src[..n]`.
#[inline(always)]
pub fn add(dst: &mut [f32], src: &[f32], n: usize) {
    let (d, s) = (&mut dst[..n], &src[..n]);
    for t in 0..n {
        d[t] += s[t];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_rows_matches_naive_for_every_remainder() {
        for (n_out, n) in (1..=9).flat_map(|o| [1, 4, 5, 9].map(|n| (o, n))) {
            let (n_in, stride) = (3, 11);
            let src: Vec<f32> = (0..n_in * 12).map(|i| i as f32 * 0.5 - 2.0).collect();
            let w: Vec<f32> = (0..n_out * n_in).map(|i| (i as f32).sin()).collect();
            let rows: Vec<usize> = (0..n_in).map(|j| j * 12).collect();
            let tiled = tile_weights(&w, n_out, n_in);
            let mut dst = vec![1.0f32; n_out * stride];
            mac_rows::<Plain, 4>(&mut dst, stride, n_out, &src, &rows, &tiled, n, Epi::Add);
            let mut fused = vec![1.0f32; n_out * stride];
            mac_rows::<Fused, 2>(&mut fused, stride, n_out, &src, &rows, &tiled, n, Epi::Add);
            for (a, b) in dst.iter().zip(&fused) {
                assert!((a - b).abs() < 1e-5);
            }
            for o in 0..n_out {
                for t in 0..stride {
                    let expect = if t < n {
                        1.0 + (0..n_in)
                            .map(|j| w[o * n_in + j] * src[j * 12 + t])
                            .sum::<f32>()
                    } else {
                        1.0
                    };
                    assert!((dst[o * stride + t] - expect).abs() < 1e-5);
                }
            }
        }
    }
}
