//! The noise gate, designed as the reference plugin's (NeuralAmpModelerCore's
//! `noise_gate::Trigger` + `Gain`): the detector listens to the clean input, the gain
//! is applied to the model's output, so the amp's own hiss is gated with the strings.
//!
//! - Detector: mean square through a one-pole whose half-life is 10 ms, floored at
//!   -120 dB.
//! - Below the threshold the target reduction grows with the square of the distance:
//!   `-ratio * (level - threshold)^2` (ratio 0.1). The reference applies this value as
//!   a power ratio (`10^(r/10)` on the amplitude), so its numbers are half-size
//!   amplitude dB; we keep its numbers so a threshold sounds the same in both.
//! - The reduction moves toward its target by half the distance per sample, at most at
//!   the attack rate (the whole range in `attack`) when opening and the release rate
//!   when closing. Fully open, it holds for `hold` below the threshold before moving.
//!
//! One deliberate difference: the reference only counts the gate as open once the
//! halving reaches exactly 0, which takes ~1000 samples of float underflow; a burst that
//! ends before that closes with no hold. Here it is open within 1e-6 dB.
//!
//! Split use, because the model sits between detector and gain: `detect(input)` stores
//! one gain per sample, `apply(output)` multiplies them in. Both take at most
//! `max_block()` samples (`process_with` cuts longer buffers). On/off is click-free: off
//! opens the gate at the attack rate, then skips all work.

use crate::simd::Simd;
use crate::{clean, sanitize_rate, FLUSH};

pub const DEFAULT_THRESHOLD_DB: f32 = -80.0;
pub const THRESHOLD_RANGE_DB: (f32, f32) = (-100.0, 0.0);
/// The reference plugin's fixed times, our defaults.
pub const DEFAULT_ATTACK_MS: f32 = 5.0;
pub const DEFAULT_HOLD_MS: f32 = 10.0;
pub const DEFAULT_RELEASE_MS: f32 = 50.0;
pub const ATTACK_RANGE_MS: (f32, f32) = (0.1, 500.0);
pub const HOLD_RANGE_MS: (f32, f32) = (0.0, 2_000.0);
pub const RELEASE_RANGE_MS: (f32, f32) = (1.0, 5_000.0);
/// The reference's "quadratic" ratio.
pub const RATIO: f64 = 0.1;
/// Half-life of the detector's mean square.
pub const DETECTOR_HALF_LIFE_S: f64 = 0.01;
/// Anything quieter is detected as this loud.
pub const FLOOR_DB: f64 = -120.0;
const FLOOR_POWER: f64 = 1e-12;
const CEILING_POWER: f64 = 1000.0;
/// Within this of 0 (reference dB) the gate counts as open: gain 1 - 2.3e-7.
const OPEN_EPS: f64 = 1e-6;

#[derive(Debug, Clone)]
pub struct NoiseGate {
    rate: f64,
    threshold_db: f64,
    attack_s: f64,
    hold_s: f64,
    release_s: f64,
    enabled: bool,

    // Derived per-sample constants.
    threshold_power: f64,
    alpha: f64,
    max_reduction: f64,
    d_open: f64,
    d_close: f64,
    hold_samples: u64,

    // State.
    level: f64,
    reduction: f64,
    holding: bool,
    held: u64,
    /// Off and fully open: neither half does anything.
    bypassed: bool,
    gain_of: (f64, f32),

    gains: Vec<f32>,
    stored: usize,
    /// The whole block's gain when it is one number (`Some(1.0)`: open, `apply` does
    /// nothing); else `gains` holds one per sample.
    uniform: Option<f32>,
    /// alpha^j for j in 0..=max_block: the detector's decay over j samples, for the
    /// open gate's block-at-once path.
    decay: Vec<f64>,
    /// `decay[..max_block]` reversed: the weights of a block's samples, oldest first.
    weights: Vec<f64>,
    simd: Simd,
}

