//! Parameter ramps for the audio thread. A host sets parameters once per block (or at
//! any sample, for automation); applied as steps, a gain or a filter coefficient jumps
//! and the output clicks or zips. A ramp spreads each change over a fixed time.
//!
//! - `Smoother`: linear ramp of a fixed duration after every new target, from wherever
//!   it is (a target set mid-ramp bends the ramp, it never jumps), landing exactly.
//! - `GainSmoother`: the same, linear in dB, producing linear gains (input/output
//!   gain, trims).
//! - `Glide`: a critically damped curve whose slope is continuous too (filter
//!   coefficients; the tone stack).
//! - `Ramp`: a 0..1 position over a whole number of samples, for crossfades, with the
//!   equal-gain raised-cosine weight the chain's crossfades use.
//!
//! Every method is real-time safe: no allocation, no panics, non-finite targets
//! ignored.

/// A ramp long enough to hide a step (a click needs a few ms, a zipper a few tens of
/// ms of steps), short enough to feel immediate under a knob.
pub const DEFAULT_RAMP_MS: f64 = 30.0;

fn ramp_samples(sample_rate: f64, ramp_ms: f64) -> u32 {
    let rate = crate::sanitize_rate(sample_rate);
    let ms = if ramp_ms.is_finite() {
        ramp_ms.clamp(0.0, 10_000.0)
    } else {
        DEFAULT_RAMP_MS
    };
    (rate * ms / 1000.0).round() as u32
}

/// A value ramped linearly to its target.
#[derive(Debug, Clone)]
pub struct Smoother {
    current: f32,
    target: f32,
    step: f32,
    left: u32,
    ramp: u32,
}

impl Smoother {
    pub fn new(sample_rate: f64, ramp_ms: f64, initial: f32) -> Self {
        let initial = if initial.is_finite() { initial } else { 0.0 };
        Smoother {
            current: initial,
            target: initial,
            step: 0.0,
            left: 0,
            ramp: ramp_samples(sample_rate, ramp_ms),
        }
    }

    /// Ramp length for the next target; a ramp under way keeps its course.
    pub fn set_ramp(&mut self, sample_rate: f64, ramp_ms: f64) {
        self.ramp = ramp_samples(sample_rate, ramp_ms);
    }

    /// Samples a ramp takes.
    pub fn ramp_samples(&self) -> u32 {
        self.ramp
    }

    pub fn set_target(&mut self, target: f32) {
        if !target.is_finite() || target == self.target {
            return;
        }
        self.target = target;
        if self.ramp == 0 {
            self.current = target;
            self.left = 0;
        } else {
            self.left = self.ramp;
            self.step = (target - self.current) / self.ramp as f32;
        }
    }

    /// Jumps to `value` (on reset, or when nothing is playing).
    pub fn reset(&mut self, value: f32) {
        if value.is_finite() {
            self.current = value;
            self.target = value;
        } else {
            self.current = self.target;
        }
        self.left = 0;
    }

    /// Advances one sample and returns the value there.
    #[inline]
    pub fn next_value(&mut self) -> f32 {
        if self.left > 0 {
            self.left -= 1;
            self.current = if self.left == 0 {
                self.target
            } else {
                self.current + self.step
            };
        }
        self.current
    }

    /// Advances `n` samples.
    pub fn skip(&mut self, n: usize) {
        if n as u64 >= self.left as u64 {
            self.current = self.target;
            self.left = 0;
        } else {
            self.left -= n as u32;
            self.current = self.target - self.step * self.left as f32;
        }
    }

    /// One value per sample of `out`.
    pub fn fill(&mut self, out: &mut [f32]) {
        for o in out.iter_mut() {
            *o = self.next_value();
        }
    }

    /// The value at the last sample produced.
    pub fn value(&self) -> f32 {
        self.current
    }

    pub fn target(&self) -> f32 {
        self.target
    }

    pub fn is_smoothing(&self) -> bool {
        self.left > 0
    }
}

/// Gains in dB beyond this are clamped: -240 dB is silence for any converter, and the
/// clamp keeps the linear gain a normal float.
pub const GAIN_DB_LIMIT: f32 = 240.0;

