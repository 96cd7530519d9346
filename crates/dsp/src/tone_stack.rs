//! Bass / middle / treble, the reference plugin's tone stack: RBJ-cookbook low shelf
//! 150 Hz Q 0.707 (4 dB per knob step from 5), peaking 425 Hz (3 dB per step, Q 0.7
//! boosting and 1.5 cutting), high shelf 1800 Hz Q 0.707 (2 dB per step).
//!
//! Each band is a trapezoidal state-variable filter (Simper's form) with the cookbook's
//! analog prototype: the bilinear transform of the same prototype at the same prewarped
//! frequency, hence the very same response as the reference's biquads. Unlike a direct
//! form biquad, its state is two integrators that stay meaningful when the
//! coefficients move, so the coefficients can follow a knob every sample: each band's
//! gain in dB glides to the knob's along a critically damped curve (99 % in
//! `DEFAULT_RAMP_MS`; no corner in its slope either, which a linear ramp has and a low
//! note would betray) and the coefficients are recomputed per sample while it moves.
//! The reference jumps them and zips.
//!
//! At 0 dB a band is exactly the identity (its taps' weights are 0), so while every band
//! sits there (off, or all three knobs at 5: the default) the stack skips the work; off
//! glides every band to 0 dB first, and a knob leaving 5 (or on) glides out from there.

use crate::smoother::{Glide, DEFAULT_RAMP_MS};
use crate::{clean, flush, sanitize_rate};

pub const KNOB_RANGE: (f32, f32) = (0.0, 10.0);
pub const DEFAULT_KNOB: f32 = 5.0;
pub const BASS_HZ: f64 = 150.0;
pub const BASS_Q: f64 = 0.707;
pub const BASS_DB_PER_STEP: f32 = 4.0;
pub const MIDDLE_HZ: f64 = 425.0;
pub const MIDDLE_Q_BOOST: f64 = 0.7;
pub const MIDDLE_Q_CUT: f64 = 1.5;
pub const MIDDLE_DB_PER_STEP: f32 = 3.0;
pub const TREBLE_HZ: f64 = 1800.0;
pub const TREBLE_Q: f64 = 0.707;
pub const TREBLE_DB_PER_STEP: f32 = 2.0;
/// A glide lands on the knob's gain within this (dB): a 1e-5 step, inaudible.
const DB_TOLERANCE: f64 = 1e-4;

/// The band's gain in dB for a knob position, as the reference maps it.
pub fn knob_to_db(knob: f32, db_per_step: f32) -> f32 {
    db_per_step * (knob.clamp(KNOB_RANGE.0, KNOB_RANGE.1) - DEFAULT_KNOB)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    LowShelf,
    Peaking,
    HighShelf,
}

#[derive(Debug, Clone)]
struct Band {
    kind: BandKind,
    freq: f64,
    db_per_step: f32,
    knob: f32,
    /// tan(pi f / fs): the prewarped frequency.
    t: f64,
    /// The band's gain in dB, gliding to the knob's.
    db: Glide,
    /// sqrt(A) = 10^(dB/80), A being the cookbook's 10^(dB/40).
    root: f64,
    g: f64,
    k: f64,
    a1: f64,
    a2: f64,
    a3: f64,
    m0: f64,
    m1: f64,
    m2: f64,
    ic1: f64,
    ic2: f64,
}

impl Band {
    fn new(kind: BandKind, freq: f64, db_per_step: f32, rate: f64) -> Self {
        let mut b = Band {
            kind,
            freq,
            db_per_step,
            knob: DEFAULT_KNOB,
            t: 0.0,
            db: Glide::new(rate, DEFAULT_RAMP_MS, 0.0, DB_TOLERANCE),
            root: 1.0,
            g: 0.0,
            k: 0.0,
            a1: 0.0,
            a2: 0.0,
            a3: 0.0,
            m0: 1.0,
            m1: 0.0,
            m2: 0.0,
            ic1: 0.0,
            ic2: 0.0,
        };
        b.set_rate(rate);
        b
    }

    fn set_rate(&mut self, rate: f64) {
        // Below Nyquist at any supported rate (1800 Hz < 4 kHz); the guard is for
        // frequencies a caller might add.
        let f = self.freq.min(0.45 * rate);
        self.t = (std::f64::consts::PI * f / rate).tan();
        self.update();
    }

    fn db(&self) -> f32 {
        knob_to_db(self.knob, self.db_per_step)
    }

