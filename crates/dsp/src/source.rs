//! Where a model or a cabinet IR comes from, as a session or a preset saves it, and every
//! migration of that, in one place. The plugin's persisted fields `model` and `ir` and the
//! preset files that the plugin and the CLI share all hold this object (every key optional
//! on input, so a script may send just `{"path": "/abs/amp.nam"}`):
//!
//! ```json
//! {"v": 1, "path": "/abs/amp.nam", "hash": "fnv1a64:0123abcd...", "embed": true,
//!  "embedded": {"codec": "nam-f32le-base64", "nam": { ...the .nam JSON... }}}
//! ```
//!
//! A model's `embedded` copy is the whole model with every `weights` array written as
//! base64 of little-endian f32 (the values the engine uses, so nothing is lost; about a
//! quarter of the size of the text); an IR's is the WAV file itself
//! (`{"codec": "wav-base64", "wav": "..."}`). `hash` identifies the file the copy came
//! from, so a changed file on disk is noticed. Callers keep the field as a raw JSON value:
//! whatever a host hands back, even something this version cannot read, is saved again
//! unchanged.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use tubeless_nam::NamFile;

use crate::ir::{IrFile, IrOptions, Normalization};

/// The version of the `model` field written by this build.
pub const SOURCE_STATE_VERSION: u64 = 1;
/// The codec name of an embedded model.
pub const EMBED_CODEC: &str = "nam-f32le-base64";
/// The codec name of an embedded IR (the WAV file as it was).
pub const WAV_CODEC: &str = "wav-base64";
/// An embedded IR may not expand beyond what an IR file may be.
const MAX_EMBEDDED_WAV: usize = crate::ir::MAX_FILE_BYTES as usize;
/// An embedded copy may not expand beyond what a `.nam` file may be.
const MAX_EMBEDDED_BYTES: usize = tubeless_nam::limits::MAX_FILE_BYTES as usize;
/// The keys `SourceState` reads itself.
const KNOWN_KEYS: [&str; 5] = ["v", "path", "hash", "embed", "embedded"];
/// Weight arrays shorter than this stay as plain numbers: not worth encoding.
const MIN_ENCODED_LEN: usize = 16;

/// A `model` or `ir` field, read leniently.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceState {
    pub path: Option<String>,
    pub hash: Option<String>,
    /// Save the file itself in the session (the default).
    pub embed: bool,
    /// The embedded copy, still encoded.
    pub embedded: Option<Value>,
    /// Every other key, kept as it came (an IR's `normalize`, a later version's keys).
    pub extra: Map<String, Value>,
}