/// A gain set in dB and ramped linearly in dB (a constant ratio per sample, so a fade
/// sounds even), producing linear factors. For input/output gain and trims.
#[derive(Debug, Clone)]
pub struct GainSmoother {
    /// f64: the product of thousands of per-sample ratios must not drift.
    gain: f64,
    target_gain: f64,
    target_db: f32,
    ratio: f64,
    left: u32,
    ramp: u32,
}

fn db_to_gain64(db: f32) -> f64 {
    10f64.powf(db.clamp(-GAIN_DB_LIMIT, GAIN_DB_LIMIT) as f64 / 20.0)
}

impl GainSmoother {
    pub fn new(sample_rate: f64, ramp_ms: f64, initial_db: f32) -> Self {
        let db = if initial_db.is_finite() {
            initial_db.clamp(-GAIN_DB_LIMIT, GAIN_DB_LIMIT)
        } else {
            0.0
        };
        let g = db_to_gain64(db);
        GainSmoother {
            gain: g,
            target_gain: g,
            target_db: db,
            ratio: 1.0,
            left: 0,
            ramp: ramp_samples(sample_rate, ramp_ms),
        }
    }

    pub fn set_ramp(&mut self, sample_rate: f64, ramp_ms: f64) {
        self.ramp = ramp_samples(sample_rate, ramp_ms);
    }

    pub fn ramp_samples(&self) -> u32 {
        self.ramp
    }

    pub fn set_target_db(&mut self, db: f32) {
        if !db.is_finite() {
            return;
        }
        let db = db.clamp(-GAIN_DB_LIMIT, GAIN_DB_LIMIT);
        if db == self.target_db {
            return;
        }
        self.target_db = db;
        self.target_gain = db_to_gain64(db);
        if self.ramp == 0 {
            self.gain = self.target_gain;
            self.left = 0;
        } else {
            self.left = self.ramp;
            self.ratio = (self.target_gain / self.gain).powf(1.0 / self.ramp as f64);
        }
    }

    pub fn reset_db(&mut self, db: f32) {
        if db.is_finite() {
            let db = db.clamp(-GAIN_DB_LIMIT, GAIN_DB_LIMIT);
            self.target_db = db;
            self.target_gain = db_to_gain64(db);
        }
        self.gain = self.target_gain;
        self.left = 0;
    }

    /// Advances one sample and returns the linear gain there.
    #[inline]
    pub fn next_value(&mut self) -> f32 {
        if self.left > 0 {
            self.left -= 1;
            self.gain = if self.left == 0 {
                self.target_gain
            } else {
                self.gain * self.ratio
            };
        }
        self.gain as f32
    }

    pub fn fill(&mut self, out: &mut [f32]) {
        for o in out.iter_mut() {
            *o = self.next_value();
        }
    }

    /// Multiplies `buf` by the ramp; once settled, by a constant (and not at all at
    /// unity). Products in the denormal range come out as 0.
    pub fn apply(&mut self, buf: &mut [f32]) {
        let mut i = 0;
        while self.left > 0 && i < buf.len() {
            buf[i] = crate::flush(buf[i] * self.next_value());
            i += 1;
        }
        let g = self.gain as f32;
        if g != 1.0 {
            buf[i..].iter_mut().for_each(|x| *x = crate::flush(*x * g));
        }
    }

    /// The linear gain at the last sample produced.
    pub fn gain(&self) -> f32 {
        self.gain as f32
    }

    /// The same in full precision (for coefficients computed from it).
    pub fn gain_f64(&self) -> f64 {
        self.gain
    }

    pub fn target_db(&self) -> f32 {
        self.target_db
    }

    pub fn is_smoothing(&self) -> bool {
        self.left > 0
    }
}

/// A value that glides to its target along a critically damped curve (two one-pole
/// stages): its slope is continuous too, even when the target jumps or moves in steps.
/// A linear ramp starts and stops with a corner in its slope, which a filter
/// coefficient turns into a tiny click on low notes; this does not. For coefficients
/// driven from knobs (the tone stack) and anything heard as a sweep.
#[derive(Debug, Clone)]
pub struct Glide {
    first: f64,
    value: f64,
    target: f64,
    /// Per-sample coefficient of each stage.
    coeff: f64,
    /// Done when both stages are this close to the target.
    tolerance: f64,
    moving: bool,
}

