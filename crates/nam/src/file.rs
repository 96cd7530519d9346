//! `.nam` JSON -> [`NamFile`]: versions, both WaveNet schemas, LSTM, lenient metadata,
//! and every validation that must happen before a byte of engine memory is allocated.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::activation::Activation;
use super::error::{Error, Result};
use super::json::{type_name, Field};
use super::limits::*;

/// The sample rate of a file that does not say (every 0.5.0 capture).
pub const DEFAULT_SAMPLE_RATE: f64 = 48_000.0;

const OLDEST_VERSION: Version = Version::new(0, 5, 0);
/// Newest patch of each minor we know, so a newer patch can be warned about.
const NEWEST_PATCH: [(u32, u32); 3] = [(5, 4), (6, 0), (7, 0)];
const NEWEST_VERSION_TEXT: &str = "0.7.x";

/// `MAJOR.MINOR.PATCH` of the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let mut next = || parts.next()?.parse::<u32>().ok();
        let v = Version::new(next()?, next()?, next()?);
        parts.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A parsed, validated `.nam` file. Holds the weights; builds any number of engines.
#[derive(Debug, Clone)]
pub struct NamFile {
    pub version: Version,
    pub model: ModelConfig,
    /// The rate the model was trained at (48 kHz when the file does not say).
    pub sample_rate: f64,
    /// Whether the file stated its rate (0.5.0 captures do not).
    pub sample_rate_stated: bool,
    pub metadata: Metadata,
    /// Free-form `notes`, kept so nothing in the file is lost.
    pub notes: Option<Value>,
    pub weights: Vec<f32>,
    /// Things worth telling the user that did not stop the file from loading.
    pub warnings: Vec<String>,
}