impl NoiseGate {
    /// Allocates the gain buffer for blocks of up to `max_block` samples; starts enabled,
    /// open, with the reference's settings.
    pub fn new(sample_rate: f64, max_block: usize) -> Self {
        let mut g = NoiseGate {
            rate: sanitize_rate(sample_rate),
            threshold_db: DEFAULT_THRESHOLD_DB as f64,
            attack_s: DEFAULT_ATTACK_MS as f64 / 1000.0,
            hold_s: DEFAULT_HOLD_MS as f64 / 1000.0,
            release_s: DEFAULT_RELEASE_MS as f64 / 1000.0,
            enabled: true,
            threshold_power: 0.0,
            alpha: 0.0,
            max_reduction: 0.0,
            d_open: 0.0,
            d_close: 0.0,
            hold_samples: 0,
            level: FLOOR_POWER,
            reduction: 0.0,
            holding: true,
            held: 0,
            bypassed: false,
            gain_of: (0.0, 1.0),
            gains: vec![1.0; max_block.max(1)],
            stored: 0,
            uniform: Some(1.0),
            decay: vec![1.0; max_block.max(1) + 1],
            weights: vec![1.0; max_block.max(1)],
            simd: Simd::detect(),
        };
        g.derive();
        g
    }

    fn derive(&mut self) {
        let dt = 1.0 / self.rate;
        self.threshold_power = 10f64.powf(self.threshold_db / 10.0);
        self.alpha = 0.5f64.powf(1.0 / (DETECTOR_HALF_LIFE_S * self.rate));
        self.max_reduction = -RATIO * (FLOOR_DB - self.threshold_db).powi(2);
        self.d_open = -self.max_reduction / self.attack_s * dt;
        self.d_close = self.max_reduction / self.release_s * dt;
        // The reference adds dt per sample and compares with the hold time.
        self.hold_samples = (self.hold_s * self.rate - 1e-9).ceil().max(0.0) as u64;
        self.reduction = self.reduction.max(self.max_reduction);
        let mut p = 1.0;
        for d in self.decay.iter_mut() {
            *d = p;
            p *= self.alpha;
        }
        let mb = self.weights.len();
        for (w, d) in self.weights.iter_mut().zip(self.decay[..mb].iter().rev()) {
            *w = *d;
        }
    }

    /// The longest block `detect` and `apply` take.
    pub fn max_block(&self) -> usize {
        self.gains.len()
    }

    /// Real-time safe; keeps the gate's state.
    pub fn set_sample_rate(&mut self, sample_rate: f64) {
        self.rate = sanitize_rate(sample_rate);
        self.derive();
    }

    pub fn set_threshold_db(&mut self, db: f32) {
        let v = db.clamp(THRESHOLD_RANGE_DB.0, THRESHOLD_RANGE_DB.1) as f64;
        // Called every block with the same value: derive only on a change.
        if db.is_finite() && v != self.threshold_db {
            self.threshold_db = v;
            self.derive();
        }
    }

    /// Time to open from fully closed, at the fastest.
    pub fn set_attack_ms(&mut self, ms: f32) {
        let v = ms.clamp(ATTACK_RANGE_MS.0, ATTACK_RANGE_MS.1) as f64 / 1000.0;
        // Called every block with the same value: derive only on a change.
        if ms.is_finite() && v != self.attack_s {
            self.attack_s = v;
            self.derive();
        }
    }

    /// Time the gate stays fully open after the level drops below the threshold.
    pub fn set_hold_ms(&mut self, ms: f32) {
        let v = ms.clamp(HOLD_RANGE_MS.0, HOLD_RANGE_MS.1) as f64 / 1000.0;
        // Called every block with the same value: derive only on a change.
        if ms.is_finite() && v != self.hold_s {
            self.hold_s = v;
            self.derive();
        }
    }

    /// Time to close from fully open, at the fastest.
    pub fn set_release_ms(&mut self, ms: f32) {
        let v = ms.clamp(RELEASE_RANGE_MS.0, RELEASE_RANGE_MS.1) as f64 / 1000.0;
        // Called every block with the same value: derive only on a change.
        if ms.is_finite() && v != self.release_s {
            self.release_s = v;
            self.derive();
        }
    }

