//! The plugin's parameters (stable short IDs: hosts store automation and sessions under
//! them, so they never change) and persisted fields, and how they become chain settings.

use std::sync::Arc;

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use parking_lot::Mutex;
use serde_json::Value;
use tubeless_dsp::{ChainSettings, ChannelMode, OutputMode};

use crate::loader::Loader;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelModeParam {
    #[id = "mono"]
    #[name = "Mono"]
    Mono,
    #[id = "dual"]
    #[name = "Dual mono"]
    DualMono,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputModeParam {
    #[id = "raw"]
    #[name = "Raw"]
    Raw,
    #[id = "normalized"]
    #[name = "Normalized"]
    Normalized,
}

#[derive(Params)]
pub struct TubelessParams {
    #[id = "in_db"]
    pub input_gain_db: FloatParam,
    #[id = "out_db"]
    pub output_gain_db: FloatParam,
    #[id = "chmode"]
    pub channel_mode: EnumParam<ChannelModeParam>,
    #[id = "outmode"]
    pub output_mode: EnumParam<OutputModeParam>,
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// The model: path, and the model itself (see `state.rs`).
    #[persist = "model"]
    pub model: ModelField,
    /// The editor's size in logical pixels.
    #[persist = "editor_size"]
    pub editor_size: Arc<Mutex<(u32, u32)>>,
}

/// Default editor size, in logical pixels.
pub const EDITOR_SIZE: (u32, u32) = (780, 480);

fn db(name: &str, min: f32, max: f32) -> FloatParam {
    // No smoothing here: the chain glides every change itself, in the CLI as well.
    FloatParam::new(name, 0.0, FloatRange::Linear { min, max })
        .with_unit(" dB")
        .with_step_size(0.1)
        .with_value_to_string(formatters::v2s_f32_rounded(1))
}

impl TubelessParams {
    pub fn new(loader: Arc<Loader>) -> Self {
        TubelessParams {
            input_gain_db: db("Input", -20.0, 20.0),
            output_gain_db: db("Output", -40.0, 40.0),
            channel_mode: EnumParam::new("Channel mode", ChannelModeParam::Mono),
            output_mode: EnumParam::new("Output mode", OutputModeParam::Normalized),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            model: ModelField { loader },
            editor_size: Arc::new(Mutex::new(EDITOR_SIZE)),
        }
    }

    /// The chain's targets from the parameters' current values.
    pub fn chain_settings(&self) -> ChainSettings {
        ChainSettings {
            input_gain_db: self.input_gain_db.value(),
            output_gain_db: self.output_gain_db.value(),
            output_mode: match self.output_mode.value() {
                OutputModeParam::Raw => OutputMode::Raw,
                OutputModeParam::Normalized => OutputMode::Normalized,
            },
            channel_mode: match self.channel_mode.value() {
                ChannelModeParam::Mono => ChannelMode::Mono,
                ChannelModeParam::DualMono => ChannelMode::DualMono,
            },
            bypass: self.bypass.value(),
        }
    }
}

/// The persisted `model` field. Reading it gives what the loader will save; setting it
/// (a session restore, or a script) loads the model it names before returning.
pub struct ModelField {
    loader: Arc<Loader>,
}

impl<'a> PersistentField<'a, Value> for ModelField {
    fn set(&self, new_value: Value) {
        self.loader.restore(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Value) -> R,
    {
        f(&self.loader.saved_state())
    }
}
