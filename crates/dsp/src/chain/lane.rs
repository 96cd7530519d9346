//! A lane: one model (or none: a dry lane) with its output level and the silence its
//! engines still owe. The chain owns two lanes for good, so a model swap moves a `Box`
//! and never a buffer.

use crate::levels::{output_mode_gain_db, OutputMode};
use crate::model_slot::{ModelSlot, Side};
use crate::smoother::GainSmoother;

/// How fast a lane's level follows a change of output mode or calibration.
const LEVEL_GLIDE_MS: f64 = 20.0;

/// What side A hears.
pub(super) enum Input<'a> {
    /// These samples, copied into `out[0]`.
    Copy(&'a [f32]),
    /// The first `n` samples of `out[0]`, put there by the caller.
    InPlace(usize),
}

pub(super) struct Lane {
    rate: f64,
    pub slot: Option<Box<ModelSlot>>,
    /// The output mode's gain for this model, dB.
    pub level: GainSmoother,
    /// Samples of silence each engine must still be fed before it is back in its freshly
    /// built state (after it stopped hearing audio: bypass, or dual mono turned off).
    pub owed: [usize; 2],
    /// Side A's output (mono, or left in dual mono), side B's (right in dual mono).
    pub out: [Vec<f32>; 2],
    gains: Vec<f32>,
    scratch: Vec<f32>,
}

impl Lane {
    pub fn new(rate: f64, max_block: usize) -> Lane {
        Lane {
            rate,
            slot: None,
            level: GainSmoother::new(rate, LEVEL_GLIDE_MS, 0.0),
            owed: [0, 0],
            out: [vec![0.0; max_block], vec![0.0; max_block]],
            gains: vec![0.0; max_block],
            scratch: vec![0.0; max_block],
        }
    }

    /// The output mode's gain (dB) for this lane's model.
    pub fn level_db(&self, mode: OutputMode, calibration_dbu: f32) -> f32 {
        let levels = self.slot.as_ref().map(|s| s.levels());
        output_mode_gain_db(mode, levels.as_ref(), calibration_dbu as f64) as f32
    }

    /// Installs a slot, its level settled, its engines fresh. Returns the old one.
    pub fn install(
        &mut self,
        slot: Option<Box<ModelSlot>>,
        mode: OutputMode,
        calibration_dbu: f32,
    ) -> Option<Box<ModelSlot>> {
        let old = std::mem::replace(&mut self.slot, slot);
        let db = self.level_db(mode, calibration_dbu);
        self.level = GainSmoother::new(self.rate, LEVEL_GLIDE_MS, db);
        self.owed = [0, 0];
        old
    }

    pub fn latency(&self) -> usize {
        self.slot.as_ref().map_or(0, |s| s.latency())
    }

    pub fn owe_silence(&mut self, side: Side) {
        self.owed[side as usize] = self.slot.as_ref().map_or(0, |s| s.settle_samples());
    }

    /// Feeds up to `n` samples of owed silence to an idle engine, so that it resumes clean.
    pub fn settle(&mut self, side: Side, n: usize) {
        let owed = self.owed[side as usize];
        if owed == 0 {
            return;
        }
        let k = owed.min(n).min(self.scratch.len());
        if let Some(slot) = self.slot.as_deref_mut() {
            let buf = &mut self.scratch[..k];
            buf.fill(0.0);
            slot.process(side, buf);
        }
        self.owed[side as usize] = owed - k;
    }

    /// This block into `out`: side A on `a_in`; side B on `b_in` when dual mono is on
    /// (else side B settles). Both get the lane's level, unless `defer` asks for it back
    /// (when it is one number): the gain the caller must still apply, else 1.
    #[inline]
    pub fn run(&mut self, a_in: Input, b_in: Option<&[f32]>, size: f32, defer: bool) -> f32 {
        let n = match a_in {
            Input::Copy(a) => {
                self.out[0][..a.len()].copy_from_slice(a);
                a.len()
            }
            Input::InPlace(n) => n,
        };
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.set_size(size);
        }
        if let Some(slot) = self.slot.as_deref_mut() {
            slot.process(Side::A, &mut self.out[0][..n]);
        }
        self.owed[Side::A as usize] = 0;
        match b_in {
            Some(b) => {
                self.out[1][..n].copy_from_slice(b);
                if let Some(slot) = self.slot.as_deref_mut() {
                    slot.process(Side::B, &mut self.out[1][..n]);
                }
                self.owed[Side::B as usize] = 0;
            }
            None => self.settle(Side::B, n),
        }
        let sides = if b_in.is_some() { 2 } else { 1 };
        if !self.level.is_smoothing() {
            let g = self.level.gain();
            if defer {
                return g;
            }
            if g != 1.0 {
                for out in &mut self.out[..sides] {
                    out[..n].iter_mut().for_each(|x| *x *= g);
                }
            }
            return 1.0;
        }
        let g = &mut self.gains[..n];
        self.level.fill(g);
        for out in &mut self.out[..sides] {
            for (x, g) in out[..n].iter_mut().zip(g.iter()) {
                *x *= g;
            }
        }
        1.0
    }
}
