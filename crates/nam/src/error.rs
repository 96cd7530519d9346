//! One error type for everything that can go wrong between a path on disk and a running
//! engine. Every variant carries the numbers (and, for the file's fields, the JSON path)
//! that a user or a bug report needs; `Display` turns them into one sentence.

use std::path::PathBuf;

use super::activation::ACTIVATION_NAMES;

/// Architectures this build runs, for error messages.
pub const ARCHITECTURES: &str = "WaveNet, LSTM, ConvNet, Linear, SlimmableContainer, Sequential";

/// Why a `.nam` file could not be read, parsed, validated or built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("file is {bytes} bytes, larger than the {max}-byte limit for a .nam file")]
    FileTooLarge { bytes: u64, max: u64 },

    #[error("not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "`{token}` at line {line}, column {column}: the file holds a non-finite number \
         (typically the weights of a training run that diverged); it cannot be played"
    )]
    NonFiniteToken {
        token: &'static str,
        line: usize,
        column: usize,
    },

    #[error("missing field `{path}`")]
    MissingField { path: String },

    #[error("`{path}` should be {expected}, found {found}")]
    WrongType {
        path: String,
        expected: &'static str,
        found: &'static str,
    },

    #[error("`{path}` \"{version}\" is not of the form MAJOR.MINOR.PATCH")]
    BadVersion { path: String, version: String },

    #[error(
        "`{path}`: file version {version} is newer than this build understands \
         (newest: {newest}); update Tubeless to load it"
    )]
    VersionTooNew {
        path: String,
        version: String,
        newest: &'static str,
    },

    #[error("`{path}`: file version {version} is older than the oldest supported ({oldest})")]
    VersionTooOld {
        path: String,
        version: String,
        oldest: &'static str,
    },

    #[error(
        "`{path}`: unknown architecture \"{name}\" (supported: {})",
        ARCHITECTURES
    )]
    UnknownArchitecture { path: String, name: String },

    #[error(
        "`{path}`: unknown activation \"{name}\" (known: {})",
        ACTIVATION_NAMES
    )]
    UnknownActivation { path: String, name: String },

    #[error("`{path}`: unknown value \"{value}\" (expected one of: {expected})")]
    UnknownValue {
        path: String,
        value: String,
        expected: &'static str,
    },

    #[error(
        "`{path}`: {feature} is not supported by this version of Tubeless \
         (the file turns it on; it cannot be ignored without changing the sound)"
    )]
    Unsupported { path: String, feature: String },

    #[error("`{path}` is {value}, outside the allowed range {min} ..= {max}")]
    OutOfRange {
        path: String,
        value: f64,
        min: f64,
        max: f64,
    },

    #[error("`{path}` has {found} entries, allowed {min} ..= {max}")]
    CountOutOfRange {
        path: String,
        found: usize,
        min: usize,
        max: usize,
    },

    #[error(
        "the receptive field of `{path}` is {samples} samples, more than the {max}-sample \
         limit (it sets the history memory and the prewarm time)"
    )]
    ReceptiveFieldTooLarge {
        path: String,
        samples: usize,
        max: usize,
    },

    #[error("`{path}` has {found} entries, expected {expected}")]
    LengthMismatch {
        path: String,
        expected: usize,
        found: usize,
    },

    #[error("`{path}` is {found}, but it must equal {expected} ({why})")]
    ShapeMismatch {
        path: String,
        expected: usize,
        found: usize,
        why: &'static str,
    },

    #[error("`{path}` has {found} values, the config needs {expected}")]
    WeightCount {
        path: String,
        expected: usize,
        found: usize,
    },

    #[error("`{path}` is {value:e}, which is not a finite 32-bit float")]
    NonFiniteWeight { path: String, value: f64 },

    #[error("`{path}` is {groups}, which does not divide {what} ({channels})")]
    Groups {
        path: String,
        groups: usize,
        channels: usize,
        what: &'static str,
    },

    #[error("`{path}` is {found} Hz, but {other} runs at {expected} Hz")]
    SampleRateMismatch {
        path: String,
        expected: f64,
        found: f64,
        /// What runs at `expected`: the enclosing model, or a sibling (with its path).
        other: String,
    },

    #[error("`{path}`: models are nested more than {max} deep")]
    NestingTooDeep { path: String, max: usize },

    #[error("`{path}`: {why}")]
    Invalid { path: String, why: String },

    #[error("the model would need {bytes} bytes of engine memory, more than the {max}-byte limit")]
    EngineTooLarge { bytes: u64, max: u64 },

    #[error("build option `{name}` is {value}, outside {min} ..= {max}")]
    BadOption {
        name: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
