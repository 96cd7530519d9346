//! The cabinet IR as a loadable file: WAV reading, the session's copy (the file itself),
//! the convolvers for the host's rate, and what the editor shows.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tubeless_dsp::ir::{IrFile, IrSlot};
use tubeless_dsp::source::{self, SourceState};

use super::channel::Asset;
use super::model::stem;
use super::HostConfig;
use crate::status::{IrInfo, Source};

pub struct IrAsset;

impl Asset for IrAsset {
    type File = IrFile;
    type Slot = IrSlot;
    type Info = IrInfo;
    const NOUN: &'static str = "IR";
    const EXTENSIONS: &'static [&'static str] = &["wav", "wave"];

    fn open_file(path: &Path) -> Result<(IrFile, SourceState), String> {
        source::open_ir(path)
    }

    fn open_embedded(embedded: &Value) -> Result<IrFile, String> {
        source::open_embedded_ir(embedded)
    }

    fn build(file: &IrFile, state: &SourceState, host: HostConfig) -> Result<IrSlot, String> {
        Ok(IrSlot::build(
            file,
            host.sample_rate,
            source::ir_options(state),
        ))
    }

    fn info(file: &IrFile, state: &SourceState, source: Source) -> IrInfo {
        let path = state.path.as_ref().map(PathBuf::from);
        IrInfo {
            name: stem(path.as_deref()).unwrap_or_else(|| "Cabinet IR".into()),
            path,
            source,
            channels: file.channels(),
            sample_rate: file.sample_rate(),
            seconds: file.seconds(),
            normalized: state.flag(source::NORMALIZE_KEY, true),
        }
    }
}
