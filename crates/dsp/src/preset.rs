//! The plugin's parameters by their stable ids, and preset files: the one place that says
//! how a saved parameter becomes a chain setting, for the plugin and the CLI alike.
//!
//! A preset file is the plugin's own state as JSON (what the editor's "Save preset..."
//! writes and what a host saves), so a preset from the plugin renders the same in the CLI:
//!
//! ```json
//! {"version": "0.1.0",
//!  "params": {"in_db": {"f32": 3.0}, "gate_on": {"bool": true}, "outmode": {"string": "normalized"}, ...},
//!  "fields": {"model": "{\"path\": \"/abs/amp.nam\", ...}", "ir": "{\"path\": \"/abs/cab.wav\"}"}}
//! ```
//!
//! Hand-written presets may use plain values (`"in_db": 3.0`, `"chmode": "dual"`) and
//! objects instead of strings for the fields. Missing parameters keep their defaults.

use std::path::Path;

use serde_json::{Map, Value};

use crate::chain::{ChainSettings, ChannelMode};
use crate::levels::OutputMode;
use crate::stream_resample::Quality;

/// Every parameter id and its range (floats) or choices (enums), in the plugin's order.
pub mod ids {
    pub const INPUT_DB: &str = "in_db";
    pub const OUTPUT_DB: &str = "out_db";
    pub const CHANNEL_MODE: &str = "chmode";
    pub const OUTPUT_MODE: &str = "outmode";
    pub const BYPASS: &str = "bypass";
    pub const GATE_ON: &str = "gate_on";
    pub const GATE_DB: &str = "gate_db";
    pub const GATE_ATTACK_MS: &str = "gate_att_ms";
    pub const GATE_HOLD_MS: &str = "gate_hold_ms";
    pub const GATE_RELEASE_MS: &str = "gate_rel_ms";
    pub const EQ_ON: &str = "eq_on";
    pub const BASS: &str = "bass";
    pub const MIDDLE: &str = "middle";
    pub const TREBLE: &str = "treble";
    pub const IR_ON: &str = "ir_on";
    pub const CAL_ON: &str = "cal_on";
    pub const CAL_DBU: &str = "cal_dbu";
    pub const SIZE: &str = "size";
}

/// The value ranges, shared with the plugin's parameter definitions.
pub mod ranges {
    pub const INPUT_DB: (f32, f32) = (-20.0, 20.0);
    pub const OUTPUT_DB: (f32, f32) = (-40.0, 40.0);
    pub const GATE_DB: (f32, f32) = crate::gate::THRESHOLD_RANGE_DB;
    pub const GATE_ATTACK_MS: (f32, f32) = crate::gate::ATTACK_RANGE_MS;
    pub const GATE_HOLD_MS: (f32, f32) = crate::gate::HOLD_RANGE_MS;
    pub const GATE_RELEASE_MS: (f32, f32) = crate::gate::RELEASE_RANGE_MS;
    pub const KNOB: (f32, f32) = crate::tone_stack::KNOB_RANGE;
    pub const CAL_DBU: (f32, f32) = (
        crate::levels::INPUT_CALIBRATION_RANGE_DBU.0 as f32,
        crate::levels::INPUT_CALIBRATION_RANGE_DBU.1 as f32,
    );
}

/// Every id, for checking the plugin's parameters against this table.
pub const PARAM_IDS: [&str; 18] = [
    ids::INPUT_DB,
    ids::OUTPUT_DB,
    ids::CHANNEL_MODE,
    ids::OUTPUT_MODE,
    ids::BYPASS,
    ids::GATE_ON,
    ids::GATE_DB,
    ids::GATE_ATTACK_MS,
    ids::GATE_HOLD_MS,
    ids::GATE_RELEASE_MS,
    ids::EQ_ON,
    ids::BASS,
    ids::MIDDLE,
    ids::TREBLE,
    ids::IR_ON,
    ids::CAL_ON,
    ids::CAL_DBU,
    ids::SIZE,
];

/// The enum choices by their stable ids.
pub const CHANNEL_MODES: [(&str, ChannelMode); 2] =
    [("mono", ChannelMode::Mono), ("dual", ChannelMode::DualMono)];