impl SourceState {
    /// Reads a field value of any version. Unknown or malformed keys are ignored here (and
    /// kept in the raw value the caller saves again).
    pub fn from_value(v: &Value) -> SourceState {
        let v = migrate(v.clone());
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        SourceState {
            path: text("path").filter(|p| !p.is_empty()),
            hash: text("hash"),
            embed: v.get("embed").and_then(Value::as_bool).unwrap_or(true),
            embedded: v.get("embedded").filter(|e| e.is_object()).cloned(),
            extra: v
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()))
                        .map(|(k, x)| (k.clone(), x.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.path.is_none() && self.embedded.is_none()
    }

    /// A flag among the extra keys (`default` when absent or not a bool).
    pub fn flag(&self, key: &str, default: bool) -> bool {
        self.extra
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    pub fn to_value(&self) -> Value {
        let mut m = self.extra.clone();
        m.insert("v".into(), json!(SOURCE_STATE_VERSION));
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

/// Brings a `model` or `ir` field of any earlier version to the current one. Version 1 is the
/// first; later versions add their step here, oldest first.
pub fn migrate(v: Value) -> Value {
    match v {
        // A bare string is taken as a path: the friendliest reading of a hand-written state.
        Value::String(path) => json!({ "v": SOURCE_STATE_VERSION, "path": path }),
        Value::Object(_) => v,
        _ => json!({ "v": SOURCE_STATE_VERSION }),
    }
}

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

/// An IR file's bytes as an embedded copy.
pub fn embed_wav(bytes: &[u8]) -> Value {
    json!({ "codec": WAV_CODEC, "wav": BASE64.encode(bytes) })
}

/// An IR file's bytes back from its embedded copy.
pub fn unembed_wav(embedded: &Value) -> Result<Vec<u8>, EmbedError> {
    let codec = embedded.get("codec").and_then(Value::as_str).unwrap_or("");
    if codec != WAV_CODEC {
        return Err(EmbedError::UnknownCodec(codec.to_owned()));
    }
    let text = embedded
        .get("wav")
        .and_then(Value::as_str)
        .ok_or_else(|| EmbedError::Damaged("no \"wav\" text".into()))?;
    if text.len() / 4 * 3 > MAX_EMBEDDED_WAV {
        return Err(EmbedError::TooLarge {
            bytes: text.len() / 4 * 3,
            max: MAX_EMBEDDED_WAV,
        });
    }
    BASE64
        .decode(text)
        .map_err(|e| EmbedError::Damaged(format!("the WAV: {e}")))
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

/// Where a file that plays came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    /// The session or preset has no path, only its saved copy.
    Embedded,
    /// The file it names is gone or unreadable: its saved copy plays.
    EmbeddedFileMissing,
    /// The file on disk is not the one it was saved with: its saved copy plays.
    EmbeddedFileChanged,
}

/// What [`resolve`] found: the file, where it came from, a note for the user, and the
/// state to save from now on.
pub type Resolved<T> = (T, Origin, Option<String>, SourceState);

/// The file a saved state names: the one at its path, or the copy saved with it when the
/// file is gone, unreadable, or not the one it was saved with (the session then sounds as
/// it was made). One rule for the plugin's sessions and presets and for the CLI.
pub fn resolve<T>(
    wanted: &SourceState,
    noun: &str,
    open_path: impl Fn(&Path) -> Result<(T, SourceState), String>,
    open_embedded: impl Fn(&Value) -> Result<T, String>,
) -> Result<Resolved<T>, String> {
    let from_disk = wanted.path.as_deref().map(|p| open_path(Path::new(p)));
    let embedded = || -> Result<T, String> {
        let e = wanted.embedded.as_ref().ok_or("no copy was saved")?;
        open_embedded(e)
    };
    match from_disk {
        Some(Ok((file, mut state))) => {
            state.embed = wanted.embed;
            state.extra = wanted.extra.clone();
            let changed =
                wanted.embedded.is_some() && wanted.hash.is_some() && wanted.hash != state.hash;
            if changed {
                if let Ok(copy) = embedded() {
                    let notice = format!(
                        "{} has changed since this was saved: playing the copy saved with it.",
                        wanted.path.as_deref().unwrap_or_default()
                    );
                    return Ok((
                        copy,
                        Origin::EmbeddedFileChanged,
                        Some(notice),
                        wanted.clone(),
                    ));
                }
            }
            Ok((file, Origin::File, None, state))
        }
        Some(Err(why)) => match embedded() {
            Ok(copy) => {
                let notice = format!("Could not open {why}. Playing the copy saved with it.");
                Ok((
                    copy,
                    Origin::EmbeddedFileMissing,
                    Some(notice),
                    wanted.clone(),
                ))
            }
            Err(e) if wanted.embedded.is_some() => Err(format!("{why}; {e}")),
            Err(_) => Err(format!("{why} (and no copy was saved with it)")),
        },
        None => embedded()
            .map(|copy| (copy, Origin::Embedded, None, wanted.clone()))
            .map_err(|e| format!("cannot load the {noun} saved with it: {e}")),
    }
}

/// Reads a file, refusing one over `max` bytes before reading it.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Err(std::io::Error::other(format!(
            "{len} bytes is larger than the {max}-byte limit"
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Reads and parses a `.nam`; the state carries its path, hash and compact copy.
pub fn open_model(path: &Path) -> Result<(NamFile, SourceState), String> {
    let shown = path.display();
    let bytes = read_capped(path, tubeless_nam::limits::MAX_FILE_BYTES)
        .map_err(|e| format!("{shown}: {e}"))?;
    let file = NamFile::from_slice(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    let state = SourceState {
        path: Some(absolute(path)),
        hash: Some(file_hash(&bytes)),
        embed: true,
        embedded: Some(embed(&json)),
        extra: Map::new(),
    };
    Ok((file, state))
}

/// A model back from its compact copy.
pub fn open_embedded_model(embedded: &Value) -> Result<NamFile, String> {
    let json = unembed(embedded).map_err(|e| e.to_string())?;
    NamFile::from_value(&json).map_err(|e| format!("the saved copy: {e}"))
}

/// Reads and checks an IR WAV; the state carries its path, hash and the file itself.
pub fn open_ir(path: &Path) -> Result<(IrFile, SourceState), String> {
    let shown = path.display();
    let bytes =
        read_capped(path, crate::ir::MAX_FILE_BYTES).map_err(|e| format!("{shown}: {e}"))?;
    let hash = file_hash(&bytes);
    let embedded = embed_wav(&bytes);
    let file = IrFile::from_bytes(path.display().to_string(), bytes).map_err(|e| e.to_string())?;
    let state = SourceState {
        path: Some(absolute(path)),
        hash: Some(hash),
        embed: true,
        embedded: Some(embedded),
        extra: Map::new(),
    };
    Ok((file, state))
}

/// An IR back from its saved copy.
pub fn open_embedded_ir(embedded: &Value) -> Result<IrFile, String> {
    let bytes = unembed_wav(embedded).map_err(|e| e.to_string())?;
    IrFile::from_bytes("the IR saved with it", bytes).map_err(|e| e.to_string())
}

/// The key, among an IR field's extra keys, of its level choice.
pub const NORMALIZE_KEY: &str = "normalize";

/// The IR level an IR field asks for (the reference plugin's by default).
pub fn ir_options(state: &SourceState) -> IrOptions {
    IrOptions {
        normalization: if state.flag(NORMALIZE_KEY, true) {
            Normalization::Reference
        } else {
            Normalization::Off
        },
    }
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
        let s = SourceState::from_value(&json!({"path": "/a/b.nam"}));
        assert_eq!(s.path.as_deref(), Some("/a/b.nam"));
        assert!(s.embed && s.embedded.is_none());
        let s = SourceState::from_value(&json!("/a/c.nam"));
        assert_eq!(s.path.as_deref(), Some("/a/c.nam"));
        assert!(SourceState::from_value(&json!(42)).is_empty());
        assert!(SourceState::from_value(&json!({"path": ""})).is_empty());
    }

    #[test]
    fn wav_copies_round_trip_and_foreign_ones_are_refused() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        assert_eq!(unembed_wav(&embed_wav(&bytes)).unwrap(), bytes);
        assert!(matches!(
            unembed_wav(&json!({"codec": EMBED_CODEC})),
            Err(EmbedError::UnknownCodec(_))
        ));
        assert!(matches!(
            unembed_wav(&json!({"codec": WAV_CODEC, "wav": "%%%"})),
            Err(EmbedError::Damaged(_))
        ));
    }

    #[test]
    fn hash_tells_files_apart() {
        assert_ne!(file_hash(b"abc"), file_hash(b"abd"));
        assert_eq!(file_hash(b""), "fnv1a64:cbf29ce484222325");
    }
}