/// The network, as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelConfig {
    WaveNet(WaveNetConfig),
    Lstm(LstmConfig),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WaveNetConfig {
    pub arrays: Vec<LayerArrayConfig>,
    /// As written in `config`; the engine uses the trailing weight, as the reference does.
    pub head_scale: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerArrayConfig {
    pub input_size: usize,
    pub condition_size: usize,
    pub channels: usize,
    pub head_size: usize,
    pub head_bias: bool,
    pub layers: Vec<LayerConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerConfig {
    pub kernel_size: usize,
    pub dilation: usize,
    pub activation: Activation,
    /// `Some(secondary)` for a gated layer: `act(top) * secondary(bottom)`.
    pub gate: Option<Activation>,
}

impl LayerConfig {
    /// Width of the dilated conv's output (`z`).
    pub fn mid(&self, channels: usize) -> usize {
        if self.gate.is_some() {
            2 * channels
        } else {
            channels
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmConfig {
    pub input_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
}

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

impl NamFile {
    /// Reads and parses a file, refusing anything over [`MAX_FILE_BYTES`] before reading it.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        use std::io::Read;
        let path = path.as_ref();
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let bytes = file.metadata().map_err(io_err)?.len();
        if bytes > MAX_FILE_BYTES {
            return Err(Error::FileTooLarge {
                bytes,
                max: MAX_FILE_BYTES,
            });
        }
        let mut data = Vec::with_capacity(bytes as usize);
        // `take` guards against a file that grows while being read.
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(io_err)?;
        Self::from_slice(&data)
    }

    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::from_slice(text.as_bytes())
    }

    pub fn from_slice(data: &[u8]) -> Result<Self> {
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::FileTooLarge {
                bytes: data.len() as u64,
                max: MAX_FILE_BYTES,
            });
        }
        let value: Value = serde_json::from_slice(data).map_err(|e| {
            if let Some(token) = non_finite_token_at(data, e.line(), e.column()) {
                return Error::NonFiniteToken {
                    token,
                    line: e.line(),
                    column: e.column(),
                };
            }
            // serde_json's text ends with its own " at line L column C"; ours says it once.
            let text = e.to_string();
            let message = match text.rfind(" at line ") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            Error::Json {
                line: e.line(),
                column: e.column(),
                message,
            }
        })?;
        Self::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Self> {
        let root = Field::root(value);
        root.object()?;
        let mut warnings = Vec::new();

        let version_text = root.req("version")?.str()?;
        let version = Version::parse(version_text).ok_or_else(|| Error::BadVersion {
            version: version_text.to_string(),
        })?;
        check_version(version, &mut warnings)?;

        let (sample_rate, sample_rate_stated) = match root.opt("sample_rate")? {
            None => (DEFAULT_SAMPLE_RATE, false),
            Some(f) => (f.f64_in(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)?, true),
        };

        let arch_field = root.req("architecture")?;
        let arch = arch_field.str()?;
        let config = root.req("config")?;
        let model = match arch {
            "WaveNet" => ModelConfig::WaveNet(parse_wavenet(&config, &mut warnings)?),
            "LSTM" => ModelConfig::Lstm(parse_lstm(&config)?),
            "ConvNet" | "Linear" | "SlimmableContainer" | "CatLSTM" | "CatWaveNet" => {
                return Err(Error::Unsupported {
                    path: "architecture".into(),
                    feature: format!("the {arch} architecture"),
                })
            }
            other => {
                return Err(Error::UnknownArchitecture {
                    name: other.to_string(),
                })
            }
        };

        // Refuse a model whose engine could not be built at the default block size, so a
        // hostile file fails here, before its weights are read, not later in a host.
        model.engine_bytes(super::engine::DEFAULT_MAX_BLOCK)?;
        let expected = model.weight_count();
        let weights_field = root.req("weights")?;
        let raw = weights_field.array()?;
        if raw.len() != expected {
            return Err(Error::WeightCount {
                expected,
                found: raw.len(),
            });
        }
        let mut weights = Vec::with_capacity(expected);
        for (index, v) in raw.iter().enumerate() {
            let x = v.as_f64().ok_or_else(|| Error::WrongType {
                path: format!("weights[{index}]"),
                expected: "a number",
                found: type_name(v),
            })?;
            let w = x as f32;
            if !w.is_finite() {
                return Err(Error::NonFiniteWeight { index, value: x });
            }
            weights.push(w);
        }

        if let ModelConfig::WaveNet(wn) = &model {
            let trailing = *weights.last().unwrap_or(&0.0);
            if trailing != wn.head_scale {
                warnings.push(format!(
                    "config.head_scale ({}) differs from the head scale stored in the weights ({}); \
                     using the weights' value, as the reference does",
                    wn.head_scale, trailing
                ));
            }
        }

        let metadata = match root.opt("metadata")? {
            Some(m) => parse_metadata(&m, &mut warnings),
            None => Metadata::default(),
        };
        let notes = root.opt("notes")?.map(|f| f.value.clone());

        Ok(NamFile {
            version,
            model,
            sample_rate,
            sample_rate_stated,
            metadata,
            notes,
            weights,
            warnings,
        })
    }

    /// Receptive field in samples at the model rate: the history each output depends on
    /// (1 for the LSTM, whose history is its state).
    pub fn receptive_field(&self) -> usize {
        match &self.model {
            ModelConfig::WaveNet(wn) => wn.receptive_field(),
            ModelConfig::Lstm(_) => 1,
        }
    }

    /// Samples of silence run through a fresh engine before use, as the reference does.
    pub fn prewarm_samples(&self) -> usize {
        match &self.model {
            ModelConfig::WaveNet(wn) => wn.receptive_field(),
            ModelConfig::Lstm(_) => (0.5 * self.sample_rate).round() as usize,
        }
    }

    /// Bytes an engine for this file needs at `max_block`, refused above
    /// [`MAX_ENGINE_BYTES`].
    pub fn engine_bytes(&self, max_block: usize) -> Result<u64> {
        self.model.engine_bytes(max_block)
    }

    /// A one-line description, e.g.
    /// `WaveNet 16->8 (10 layers, kernel 3, Tanh), 8->1 (10 layers, kernel 3, Tanh)`.
    pub fn summary(&self) -> String {
        match &self.model {
            ModelConfig::WaveNet(wn) => {
                let arrays: Vec<String> = wn
                    .arrays
                    .iter()
                    .map(|a| {
                        let gated = if a.layers.iter().any(|l| l.gate.is_some()) {
                            ", gated"
                        } else {
                            ""
                        };
                        let mut ks: Vec<usize> = a.layers.iter().map(|l| l.kernel_size).collect();
                        ks.dedup();
                        format!(
                            "{}->{} ({} layers, kernel {}, {}{gated})",
                            a.channels,
                            a.head_size,
                            a.layers.len(),
                            ks.iter()
                                .map(|k| k.to_string())
                                .collect::<Vec<_>>()
                                .join("/"),
                            activation_name(&a.layers[0].activation)
                        )
                    })
                    .collect();
                format!("WaveNet {}", arrays.join(", "))
            }
            ModelConfig::Lstm(c) => format!(
                "LSTM {} layer{} x {} hidden",
                c.num_layers,
                if c.num_layers == 1 { "" } else { "s" },
                c.hidden_size
            ),
        }
    }
}

/// Python's `json` writes NaN and infinities as bare tokens, which JSON does not have; a
/// file from a diverged training run fails to parse right there. Name the token instead
/// of a bare "expected value".
fn non_finite_token_at(data: &[u8], line: usize, column: usize) -> Option<&'static str> {
    let line_start = if line <= 1 {
        0
    } else {
        data.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    let at = (line_start + column).checked_sub(1)?;
    let from = at.saturating_sub(1);
    let window = data.get(from..(at + 9).min(data.len()))?;
    ["-Infinity", "Infinity", "NaN"]
        .into_iter()
        .find(|t| window.windows(t.len()).any(|w| w == t.as_bytes()))
}

pub fn activation_name(a: &Activation) -> &'static str {
    match a {
        Activation::Tanh => "Tanh",
        Activation::Hardtanh { .. } => "Hardtanh",
        Activation::FastTanh => "Fasttanh",
        Activation::ReLU => "ReLU",
        Activation::LeakyReLU { .. } => "LeakyReLU",
        Activation::PReLU { .. } => "PReLU",
        Activation::Sigmoid => "Sigmoid",
        Activation::SiLU => "SiLU",
        Activation::Hardswish => "Hardswish",
        Activation::LeakyHardtanh { .. } => "LeakyHardtanh",
        Activation::Softsign => "Softsign",
    }
}

fn check_version(v: Version, warnings: &mut Vec<String>) -> Result<()> {
    if v < OLDEST_VERSION {
        return Err(Error::VersionTooOld {
            version: v.to_string(),
            oldest: "0.5.0",
        });
    }
    let newest_minor = NEWEST_PATCH[NEWEST_PATCH.len() - 1].0;
    if v.major > 0 || v.minor > newest_minor {
        return Err(Error::VersionTooNew {
            version: v.to_string(),
            newest: NEWEST_VERSION_TEXT,
        });
    }
    if let Some(&(_, patch)) = NEWEST_PATCH.iter().find(|(m, _)| *m == v.minor) {
        if v.patch > patch {
            warnings.push(format!(
                "file version {v} is a newer patch than this build knows (0.{}.{patch}); \
                 loaded anyway",
                v.minor
            ));
        }
    }
    Ok(())
}

impl ModelConfig {
    /// Bytes an engine for this config needs at `max_block`, refused above
    /// [`MAX_ENGINE_BYTES`]. Depends on the config alone, so it runs before the weights
    /// are even read.
    pub fn engine_bytes(&self, max_block: usize) -> Result<u64> {
        let floats = match self {
            ModelConfig::WaveNet(wn) => super::wavenet::WaveNet::floats_needed(wn, max_block),
            ModelConfig::Lstm(cfg) => super::lstm::Lstm::floats_needed(cfg),
        };
        let bytes = (floats as u64).saturating_mul(4);
        if bytes > MAX_ENGINE_BYTES {
            return Err(Error::EngineTooLarge {
                bytes,
                max: MAX_ENGINE_BYTES,
            });
        }
        Ok(bytes)
    }

    /// Number of weights the file must carry for this config.
    pub fn weight_count(&self) -> usize {
        match self {
            ModelConfig::WaveNet(wn) => {
                wn.arrays
                    .iter()
                    .map(LayerArrayConfig::weight_count)
                    .sum::<usize>()
                    + 1
            }
            ModelConfig::Lstm(c) => {
                let h = c.hidden_size;
                let mut n = 0;
                for l in 0..c.num_layers {
                    let i = if l == 0 { c.input_size } else { h };
                    n += 4 * h * (i + h) + 4 * h + 2 * h;
                }
                n + h + 1
            }
        }
    }
}

impl WaveNetConfig {
    pub fn receptive_field(&self) -> usize {
        1 + self
            .arrays
            .iter()
            .flat_map(|a| &a.layers)
            .map(|l| (l.kernel_size - 1) * l.dilation)
            .sum::<usize>()
    }
}

impl LayerArrayConfig {
    pub fn weight_count(&self) -> usize {
        let c = self.channels;
        let mut n = c * self.input_size;
        for l in &self.layers {
            let mid = l.mid(c);
            n += c * mid * l.kernel_size + mid; // dilated conv
            n += self.condition_size * mid; // input mixin
            n += c * c + c; // layer 1x1
        }
        n + self.head_size * c + if self.head_bias { self.head_size } else { 0 }
    }
}

fn parse_lstm(config: &Field) -> Result<LstmConfig> {
    config.object()?;
    let input_field = config.req("input_size")?;
    let input_size = input_field.usize_in(1, MAX_CHANNELS)?;
    if input_size != 1 {
        return Err(Error::ShapeMismatch {
            path: input_field.path,
            expected: 1,
            found: input_size,
            why: "the input is mono",
        });
    }
    let hidden_size = config.req("hidden_size")?.usize_in(1, MAX_LSTM_HIDDEN)?;
    let num_layers = config.req("num_layers")?.usize_in(1, MAX_LSTM_LAYERS)?;
    Ok(LstmConfig {
        input_size,
        hidden_size,
        num_layers,
    })
}

fn parse_wavenet(config: &Field, warnings: &mut Vec<String>) -> Result<WaveNetConfig> {
    config.object()?;
    if let Some(f) = config.opt("condition_dsp")? {
        return Err(Error::Unsupported {
            path: f.path,
            feature: "a condition DSP (nested model feeding the condition)".into(),
        });
    }
    if let Some(f) = config.opt("head")? {
        return Err(Error::Unsupported {
            path: f.path,
            feature: "a post-stack head".into(),
        });
    }
    if let Some(f) = config.opt("in_channels")? {
        if f.usize_in(1, MAX_CHANNELS)? != 1 {
            return Err(Error::Unsupported {
                path: f.path,
                feature: "more than one input channel".into(),
            });
        }
    }
    let head_scale = config.req("head_scale")?.f32_in(-1e30, 1e30)?;
    let layers = config.req("layers")?;
    let items = layers.items()?;
    if items.is_empty() || items.len() > MAX_ARRAYS {
        return Err(Error::CountOutOfRange {
            path: layers.path.clone(),
            found: items.len(),
            min: 1,
            max: MAX_ARRAYS,
        });
    }
    let mut arrays = Vec::with_capacity(items.len());
    let mut total_layers = 0usize;
    for item in &items {
        let a = parse_layer_array(item, warnings)?;
        total_layers += a.layers.len();
        if total_layers > MAX_LAYERS {
            return Err(Error::CountOutOfRange {
                path: format!("{} (layers in all arrays)", layers.path),
                found: total_layers,
                min: 1,
                max: MAX_LAYERS,
            });
        }
        arrays.push(a);
    }

    // The arrays chain: each takes the previous one's residual stream as its input and
    // its head output as its head accumulator; the last head feeds the single output.
    for (i, a) in arrays.iter().enumerate() {
        let path = |k: &str| format!("{}.{}", items[i].path, k);
        if i == 0 {
            if a.input_size != 1 {
                return Err(Error::ShapeMismatch {
                    path: path("input_size"),
                    expected: 1,
                    found: a.input_size,
                    why: "the first layer array takes the mono input",
                });
            }
        } else {
            let prev = &arrays[i - 1];
            if a.input_size != prev.channels {
                return Err(Error::ShapeMismatch {
                    path: path("input_size"),
                    expected: prev.channels,
                    found: a.input_size,
                    why: "a layer array takes the previous array's channels",
                });
            }
            if prev.head_size != a.channels {
                return Err(Error::ShapeMismatch {
                    path: format!("{}.head_size", items[i - 1].path),
                    expected: a.channels,
                    found: prev.head_size,
                    why: "a head feeds the next array's head accumulator of `channels` width",
                });
            }
        }
        if a.condition_size != 1 {
            return Err(Error::ShapeMismatch {
                path: path("condition_size"),
                expected: 1,
                found: a.condition_size,
                why: "the condition is the mono input",
            });
        }
    }
    let last = arrays.len() - 1;
    if arrays[last].head_size != 1 {
        return Err(Error::ShapeMismatch {
            path: format!("{}.head_size", items[last].path),
            expected: 1,
            found: arrays[last].head_size,
            why: "the last head is the mono output",
        });
    }
    let cfg = WaveNetConfig { arrays, head_scale };
    let rf = cfg.receptive_field();
    if rf > MAX_RECEPTIVE_FIELD {
        return Err(Error::ReceptiveFieldTooLarge {
            samples: rf,
            max: MAX_RECEPTIVE_FIELD,
        });
    }
    Ok(cfg)
}

/// A per-layer setting written either once for the whole array or as an array of one
/// value per layer (the 0.7.0 trainer writes arrays, hand-made files often a scalar).
fn per_layer<'a>(field: &Field<'a>, n: usize) -> Result<Vec<Field<'a>>> {
    match field.value {
        Value::Array(items) => {
            if items.len() != n {
                return Err(Error::LengthMismatch {
                    path: field.path.clone(),
                    expected: n,
                    found: items.len(),
                });
            }
            field.items()
        }
        _ => Ok(vec![
            Field {
                value: field.value,
                path: field.path.clone(),
            };
            n
        ]),
    }
}

