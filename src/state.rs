//! What a session saves about the model, and every migration of it, in one place.
//!
//! nice-plug stores each persisted field as a JSON string inside its own state. Ours, the
//! field `model`, is this object (every key optional on input, so a script may send just
//! `{"path": "/abs/amp.nam"}`):
//!
//! ```json
//! {"v": 1, "path": "/abs/amp.nam", "hash": "fnv1a64:0123abcd...", "embed": true,
//!  "embedded": {"codec": "nam-f32le-base64", "nam": { ...the .nam JSON... }}}
//! ```
//!
//! `embedded` is the whole model with every `weights` array written as base64 of
//! little-endian f32 (the values the engine uses, so nothing is lost; about a quarter of
//! the size of the text). `hash` identifies the file the copy came from, so a changed file
//! on disk is noticed. The field is kept as a raw JSON value: whatever a host hands back,
//! even something this version cannot read, is saved again unchanged.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The version of the `model` field written by this build.
pub const MODEL_STATE_VERSION: u64 = 1;
/// The codec name of an embedded copy.
pub const EMBED_CODEC: &str = "nam-f32le-base64";
/// An embedded copy may not expand beyond what a `.nam` file may be.
const MAX_EMBEDDED_BYTES: usize = tubeless_nam::limits::MAX_FILE_BYTES as usize;
/// Weight arrays shorter than this stay as plain numbers: not worth encoding.
const MIN_ENCODED_LEN: usize = 16;

/// The `model` field, read leniently.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelState {
    pub path: Option<String>,
    pub hash: Option<String>,
    /// Save the model itself in the session (the default).
    pub embed: bool,
    /// The embedded copy, still encoded.
    pub embedded: Option<Value>,
}

impl ModelState {
    /// Reads a field value of any version. Unknown or malformed keys are ignored here (and
    /// kept in the raw value the caller saves again).
    pub fn from_value(v: &Value) -> ModelState {
        let v = migrate(v.clone());
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        ModelState {
            path: text("path").filter(|p| !p.is_empty()),
            hash: text("hash"),
            embed: v.get("embed").and_then(Value::as_bool).unwrap_or(true),
            embedded: v.get("embedded").filter(|e| e.is_object()).cloned(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.path.is_none() && self.embedded.is_none()
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("v".into(), json!(MODEL_STATE_VERSION));
        if let Some(p) = &self.path {
            m.insert("path".into(), json!(p));
        }
        if let Some(h) = &self.hash {
            m.insert("hash".into(), json!(h));
        }
        m.insert("embed".into(), json!(self.embed));
        if self.embed {
            if let Some(e) = &self.embedded {
                m.insert("embedded".into(), e.clone());
            }
        }
        Value::Object(m)
    }
}

/// Brings a `model` field of any earlier version to the current one. Version 1 is the
/// first; later versions add their step here, oldest first.
pub fn migrate(v: Value) -> Value {
    match v {
        // A bare string is taken as a path: the friendliest reading of a hand-written state.
        Value::String(path) => json!({ "v": MODEL_STATE_VERSION, "path": path }),
        Value::Object(_) => v,
        _ => json!({ "v": MODEL_STATE_VERSION }),
    }
}

/// Migrations of the whole plugin state (parameter renames and the like) before nice-plug
/// applies it. None yet: parameter IDs have been stable since the first release.
pub fn migrate_plugin_state(_state: &mut nice_plug::prelude::PluginState) {}

/// A 64-bit FNV-1a digest of a file's bytes: enough to notice that a file changed.
pub fn file_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// Why an embedded copy could not be read back.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EmbedError {
    #[error("the saved copy uses codec {0:?}, which this version cannot read")]
    UnknownCodec(String),
    #[error("the saved copy is damaged: {0}")]
    Damaged(String),
    #[error("the saved copy would be {bytes} bytes, more than the {max}-byte limit")]
    TooLarge { bytes: usize, max: usize },
}

/// The compact form of a parsed `.nam` JSON document.
pub fn embed(nam: &Value) -> Value {
    json!({ "codec": EMBED_CODEC, "nam": encode(nam) })
}

/// The `.nam` JSON document back from its compact form.
pub fn unembed(embedded: &Value) -> Result<Value, EmbedError> {
    let codec = embedded.get("codec").and_then(Value::as_str).unwrap_or("");
    if codec != EMBED_CODEC {
        return Err(EmbedError::UnknownCodec(codec.to_owned()));
    }
    let nam = embedded
        .get("nam")
        .ok_or_else(|| EmbedError::Damaged("no \"nam\" object".into()))?;
    let mut budget = MAX_EMBEDDED_BYTES;
    decode(nam, &mut budget, 0)
}

fn encode(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let enc = match x {
                        Value::Array(a) if k == "weights" && a.len() >= MIN_ENCODED_LEN => {
                            encode_weights(a).unwrap_or_else(|| x.clone())
                        }
                        _ => encode(x),
                    };
                    (k.clone(), enc)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(encode).collect()),
        other => other.clone(),
    }
}