    /// Coefficients for the gliding gain (Simper, "SvfLinearTrapOptimised2").
    #[inline]
    fn update(&mut self) {
        self.root = 10f64.powf(self.db.value() / 80.0);
        let root = self.root;
        let a = root * root;
        let (g, k) = match self.kind {
            BandKind::LowShelf => (self.t / root, 1.0 / BASS_Q),
            BandKind::HighShelf => (self.t * root, 1.0 / TREBLE_Q),
            BandKind::Peaking => {
                let q = if a < 1.0 {
                    MIDDLE_Q_CUT
                } else {
                    MIDDLE_Q_BOOST
                };
                (self.t, 1.0 / (q * a))
            }
        };
        (self.m0, self.m1, self.m2) = match self.kind {
            BandKind::LowShelf => (1.0, k * (a - 1.0), a * a - 1.0),
            BandKind::HighShelf => (a * a, k * (1.0 - a) * a, 1.0 - a * a),
            BandKind::Peaking => (1.0, k * (a * a - 1.0), 0.0),
        };
        (self.g, self.k) = (g, k);
        self.a1 = 1.0 / (1.0 + g * (g + k));
        self.a2 = g * self.a1;
        self.a3 = g * self.a2;
    }

    #[inline(always)]
    fn tick(&mut self, v0: f64) -> f64 {
        let v3 = v0 - self.ic2;
        let v1 = self.a1 * self.ic1 + self.a2 * v3;
        let v2 = self.ic2 + self.a2 * self.ic1 + self.a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        self.m0 * v0 + self.m1 * v1 + self.m2 * v2
    }

    /// |H| in dB at `freq` for the coefficients in use: the SVF is the bilinear image
    /// of its analog prototype, so evaluate that at s = j tan(w/2).
    fn response_db(&self, freq: f64, rate: f64) -> f64 {
        let s = (std::f64::consts::PI * freq / rate).tan(); // s = j*s
        let (g, k) = (self.g, self.k);
        // den = (js)^2 + g k (js) + g^2
        let (dr, di) = (g * g - s * s, g * k * s);
        let d2 = dr * dr + di * di;
        // band = g (js) / den, low = g^2 / den
        let (br, bi) = (g * s * di / d2, g * s * dr / d2);
        let (lr, li) = (g * g * dr / d2, -g * g * di / d2);
        let hr = self.m0 + self.m1 * br + self.m2 * lr;
        let hi = self.m1 * bi + self.m2 * li;
        10.0 * (hr * hr + hi * hi).log10()
    }
}

#[derive(Debug, Clone)]
pub struct ToneStack {
    rate: f64,
    smoothing_ms: f64,
    bands: [Band; 3],
    enabled: bool,
    bypassed: bool,
}

impl ToneStack {
    /// Flat (every knob at 5), enabled. Allocates nothing.
    pub fn new(sample_rate: f64) -> Self {
        let rate = sanitize_rate(sample_rate);
        ToneStack {
            rate,
            smoothing_ms: DEFAULT_RAMP_MS,
            bands: [
                Band::new(BandKind::LowShelf, BASS_HZ, BASS_DB_PER_STEP, rate),
                Band::new(BandKind::Peaking, MIDDLE_HZ, MIDDLE_DB_PER_STEP, rate),
                Band::new(BandKind::HighShelf, TREBLE_HZ, TREBLE_DB_PER_STEP, rate),
            ],
            enabled: true,
            bypassed: false,
        }
    }

    /// Real-time safe; keeps knobs and state.
    pub fn set_sample_rate(&mut self, sample_rate: f64) {
        self.rate = sanitize_rate(sample_rate);
        for b in &mut self.bands {
            b.db.set_settle(self.rate, self.smoothing_ms);
            b.set_rate(self.rate);
        }
    }

    /// How long a knob change takes to arrive, 99 % of the way (0 = jump, like the
    /// reference).
    pub fn set_smoothing_ms(&mut self, ms: f64) {
        self.smoothing_ms = ms;
        for b in &mut self.bands {
            b.db.set_settle(self.rate, ms);
        }
    }

    fn set_knob(&mut self, band: usize, knob: f32) {
        if !knob.is_finite() {
            return;
        }
        let b = &mut self.bands[band];
        b.knob = knob.clamp(KNOB_RANGE.0, KNOB_RANGE.1);
        if self.enabled {
            let db = b.db();
            if db as f64 == b.db.target() {
                return;
            }
            b.db.set_target(db as f64);
            // A glide starts from where it is; with no glide the gain is there now.
            b.update();
            self.resume();
        }
    }

    /// Leaves the identity when a band is about to move off 0 dB: the integrators restart
    /// from rest while the gains are still 0 dB, where their state is not heard, so the
    /// transient is not either.
    fn resume(&mut self) {
        if self.bypassed && !self.is_flat() {
            self.bypassed = false;
            for b in &mut self.bands {
                b.ic1 = 0.0;
                b.ic2 = 0.0;
            }
        }
    }

    /// Every band at 0 dB, going nowhere: the stack is the identity.
    fn is_flat(&self) -> bool {
        self.bands
            .iter()
            .all(|b| !b.db.is_smoothing() && b.db.value() == 0.0 && b.db.target() == 0.0)
    }

    /// Knob 0..=10, 5 flat.
    pub fn set_bass(&mut self, knob: f32) {
        self.set_knob(0, knob);
    }