fn parse_layer_array(a: &Field, warnings: &mut Vec<String>) -> Result<LayerArrayConfig> {
    a.object()?;
    let channels = a.req("channels")?.usize_in(1, MAX_CHANNELS)?;
    let input_size = a.req("input_size")?.usize_in(1, MAX_CHANNELS)?;
    let condition_size = match a.opt("condition_size")? {
        Some(f) => f.usize_in(1, MAX_CHANNELS)?,
        None => 1,
    };

    let dil_field = a.req("dilations")?;
    let dil_items = dil_field.items()?;
    if dil_items.is_empty() || dil_items.len() > MAX_LAYERS {
        return Err(Error::CountOutOfRange {
            path: dil_field.path.clone(),
            found: dil_items.len(),
            min: 1,
            max: MAX_LAYERS,
        });
    }
    let n = dil_items.len();
    let dilations = dil_items
        .iter()
        .map(|d| d.usize_in(1, MAX_DILATION))
        .collect::<Result<Vec<_>>>()?;

    let kernel_sizes = match (a.opt("kernel_sizes")?, a.opt("kernel_size")?) {
        (Some(ks), _) => per_layer(&ks, n)?,
        (None, Some(k)) => per_layer(&k, n)?,
        (None, None) => {
            return Err(Error::MissingField {
                path: format!("{}.kernel_size", a.path),
            })
        }
    }
    .iter()
    .map(|k| k.usize_in(1, MAX_KERNEL_SIZE))
    .collect::<Result<Vec<_>>>()?;

    let activations = per_layer(&a.req("activation")?, n)?
        .iter()
        .map(|f| parse_activation(f, channels))
        .collect::<Result<Vec<_>>>()?;

    // Gating: legacy `gated: bool`, or 0.7.0 `gating_mode` (+ `secondary_activation`).
    let gates: Vec<Option<Activation>> = if let Some(modes) = a.opt("gating_mode")? {
        let modes = per_layer(&modes, n)?;
        let secondaries = match a.opt("secondary_activation")? {
            Some(s) => per_layer(&s, n)?.into_iter().map(Some).collect(),
            None => vec![None; n],
        };
        modes
            .iter()
            .zip(secondaries)
            .map(|(m, sec)| {
                let mode = m.str()?;
                let secondary = || -> Result<Activation> {
                    match &sec {
                        Some(s) if !s.value.is_null() => parse_activation(s, channels),
                        _ => Ok(Activation::Sigmoid),
                    }
                };
                match mode {
                    "none" => Ok(None),
                    "gated" => Ok(Some(secondary()?)),
                    "blended" => Err(Error::Unsupported {
                        path: m.path.clone(),
                        feature: "gating_mode \"blended\"".into(),
                    }),
                    other => Err(Error::UnknownValue {
                        path: m.path.clone(),
                        value: other.to_string(),
                        expected: "none, gated, blended",
                    }),
                }
            })
            .collect::<Result<_>>()?
    } else {
        let gated = match a.opt("gated")? {
            Some(g) => g.bool()?,
            None => false,
        };
        vec![gated.then_some(Activation::Sigmoid); n]
    };

    let (head_size, head_bias) = if let Some(head) = a.opt("head")? {
        head.object()?;
        let out = head.req("out_channels")?.usize_in(1, MAX_CHANNELS)?;
        if let Some(k) = head.opt("kernel_size")? {
            if k.usize_in(1, MAX_KERNEL_SIZE)? != 1 {
                return Err(Error::Unsupported {
                    path: k.path,
                    feature: "a head kernel larger than 1".into(),
                });
            }
        }
        let bias = match head.opt("bias")? {
            Some(b) => b.bool()?,
            None => false,
        };
        (out, bias)
    } else {
        let hs = a.req("head_size")?.usize_in(1, MAX_CHANNELS)?;
        let hb = match a.opt("head_bias")? {
            Some(b) => b.bool()?,
            None => false,
        };
        (hs, hb)
    };

    check_a2_knobs_off(a, channels, warnings)?;

    let layers = (0..n)
        .map(|i| LayerConfig {
            kernel_size: kernel_sizes[i],
            dilation: dilations[i],
            activation: activations[i].clone(),
            gate: gates[i].clone(),
        })
        .collect();
    Ok(LayerArrayConfig {
        input_size,
        condition_size,
        channels,
        head_size,
        head_bias,
        layers,
    })
}