impl Glide {
    /// `settle_ms`: time to cover 99 % of a jump (6.64 time constants of each stage).
    /// `tolerance`: distance at which it lands exactly on the target (in the value's
    /// units: 1e-4 for dB).
    pub fn new(sample_rate: f64, settle_ms: f64, initial: f64, tolerance: f64) -> Self {
        let initial = if initial.is_finite() { initial } else { 0.0 };
        let mut g = Glide {
            first: initial,
            value: initial,
            target: initial,
            coeff: 1.0,
            tolerance: if tolerance.is_finite() {
                tolerance.abs()
            } else {
                0.0
            },
            moving: false,
        };
        g.set_settle(sample_rate, settle_ms);
        g
    }

    pub fn set_settle(&mut self, sample_rate: f64, settle_ms: f64) {
        let rate = crate::sanitize_rate(sample_rate);
        let ms = if settle_ms.is_finite() {
            settle_ms.clamp(0.0, 10_000.0)
        } else {
            DEFAULT_RAMP_MS
        };
        let tau = ms / 1000.0 / 6.64 * rate;
        self.coeff = if tau < 1e-3 {
            1.0
        } else {
            1.0 - (-1.0 / tau).exp()
        };
    }

    pub fn set_target(&mut self, target: f64) {
        if target.is_finite() && target != self.target {
            self.target = target;
            self.moving = true;
            if self.coeff >= 1.0 {
                // No glide: there now.
                self.reset(target);
            }
        }
    }

    pub fn reset(&mut self, value: f64) {
        if value.is_finite() {
            self.target = value;
        }
        self.first = self.target;
        self.value = self.target;
        self.moving = false;
    }

