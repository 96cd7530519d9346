//! The one path from a parsed file to something that runs: [`Net::build`] picks the
//! architecture's network, and [`Net`] gives every architecture the same block interface
//! (mono, in place, at most `max_block` samples, allocation-free).

use crate::activation::ActivationMode;
use crate::convnet::ConvNet;
use crate::file::NamFile;
use crate::kernels::Level;
use crate::linear::Linear;
use crate::lstm::network::Lstm;
use crate::model::ModelConfig;
use crate::sequential::Sequential;
use crate::wavenet::network::WaveNet;

/// What every network is built for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuildCtx {
    pub max_block: usize,
    pub mode: ActivationMode,
    /// The instruction set (the CPU has it: checked at `Engine::build`).
    pub level: Level,
}

// The variants are the architectures' names (two of which end in "Net").
#[allow(clippy::enum_variant_names)]
pub(crate) enum Net {
    WaveNet(Box<WaveNet>),
    Lstm(Box<Lstm>),
    ConvNet(Box<ConvNet>),
    Linear(Box<Linear>),
    Sequential(Box<Sequential>),
}

impl Net {
    /// Builds `file`'s network. A container inside another model runs its last (largest)
    /// submodel and a nested slimmable WaveNet its full width, as the reference does;
    /// only the top-level model has a size control (see `sizes`).
    pub fn build(file: &NamFile, ctx: &BuildCtx) -> Net {
        let w = &file.weights;
        match &file.model {
            ModelConfig::WaveNet(c) => Net::WaveNet(Box::new(WaveNet::build(c, w, ctx))),
            ModelConfig::Lstm(c) => Net::Lstm(Box::new(Lstm::build(c, w, ctx, file.sample_rate))),
            ModelConfig::ConvNet(c) => Net::ConvNet(Box::new(ConvNet::build(c, w, ctx))),
            ModelConfig::Linear(c) => Net::Linear(Box::new(Linear::build(c, w, ctx))),
            ModelConfig::SlimmableContainer(c) => Net::build(c.default_model(), ctx),
            ModelConfig::Sequential(c) => Net::Sequential(Box::new(Sequential::build(c, ctx))),
        }
    }

    /// Runs `io` (at most `max_block` samples) in place.
    pub fn process_block(&mut self, io: &mut [f32]) {
        match self {
            Net::WaveNet(n) => n.process_block(io),
            Net::Lstm(n) => n.process_block(io),
            Net::ConvNet(n) => n.process_block(io),
            Net::Linear(n) => n.process_block(io),
            Net::Sequential(n) => n.process_block(io),
        }
    }

    /// Runs `input` and writes every output channel into `out`, rows `stride` apart: a
    /// condition DSP's output (only a WaveNet has more than one channel).
    pub fn process_into(&mut self, input: &[f32], out: &mut [f32], stride: usize) {
        match self {
            Net::WaveNet(n) => n.process_into(input, out, stride),
            other => {
                let y = &mut out[..input.len()];
                y.copy_from_slice(input);
                other.process_block(y);
            }
        }
    }

    /// Whether the last block was returned without computing (silence, see `wavenet`).
    pub fn idle(&self) -> bool {
        matches!(self, Net::WaveNet(n) if n.idle)
    }

    /// The state of a network that has never seen a sample (an LSTM: the file's state).
    pub fn clear(&mut self) {
        match self {
            Net::WaveNet(n) => n.clear(),
            Net::Lstm(n) => n.clear(),
            Net::ConvNet(n) => n.clear(),
            Net::Linear(n) => n.clear(),
            Net::Sequential(n) => n.clear(),
        }
    }

    /// Cleared, then the architecture's prewarm: the state after a long silence.
    pub fn prewarm(&mut self) {
        match self {
            Net::WaveNet(n) => n.prewarm(),
            Net::Lstm(n) => n.prewarm(),
            Net::ConvNet(n) => n.prewarm(),
            Net::Linear(n) => n.clear(),
            Net::Sequential(n) => n.prewarm(),
        }
    }
}

/// The widest signal `model`'s network carries from layer to layer, in rows (channels)
/// per sample; 0 for the networks whose state does not grow with the block (an LSTM, a
/// linear filter). What decides how long a run its layers can keep in the L1 cache.
pub(crate) fn rows_for(model: &ModelConfig) -> usize {
    match model {
        ModelConfig::WaveNet(c) => WaveNet::rows(c),
        ModelConfig::ConvNet(c) => c.channels,
        ModelConfig::Lstm(_) | ModelConfig::Linear(_) => 0,
        ModelConfig::SlimmableContainer(c) => c
            .submodels
            .iter()
            .map(|s| rows_for(&s.model.model))
            .max()
            .unwrap_or(0),
        ModelConfig::Sequential(c) => c
            .models
            .iter()
            .map(|m| rows_for(&m.model))
            .max()
            .unwrap_or(0),
    }
}

/// Floats `file`'s network allocates at `max_block` (as built by [`Net::build`]).
pub(crate) fn floats_needed(file: &NamFile, max_block: usize) -> usize {
    floats_for(&file.model, max_block)
}

/// Floats the network of `model` allocates at `max_block` (as built by [`Net::build`]).
pub(crate) fn floats_for(model: &ModelConfig, max_block: usize) -> usize {
    match model {
        ModelConfig::WaveNet(c) => WaveNet::floats_needed(c, max_block),
        ModelConfig::Lstm(c) => Lstm::floats_needed(c),
        ModelConfig::ConvNet(c) => c.floats_needed(max_block),
        ModelConfig::Linear(c) => c.floats_needed(max_block),
        ModelConfig::SlimmableContainer(c) => floats_needed(c.default_model(), max_block),
        ModelConfig::Sequential(c) => c
            .models
            .iter()
            .map(|m| floats_needed(m, max_block))
            .fold(max_block, usize::saturating_add),
    }
}
