//! [`ModelConfig`]: which architecture a file holds, and everything that depends on it:
//! the architecture's parser, weights, receptive field, prewarm, cost, description and
//! size steps. One `match` per question, so a new architecture is added in one place.

use std::borrow::Cow;

use serde_json::{json, Value};

use crate::container::{self, ContainerConfig};
use crate::convnet::{self, ConvNetConfig};
use crate::error::{Error, Result};
use crate::file::{NamFile, ParseCtx};
use crate::json::Field;
use crate::linear::{self, LinearConfig};
use crate::lstm::{self, LstmConfig};
use crate::sequential::{self, SequentialConfig};
use crate::wavenet::{self, WaveNetConfig};

/// The network, as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelConfig {
    WaveNet(WaveNetConfig),
    Lstm(LstmConfig),
    ConvNet(ConvNetConfig),
    Linear(LinearConfig),
    SlimmableContainer(ContainerConfig),
    Sequential(SequentialConfig),
}

/// Parses `config` for the architecture named by `arch`. `mono`: the model's output is
/// audio (not the condition of another model).
pub(crate) fn parse(
    arch: &Field,
    config: &Field,
    ctx: &mut ParseCtx,
    mono: bool,
) -> Result<ModelConfig> {
    Ok(match arch.str()? {
        "WaveNet" => ModelConfig::WaveNet(wavenet::parse::parse(config, ctx, mono)?),
        "LSTM" => ModelConfig::Lstm(lstm::parse(config)?),
        "ConvNet" => ModelConfig::ConvNet(convnet::parse(config)?),
        "Linear" => ModelConfig::Linear(linear::parse(config)?),
        "SlimmableContainer" => ModelConfig::SlimmableContainer(container::parse(config, ctx)?),
        "Sequential" | "sequential" => ModelConfig::Sequential(sequential::parse(config, ctx)?),
        "PackedWaveNet" => {
            return Err(Error::Invalid {
                path: arch.path.clone(),
                why: "PackedWaveNet is the trainer's training-time form, not a playable file; \
                      the trainer exports it as a SlimmableContainer"
                    .into(),
            })
        }
        name @ ("CatLSTM" | "CatWaveNet") => {
            return Err(Error::Unsupported {
                path: arch.path.clone(),
                feature: format!("the {name} architecture (a model with knob inputs)"),
            })
        }
        other => {
            return Err(Error::UnknownArchitecture {
                path: arch.path.clone(),
                name: other.to_string(),
            })
        }
    })
}

impl ModelConfig {
    /// The architecture's name as files write it.
    pub fn name(&self) -> &'static str {
        match self {
            ModelConfig::WaveNet(_) => "WaveNet",
            ModelConfig::Lstm(_) => "LSTM",
            ModelConfig::ConvNet(_) => "ConvNet",
            ModelConfig::Linear(_) => "Linear",
            ModelConfig::SlimmableContainer(_) => "SlimmableContainer",
            ModelConfig::Sequential(_) => "Sequential",
        }
    }

    /// Weights the file's own `weights` must hold (nested models carry their own).
    pub fn weight_count(&self) -> usize {
        match self {
            ModelConfig::WaveNet(c) => c.weight_count(),
            ModelConfig::Lstm(c) => c.weight_count(),
            ModelConfig::ConvNet(c) => c.weight_count(),
            ModelConfig::Linear(c) => c.weight_count(),
            ModelConfig::SlimmableContainer(_) | ModelConfig::Sequential(_) => 0,
        }
    }

    /// Channels of the output: 1, except a WaveNet used as a condition DSP.
    pub fn out_channels(&self) -> usize {
        match self {
            ModelConfig::WaveNet(c) => c.out_channels(),
            _ => 1,
        }
    }

    /// The whole models inside this one, in file order.
    pub fn nested(&self) -> Vec<&NamFile> {
        match self {
            ModelConfig::WaveNet(c) => c.condition_dsp.iter().map(|b| &**b).collect(),
            ModelConfig::SlimmableContainer(c) => c.submodels.iter().map(|s| &s.model).collect(),
            ModelConfig::Sequential(c) => c.models.iter().collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn nested_mut(&mut self) -> Vec<&mut NamFile> {
        match self {
            ModelConfig::WaveNet(c) => c.condition_dsp.iter_mut().map(|b| &mut **b).collect(),
            ModelConfig::SlimmableContainer(c) => {
                c.submodels.iter_mut().map(|s| &mut s.model).collect()
            }
            ModelConfig::Sequential(c) => c.models.iter_mut().collect(),
            _ => Vec::new(),
        }
    }
}

/// One position of a model's size control.
#[derive(Debug, Clone)]
pub struct SizeStep<'a> {
    /// Sizes below this (and not below an earlier step's) pick this step; the last step
    /// also takes every size above.
    pub below: f64,
    /// The model that runs at this step.
    pub model: Cow<'a, NamFile>,
}

/// The step a size picks: the first whose `below` is greater than `size`, else the last.
pub(crate) fn step_for(size: f64, below: &[f64]) -> usize {
    below
        .iter()
        .position(|&b| size < b)
        .unwrap_or(below.len().saturating_sub(1))
}

impl NamFile {
    /// Receptive field in samples at the model rate: the history each output depends on
    /// (1 for an LSTM, whose history is its state). A container: its default (last)
    /// submodel's.
    pub fn receptive_field(&self) -> usize {
        match &self.model {
            ModelConfig::WaveNet(c) => c.receptive_field(),
            ModelConfig::Lstm(_) => 1,
            ModelConfig::ConvNet(c) => c.receptive_field(),
            ModelConfig::Linear(c) => c.receptive_field,
            ModelConfig::SlimmableContainer(c) => c.default_model().receptive_field(),
            ModelConfig::Sequential(c) => c.receptive_field(),
        }
    }

