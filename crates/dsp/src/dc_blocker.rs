//! The 5 Hz high-pass after the model, as the reference plugin has: models trained on
//! DC-coupled captures can emit a small offset, which costs headroom downstream.

/// One-pole/one-zero DC blocker, y[n] = x[n] - x[n-1] + r y[n-1]. Real-time safe:
/// `process` neither allocates nor panics.
///
/// The recursion is serial, and one sample at a time it runs at the latency of a
/// multiply, an add and the denormal guard (about a nanosecond a sample, the costliest
/// stage of the plugin's own work). Here it runs sixteen samples a step on a grid fixed
/// to the stream: inside a step y[k] = s[k] + r^(k+1) y[-1], with s the recursion from
/// rest, computed a quad at a time as a small matrix product plus the previous quad's
/// last value; only y[-1] waits on the previous step. Each sample of a step depends on
/// that step's earlier samples alone, so a call that starts or ends mid-step recomputes
/// the step with what it has (the rest zero) and keeps its own samples: any split of the
/// stream gives the same samples.
#[derive(Debug, Clone)]
pub struct DcBlocker {
    /// r^(k+1) for k in 0..STEP, rounded once each from f64 (products of rounded powers
    /// would shift the pole).
    rp: [f32; STEP],
    /// m[i][j]: what a difference at sample i of a quad adds to sample j (r^(j-i), 0
    /// before it).
    m: [[f32; 4]; 4],
    /// The input before the current step.
    x1: f32,
    /// The output before the current step.
    y0: f32,
    /// The current step's input so far (zero after it).
    pending: [f32; STEP],
    /// Samples of the current step done.
    phase: usize,
}

const STEP: usize = 16;

/// The reference plugin's corner frequency.
pub const DC_BLOCKER_HZ: f64 = 5.0;

impl DcBlocker {
    pub fn new(sample_rate: f64) -> Self {
        let mut d = DcBlocker {
            rp: [0.0; STEP],
            m: [[0.0; 4]; 4],
            x1: 0.0,
            y0: 0.0,
            pending: [0.0; STEP],
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
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32 as f64;
        self.rp = std::array::from_fn(|k| r.powi(k as i32 + 1) as f32);
        self.m = std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                if j >= i {
                    r.powi((j - i) as i32) as f32
                } else {
                    0.0
                }
            })
        });
        self.x1 = 0.0;
        self.y0 = 0.0;
        self.pending = [0.0; STEP];
        self.phase = 0;
    }

    #[inline(always)]
    pub fn process(&mut self, buf: &mut [f32]) {
        let mut at = 0;
        if self.phase > 0 {
            let take = (STEP - self.phase).min(buf.len());
            let (p, k) = (self.phase, take);
            self.pending[p..p + k].copy_from_slice(&buf[..k]);
            let y = self.step(&self.pending);
            buf[..k].copy_from_slice(&y[p..p + k]);
            self.phase += k;
            at = k;
            if self.phase == STEP {
                self.finish(self.pending[STEP - 1], &y);
            }
        }
        let mut steps = buf[at..].chunks_exact_mut(STEP);
        for c in &mut steps {
            let x: &mut [f32; STEP] = c.try_into().expect("chunks of STEP");
            let y = self.step(x);
            self.finish(x[STEP - 1], &y);
            *x = y;
        }
        let rest = steps.into_remainder();
        if !rest.is_empty() {
            let k = rest.len();
            self.pending[..k].copy_from_slice(rest);
            self.pending[k..].fill(0.0);
            let y = self.step(&self.pending);
            rest.copy_from_slice(&y[..k]);
            self.phase = k;
        }
    }

    /// A whole step has run: its last input and output carry into the next.
    #[inline(always)]
    fn finish(&mut self, x_last: f32, y: &[f32; STEP]) {
        self.x1 = x_last;
        self.y0 = flush(y[STEP - 1]);
        self.phase = 0;
        self.pending = [0.0; STEP];
    }

    /// One step's output from its input, the input before it and the output before it.
    #[inline(always)]
    fn step(&self, x: &[f32; STEP]) -> [f32; STEP] {
        let (rp, m) = (&self.rp, &self.m);
        let mut y = [0.0f32; STEP];
        // The recursion from rest, a quad at a time: the quad's differences through the
        // matrix of powers, plus the previous quad's last value carried on.
        let mut carry = 0.0f32;
        for q in 0..STEP / 4 {
            let b = 4 * q;
            let d: [f32; 4] = std::array::from_fn(|i| {
                let before = if b + i == 0 { self.x1 } else { x[b + i - 1] };
                x[b + i] - before
            });
            let s: [f32; 4] = std::array::from_fn(|j| {
                rp[j] * carry + d[0] * m[0][j] + d[1] * m[1][j] + d[2] * m[2][j] + d[3] * m[3][j]
            });
            carry = s[3];
            y[b..b + 4].copy_from_slice(&s);
        }
        let y0 = self.y0;
        for (y, p) in y.iter_mut().zip(rp) {
            *y += p * y0;
        }
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
        println!("max error vs f64: sixteen-sample steps {e:.2e}, plain recursion {e_serial:.2e}");
        assert!(e <= 1.5 * e_serial && e < 1e-5, "{e} vs {e_serial}");
        for pattern in [
            &[1usize][..],
            &[3],
            &[7, 1, 2],
            &[15, 17],
            &[64],
            &[5, 511, 4],
        ] {
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
