//! The model as a loadable file: `.nam` parsing, the session's compact copy, the slot for
//! the host's rate, and what the editor shows.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use tubeless_dsp::source::{self, SourceState};
use tubeless_dsp::{ModelSlot, SlotSpec};
use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use super::channel::Asset;
use super::HostConfig;
use crate::status::{ModelInfo, Source};

pub struct ModelAsset;

impl Asset for ModelAsset {
    type File = NamFile;
    type Slot = Box<ModelSlot>;
    type Info = ModelInfo;
    const NOUN: &'static str = "model";
    const EXTENSIONS: &'static [&'static str] = &["nam"];

    fn open_file(path: &Path) -> Result<(NamFile, SourceState), String> {
        source::open_model(path)
    }

    fn open_embedded(embedded: &Value) -> Result<NamFile, String> {
        source::open_embedded_model(embedded)
    }

    fn build(
        file: &NamFile,
        _state: &SourceState,
        host: HostConfig,
    ) -> Result<Box<ModelSlot>, String> {
        let spec = SlotSpec {
            host_rate: host.sample_rate,
            max_block: host.max_block,
            activations: ActivationMode::Accurate,
            // The chain sets the size from the parameter at every block.
            size: 1.0,
            quality: host.quality,
        };
        ModelSlot::build(file, spec)
            .map(Box::new)
            .map_err(|e| format!("cannot build the model: {e}"))
    }

    fn info(file: &NamFile, state: &SourceState, source: Source) -> ModelInfo {
        let md = &file.metadata;
        let path = state.path.as_ref().map(PathBuf::from);
        let name = md
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| stem(path.as_deref()))
            .unwrap_or_else(|| "Untitled model".into());
        ModelInfo {
            name,
            path,
            source,
            gear: [md.gear_make.as_deref(), md.gear_model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            gear_type: md.gear_type.clone(),
            tone_type: md.tone_type.clone(),
            modeled_by: md.modeled_by.clone(),
            architecture: match file.size_steps().len() {
                n if n > 1 => format!("{} of {n} sizes", file.architecture()),
                _ => file.summary(),
            },
            weights: file.weight_count(),
            sample_rate: file.sample_rate,
            sample_rate_stated: file.sample_rate_stated,
            loudness: md.loudness,
            input_level_dbu: md.input_level_dbu,
            output_level_dbu: md.output_level_dbu,
            cpu: None,
            sizes: file
                .size_steps()
                .iter()
                .map(|st| (st.below, st.model.summary()))
                .collect(),
            warnings: file.warnings.clone(),
        }
    }
}

pub(super) fn stem(path: Option<&Path>) -> Option<String> {
    path.and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().to_string())
}

/// Fraction of one core the model takes in real time on this machine (a spare engine,
/// 0.2 s of audio), for the editor.
pub fn measure_cpu(file: &NamFile) -> Option<f64> {
    let opts = BuildOptions {
        max_block: 512,
        ..BuildOptions::default()
    };
    let mut engine = Engine::build(file, opts).ok()?;
    let n = (0.2 * file.sample_rate) as usize;
    let mut x: Vec<f32> = (0..n)
        .map(|i| 0.3 * ((i as f32) * 0.0731).sin() * ((i as f32) * 0.0011).cos())
        .collect();
    let t = Instant::now();
    for chunk in x.chunks_mut(512) {
        engine.process_buffer(chunk);
    }
    Some(t.elapsed().as_secs_f64() / 0.2)
}
