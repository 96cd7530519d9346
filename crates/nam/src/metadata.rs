//! Capture metadata: every field optional, parsed leniently. A malformed field becomes
//! `None` and a warning; it never rejects a file that would otherwise play.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::json::{type_name, Field};

/// Capture metadata. Every field optional; a malformed field becomes `None` and a
/// warning, never a rejected file. Unknown keys are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub name: Option<String>,
    pub modeled_by: Option<String>,
    pub gear_make: Option<String>,
    pub gear_model: Option<String>,
    pub gear_type: Option<String>,
    pub tone_type: Option<String>,
    pub date: Option<Date>,
    /// dBFS RMS of the model's output for the trainer's standard input.
    pub loudness: Option<f64>,
    pub gain: Option<f64>,
    pub input_level_dbu: Option<f64>,
    pub output_level_dbu: Option<f64>,
    pub validation_esr: Option<f64>,
    pub training: Option<Value>,
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

pub(crate) fn parse_metadata(m: &Field, warnings: &mut Vec<String>) -> Metadata {
    let mut md = Metadata::default();
    let Some(obj) = m.value.as_object() else {
        warnings.push(format!(
            "`metadata` is {}, not an object; ignored",
            type_name(m.value)
        ));
        return md;
    };
    let mut bad = |key: &str, v: &Value, expected: &str| {
        warnings.push(format!(
            "`metadata.{key}` is {}, expected {expected}; ignored",
            type_name(v)
        ));
    };
    for (key, v) in obj {
        if v.is_null() {
            continue;
        }
        let text = |bad: &mut dyn FnMut(&str, &Value, &str)| match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                bad(key, v, "a string");
                None
            }
        };
        let number = |bad: &mut dyn FnMut(&str, &Value, &str)| match v.as_f64() {
            Some(x) if x.is_finite() => Some(x),
            _ => {
                bad(key, v, "a number");
                None
            }
        };
        match key.as_str() {
            "name" => md.name = text(&mut bad),
            "modeled_by" => md.modeled_by = text(&mut bad),
            "gear_make" => md.gear_make = text(&mut bad),
            "gear_model" => md.gear_model = text(&mut bad),
            "gear_type" => md.gear_type = text(&mut bad),
            "tone_type" => md.tone_type = text(&mut bad),
            "loudness" => md.loudness = number(&mut bad),
            "gain" => md.gain = number(&mut bad),
            "input_level_dbu" => md.input_level_dbu = number(&mut bad),
            "output_level_dbu" => md.output_level_dbu = number(&mut bad),
            "validation_esr" => md.validation_esr = number(&mut bad),
            "training" => md.training = Some(v.clone()),
            "date" => {
                md.date = parse_date(v).or_else(|| {
                    bad(key, v, "an object {year, month, day, hour, minute, second}");
                    None
                })
            }
            _ => {
                md.extra.insert(key.clone(), v.clone());
            }
        }
    }
    md
}

fn parse_date(v: &Value) -> Option<Date> {
    let o = v.as_object()?;
    let get = |k: &str, max: i64| -> Option<i64> {
        let x = o.get(k)?.as_i64()?;
        (0..=max).contains(&x).then_some(x)
    };
    Some(Date {
        year: get("year", 9999)?,
        month: get("month", 12)? as u8,
        day: get("day", 31)? as u8,
        hour: get("hour", 23).unwrap_or(0) as u8,
        minute: get("minute", 59).unwrap_or(0) as u8,
        second: get("second", 60).unwrap_or(0) as u8,
    })
}