const FILM_SLOTS: [&str; 8] = [
    "conv_pre_film",
    "conv_post_film",
    "input_mixin_pre_film",
    "input_mixin_post_film",
    "activation_pre_film",
    "activation_post_film",
    "layer1x1_post_film",
    "head1x1_post_film",
];

/// The 0.7.0 knobs this engine does not run. Off (or at their neutral value) they change
/// nothing and load; on, the file is refused with the knob's path.
fn check_a2_knobs_off(a: &Field, channels: usize, warnings: &mut Vec<String>) -> Result<()> {
    let unsupported = |path: String, feature: &str| Error::Unsupported {
        path,
        feature: feature.to_string(),
    };
    if let Some(b) = a.opt("bottleneck")? {
        if b.usize_in(1, MAX_CHANNELS)? != channels {
            return Err(unsupported(
                b.path,
                "a bottleneck different from `channels`",
            ));
        }
    }
    if let Some(l) = a.opt("layer1x1")? {
        if let Some(active) = l.opt("active")? {
            if !active.bool()? {
                return Err(unsupported(active.path, "an inactive layer 1x1"));
            }
        }
        if let Some(g) = l.opt("groups")? {
            if g.usize_in(1, MAX_CHANNELS)? != 1 {
                return Err(unsupported(g.path, "a grouped layer 1x1"));
            }
        }
    }
    if let Some(h) = a.opt("head1x1")? {
        if let Some(active) = h.opt("active")? {
            if active.bool()? {
                return Err(unsupported(active.path, "a head 1x1"));
            }
        }
    }
    for key in ["groups_input", "groups_input_mixin"] {
        if let Some(g) = a.opt(key)? {
            if g.usize_in(1, MAX_CHANNELS)? != 1 {
                return Err(unsupported(
                    g.path,
                    &format!("{key} > 1 (grouped convolution)"),
                ));
            }
        }
    }
    for slot in FILM_SLOTS {
        if let Some(f) = a.opt(slot)? {
            if let Some(active) = f.opt("active")? {
                if active.bool()? {
                    return Err(unsupported(active.path, &format!("FiLM ({slot})")));
                }
            }
        }
    }
    if let Some(s) = a.opt("slimmable")? {
        warnings.push(format!(
            "`{}`: the model is slimmable; it runs at its full width",
            s.path
        ));
    }
    Ok(())
}

