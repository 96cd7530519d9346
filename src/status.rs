//! What the editor shows about the model, the cabinet IR and the host: plain values,
//! copied out of the loader under locks that only the editor and the loader take.

use std::path::PathBuf;

use crate::loader::HostConfig;

/// Where a playing file came from.
pub use tubeless_dsp::source::Origin as Source;

/// One kind of file's state (model or IR).
#[derive(Debug, Clone)]
pub struct AssetStatus<I> {
    pub info: Option<I>,
    /// A load in progress (the path).
    pub loading: Option<String>,
    /// The last failure, verbatim.
    pub error: Option<String>,
    /// Something worth knowing that is not a failure (an embedded copy stood in).
    pub notice: Option<String>,
    /// The file a restored session named but that could not be loaded.
    pub failed_path: Option<String>,
    /// The loadable files in the current file's folder, sorted.
    pub folder: Vec<PathBuf>,
    /// The session will keep a copy of the file.
    pub embed: bool,
    /// The file on disk differs from the session's copy (which plays).
    pub disk_differs: bool,
}

impl<I> Default for AssetStatus<I> {
    fn default() -> Self {
        AssetStatus {
            info: None,
            loading: None,
            error: None,
            notice: None,
            failed_path: None,
            folder: Vec::new(),
            embed: true,
            disk_differs: false,
        }
    }
}

impl<I> AssetStatus<I> {
    pub fn for_info(info: I) -> Self {
        AssetStatus {
            info: Some(info),
            ..AssetStatus::default()
        }
    }
}

/// Shown for the model.
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
    pub input_level_dbu: Option<f64>,
    pub output_level_dbu: Option<f64>,
    /// Fraction of one core it takes in real time, measured on this machine.
    pub cpu: Option<f64>,
    /// A model with sizes: each step's upper bound and what it runs (empty otherwise).
    pub sizes: Vec<(f64, String)>,
    pub warnings: Vec<String>,
}

/// Shown for the cabinet IR.
#[derive(Debug, Clone)]
pub struct IrInfo {
    pub name: String,
    pub path: Option<PathBuf>,
    pub source: Source,
    pub channels: usize,
    pub sample_rate: u32,
    pub seconds: f64,
    /// The reference plugin's level (-18 dB x 48 kHz / rate), or the file's own.
    pub normalized: bool,
}

/// Everything the editor shows that is not a parameter.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub model: AssetStatus<ModelInfo>,
    pub ir: AssetStatus<IrInfo>,
    pub host: Option<HostConfig>,
    /// The host runs at another rate than the model's: the model runs resampled.
    pub resampled: bool,
}
