//! The signal chain around the NAM engine, shared by the plugin and the CLI. Real-time
//! blocks (`new` allocates; `process` and `reset` never do) and the offline pieces the
//! CLI and the plugin's loader need (WAV files, whole-file rendering). Imports no plugin
//! API.

pub mod dc_blocker;
pub mod render;
pub mod resample;
pub mod stream_resample;
pub mod wav;

/// dB to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