/// `"Tanh"` or `{"type": "LeakyReLU", "negative_slope": 0.05}`.
pub(crate) fn parse_activation(f: &Field, channels: usize) -> Result<Activation> {
    let (name, params) = match f.value {
        Value::String(s) => (s.as_str(), None),
        Value::Object(_) => (f.req("type")?.str()?, Some(f)),
        _ => return Err(f.wrong_type("an activation name or object")),
    };
    let param = |key: &str, default: f32| -> Result<f32> {
        match params {
            Some(p) => match p.opt(key)? {
                Some(v) => v.f32_in(-1e6, 1e6),
                None => Ok(default),
            },
            None => Ok(default),
        }
    };
    Ok(match name {
        "Tanh" => Activation::Tanh,
        "Fasttanh" | "FastTanh" => Activation::FastTanh,
        "Hardtanh" => Activation::Hardtanh {
            min_val: param("min_val", -1.0)?,
            max_val: param("max_val", 1.0)?,
        },
        "ReLU" => Activation::ReLU,
        "LeakyReLU" => Activation::LeakyReLU {
            negative_slope: param("negative_slope", 0.01)?,
        },
        "PReLU" => {
            let slopes = match params
                .map(|p| p.opt("negative_slopes"))
                .transpose()?
                .flatten()
            {
                Some(s) => {
                    let items = s.items()?;
                    if items.len() != channels && items.len() != 1 {
                        return Err(Error::LengthMismatch {
                            path: s.path.clone(),
                            expected: channels,
                            found: items.len(),
                        });
                    }
                    items
                        .iter()
                        .map(|x| x.f32_in(-1e6, 1e6))
                        .collect::<Result<Vec<_>>>()?
                }
                None => vec![param("negative_slope", 0.01)?],
            };
            Activation::PReLU {
                negative_slopes: slopes,
            }
        }
        "Sigmoid" => Activation::Sigmoid,
        "SiLU" => Activation::SiLU,
        "Hardswish" => Activation::Hardswish,
        "LeakyHardtanh" => Activation::LeakyHardtanh {
            min_val: param("min_val", -1.0)?,
            max_val: param("max_val", 1.0)?,
            min_slope: param("min_slope", 0.01)?,
            max_slope: param("max_slope", 0.01)?,
        },
        "Softsign" => Activation::Softsign,
        other => {
            return Err(Error::UnknownActivation {
                path: f.path.clone(),
                name: other.to_string(),
            });
        }
    })
}

fn parse_metadata(m: &Field, warnings: &mut Vec<String>) -> Metadata {
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
