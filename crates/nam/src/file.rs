//! `.nam` JSON -> [`NamFile`]: the top level only: versions, sample rate, weights,
//! metadata, nesting. Each architecture parses its own `config` (see `model`); nested
//! models (container submodels, sequential stages, condition DSPs) are whole `.nam`
//! objects parsed by the same code, so every error names its full JSON path.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::json::{type_name, Field};
use crate::limits::*;
use crate::metadata::{parse_metadata, Metadata};
use crate::model::{self, ModelConfig};

/// The sample rate of a file that does not say (every 0.5.0 capture).
pub const DEFAULT_SAMPLE_RATE: f64 = 48_000.0;

const OLDEST_VERSION: Version = Version::new(0, 5, 0);
/// Newest patch of each minor we know, so a newer patch can be warned about.
const NEWEST_PATCH: [(u32, u32); 3] = [(5, 5), (6, 0), (7, 0)];
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

/// A parsed, validated `.nam` file (or a model nested in one). Holds the weights; builds
/// any number of engines.
#[derive(Debug, Clone, PartialEq)]
pub struct NamFile {
    pub version: Version,
    pub model: ModelConfig,
    /// The rate the model runs at (48 kHz when neither it nor its nested models say).
    pub sample_rate: f64,
    /// Whether the file (or a model nested in it) stated the rate.
    pub sample_rate_stated: bool,
    pub metadata: Metadata,
    /// Free-form `notes`, kept so nothing in the file is lost.
    pub notes: Option<Value>,
    /// This model's own weights (a container's and a sequential model's are empty: each
    /// nested model holds its own).
    pub weights: Vec<f32>,
    /// Things worth telling the user that did not stop the file from loading (nested
    /// models' included, prefixed with their path).
    pub warnings: Vec<String>,
    /// Where in the file this model is (`""` at the top).
    location: String,
}

/// State threaded through the parse of one file: how deep the nesting is, and where
/// warnings go.
pub(crate) struct ParseCtx<'w> {
    pub depth: usize,
    pub warnings: &'w mut Vec<String>,
}

impl ParseCtx<'_> {
    /// Parses the whole model object at `f`. `mono`: its output is audio.
    pub fn nested(&mut self, f: &Field, mono: bool) -> Result<NamFile> {
        if self.depth + 1 > MAX_NESTING_DEPTH {
            return Err(Error::NestingTooDeep {
                path: f.path.clone(),
                max: MAX_NESTING_DEPTH,
            });
        }
        let file = NamFile::parse_at(f, self.depth + 1, mono)?;
        for w in &file.warnings {
            self.warnings.push(format!("`{}`: {w}", f.path));
        }
        Ok(file)
    }
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
        let file = Self::parse_at(&Field::root(value), 0, true)?;
        // Refuse a model whose engine could not be built at the default block size, so a
        // hostile file fails here, not later in a host.
        file.engine_bytes(crate::engine::DEFAULT_MAX_BLOCK)?;
        Ok(file)
    }

    /// Parses the model object at `root`, `depth` levels down. `mono`: its output is
    /// audio, not another model's condition.
    pub(crate) fn parse_at(root: &Field, depth: usize, mono: bool) -> Result<Self> {
        root.object()?;
        let mut warnings = Vec::new();

        let version_field = root.req("version")?;
        let version_text = version_field.str()?;
        let version = Version::parse(version_text).ok_or_else(|| Error::BadVersion {
            path: version_field.path.clone(),
            version: version_text.to_string(),
        })?;
        check_version(version, &version_field.path, &mut warnings)?;

        let (sample_rate, sample_rate_stated) = match root.opt("sample_rate")? {
            None => (DEFAULT_SAMPLE_RATE, false),
            Some(f) => (f.f64_in(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)?, true),
        };

        let arch = root.req("architecture")?;
        let config = root.req("config")?;
        let mut ctx = ParseCtx {
            depth,
            warnings: &mut warnings,
        };
        let mut model = model::parse(&arch, &config, &mut ctx, mono)?;
        let (sample_rate, sample_rate_stated) =
            resolve_rates(&mut model, sample_rate, sample_rate_stated)?;

        // Checked before a weight is read: a hostile config stops here.
        crate::engine::check_engine_bytes(crate::net::floats_for(
            &model,
            crate::engine::DEFAULT_MAX_BLOCK,
        ))?;
        let expected = model.weight_count();
        let weights = match root.opt("weights")? {
            // A container or a sequential model may leave out its (empty) weights.
            None if expected == 0 && !model.nested().is_empty() => Vec::new(),
            None => {
                return Err(Error::MissingField {
                    path: root.path_of("weights"),
                })
            }
            Some(f) => read_weights(&f, expected)?,
        };
        if let ModelConfig::ConvNet(c) = &model {
            c.check_weights(&weights, &root.path_of("weights"))?;
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
            location: root.path.clone(),
        })
    }

    /// Bytes an engine for this file needs at `max_block` (every size step of a model
    /// with a size control), refused above [`MAX_ENGINE_BYTES`].
    pub fn engine_bytes(&self, max_block: usize) -> Result<u64> {
        // What the engine is built for: runs of at most this.
        let max_block = crate::engine::run_length(crate::net::rows_for(&self.model), max_block);
        let steps = self.size_steps();
        let floats = if steps.is_empty() {
            crate::net::floats_for(&self.model, max_block)
        } else {
            let ring = crate::sizes::ring_len(&steps, max_block);
            steps
                .iter()
                .map(|s| crate::net::floats_for(&s.model.model, max_block))
                .fold(ring.saturating_add(3 * max_block), usize::saturating_add)
        };
        crate::engine::check_engine_bytes(floats)
    }

    /// The architecture's name as files write it.
    pub fn architecture(&self) -> &'static str {
        self.model.name()
    }

    /// This file with another model and weights (a size step of a slimmable model).
    pub(crate) fn with_model(&self, model: ModelConfig, weights: Vec<f32>) -> NamFile {
        NamFile {
            version: self.version,
            model,
            sample_rate: self.sample_rate,
            sample_rate_stated: self.sample_rate_stated,
            metadata: self.metadata.clone(),
            notes: self.notes.clone(),
            weights,
            warnings: Vec::new(),
            location: self.location.clone(),
        }
    }

    /// Runs at `rate` (and so do its nested models that do not state their own).
    fn set_rate(&mut self, rate: f64) {
        self.sample_rate = rate;
        for c in self.model.nested_mut() {
            if !c.sample_rate_stated {
                c.set_rate(rate);
            }
        }
    }
}

