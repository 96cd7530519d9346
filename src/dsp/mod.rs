//! Signal processing around the model. DSP modules know nothing of plugins or files.

pub mod dc_blocker;
pub mod resample;

/// dB to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