    #[inline]
    pub fn next_value(&mut self) -> f64 {
        if self.moving {
            self.first += self.coeff * (self.target - self.first);
            self.value += self.coeff * (self.first - self.value);
            if (self.target - self.value).abs() <= self.tolerance
                && (self.target - self.first).abs() <= self.tolerance
            {
                self.first = self.target;
                self.value = self.target;
                self.moving = false;
            }
        }
        self.value
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn target(&self) -> f64 {
        self.target
    }

    pub fn is_smoothing(&self) -> bool {
        self.moving
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

    /// Settled at 0: `is_settled() && position() == 0.0`, in integers (no division).
    pub fn is_off(&self) -> bool {
        self.at == 0 && self.target == 0
    }

    /// Settled at 1.
    pub fn is_on(&self) -> bool {
        self.at == self.len && self.target == self.len
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
    fn linear_ramp_takes_its_time_and_lands_exactly() {
        let mut s = Smoother::new(48_000.0, 10.0, 0.0);
        assert_eq!(s.ramp_samples(), 480);
        s.set_target(1.0);
        let v: Vec<f32> = (0..480).map(|_| s.next_value()).collect();
        // Straight line from 0 to 1 in 480 steps.
        for (i, x) in v.iter().enumerate() {
            assert!((x - (i + 1) as f32 / 480.0).abs() < 1e-5, "{i}: {x}");
        }
        assert_eq!(v[479], 1.0);
        assert!(!s.is_smoothing());
        assert_eq!(s.next_value(), 1.0);
    }

    #[test]
    fn retarget_mid_ramp_bends_without_a_jump() {
        let mut s = Smoother::new(1_000.0 * 8.0, 10.0, 0.0); // 80 samples
        s.set_target(10.0);
        for _ in 0..40 {
            s.next_value();
        }
        let before = s.value();
        assert!((before - 5.0).abs() < 1e-4);
        s.set_target(-10.0);
        let after = s.next_value();
        // One step of the new ramp: (-10 - 5) / 80.
        assert!((after - (before - 15.0 / 80.0)).abs() < 1e-4, "{after}");
        s.skip(10_000);
        assert_eq!(s.value(), -10.0);
    }

    #[test]
    fn skip_equals_stepping() {
        let mut a = Smoother::new(48_000.0, 5.0, 2.0);
        let mut b = a.clone();
        a.set_target(-3.0);
        b.set_target(-3.0);
        for _ in 0..77 {
            a.next_value();
        }
        b.skip(77);
        assert!((a.value() - b.value()).abs() < 1e-5);
        assert_eq!(a.is_smoothing(), b.is_smoothing());
    }

    #[test]
    fn bad_values_are_ignored_and_zero_ramp_jumps() {
        let mut s = Smoother::new(f64::NAN, f64::NAN, f32::NAN);
        assert_eq!(s.value(), 0.0);
        assert_eq!(s.ramp_samples(), (48.0 * DEFAULT_RAMP_MS) as u32);
        s.set_target(f32::INFINITY);
        assert_eq!(s.target(), 0.0);
        let mut j = Smoother::new(48_000.0, 0.0, 0.0);
        j.set_target(3.0);
        assert_eq!(j.next_value(), 3.0);
    }

    #[test]
    fn gain_ramps_linearly_in_db() {
        let mut g = GainSmoother::new(48_000.0, 20.0, 0.0);
        g.set_target_db(-40.0);
        let n = g.ramp_samples() as usize;
        assert_eq!(n, 960);
        let v: Vec<f32> = (0..n).map(|_| g.next_value()).collect();
        for (i, x) in v.iter().enumerate() {
            let db = 20.0 * x.log10();
            let expect = -40.0 * (i + 1) as f32 / n as f32;
            assert!((db - expect).abs() < 1e-3, "{i}: {db} vs {expect}");
        }
        assert_eq!(v[n - 1], 0.01);
        let mut buf = vec![1.0f32; 10];
        g.apply(&mut buf);
        assert!(buf.iter().all(|&x| x == 0.01));
    }

    #[test]
    fn gain_apply_matches_next() {
        let mut a = GainSmoother::new(44_100.0, 30.0, 6.0);
        let mut b = a.clone();
        a.set_target_db(-12.0);
        b.set_target_db(-12.0);
        let mut buf: Vec<f32> = (0..3000).map(|i| (i as f32 * 0.01).sin()).collect();
        let expect: Vec<f32> = buf.iter().map(|x| x * b.next_value()).collect();
        for chunk in buf.chunks_mut(97) {
            a.apply(chunk);
        }
        assert_eq!(buf, expect);
        let mut c = GainSmoother::new(48_000.0, 30.0, -1e9);
        assert_eq!(c.target_db(), -GAIN_DB_LIMIT);
        assert!(c.next_value() > 0.0 && c.next_value().is_normal());
    }

    #[test]
    fn glide_follows_the_critically_damped_curve_and_lands() {
        let rate = 48_000.0;
        let mut g = Glide::new(rate, 30.0, 0.0, 1e-4);
        g.set_target(10.0);
        let tau = 0.030 / 6.64 * rate;
        let c = 1.0 - (-1.0 / tau).exp();
        let mut prev_slope = 0.0f64;
        for n in 1..=1440usize {
            let v = g.next_value();
            // Discrete two-stage step response: 1 - p^n (1 + n c), p = 1 - c.
            let p = 1.0 - c;
            let expect = 10.0 * (1.0 - p.powi(n as i32) * (1.0 + n as f64 * c));
            assert!((v - expect).abs() < 1e-9, "{n}: {v} vs {expect}");
            let slope = v - (10.0 * (1.0 - p.powi(n as i32 - 1) * (1.0 + (n - 1) as f64 * c)));
            // The slope starts at 0 and never jumps.
            assert!((slope - prev_slope).abs() < 10.0 * c * c * 1.01, "{n}");
            prev_slope = slope;
        }
        // 99 % after the settle time.
        assert!((g.value() - 9.9).abs() < 0.01, "{}", g.value());
        for _ in 0..48_000 {
            g.next_value();
        }
        assert!(!g.is_smoothing());
        assert_eq!(g.value(), 10.0);
        let mut z = Glide::new(rate, 0.0, 1.0, 0.0);
        z.set_target(2.0);
        assert_eq!(z.next_value(), 2.0);
        assert!(!z.is_smoothing());
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