/// `None` when the array holds anything but numbers (left as it is then).
fn encode_weights(a: &[Value]) -> Option<Value> {
    let mut bytes = Vec::with_capacity(a.len() * 4);
    for x in a {
        bytes.extend_from_slice(&(x.as_f64()? as f32).to_le_bytes());
    }
    Some(json!({ "f32le": BASE64.encode(bytes) }))
}

fn decode(v: &Value, budget: &mut usize, depth: usize) -> Result<Value, EmbedError> {
    if depth > 64 {
        return Err(EmbedError::Damaged("nested too deeply".into()));
    }
    Ok(match v {
        Value::Object(m) => {
            if let (1, Some(Value::String(b64))) = (m.len(), m.get("f32le")) {
                return decode_weights(b64, budget);
            }
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(k.clone(), decode(x, budget, depth + 1)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| decode(x, budget, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn decode_weights(b64: &str, budget: &mut usize) -> Result<Value, EmbedError> {
    // Checked before decoding: a hostile state cannot make us allocate more than a file.
    let bytes_out = b64.len() / 4 * 3;
    if bytes_out > *budget {
        return Err(EmbedError::TooLarge {
            bytes: MAX_EMBEDDED_BYTES - *budget + bytes_out,
            max: MAX_EMBEDDED_BYTES,
        });
    }
    let bytes = BASE64
        .decode(b64)
        .map_err(|e| EmbedError::Damaged(format!("weights: {e}")))?;
    if bytes.len() % 4 != 0 {
        return Err(EmbedError::Damaged(format!(
            "weights: {} bytes is not a whole number of floats",
            bytes.len()
        )));
    }
    *budget -= bytes.len();
    let numbers = bytes
        .chunks_exact(4)
        .map(|c| {
            let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            // Finite in, finite out; JSON cannot hold anything else.
            serde_json::Number::from_f64(x as f64).map(Value::Number)
        })
        .collect::<Option<Vec<Value>>>()
        .ok_or_else(|| EmbedError::Damaged("weights: a value is not finite".into()))?;
    Ok(Value::Array(numbers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nam() -> Value {
        let weights: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin() * 0.3).collect();
        json!({
            "version": "0.5.4",
            "architecture": "SlimmableContainer",
            "config": {"submodels": [
                {"max_value": 0.5, "model": {"architecture": "WaveNet", "weights": weights}},
                {"max_value": 1.0, "model": {"weights": [1.0, 2.0]}}
            ], "dilations": [1, 2, 4]},
            "weights": weights,
            "metadata": {"name": "x"}
        })
    }

    #[test]
    fn embedding_round_trips_every_weight_as_f32() {
        let v = nam();
        let e = embed(&v);
        let back = unembed(&e).unwrap();
        let as_f32 = |v: &Value| -> Vec<f32> {
            v["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        };
        assert_eq!(as_f32(&back), as_f32(&v));
        assert_eq!(
            as_f32(&back["config"]["submodels"][0]["model"]),
            as_f32(&v["config"]["submodels"][0]["model"])
        );
        // Short arrays and non-weight arrays are untouched.
        assert_eq!(back["config"]["dilations"], json!([1, 2, 4]));
        assert_eq!(
            back["config"]["submodels"][1]["model"]["weights"],
            json!([1.0, 2.0])
        );
        assert_eq!(back["metadata"], v["metadata"]);
    }

    #[test]
    fn damaged_or_foreign_copies_are_clear_errors() {
        assert!(matches!(
            unembed(&json!({"codec": "zip", "nam": {}})),
            Err(EmbedError::UnknownCodec(_))
        ));
        assert!(matches!(
            unembed(&json!({"codec": EMBED_CODEC, "nam": {"weights": {"f32le": "@@@"}}})),
            Err(EmbedError::Damaged(_))
        ));
        assert!(matches!(
            unembed(&json!({"codec": EMBED_CODEC, "nam": {"weights": {"f32le": "AAAAAAA="}}})),
            Err(EmbedError::Damaged(_))
        ));
        let huge = "A".repeat(MAX_EMBEDDED_BYTES / 3 * 4 + 8);
        assert!(matches!(
            unembed(&json!({"codec": EMBED_CODEC, "nam": {"weights": {"f32le": huge}}})),
            Err(EmbedError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_path_alone_or_a_bare_string_is_a_model_state() {
        let s = ModelState::from_value(&json!({"path": "/a/b.nam"}));
        assert_eq!(s.path.as_deref(), Some("/a/b.nam"));
        assert!(s.embed && s.embedded.is_none());
        let s = ModelState::from_value(&json!("/a/c.nam"));
        assert_eq!(s.path.as_deref(), Some("/a/c.nam"));
        assert!(ModelState::from_value(&json!(42)).is_empty());
        assert!(ModelState::from_value(&json!({"path": ""})).is_empty());
    }

    #[test]
    fn hash_tells_files_apart() {
        assert_ne!(file_hash(b"abc"), file_hash(b"abd"));
        assert_eq!(file_hash(b""), "fnv1a64:cbf29ce484222325");
    }
}