pub const OUTPUT_MODES: [(&str, OutputMode); 3] = [
    ("raw", OutputMode::Raw),
    ("normalized", OutputMode::Normalized),
    ("calibrated", OutputMode::Calibrated),
];

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a preset: {why}")]
    Invalid { path: String, why: String },
}

/// A preset: chain settings, and where the model and the IR come from (the raw `model`
/// and `ir` objects of `source.rs`), with a note for each value that was not understood.
#[derive(Debug, Clone, Default)]
pub struct Preset {
    pub settings: ChainSettings,
    pub model: Option<Value>,
    pub ir: Option<Value>,
    /// The resampling quality (the `options` field's `resampler`).
    pub quality: Quality,
    pub warnings: Vec<String>,
}

impl Preset {
    pub fn from_path(path: &Path) -> Result<Preset, PresetError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
            path: shown.clone(),
            source,
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| PresetError::Invalid {
            path: shown.clone(),
            why: e.to_string(),
        })?;
        Preset::from_json(&v).map_err(|why| PresetError::Invalid { path: shown, why })
    }

    pub fn from_json(v: &Value) -> Result<Preset, String> {
        let obj = v.as_object().ok_or("the file is not a JSON object")?;
        let mut warnings = Vec::new();
        let empty = Map::new();
        let params = match obj.get("params") {
            Some(Value::Object(m)) => m,
            None => &empty,
            Some(_) => return Err("\"params\" is not an object".into()),
        };
        let settings = settings_from_params(params, &mut warnings);
        let field = |name: &str| -> Option<Value> {
            match obj.get("fields")?.get(name)? {
                Value::String(s) => serde_json::from_str(s)
                    .ok()
                    .or(Some(Value::String(s.clone()))),
                other => Some(other.clone()),
            }
        };
        let quality = match field("options").as_ref().and_then(|o| o.get("resampler")) {
            Some(Value::String(q)) if q == "high" => Quality::High,
            Some(Value::String(q)) if q == "standard" => Quality::Standard,
            None => Quality::Standard,
            Some(other) => {
                warnings.push(format!("options.resampler {other} is not standard or high"));
                Quality::Standard
            }
        };
        Ok(Preset {
            settings,
            model: field("model"),
            ir: field("ir"),
            quality,
            warnings,
        })
    }
}

/// A saved parameter's value: nice-plug's tagged form (`{"f32": 1.5}`, `{"bool": true}`,
/// `{"string": "mono"}`, `{"i32": 1}`) or a plain JSON value.
fn untag(v: &Value) -> &Value {
    match v {
        Value::Object(m) if m.len() == 1 => m.values().next().unwrap_or(v),
        _ => v,
    }
}