    /// Samples of silence run through a fresh engine before use, as the reference does:
    /// WaveNet the receptive field (plus its condition DSP's prewarm), ConvNet
    /// `1 + sum of dilations`, LSTM 0.5 s, Linear none (zero history is silence),
    /// Sequential the sum of its stages', a container its default submodel's.
    pub fn prewarm_samples(&self) -> usize {
        match &self.model {
            ModelConfig::WaveNet(c) => c.prewarm_samples(),
            ModelConfig::Lstm(_) => LstmConfig::prewarm_samples(self.sample_rate),
            ModelConfig::ConvNet(c) => c.receptive_field(),
            ModelConfig::Linear(_) => 0,
            ModelConfig::SlimmableContainer(c) => c.default_model().prewarm_samples(),
            ModelConfig::Sequential(c) => c.prewarm_samples(),
        }
    }

    /// Samples of past input that settle the model's state from a cleared one: exactly,
    /// for every architecture but the LSTM (whose state never forgets entirely).
    pub(crate) fn warm_samples(&self) -> usize {
        self.prewarm_samples().max(self.receptive_field() - 1)
    }

    /// Multiply-adds per sample at the model rate (the arithmetic of the convolutions,
    /// FiLM projections and scales, LSTM gates and updates; additions and activations not
    /// counted). A container: its default (last) submodel's; see [`NamFile::size_steps`]
    /// for each size's.
    pub fn macs_per_sample(&self) -> u64 {
        match &self.model {
            ModelConfig::WaveNet(c) => c.macs(),
            ModelConfig::Lstm(c) => c.macs(),
            ModelConfig::ConvNet(c) => c.macs(),
            ModelConfig::Linear(c) => c.macs(),
            ModelConfig::SlimmableContainer(c) => c.default_model().macs_per_sample(),
            ModelConfig::Sequential(c) => c.models.iter().map(NamFile::macs_per_sample).sum(),
        }
    }

    /// Weights in the file, nested models included.
    pub fn weight_count(&self) -> usize {
        self.weights.len()
            + self
                .model
                .nested()
                .iter()
                .map(|m| m.weight_count())
                .sum::<usize>()
    }

    /// A one-line description, e.g.
    /// `WaveNet 16->8 (10 layers, kernel 3, Tanh), 8->1 (10 layers, kernel 3, Tanh)`.
    pub fn summary(&self) -> String {
        match &self.model {
            ModelConfig::WaveNet(c) => c.summary(),
            ModelConfig::Lstm(c) => c.summary(),
            ModelConfig::ConvNet(c) => c.summary(),
            ModelConfig::Linear(c) => c.summary(),
            ModelConfig::SlimmableContainer(c) => c.summary(),
            ModelConfig::Sequential(c) => c.summary(),
        }
    }

    /// A machine-readable description of the architecture, nested models included: the
    /// config (`type` names the architecture) plus `summary`, `sample_rate`,
    /// `receptive_field`, `prewarm_samples`, `macs_per_sample` and `weights` (count).
    /// Models with a size control add `sizes`: one entry per step with its `below` bound
    /// and the same figures for the model that runs there.
    pub fn architecture_json(&self) -> Value {
        let mut v = match &self.model {
            ModelConfig::WaveNet(c) => c.to_json(),
            ModelConfig::Lstm(c) => c.to_json(),
            ModelConfig::ConvNet(c) => c.to_json(),
            ModelConfig::Linear(c) => c.to_json(),
            ModelConfig::SlimmableContainer(c) => c.to_json(),
            ModelConfig::Sequential(c) => c.to_json(),
        };
        let o = v
            .as_object_mut()
            .expect("configs describe themselves as objects");
        o.insert("summary".into(), json!(self.summary()));
        o.insert("version".into(), json!(self.version.to_string()));
        o.insert("sample_rate".into(), json!(self.sample_rate));
        o.insert("receptive_field".into(), json!(self.receptive_field()));
        o.insert("prewarm_samples".into(), json!(self.prewarm_samples()));
        o.insert("macs_per_sample".into(), json!(self.macs_per_sample()));
        o.insert("weights".into(), json!(self.weight_count()));
        let steps = self.size_steps();
        if !steps.is_empty() {
            let sizes: Vec<Value> = steps
                .iter()
                .map(|s| {
                    json!({
                        "below": s.below,
                        "summary": s.model.summary(),
                        "receptive_field": s.model.receptive_field(),
                        "prewarm_samples": s.model.prewarm_samples(),
                        "macs_per_sample": s.model.macs_per_sample(),
                    })
                })
                .collect();
            o.insert("sizes".into(), json!(sizes));
        }
        v
    }

    /// The steps of the model's size control, smallest first: a container's submodels,
    /// or a slimmable WaveNet cut to each of its channel counts. Empty for a model without
    /// sizes. [`Engine::set_size`](crate::Engine::set_size) picks among them.
    pub fn size_steps(&self) -> Vec<SizeStep<'_>> {
        match &self.model {
            ModelConfig::SlimmableContainer(c) => c
                .submodels
                .iter()
                .map(|s| SizeStep {
                    below: s.max_value,
                    model: Cow::Borrowed(&s.model),
                })
                .collect(),
            ModelConfig::WaveNet(c) if c.is_slimmable() => {
                let (breaks, steps) = wavenet::slim::steps(c);
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, channels)| {
                        let model = ModelConfig::WaveNet(wavenet::slim::slice_config(c, channels));
                        let weights = wavenet::slim::slice_weights(c, &self.weights, channels);
                        SizeStep {
                            below: breaks.get(i).copied().unwrap_or(1.0),
                            model: Cow::Owned(self.with_model(model, weights)),
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}
