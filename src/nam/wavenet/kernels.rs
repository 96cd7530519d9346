//! The block kernels: every convolution of the WaveNet is a sum of scaled rows, each row a
//! contiguous run of `n` samples of one channel. Four output rows are updated per source
//! row read, so each source sample is loaded once per four multiply-adds; the inner loop
//! is a plain slice loop the compiler vectorises.

/// `dst[o][t] += sum_j w[o * n_in + j] * src[row(j) + t]` for `o < n_out`, `t < n`.
///
/// `dst` rows are `dst_stride` apart; `row(j)` gives where source row `j` starts in `src`.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn mac_rows<F: Fn(usize) -> usize>(
    dst: &mut [f32],
    dst_stride: usize,
    n_out: usize,
    src: &[f32],
    row: F,
    n_in: usize,
    w: &[f32],
    n: usize,
) {
    debug_assert!(w.len() >= n_out * n_in);
    let mut o = 0;
    while o + 4 <= n_out {
        let block = &mut dst[o * dst_stride..];
        let (d0, block) = block.split_at_mut(dst_stride);
        let (d1, block) = block.split_at_mut(dst_stride);
        let (d2, block) = block.split_at_mut(dst_stride);
        let d3 = &mut block[..n];
        let (d0, d1, d2) = (&mut d0[..n], &mut d1[..n], &mut d2[..n]);
        for j in 0..n_in {
            let s = &src[row(j)..][..n];
            let w0 = w[o * n_in + j];
            let w1 = w[(o + 1) * n_in + j];
            let w2 = w[(o + 2) * n_in + j];
            let w3 = w[(o + 3) * n_in + j];
            for t in 0..n {
                let x = s[t];
                d0[t] += w0 * x;
                d1[t] += w1 * x;
                d2[t] += w2 * x;
                d3[t] += w3 * x;
            }
        }
        o += 4;
    }
    while o < n_out {
        let d = &mut dst[o * dst_stride..][..n];
        for j in 0..n_in {
            let s = &src[row(j)..][..n];
            let wj = w[o * n_in + j];
            for t in 0..n {
                d[t] += wj * s[t];
            }
        }
        o += 1;
    }
}

/// Sets each of `rows` rows of `dst` to a constant (its bias, or zero).
#[inline]
pub fn fill_rows(dst: &mut [f32], stride: usize, values: Option<&[f32]>, rows: usize, n: usize) {
    for r in 0..rows {
        let v = values.map_or(0.0, |b| b[r]);
        dst[r * stride..][..n].fill(v);
    }
}

/// `dst[..n] += a * src[..n]`.
#[inline]
pub fn axpy(dst: &mut [f32], a: f32, src: &[f32], n: usize) {
    let (d, s) = (&mut dst[..n], &src[..n]);
    for t in 0..n {
        d[t] += a * s[t];
    }
}

/// `dst[..n] += src[..n]`.
#[inline]
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
        for n_out in 1..=9 {
            let (n_in, n, stride) = (3, 5, 7);
            let src: Vec<f32> = (0..n_in * 6).map(|i| i as f32 * 0.5 - 2.0).collect();
            let w: Vec<f32> = (0..n_out * n_in).map(|i| (i as f32).sin()).collect();
            let mut dst = vec![1.0f32; n_out * stride];
            mac_rows(&mut dst, stride, n_out, &src, |j| j * 6, n_in, &w, n);
            for o in 0..n_out {
                for t in 0..stride {
                    let expect = if t < n {
                        1.0 + (0..n_in)
                            .map(|j| w[o * n_in + j] * src[j * 6 + t])
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
