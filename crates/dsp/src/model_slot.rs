//! [`ModelSlot`]: one model made ready for one host configuration. Built off the audio
//! thread (it allocates and prewarms); the [`Chain`](crate::chain::Chain) only runs it.

use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use crate::levels::ModelLevels;

/// What a slot is built for: the host's side of the connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotSpec {
    pub host_rate: f64,
    /// The longest block the host will hand over; longer ones are split by the chain.
    pub max_block: usize,
    pub activations: ActivationMode,
    /// The starting size of a model with sizes (0.0..=1.0; 1.0 is the largest).
    pub size: f32,
}

/// Two engines of the same model (the second one is the right channel in dual mono), and
/// what the chain needs to know about the model's level.
pub struct ModelSlot {
    engines: [Engine; 2],
    host_rate: f64,
    levels: ModelLevels,
}

/// The channel each engine of a slot serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The only engine in mono mode; the left channel in dual mono.
    A = 0,
    /// The right channel in dual mono.
    B = 1,
}

impl ModelSlot {
    /// Allocates and prewarms both engines: after this, the first sample out is exact.
    pub fn build(file: &NamFile, spec: SlotSpec) -> tubeless_nam::Result<ModelSlot> {
        let options = BuildOptions {
            max_block: spec
                .max_block
                .clamp(1, tubeless_nam::limits::MAX_BLOCK_LIMIT),
            activations: spec.activations,
            size: if spec.size.is_finite() {
                spec.size.clamp(0.0, 1.0)
            } else {
                1.0
            },
            ..BuildOptions::default()
        };
        Ok(ModelSlot {
            engines: [Engine::build(file, options)?, Engine::build(file, options)?],
            host_rate: spec.host_rate,
            levels: levels_of(file),
        })
    }

    /// Runs one side's engine in place. Real-time safe; any length.
    pub fn process(&mut self, side: Side, buf: &mut [f32]) {
        self.engines[side as usize].process_buffer(buf);
    }

    /// Picks the submodel of a model with sizes (0.0..=1.0), click-free (the engine
    /// prewarms the incoming size and crossfades). Real-time safe; nothing for a model
    /// without sizes.
    pub fn set_size(&mut self, size: f32) {
        for e in &mut self.engines {
            e.set_size(size);
        }
    }

    /// Whether the model has sizes to choose from (a SlimmableContainer or a slimmable
    /// WaveNet).
    pub fn has_sizes(&self) -> bool {
        self.engines[0].has_sizes()
    }

    /// Both engines back to their freshly built state. Allocation-free, but it costs a
    /// prewarm of compute (the receptive field, or 0.5 s for an LSTM).
    pub fn reset(&mut self) {
        for e in &mut self.engines {
            e.reset();
        }
    }

    /// Samples of silence after which an engine is back in its freshly built state: the
    /// chain feeds an idle engine this much silence so it can resume without a ghost of
    /// old audio.
    pub fn settle_samples(&self) -> usize {
        self.engines[0].prewarm_samples()
    }

    /// Delay this slot adds, in host samples. NAM models are causal: 0 until resampling.
    pub fn latency(&self) -> usize {
        0
    }

    pub fn model_rate(&self) -> f64 {
        self.engines[0].sample_rate()
    }

    /// True when the host runs at another rate than the model was trained at (the model
    /// then sounds wrong: its dilations and recurrences count samples).
    pub fn rate_mismatch(&self) -> bool {
        (self.model_rate() - self.host_rate).abs() > 1e-6 * self.host_rate
    }

    /// What the model's metadata says about levels (for the output modes and input
    /// calibration).
    pub fn levels(&self) -> ModelLevels {
        self.levels
    }
}

/// The level metadata of a model file.
pub fn levels_of(file: &NamFile) -> ModelLevels {
    let md = &file.metadata;
    ModelLevels::new(md.loudness, md.input_level_dbu, md.output_level_dbu)
}