/// Chain settings from saved parameters; unknown ids and unreadable values are noted in
/// `warnings` and leave the default.
pub fn settings_from_params(
    params: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> ChainSettings {
    let mut s = ChainSettings::default();
    for (id, raw) in params {
        let v = untag(raw);
        let num = |(lo, hi): (f32, f32), warnings: &mut Vec<String>| -> Option<f32> {
            let x = v.as_f64().filter(|x| x.is_finite())? as f32;
            if !(lo..=hi).contains(&x) {
                warnings.push(format!("{id} = {x} is outside {lo} ..= {hi}: clamped"));
            }
            Some(x.clamp(lo, hi))
        };
        let flag = || v.as_bool();
        let handled = match id.as_str() {
            ids::INPUT_DB => num(ranges::INPUT_DB, warnings).map(|x| s.input_gain_db = x),
            ids::OUTPUT_DB => num(ranges::OUTPUT_DB, warnings).map(|x| s.output_gain_db = x),
            ids::CHANNEL_MODE => choice(v, &CHANNEL_MODES).map(|m| s.channel_mode = m),
            ids::OUTPUT_MODE => choice(v, &OUTPUT_MODES).map(|m| s.output_mode = m),
            ids::BYPASS => flag().map(|b| s.bypass = b),
            ids::GATE_ON => flag().map(|b| s.gate.enabled = b),
            ids::GATE_DB => num(ranges::GATE_DB, warnings).map(|x| s.gate.threshold_db = x),
            ids::GATE_ATTACK_MS => {
                num(ranges::GATE_ATTACK_MS, warnings).map(|x| s.gate.attack_ms = x)
            }
            ids::GATE_HOLD_MS => num(ranges::GATE_HOLD_MS, warnings).map(|x| s.gate.hold_ms = x),
            ids::GATE_RELEASE_MS => {
                num(ranges::GATE_RELEASE_MS, warnings).map(|x| s.gate.release_ms = x)
            }
            ids::EQ_ON => flag().map(|b| s.tone.enabled = b),
            ids::BASS => num(ranges::KNOB, warnings).map(|x| s.tone.bass = x),
            ids::MIDDLE => num(ranges::KNOB, warnings).map(|x| s.tone.middle = x),
            ids::TREBLE => num(ranges::KNOB, warnings).map(|x| s.tone.treble = x),
            ids::IR_ON => flag().map(|b| s.cab_enabled = b),
            ids::CAL_ON => flag().map(|b| s.input_calibration = b),
            ids::CAL_DBU => num(ranges::CAL_DBU, warnings).map(|x| s.input_calibration_dbu = x),
            ids::SIZE => num((0.0, 1.0), warnings).map(|x| s.size = x),
            _ => {
                warnings.push(format!("unknown parameter {id:?}: ignored"));
                Some(())
            }
        };
        if handled.is_none() {
            warnings.push(format!("{id}: cannot read {raw}: default kept"));
        }
    }
    s
}

/// An enum parameter from its id string, or its index (nice-plug saves enums without a
/// string id by index).
fn choice<T: Copy>(v: &Value, table: &[(&str, T)]) -> Option<T> {
    match v {
        Value::String(s) => table
            .iter()
            .find(|(id, _)| {
                id.eq_ignore_ascii_case(s) || s.replace(' ', "").eq_ignore_ascii_case(id)
            })
            .map(|(_, t)| *t),
        _ => v
            .as_u64()
            .and_then(|i| table.get(i as usize))
            .map(|(_, t)| *t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plugin_state_and_hand_written_presets_read_alike() {
        let saved = json!({
            "version": "0.1.0",
            "params": {
                "in_db": {"f32": 3.5}, "bypass": {"bool": false}, "chmode": {"string": "dual"},
                "outmode": {"string": "calibrated"}, "gate_db": {"f32": -55.0},
                "bass": {"f32": 7.0}, "ir_on": {"bool": false}, "cal_on": {"bool": true},
                "cal_dbu": {"f32": 4.0}
            },
            "fields": {"model": "{\"path\": \"/a/amp.nam\"}", "ir": {"path": "/a/cab.wav"},
                       "options": "{\"resampler\": \"high\"}"}
        });
        let p = Preset::from_json(&saved).unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let s = p.settings;
        assert_eq!(s.input_gain_db, 3.5);
        assert_eq!(s.channel_mode, ChannelMode::DualMono);
        assert_eq!(s.output_mode, OutputMode::Calibrated);
        assert_eq!(s.gate.threshold_db, -55.0);
        assert_eq!(s.tone.bass, 7.0);
        assert!(!s.cab_enabled && s.input_calibration);
        assert_eq!(s.input_calibration_dbu, 4.0);
        assert_eq!(p.model.unwrap()["path"], json!("/a/amp.nam"));
        assert_eq!(p.ir.unwrap()["path"], json!("/a/cab.wav"));
        assert_eq!(p.quality, Quality::High);

        let hand = json!({"params": {"in_db": 3.5, "chmode": "Dual", "treble": 12}});
        let p = Preset::from_json(&hand).unwrap();
        assert_eq!(p.settings.channel_mode, ChannelMode::DualMono);
        assert_eq!(p.settings.tone.treble, 10.0);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }

    #[test]
    fn unknown_and_unreadable_values_are_named() {
        let p = Preset::from_json(&json!({"params": {"frob": 1, "in_db": "loud"}})).unwrap();
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert_eq!(p.settings, ChainSettings::default());
        assert!(Preset::from_json(&json!([1, 2])).is_err());
        assert!(Preset::from_json(&json!({"params": 3})).is_err());
    }
}
