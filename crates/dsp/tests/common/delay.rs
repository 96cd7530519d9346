//! Measuring a delay to a small fraction of a sample: the slope of the phase of `Y / X`
//! over the pass band (least squares through the origin), after removing a guess so the
//! residual phase stays far from wrapping.

use super::spectrum::{fft, kaiser};
use std::f64::consts::PI;

/// Delay of `y` behind `x` (same length, both already containing the whole event), in
/// samples, from the bins up to `f_max` (as a fraction of the rate) weighted by `|X|^2`:
/// the whole-sample lag of the band-limited cross-correlation's peak, refined by the phase
/// slope of what remains (well inside +-1/2 sample, so the phase never wraps).
pub fn phase_delay(x: &[f32], y: &[f32], f_max: f64) -> f64 {
    let n = x.len().next_power_of_two() * 2;
    let spec = |s: &[f32]| {
        let mut a: Vec<(f64, f64)> = s.iter().map(|v| (*v as f64, 0.0)).collect();
        a.resize(n, (0.0, 0.0));
        fft(&mut a);
        a
    };
    let (xs, ys) = (spec(x), spec(y));
    let top = (f_max * n as f64) as usize;
    // Y conj(X), band-limited, back to time (conjugate trick for the inverse FFT).
    let mut cross = vec![(0.0, 0.0); n];
    for k in 1..=top {
        let (xr, xi) = xs[k];
        let (yr, yi) = ys[k];
        cross[k] = (yr * xr + yi * xi, -(yi * xr - yr * xi));
    }
    fft(&mut cross);
    let lag = (0..n)
        .max_by(|a, b| cross[*a].0.total_cmp(&cross[*b].0))
        .unwrap();
    let guess = if lag > n / 2 {
        lag as f64 - n as f64
    } else {
        lag as f64
    };
    let (mut num, mut den) = (0.0, 0.0);
    for k in 1..=top {
        let (xr, xi) = xs[k];
        let (yr, yi) = ys[k];
        // Y * conj(X) * exp(+i w guess)
        let (pr, pi_) = (yr * xr + yi * xi, yi * xr - yr * xi);
        let w = 2.0 * PI * k as f64 / n as f64;
        let (s, c) = (w * guess).sin_cos();
        let (rr, ri) = (pr * c - pi_ * s, pr * s + pi_ * c);
        let weight = xr * xr + xi * xi;
        let phase = ri.atan2(rr);
        num += weight * w * phase;
        den += weight * w * w;
    }
    guess - num / den
}

/// A click band-limited to `cutoff` (fraction of the rate): a Kaiser-windowed sinc,
/// `half` samples either side of `centre`, in a signal of `len`.
pub fn click(len: usize, centre: usize, cutoff: f64, half: usize) -> Vec<f32> {
    let w = kaiser(2 * half + 1, 9.0);
    let mut x = vec![0.0f32; len];
    for (i, wi) in w.iter().enumerate() {
        let t = i as f64 - half as f64;
        let s = if t == 0.0 {
            1.0
        } else {
            (2.0 * PI * cutoff * t).sin() / (2.0 * PI * cutoff * t)
        };
        x[centre - half + i] = (0.8 * s * wi) as f32;
    }
    x
}

/// Position of the largest |value|, refined by a parabola through it and its neighbours.
pub fn peak(y: &[f32]) -> f64 {
    let (i, _) =
        y.iter().enumerate().fold(
            (0, 0.0f32),
            |m, (i, v)| if v.abs() > m.1 { (i, v.abs()) } else { m },
        );
    if i == 0 || i + 1 >= y.len() {
        return i as f64;
    }
    let (a, b, c) = (
        y[i - 1].abs() as f64,
        y[i].abs() as f64,
        y[i + 1].abs() as f64,
    );
    let d = a - 2.0 * b + c;
    if d == 0.0 {
        i as f64
    } else {
        i as f64 + 0.5 * (a - c) / d
    }
}
