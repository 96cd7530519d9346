//! Spectral analysis for the quality measurements: a radix-2 FFT in f64 and a Kaiser
//! window (beta 20: sidelobes near -190 dB, main lobe +-6.4 bins), power scaled so a tone's
//! bins sum to its power (amplitude^2 / 2) and white noise's bins sum to its variance.

use std::f64::consts::PI;

pub const WINDOW_BETA: f64 = 20.0;
/// Bins either side of a tone that belong to it.
pub const TONE_BINS: usize = 10;

pub fn fft(a: &mut [(f64, f64)]) {
    let n = a.len();
    assert!(n.is_power_of_two());
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            a.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = -2.0 * PI / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (ang * k as f64).sin_cos();
                let (ur, ui) = a[start + k];
                let (vr, vi) = a[start + k + len / 2];
                let (tr, ti) = (vr * c - vi * s, vr * s + vi * c);
                a[start + k] = (ur + tr, ui + ti);
                a[start + k + len / 2] = (ur - tr, ui - ti);
            }
        }
        len <<= 1;
    }
}

pub fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    let q = x * x / 4.0;
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-18 {
            break;
        }
    }
    sum
}

pub fn kaiser(n: usize, beta: f64) -> Vec<f64> {
    let norm = bessel_i0(beta);
    (0..n)
        .map(|i| {
            let r = 2.0 * i as f64 / (n - 1) as f64 - 1.0;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / norm
        })
        .collect()
}

/// One-sided power per bin (`n / 2 + 1` bins, bin `k` at `k * rate / n`).
pub fn power(x: &[f32]) -> Vec<f64> {
    let n = x.len();
    let w = kaiser(n, WINDOW_BETA);
    let w2: f64 = w.iter().map(|v| v * v).sum();
    let mut a: Vec<(f64, f64)> = x
        .iter()
        .zip(&w)
        .map(|(x, w)| (*x as f64 * w, 0.0))
        .collect();
    fft(&mut a);
    (0..=n / 2)
        .map(|k| {
            let p = a[k].0 * a[k].0 + a[k].1 * a[k].1;
            let one_sided = if k == 0 || k == n / 2 { 1.0 } else { 2.0 };
            one_sided * p / (n as f64 * w2)
        })
        .collect()
}

/// Bin index of frequency `f` in an `n`-point analysis at `rate`.
pub fn bin(f: f64, rate: f64, n: usize) -> f64 {
    f * n as f64 / rate
}

/// `f` folded into `0 ..= rate / 2`.
pub fn fold(f: f64, rate: f64) -> f64 {
    let x = f.rem_euclid(rate);
    if x > rate / 2.0 {
        rate - x
    } else {
        x
    }
}

/// Power of the bins within [`TONE_BINS`] of `f`.
pub fn tone_power(p: &[f64], rate: f64, f: f64) -> f64 {
    let n = 2 * (p.len() - 1);
    let c = bin(f, rate, n).round() as isize;
    (c - TONE_BINS as isize..=c + TONE_BINS as isize)
        .filter(|k| (0..p.len() as isize).contains(k))
        .map(|k| p[k as usize])
        .sum()
}

pub fn db(power_ratio: f64) -> f64 {
    10.0 * power_ratio.max(1e-30).log10()
}
