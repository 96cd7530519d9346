//! The 5 Hz high-pass after the model, as the reference plugin has: models trained on
//! DC-coupled captures can emit a small offset, which costs headroom downstream.

/// One-pole/one-zero DC blocker, y[n] = x[n] - x[n-1] + r y[n-1]. Real-time safe:
/// `process` neither allocates nor panics.
///
/// It runs four samples a step on a grid fixed to the stream (not to the call): inside a
/// step, y[k] = s[k] + r^(k+1) y[-1], with s the recursion started from rest at the
/// step. Only the last term waits on the previous step, so the loop runs at the adds'
/// throughput rather than the recursion's latency, and a call that starts or ends
/// mid-step does the same arithmetic sample by sample: any split of the stream gives the
/// same samples.
#[derive(Debug, Clone)]
pub struct DcBlocker {
    r: f32,
    /// r, r^2, r^3, r^4.
    rp: [f32; 4],
    x1: f32,
    /// The output before the current step.
    y0: f32,
    /// The step's recursion from rest so far.
    s: f32,
    /// Samples of the current step done.
    phase: usize,
}

/// The reference plugin's corner frequency.
pub const DC_BLOCKER_HZ: f64 = 5.0;

impl DcBlocker {
    pub fn new(sample_rate: f64) -> Self {
        let mut d = DcBlocker {
            r: 0.0,
            rp: [0.0; 4],
            x1: 0.0,
            y0: 0.0,
            s: 0.0,
            phase: 0,
        };
        d.reset(sample_rate);
        d
    }

    pub fn reset(&mut self, sample_rate: f64) {
        let rate = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32;
        self.r = r;
        // Rounded once from f64: four f32 products would shift the pole.
        let p = |k: i32| (r as f64).powi(k) as f32;
        self.rp = [r, p(2), p(3), p(4)];
        self.x1 = 0.0;
        self.y0 = 0.0;
        self.s = 0.0;
        self.phase = 0;
    }

    pub fn process(&mut self, buf: &mut [f32]) {
        let head = ((4 - self.phase) & 3).min(buf.len());
        let (head, rest) = buf.split_at_mut(head);
        for x in head {
            *x = self.tick(*x);
        }
        let (r, rp) = (self.r, self.rp);
        let (mut x1, mut y0) = (self.x1, self.y0);
        let mut quads = rest.chunks_exact_mut(4);
        for q in &mut quads {
            let s0 = q[0] - x1;
            let s1 = (q[1] - q[0]) + r * s0;
            let s2 = (q[2] - q[1]) + r * s1;
            let s3 = (q[3] - q[2]) + r * s2;
            x1 = q[3];
            q[0] = s0 + rp[0] * y0;
            q[1] = s1 + rp[1] * y0;
            q[2] = s2 + rp[2] * y0;
            q[3] = s3 + rp[3] * y0;
            y0 = flush(q[3]);
        }
        (self.x1, self.y0) = (x1, y0);
        for x in quads.into_remainder() {
            *x = self.tick(*x);
        }
    }

    /// One sample with the step's arithmetic (the same as the four-sample loop's).
    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        let d = x - self.x1;
        self.x1 = x;
        self.s = if self.phase == 0 {
            d
        } else {
            d + self.r * self.s
        };
        let y = self.s + self.rp[self.phase] * self.y0;
        if self.phase == 3 {
            self.y0 = flush(y);
        }
        self.phase = (self.phase + 1) & 3;
        y
    }
}

/// Keeps the feedback path out of denormals on silence.
#[inline(always)]
fn flush(y: f32) -> f32 {
    if y.abs() < 1e-20 {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursion it computes, one sample at a time in f64.
    fn reference(x: &[f32], rate: f64) -> Vec<f64> {
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32 as f64;
        let (mut x1, mut y1) = (0.0f64, 0.0f64);
        x.iter()
            .map(|&v| {
                y1 = v as f64 - x1 + r * y1;
                x1 = v as f64;
                y1
            })
            .collect()
    }

    #[test]
    fn is_the_recursion_for_any_split() {
        let rate = 44_100.0;
        let x: Vec<f32> = (0..20_000)
            .map(|i| ((i as f32 * 0.0137).sin() + 0.3) * if i % 5000 < 2500 { 1.0 } else { 0.1 })
            .collect();
        let want = reference(&x, rate);
        let mut whole = x.clone();
        DcBlocker::new(rate).process(&mut whole);
        let err = |y: &[f32]| {
            y.iter()
                .zip(&want)
                .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - b).abs()))
        };
        // The plain f32 recursion, sample by sample, for scale: rounding inside a pole
        // this close to 1 piles up (~1/(1 - r)), in either form.
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32;
        let (mut x1, mut y1) = (0.0f32, 0.0f32);
        let serial: Vec<f32> = x
            .iter()
            .map(|&v| {
                y1 = v - x1 + r * y1;
                x1 = v;
                y1
            })
            .collect();
        let (e, e_serial) = (err(&whole), err(&serial));
        println!("max error vs f64: four-sample steps {e:.2e}, plain recursion {e_serial:.2e}");
        assert!(e <= 1.5 * e_serial && e < 1e-5, "{e} vs {e_serial}");
        for pattern in [&[1usize][..], &[3], &[7, 1, 2], &[64], &[5, 511, 4]] {
            let mut d = DcBlocker::new(rate);
            let mut y = x.clone();
            let (mut at, mut k) = (0, 0);
            while at < y.len() {
                let n = pattern[k % pattern.len()].min(y.len() - at);
                d.process(&mut y[at..at + n]);
                at += n;
                k += 1;
            }
            assert!(y == whole, "split {pattern:?} changed the output");
        }
    }

    #[test]
    fn removes_dc_keeps_audio() {
        let rate = 48_000.0;
        let mut d = DcBlocker::new(rate);
        let mut dc = vec![0.5f32; 96_000];
        d.process(&mut dc);
        assert!(dc[95_999].abs() < 1e-3);
        let mut d = DcBlocker::new(rate);
        let mut tone: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
            .collect();
        d.process(&mut tone);
        let peak = tone[24_000..].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 1.0).abs() < 0.01, "{peak}");
    }
}
