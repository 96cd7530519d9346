//! The signal chain around the NAM engine, shared by the plugin and the CLI. Real-time
//! blocks (`new` allocates; `process` and `reset` never do), the one streaming [`Chain`]
//! that both front ends drive, and the offline pieces the CLI and the plugin's loader need
//! (WAV files, whole-file rendering). Imports no plugin API.

pub mod chain;
pub mod dc_blocker;
pub mod delay;
pub mod model_slot;
pub mod render;
pub mod resample;
pub mod smooth;
pub mod wav;

pub use chain::{Chain, ChainSettings, ChannelMode, Meter, OutputMode};
pub use model_slot::{ModelSlot, SlotSpec};

/// The loudness the reference plugin's "Normalized" output mode brings a model to.
pub const NORMALIZED_LOUDNESS_DB: f64 = -18.0;

/// dB to linear amplitude.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