    pub fn set_middle(&mut self, knob: f32) {
        self.set_knob(1, knob);
    }

    pub fn set_treble(&mut self, knob: f32) {
        self.set_knob(2, knob);
    }

    /// Gains in dB the knobs ask for (bass, middle, treble).
    pub fn target_db(&self) -> [f32; 3] {
        [self.bands[0].db(), self.bands[1].db(), self.bands[2].db()]
    }

    pub fn set_enabled(&mut self, on: bool) {
        if on == self.enabled {
            return;
        }
        self.enabled = on;
        for b in &mut self.bands {
            let db = if on { b.db() } else { 0.0 };
            b.db.set_target(db as f64);
            b.update();
        }
        if on {
            self.resume();
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// `process` leaves its buffer as it is (flat or off, nothing gliding).
    pub fn is_transparent(&self) -> bool {
        self.bypassed
    }

    /// Knob changes arrive at once; filter state cleared.
    pub fn reset(&mut self) {
        for b in &mut self.bands {
            let db = if self.enabled { b.db() } else { 0.0 };
            b.db.reset(db as f64);
            b.update();
            b.ic1 = 0.0;
            b.ic2 = 0.0;
        }
        self.bypassed = self.is_flat();
    }

    /// Magnitude response in dB at `freq` with the coefficients in use (for drawing the
    /// curve in the editor).
    pub fn response_db(&self, freq: f64) -> f64 {
        if self.bypassed {
            return 0.0;
        }
        self.bands
            .iter()
            .map(|b| b.response_db(freq, self.rate))
            .sum()
    }

    /// Filters `buf` in place. Any length; real-time safe.
    pub fn process(&mut self, buf: &mut [f32]) {
        if self.bypassed || buf.is_empty() {
            return;
        }
        let mut i = 0;
        let [b0, b1, b2] = &mut self.bands;
        while i < buf.len()
            && (b0.db.is_smoothing() || b1.db.is_smoothing() || b2.db.is_smoothing())
        {
            for b in [&mut *b0, &mut *b1, &mut *b2] {
                if b.db.is_smoothing() {
                    b.db.next_value();
                    b.update();
                }
            }
            let x = clean(buf[i]) as f64;
            buf[i] = flush(b2.tick(b1.tick(b0.tick(x))) as f32);
            i += 1;
        }
        for y in buf[i..].iter_mut() {
            let x = clean(*y) as f64;
            *y = flush(b2.tick(b1.tick(b0.tick(x))) as f32);
        }
        for b in [&mut *b0, &mut *b1, &mut *b2] {
            // Silence decays the integrators toward f64 denormals; stop them short.
            if b.ic1.abs() < 1e-30 {
                b.ic1 = 0.0;
            }
            if b.ic2.abs() < 1e-30 {
                b.ic2 = 0.0;
            }
        }
        if self.is_flat() {
            self.bypassed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_mapping_is_the_reference() {
        assert_eq!(knob_to_db(0.0, BASS_DB_PER_STEP), -20.0);
        assert_eq!(knob_to_db(10.0, BASS_DB_PER_STEP), 20.0);
        assert_eq!(knob_to_db(7.5, MIDDLE_DB_PER_STEP), 7.5);
        assert_eq!(knob_to_db(2.0, TREBLE_DB_PER_STEP), -6.0);
        assert_eq!(knob_to_db(99.0, TREBLE_DB_PER_STEP), 10.0);
    }

    #[test]
    fn flat_is_the_identity() {
        let mut t = ToneStack::new(48_000.0);
        let x: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let mut y = x.clone();
        t.process(&mut y);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-6, "{a} {b}");
        }
        assert!(t.response_db(1000.0).abs() < 1e-12);
    }

    #[test]
    fn off_ramps_to_flat_then_bypasses() {
        let mut t = ToneStack::new(48_000.0);
        t.set_bass(10.0);
        t.reset();
        assert!((t.response_db(10.0) - 20.0).abs() < 0.01);
        t.set_enabled(false);
        let mut buf = vec![0.5f32; 4800];
        t.process(&mut buf);
        assert!(t.bypassed);
        assert_eq!(t.response_db(10.0), 0.0);
        t.set_enabled(true);
        assert!(!t.bypassed);
        t.process(&mut buf);
        assert!((t.response_db(10.0) - 20.0).abs() < 0.01);
    }

    #[test]
    fn sample_rate_change_keeps_glide_duration() {
        let mut t = ToneStack::new(48_000.0);
        t.set_sample_rate(96_000.0);
        t.set_bass(10.0);
        let mut buf = vec![0.0f32; (96.0 * DEFAULT_RAMP_MS) as usize];
        t.process(&mut buf);
        // 99 % of the way in the settle time, in dB.
        assert!(
            (t.bands[0].db.value() - 19.8).abs() < 0.02,
            "{}",
            t.bands[0].db.value()
        );
    }
}
