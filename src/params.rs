//! The plugin's parameters (stable short ids, the table in `tubeless_dsp::preset`: hosts
//! store automation and sessions under them, so they never change) and persisted fields,
//! and how they become chain settings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use parking_lot::Mutex;
use serde_json::Value;
use tubeless_dsp::gate;
use tubeless_dsp::levels::{OutputMode, DEFAULT_INPUT_CALIBRATION_DBU};
use tubeless_dsp::preset::ranges;
use tubeless_dsp::stream_resample::Quality;
use tubeless_dsp::tone_stack::DEFAULT_KNOB;
use tubeless_dsp::{ChainSettings, ChannelMode, GateSettings, ToneSettings};

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
    #[id = "calibrated"]
    #[name = "Calibrated"]
    Calibrated,
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

    #[id = "gate_on"]
    pub gate_on: BoolParam,
    #[id = "gate_db"]
    pub gate_threshold_db: FloatParam,
    #[id = "gate_att_ms"]
    pub gate_attack_ms: FloatParam,
    #[id = "gate_hold_ms"]
    pub gate_hold_ms: FloatParam,
    #[id = "gate_rel_ms"]
    pub gate_release_ms: FloatParam,

    #[id = "eq_on"]
    pub eq_on: BoolParam,
    #[id = "bass"]
    pub bass: FloatParam,
    #[id = "middle"]
    pub middle: FloatParam,
    #[id = "treble"]
    pub treble: FloatParam,

    #[id = "ir_on"]
    pub ir_on: BoolParam,

    #[id = "cal_on"]
    pub calibrate_input: BoolParam,
    #[id = "cal_dbu"]
    pub calibration_dbu: FloatParam,

    /// The submodel of a model with sizes (SlimmableContainer, slimmable WaveNet).
    #[id = "size"]
    pub size: FloatParam,

    /// The model: path, and the model itself (see `tubeless_dsp::source`).
    #[persist = "model"]
    pub model: ModelField,
    /// The cabinet IR: path, and the WAV itself.
    #[persist = "ir"]
    pub ir: IrField,
    /// Settings that are not parameters (the resampling quality): they rebuild the model.
    #[persist = "options"]
    pub options: OptionsField,
    /// The editor's size in logical pixels.
    #[persist = "editor_size"]
    pub editor_size: Arc<Mutex<(u32, u32)>>,

    /// Set by every parameter's callback when its value changes (from the host, the
    /// editor or a restored state): the audio thread reads the parameters only then.
    changed: Arc<AtomicBool>,
}

/// Default editor size, in logical pixels.
pub const EDITOR_SIZE: (u32, u32) = (1000, 640);

// No smoothing on any parameter: the chain glides every change itself, in the CLI too.
fn float(
    name: &str,
    default: f32,
    (min, max): (f32, f32),
    unit: &'static str,
    step: f32,
) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_unit(unit)
        .with_step_size(step)
        .with_value_to_string(formatters::v2s_f32_rounded(if step < 1.0 { 1 } else { 0 }))
}

/// Times over a wide range: fine steps near zero, where they matter.
fn time_ms(name: &str, default: f32, (min, max): (f32, f32)) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(" ms")
    .with_value_to_string(formatters::v2s_f32_rounded(1))
}

