//! The 5 Hz high-pass after the model, as the reference plugin has: models trained on
//! DC-coupled captures can emit a small offset, which costs headroom downstream.

/// One-pole/one-zero DC blocker. Real-time safe: `process` neither allocates nor panics.
#[derive(Debug, Clone)]
pub struct DcBlocker {
    r: f32,
    x1: f32,
    y1: f32,
}

/// The reference plugin's corner frequency.
pub const DC_BLOCKER_HZ: f64 = 5.0;

impl DcBlocker {
    pub fn new(sample_rate: f64) -> Self {
        let mut d = DcBlocker {
            r: 0.0,
            x1: 0.0,
            y1: 0.0,
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
        self.r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32;
        self.x1 = 0.0;
        self.y1 = 0.0;
    }

    pub fn process(&mut self, buf: &mut [f32]) {
        for x in buf.iter_mut() {
            let y = *x - self.x1 + self.r * self.y1;
            self.x1 = *x;
            // Keeps the feedback path out of denormals on silence.
            self.y1 = if y.abs() < 1e-20 { 0.0 } else { y };
            *x = self.y1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
