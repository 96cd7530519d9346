//! Per-sample parameter motion: a gain that glides in the dB domain and a 0..1 position
//! ramp for crossfades. Both are exact at their endpoints, so a settled smoother applies the
//! same constant as an unsmoothed one, sample for sample (the CLI and the plugin must agree
//! bit for bit at constant settings).

/// Time a gain takes to reach a new target: short enough to follow a hand on a knob, long
/// enough that a jump of 40 dB is a glide rather than a click.
pub const GAIN_GLIDE_MS: f64 = 20.0;

/// A linear gain that moves to its target along a straight line in dB (a constant ratio per
/// sample) over a fixed time, then holds it exactly.
#[derive(Debug, Clone)]
pub struct GainSmoother {
    current: f32,
    target: f32,
    ratio: f32,
    remaining: usize,
    glide: usize,
}

impl GainSmoother {
    /// Starts settled at `gain`.
    pub fn new(sample_rate: f64, gain: f32) -> Self {
        let glide = (GAIN_GLIDE_MS * 1e-3 * sample_rate).round().max(1.0) as usize;
        let g = sanitize_gain(gain);
        GainSmoother {
            current: g,
            target: g,
            ratio: 1.0,
            remaining: 0,
            glide,
        }
    }

    /// Glides to `gain` from wherever it is now. Real-time safe.
    pub fn set_target(&mut self, gain: f32) {
        let g = sanitize_gain(gain);
        if g == self.target {
            return;
        }
        self.target = g;
        // Gains here are never 0 (the lowest is -40 dB), but a ratio from or to 0 would be
        // undefined: jump instead.
        if self.current <= 0.0 || g <= 0.0 {
            self.snap();
            return;
        }
        self.ratio = ((g as f64 / self.current as f64).powf(1.0 / self.glide as f64)) as f32;
        self.remaining = self.glide;
    }

    /// Jumps to the target (after a reset, or when nothing is playing yet).
    pub fn snap(&mut self) {
        self.current = self.target;
        self.remaining = 0;
    }

    pub fn is_settled(&self) -> bool {
        self.remaining == 0
    }

    pub fn target(&self) -> f32 {
        self.target
    }

    /// Multiplies `buf` by the gliding gain.
    pub fn apply(&mut self, buf: &mut [f32]) {
        let mut i = 0;
        while self.remaining > 0 && i < buf.len() {
            self.remaining -= 1;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.current * self.ratio
            };
            buf[i] *= self.current;
            i += 1;
        }
        let g = self.current;
        for x in &mut buf[i..] {
            *x *= g;
        }
    }
}

fn sanitize_gain(g: f32) -> f32 {
    if g.is_finite() {
        g.clamp(0.0, 1e6)
    } else {
        1.0
    }
}

/// A position that travels linearly between 0 and 1 over a fixed number of samples, for
/// crossfades. [`Ramp::weight`] shapes it into an equal-gain raised cosine: the two signals
/// of a crossfade are the same instrument, highly correlated, so their gains must sum to 1.
#[derive(Debug, Clone)]
pub struct Ramp {
    /// Position in samples out of `len`: integers, so both ends are reached exactly.
    at: u32,
    target: u32,
    len: u32,
}

impl Ramp {
    pub fn new(sample_rate: f64, ms: f64, at: f32) -> Self {
        let len = (ms * 1e-3 * sample_rate).round().clamp(1.0, 1e8) as u32;
        let mut r = Ramp {
            at: 0,
            target: 0,
            len,
        };
        r.jump_to(at);
        r.target = r.at;
        r
    }

    fn steps(&self, pos: f32) -> u32 {
        (pos.clamp(0.0, 1.0) * self.len as f32).round() as u32
    }

    pub fn set_target(&mut self, target: f32) {
        self.target = self.steps(target);
    }

    pub fn snap(&mut self) {
        self.at = self.target;
    }

    pub fn jump_to(&mut self, pos: f32) {
        self.at = self.steps(pos);
    }

    pub fn position(&self) -> f32 {
        self.at as f32 / self.len as f32
    }

    pub fn target(&self) -> f32 {
        self.target as f32 / self.len as f32
    }

    pub fn is_settled(&self) -> bool {
        self.at == self.target
    }

    /// Advances one sample; returns the new linear position.
    #[inline]
    pub fn advance(&mut self) -> f32 {
        if self.at < self.target {
            self.at += 1;
        } else if self.at > self.target {
            self.at -= 1;
        }
        self.position()
    }

    /// The equal-gain raised-cosine weight of a linear position; exactly 0 and 1 at the
    /// ends.
    #[inline]
    pub fn weight(pos: f32) -> f32 {
        if pos <= 0.0 {
            0.0
        } else if pos >= 1.0 {
            1.0
        } else {
            0.5 - 0.5 * (std::f32::consts::PI * pos).cos()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_glides_in_db_and_lands_exactly() {
        let mut g = GainSmoother::new(48_000.0, 1.0);
        g.set_target(0.01); // -40 dB
        let mut buf = vec![1.0f32; 2000];
        g.apply(&mut buf);
        let glide = (GAIN_GLIDE_MS * 48.0) as usize;
        assert_eq!(buf[glide - 1], 0.01);
        assert_eq!(buf[1999], 0.01);
        // Halfway in time is halfway in dB.
        let mid_db = 20.0 * buf[glide / 2 - 1].log10();
        assert!((mid_db + 20.0).abs() < 0.1, "{mid_db}");
        // Monotone: no overshoot, no click.
        assert!(buf.windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn settled_gain_is_an_exact_constant() {
        let mut g = GainSmoother::new(48_000.0, 0.5);
        let mut buf = vec![0.3f32; 100];
        g.apply(&mut buf);
        assert!(buf.iter().all(|&x| x == 0.3f32 * 0.5));
    }

    #[test]
    fn ramp_weights_sum_to_one_and_end_exactly() {
        let mut r = Ramp::new(48_000.0, 1.0, 0.0);
        r.set_target(1.0);
        let mut last = 0.0;
        for _ in 0..48 {
            last = r.advance();
        }
        assert_eq!(last, 1.0);
        assert_eq!(Ramp::weight(1.0), 1.0);
        assert_eq!(Ramp::weight(0.0), 0.0);
        for p in [0.1f32, 0.3, 0.5, 0.9] {
            assert!((Ramp::weight(p) + Ramp::weight(1.0 - p) - 1.0).abs() < 1e-6);
        }
    }
}