impl TubelessParams {
    pub fn new(loader: Arc<Loader>) -> Self {
        let changed = Arc::new(AtomicBool::new(true));
        let mark = || {
            let c = Arc::clone(&changed);
            move || c.store(true, Ordering::Release)
        };
        let f = |p: FloatParam| {
            let m = mark();
            p.with_callback(Arc::new(move |_| m()))
        };
        let b = |p: BoolParam| {
            let m = mark();
            p.with_callback(Arc::new(move |_| m()))
        };
        let knob = |name: &str| f(float(name, DEFAULT_KNOB, ranges::KNOB, "", 0.1));
        let channel_mode = {
            let m = mark();
            EnumParam::new("Channel mode", ChannelModeParam::Mono)
                .with_callback(Arc::new(move |_| m()))
        };
        let output_mode = {
            let m = mark();
            EnumParam::new("Output mode", OutputModeParam::Normalized)
                .with_callback(Arc::new(move |_| m()))
        };
        TubelessParams {
            input_gain_db: f(float("Input", 0.0, ranges::INPUT_DB, " dB", 0.1)),
            output_gain_db: f(float("Output", 0.0, ranges::OUTPUT_DB, " dB", 0.1)),
            channel_mode,
            output_mode,
            bypass: b(BoolParam::new("Bypass", false).make_bypass()),
            gate_on: b(BoolParam::new("Gate", true)),
            gate_threshold_db: f(float(
                "Gate threshold",
                gate::DEFAULT_THRESHOLD_DB,
                ranges::GATE_DB,
                " dB",
                0.1,
            )),
            gate_attack_ms: f(time_ms(
                "Gate attack",
                gate::DEFAULT_ATTACK_MS,
                ranges::GATE_ATTACK_MS,
            )),
            gate_hold_ms: f(time_ms(
                "Gate hold",
                gate::DEFAULT_HOLD_MS,
                ranges::GATE_HOLD_MS,
            )),
            gate_release_ms: f(time_ms(
                "Gate release",
                gate::DEFAULT_RELEASE_MS,
                ranges::GATE_RELEASE_MS,
            )),
            eq_on: b(BoolParam::new("EQ", true)),
            bass: knob("Bass"),
            middle: knob("Middle"),
            treble: knob("Treble"),
            ir_on: b(BoolParam::new("Cab IR", true)),
            calibrate_input: b(BoolParam::new("Calibrate input", false)),
            calibration_dbu: f(float(
                "Input calibration",
                DEFAULT_INPUT_CALIBRATION_DBU as f32,
                ranges::CAL_DBU,
                " dBu",
                0.1,
            )),
            size: f(
                FloatParam::new("Size", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                    .with_step_size(0.01)
                    .with_value_to_string(formatters::v2s_f32_rounded(2)),
            ),
            model: ModelField {
                loader: Arc::clone(&loader),
            },
            ir: IrField {
                loader: Arc::clone(&loader),
            },
            options: OptionsField { loader },
            editor_size: Arc::new(Mutex::new(EDITOR_SIZE)),
            changed,
        }
    }

    /// Whether a parameter changed since the last call (then the caller reads
    /// `chain_settings`). Wait-free; a plain load in the usual case.
    pub fn take_changed(&self) -> bool {
        self.changed.load(Ordering::Relaxed) && self.changed.swap(false, Ordering::Acquire)
    }

    /// The chain's targets from the parameters' current values.
    pub fn chain_settings(&self) -> ChainSettings {
        ChainSettings {
            input_gain_db: self.input_gain_db.value(),
            output_gain_db: self.output_gain_db.value(),
            output_mode: match self.output_mode.value() {
                OutputModeParam::Raw => OutputMode::Raw,
                OutputModeParam::Normalized => OutputMode::Normalized,
                OutputModeParam::Calibrated => OutputMode::Calibrated,
            },
            input_calibration: self.calibrate_input.value(),
            input_calibration_dbu: self.calibration_dbu.value(),
            channel_mode: match self.channel_mode.value() {
                ChannelModeParam::Mono => ChannelMode::Mono,
                ChannelModeParam::DualMono => ChannelMode::DualMono,
            },
            bypass: self.bypass.value(),
            gate: GateSettings {
                enabled: self.gate_on.value(),
                threshold_db: self.gate_threshold_db.value(),
                attack_ms: self.gate_attack_ms.value(),
                hold_ms: self.gate_hold_ms.value(),
                release_ms: self.gate_release_ms.value(),
            },
            tone: ToneSettings {
                enabled: self.eq_on.value(),
                bass: self.bass.value(),
                middle: self.middle.value(),
                treble: self.treble.value(),
            },
            cab_enabled: self.ir_on.value(),
            size: self.size.value(),
        }
    }
}

impl TubelessParams {
    /// Sets every parameter (but bypass, which belongs to the host) to `s`, through the
    /// host, as a preset does.
    pub fn apply_settings(&self, setter: &ParamSetter, s: &ChainSettings) {
        fn set<P: Param>(setter: &ParamSetter, p: &P, v: P::Plain) {
            setter.begin_set_parameter(p);
            setter.set_parameter(p, v);
            setter.end_set_parameter(p);
        }
        set(setter, &self.input_gain_db, s.input_gain_db);
        set(setter, &self.output_gain_db, s.output_gain_db);
        set(
            setter,
            &self.channel_mode,
            match s.channel_mode {
                ChannelMode::Mono => ChannelModeParam::Mono,
                ChannelMode::DualMono => ChannelModeParam::DualMono,
            },
        );
        set(
            setter,
            &self.output_mode,
            match s.output_mode {
                OutputMode::Raw => OutputModeParam::Raw,
                OutputMode::Normalized => OutputModeParam::Normalized,
                OutputMode::Calibrated => OutputModeParam::Calibrated,
            },
        );
        set(setter, &self.gate_on, s.gate.enabled);
        set(setter, &self.gate_threshold_db, s.gate.threshold_db);
        set(setter, &self.gate_attack_ms, s.gate.attack_ms);
        set(setter, &self.gate_hold_ms, s.gate.hold_ms);
        set(setter, &self.gate_release_ms, s.gate.release_ms);
        set(setter, &self.eq_on, s.tone.enabled);
        set(setter, &self.bass, s.tone.bass);
        set(setter, &self.middle, s.tone.middle);
        set(setter, &self.treble, s.tone.treble);
        set(setter, &self.ir_on, s.cab_enabled);
        set(setter, &self.calibrate_input, s.input_calibration);
        set(setter, &self.calibration_dbu, s.input_calibration_dbu);
        set(setter, &self.size, s.size);
    }
}

/// The persisted `model` field. Reading it gives what the loader will save; setting it
/// (a session restore, or a script) loads the model it names before returning.
pub struct ModelField {
    loader: Arc<Loader>,
}

impl<'a> PersistentField<'a, Value> for ModelField {
    fn set(&self, new_value: Value) {
        self.loader.restore_model(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Value) -> R,
    {
        f(&self.loader.model.saved_state())
    }
}

/// The persisted `ir` field, like `model`.
pub struct IrField {
    loader: Arc<Loader>,
}

impl<'a> PersistentField<'a, Value> for IrField {
    fn set(&self, new_value: Value) {
        self.loader.restore_ir(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Value) -> R,
    {
        f(&self.loader.ir.saved_state())
    }
}

/// The persisted `options` field: `{"resampler": "standard" | "high"}`. Unknown values
/// keep the default.
pub struct OptionsField {
    loader: Arc<Loader>,
}

impl<'a> PersistentField<'a, Value> for OptionsField {
    fn set(&self, new_value: Value) {
        let q = match new_value.get("resampler").and_then(Value::as_str) {
            Some("high") => Quality::High,
            _ => Quality::Standard,
        };
        self.loader.set_quality(q);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Value) -> R,
    {
        let name = match self.loader.quality() {
            Quality::Standard => "standard",
            Quality::High => "high",
        };
        f(&serde_json::json!({ "resampler": name }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_id_is_in_the_shared_table_and_back() {
        let (loader, _audio) = Loader::start();
        let params = TubelessParams::new(Arc::clone(&loader));
        let mut ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        ids.sort();
        let mut table: Vec<String> = tubeless_dsp::preset::PARAM_IDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        table.sort();
        assert_eq!(ids, table);
        loader.quit();
    }

    #[test]
    fn defaults_are_the_chains_defaults() {
        let (loader, _audio) = Loader::start();
        let params = TubelessParams::new(Arc::clone(&loader));
        assert_eq!(params.chain_settings(), ChainSettings::default());
        loader.quit();
    }
}