    /// Off opens the gate at the attack rate, then costs nothing; on starts open and
    /// lets the detector decide.
    pub fn set_enabled(&mut self, on: bool) {
        if on == self.enabled {
            return;
        }
        self.enabled = on;
        if on {
            self.bypassed = false;
            if self.reduction == 0.0 {
                // Open, holding: the hold time covers the detector's rise from its
                // floor (one sample for anything 20 dB over the threshold).
                self.level = FLOOR_POWER;
                self.holding = true;
                self.held = 0;
            }
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Forgets the signal: open, detector at the floor.
    pub fn reset(&mut self) {
        self.level = FLOOR_POWER;
        self.reduction = 0.0;
        self.holding = true;
        self.held = 0;
        self.bypassed = !self.enabled;
        self.stored = 0;
        self.uniform = Some(1.0);
    }

    /// Current gain reduction in amplitude dB (0 = open), for a meter.
    pub fn reduction_db(&self) -> f32 {
        (2.0 * self.reduction) as f32
    }

    /// `apply` after the last `detect` leaves its buffer as it is.
    pub(crate) fn is_unity(&self) -> bool {
        self.uniform == Some(1.0)
    }

    pub fn is_open(&self) -> bool {
        self.reduction == 0.0
    }

    /// Runs the detector over `input` (the chain's input, before the model) and stores
    /// a gain per sample for `apply`. Blocks longer than `max_block()` still advance
    /// the detector; their excess samples get the block's last gain.
    #[inline(always)]
    pub fn detect(&mut self, input: &[f32]) {
        self.detect_summed(input, None)
    }

    /// The weights of the open gate's block sum when `detect` on `n` samples would take
    /// that path: for a caller that computes the sum while it writes the input (the
    /// chain's input pass) and hands it to `detect_summed`.
    #[inline(always)]
    pub(crate) fn block_weights(&self, n: usize) -> Option<&[f64]> {
        // Holding open, and the level is in range and stays over the threshold through
        // `n` samples of silence. (The margin covers the per-sample recursion's
        // rounding.)
        let fast = !self.bypassed
            && n > 0
            && n <= self.gains.len()
            && self.enabled
            && self.holding
            && self.level <= CEILING_POWER
            && self.decay[n] * self.level >= self.threshold_power * (1.0 + 1e-9);
        // alpha^(n-1-k) for sample k.
        fast.then(|| &self.weights[self.weights.len() - n..])
    }

    /// `detect` with the block sum and peak of `input` already taken with the weights of
    /// `block_weights(input.len())` (ignored where that path does not apply).
    #[inline(always)]
    pub(crate) fn detect_summed(&mut self, input: &[f32], summed: Option<(f64, f32)>) {
        let n = input.len();
        self.stored = n.min(self.gains.len());
        if self.bypassed || n == 0 {
            self.uniform = Some(1.0);
            return;
        }
        if n <= self.gains.len() && self.enabled {
            if self.stays_open(input, summed) {
                self.uniform = Some(1.0);
                return;
            }
            if !self.holding
                && self.reduction == self.max_reduction
                && self.level == FLOOR_POWER
                && input.iter().all(|&x| clean(x) == 0.0)
            {
                // Closed on digital silence: the level stays on its floor, the target
                // on the maximum reduction, the gain where it is.
                self.uniform = Some(self.gain());
                return;
            }
        }
        let beta = 1.0 - self.alpha;
        let mut unity = true;
        let cap = self.gains.len();
        for (i, &x) in input.iter().enumerate() {
            let x = clean(x) as f64;
            self.level = (self.alpha * self.level + beta * x * x).clamp(FLOOR_POWER, CEILING_POWER);
            let below = self.level < self.threshold_power;
            let g = if self.holding {
                if below && self.enabled {
                    self.held += 1;
                    if self.held >= self.hold_samples {
                        self.holding = false;
                    }
                } else {
                    self.held = 0;
                    if !self.enabled {
                        self.bypassed = true;
                    }
                }
                1.0
            } else {
                self.step(below);
                let g = self.gain();
                unity &= g == 1.0;
                g
            };
            if i < cap {
                self.gains[i] = g;
            }
        }
        self.uniform = if unity { Some(1.0) } else { None };
    }

    /// The open gate's fast path, exact: if the level cannot fall below the threshold
    /// within this block even were it silent (alpha^n level >= threshold), the gate
    /// holds open throughout and only the level needs updating, which is a weighted
    /// sum: level_n = alpha^n level + beta sum(alpha^(n-1-k) x_k^2). One pass of
    /// vector arithmetic instead of a per-sample recursion: an open, playing gate costs
    /// next to nothing.
    #[inline(always)]
    fn stays_open(&mut self, input: &[f32], summed: Option<(f64, f32)>) -> bool {
        let n = input.len();
        let Some(weights) = self.block_weights(n) else {
            return false;
        };
        let (sum, top) = match summed {
            Some(s) => s,
            None => self.simd.weighted_power_and_peak(input, weights),
        };
        self.hold_open(n, sum, top)
    }

    /// `detect_summed` for a caller that has just had `Some` from
    /// `block_weights(input.len())` and took the sum with those weights: the open gate's
    /// path without asking the same questions again (the chain's usual block).
    #[inline(always)]
    pub(crate) fn detect_open(&mut self, input: &[f32], sum: f64, top: f32) {
        debug_assert!(self.block_weights(input.len()).is_some());
        self.stored = input.len();
        if self.hold_open(input.len(), sum, top) {
            self.uniform = Some(1.0);
        } else {
            // Too loud for the fast path: the exact one.
            self.detect_summed(input, None);
        }
    }

    /// The level after `n` samples whose weighted sum is `sum` and largest magnitude
    /// `top`, where `block_weights(n)` holds; false (nothing changed) where the level
    /// would need the per-sample clamp.
    #[inline(always)]
    fn hold_open(&mut self, n: usize, sum: f64, top: f32) -> bool {
        let an = self.decay[n];
        // Squaring is monotone, so (max |x|)^2 is the largest power exactly.
        if top as f64 * top as f64 > CEILING_POWER {
            // The reference clamps the level per sample: take the exact path.
            return false;
        }
        self.level = (an * self.level + (1.0 - self.alpha) * sum).clamp(FLOOR_POWER, CEILING_POWER);
        self.held = 0;
        true
    }

    /// One move of the reduction toward its target (the gate is not holding).
    #[inline]
    fn step(&mut self, below: bool) {
        let target = if below && self.enabled {
            let over = 10.0 * self.level.log10() - self.threshold_db;
            -RATIO * over * over
        } else {
            0.0
        };
        let r = self.reduction;
        if target > r {
            self.reduction = r + (0.5 * (target - r)).clamp(0.0, self.d_open);
            if self.reduction >= -OPEN_EPS {
                self.reduction = 0.0;
                self.holding = true;
                self.held = 0;
            }
        } else if target < r {
            self.reduction =
                (r + (0.5 * (target - r)).clamp(self.d_close, 0.0)).max(self.max_reduction);
        }
    }

    /// The linear gain for the current reduction; recomputed only when it moved (a
    /// closed gate sits at its maximum for seconds).
    #[inline]
    fn gain(&mut self) -> f32 {
        if self.reduction != self.gain_of.0 {
            let g = 10f64.powf(self.reduction / 10.0) as f32;
            self.gain_of = (self.reduction, if g < FLUSH { 0.0 } else { g });
        }
        self.gain_of.1
    }

    /// Multiplies `output` (the model's output for the block given to `detect`) by the
    /// stored gains. Nothing happens while the gate is open.
    #[inline]
    pub fn apply(&mut self, output: &mut [f32]) {
        match self.uniform {
            Some(1.0) => return,
            Some(g) => {
                output.iter_mut().for_each(|y| *y = crate::flush(*y * g));
                return;
            }
            None => {}
        }
        let m = output.len().min(self.stored);
        for (y, g) in output[..m].iter_mut().zip(&self.gains[..m]) {
            let v = *y * g;
            *y = if v.abs() < FLUSH { 0.0 } else { v };
        }
        let last = if m > 0 { self.gains[m - 1] } else { 1.0 };
        for y in output[m..].iter_mut() {
            let v = *y * last;
            *y = if v.abs() < FLUSH { 0.0 } else { v };
        }
    }

    /// `detect`, `inner` (the model), `apply`, in chunks of at most `max_block()`.
    pub fn process_with(&mut self, buf: &mut [f32], mut inner: impl FnMut(&mut [f32])) {
        let cap = self.gains.len();
        for chunk in buf.chunks_mut(cap) {
            self.detect(chunk);
            inner(chunk);
            self.apply(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_on_signal_closed_on_silence() {
        let mut g = NoiseGate::new(48_000.0, 512);
        let mut loud = vec![0.1f32; 512];
        g.process_with(&mut loud, |_| {});
        assert!(loud.iter().all(|&x| x == 0.1), "an open gate is exact");
        let mut quiet = vec![0.0f32; 48_000];
        g.process_with(&mut quiet, |_| {});
        assert!(g.reduction_db() <= -300.0, "{}", g.reduction_db());
        let mut hiss = vec![1e-3f32; 512];
        g.detect(&[0.0; 512]);
        g.apply(&mut hiss);
        // -160 reference dB: 1e-16 of amplitude.
        assert!(
            hiss.iter().all(|&x| x.abs() < 1e-18),
            "closed gate silences the amp"
        );
    }

    #[test]
    fn reduction_floor_follows_the_threshold() {
        let mut g = NoiseGate::new(48_000.0, 64);
        g.set_threshold_db(-100.0);
        // -0.1 * (-120 + 100)^2 = -40 reference dB = -80 dB of amplitude.
        for _ in 0..2000 {
            g.detect(&[0.0; 64]);
        }
        assert!((g.reduction_db() + 80.0).abs() < 1e-9);
        let mut y = [1.0f32; 4];
        g.apply(&mut y);
        assert!((y[0] - 1e-4).abs() < 1e-9, "{}", y[0]);
    }

    #[test]
    fn switching_off_opens_smoothly_then_bypasses() {
        let mut g = NoiseGate::new(48_000.0, 256);
        for _ in 0..400 {
            g.detect(&[0.0; 256]);
        }
        g.set_enabled(false);
        let mut prev = 0.0f32;
        let mut steps = 0.0f32;
        for _ in 0..4 {
            g.detect(&[0.0; 256]);
            let mut y = [1.0f32; 256];
            g.apply(&mut y);
            for &v in &y {
                steps = steps.max(v - prev);
                prev = v;
            }
        }
        assert!(g.is_open() && g.bypassed);
        assert_eq!(prev, 1.0);
        // 5 ms attack at 48 kHz: no sample-to-sample jump near full scale.
        assert!(steps < 0.25, "{steps}");
    }

    #[test]
    fn the_open_fast_path_is_the_recursion() {
        let input: Vec<f32> = (0..100_000)
            .map(|i| 0.2 * ((i as f32) * 0.013).sin())
            .collect();
        let mut fast = NoiseGate::new(48_000.0, 509);
        let mut slow = fast.clone();
        let mut fused = fast.clone();
        let mut mixed = vec![0.0f32; 509];
        let mut taken = 0;
        for chunk in input.chunks(509) {
            // The chain's way: the sum taken while the input is written.
            let summed = fused.block_weights(chunk.len()).map(|w| {
                let (top, sum) = fused.simd.mix_in(&mut mixed, chunk, None, 1.0, Some(w));
                (sum, top)
            });
            // The recursion, sample by sample, from the same level.
            let mut l = slow.level;
            for &x in chunk {
                l = (slow.alpha * l + (1.0 - slow.alpha) * (x as f64).powi(2))
                    .clamp(FLOOR_POWER, CEILING_POWER);
            }
            slow.level = l;
            let opened = fast.stays_open(chunk, None);
            assert_eq!(summed.is_some(), opened);
            if let Some(summed) = summed {
                assert!(fused.stays_open(chunk, Some(summed)));
                assert_eq!(fused.level.to_bits(), fast.level.to_bits());
            }
            if opened {
                taken += 1;
                let err = (fast.level - l).abs() / l;
                assert!(err <= 1e-12, "{} vs {l}", fast.level);
            }
            // Where the fast path declines, the per-sample path runs: keep in step.
            fast.level = l;
            fused.level = l;
        }
        assert!(taken > 150, "{taken}");
    }
}
