//! What the editor shows about the model and the loader: a plain value, copied out of the
//! loader under a lock that only the editor and the loader take.

use std::path::PathBuf;

use crate::loader::HostConfig;

/// Where the playing model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    /// The session has no path, only its saved copy.
    Embedded,
    /// The file named by the session is gone or unreadable: its saved copy plays.
    EmbeddedFileMissing,
    /// The file on disk is not the one the session was saved with: its saved copy plays.
    EmbeddedFileChanged,
}

#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub path: Option<PathBuf>,
    pub source: Source,
    /// Make and model, as one line ("" when the file does not say).
    pub gear: String,
    pub gear_type: Option<String>,
    pub tone_type: Option<String>,
    pub modeled_by: Option<String>,
    pub architecture: String,
    pub weights: usize,
    pub sample_rate: f64,
    pub sample_rate_stated: bool,
    pub loudness: Option<f64>,
    /// Fraction of one core it takes in real time, measured on this machine.
    pub cpu: Option<f64>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Status {
    pub model: Option<ModelInfo>,
    /// A load in progress (the path).
    pub loading: Option<String>,
    /// The last failure, verbatim.
    pub error: Option<String>,
    /// Something worth knowing that is not a failure (an embedded copy stood in).
    pub notice: Option<String>,
    /// The file a restored session named but could not be loaded.
    pub failed_path: Option<String>,
    /// The `.nam` files in the model's folder, sorted.
    pub folder: Vec<PathBuf>,
    pub host: Option<HostConfig>,
    /// The host runs at another rate than the model's (sound is off until resampling).
    pub rate_mismatch: bool,
    /// The session will keep a copy of the model.
    pub embed: bool,
    /// The file on disk differs from the session's copy (which plays).
    pub disk_differs: bool,
}