/// Nested models run at the rate of the model they belong to: a nested model stating
/// another rate is refused (the reference does the same); one that states none runs at
/// its parent's; a parent that states none takes its nested models' rate.
fn resolve_rates(model: &mut ModelConfig, rate: f64, stated: bool) -> Result<(f64, bool)> {
    let mut children = model.nested_mut();
    let mut effective = stated.then(|| (rate, "the model it belongs to".to_string()));
    for c in children.iter().filter(|c| c.sample_rate_stated) {
        match &effective {
            None => effective = Some((c.sample_rate, format!("`{}`", c.location))),
            Some((r, other)) if *r != c.sample_rate => {
                return Err(Error::SampleRateMismatch {
                    path: format!("{}.sample_rate", c.location),
                    expected: *r,
                    found: c.sample_rate,
                    other: other.clone(),
                })
            }
            Some(_) => {}
        }
    }
    let effective = effective.map(|(r, _)| r);
    let (rate, stated) = effective.map_or((rate, stated), |r| (r, true));
    for c in children.iter_mut().filter(|c| !c.sample_rate_stated) {
        c.set_rate(rate);
    }
    Ok((rate, stated))
}

fn read_weights(field: &Field, expected: usize) -> Result<Vec<f32>> {
    let raw = field.array()?;
    if raw.len() != expected {
        return Err(Error::WeightCount {
            path: field.path.clone(),
            expected,
            found: raw.len(),
        });
    }
    let mut weights = Vec::with_capacity(expected);
    for (index, v) in raw.iter().enumerate() {
        let path = || format!("{}[{index}]", field.path);
        let x = v.as_f64().ok_or_else(|| Error::WrongType {
            path: path(),
            expected: "a number",
            found: type_name(v),
        })?;
        let w = x as f32;
        if !w.is_finite() {
            return Err(Error::NonFiniteWeight {
                path: path(),
                value: x,
            });
        }
        weights.push(w);
    }
    Ok(weights)
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

fn check_version(v: Version, path: &str, warnings: &mut Vec<String>) -> Result<()> {
    if v < OLDEST_VERSION {
        return Err(Error::VersionTooOld {
            path: path.to_string(),
            version: v.to_string(),
            oldest: "0.5.0",
        });
    }
    let newest_minor = NEWEST_PATCH[NEWEST_PATCH.len() - 1].0;
    if v.major > 0 || v.minor > newest_minor {
        return Err(Error::VersionTooNew {
            path: path.to_string(),
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
