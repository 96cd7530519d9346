//! What the chain glides to: plain values that the plugin copies from its parameters and
//! the CLI from its flags (or a preset). Defaults are the reference plugin's.

use crate::gate;
use crate::levels::{OutputMode, DEFAULT_INPUT_CALIBRATION_DBU};
use crate::tone_stack::DEFAULT_KNOB;

/// How two input channels reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelMode {
    /// Inputs averaged, one engine, the result on every output.
    #[default]
    Mono,
    /// Left and right each through their own engine (twice the CPU). With one input
    /// channel it is the same as mono.
    DualMono,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateSettings {
    pub enabled: bool,
    pub threshold_db: f32,
    pub attack_ms: f32,
    pub hold_ms: f32,
    pub release_ms: f32,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            enabled: true,
            threshold_db: gate::DEFAULT_THRESHOLD_DB,
            attack_ms: gate::DEFAULT_ATTACK_MS,
            hold_ms: gate::DEFAULT_HOLD_MS,
            release_ms: gate::DEFAULT_RELEASE_MS,
        }
    }
}

/// Bass, middle and treble knobs, 0..10 (5: flat).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneSettings {
    pub enabled: bool,
    pub bass: f32,
    pub middle: f32,
    pub treble: f32,
}

impl Default for ToneSettings {
    fn default() -> Self {
        ToneSettings {
            enabled: true,
            bass: DEFAULT_KNOB,
            middle: DEFAULT_KNOB,
            treble: DEFAULT_KNOB,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainSettings {
    pub input_gain_db: f32,
    pub output_gain_db: f32,
    pub output_mode: OutputMode,
    /// Calibrate the input to the model's capture level (`input_level_dbu`).
    pub input_calibration: bool,
    /// The level, dBu, that the host's digital full scale stands for (the interface's).
    pub input_calibration_dbu: f32,
    pub channel_mode: ChannelMode,
    pub bypass: bool,
    pub gate: GateSettings,
    pub tone: ToneSettings,
    pub cab_enabled: bool,
    /// The size of a model with sizes (0.0..=1.0; 1.0 is the largest, the reference
    /// library's default).
    pub size: f32,
}

impl Default for ChainSettings {
    fn default() -> Self {
        ChainSettings {
            input_gain_db: 0.0,
            output_gain_db: 0.0,
            output_mode: OutputMode::Normalized,
            input_calibration: false,
            input_calibration_dbu: DEFAULT_INPUT_CALIBRATION_DBU as f32,
            channel_mode: ChannelMode::Mono,
            bypass: false,
            gate: GateSettings::default(),
            tone: ToneSettings::default(),
            cab_enabled: true,
            size: 1.0,
        }
    }
}
