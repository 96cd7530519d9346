//! [`ModelSlot`]: one model made ready for one host configuration: its engines, and the
//! resampler pairs that run them at the model's own rate when the host's differs. Built
//! off the audio thread (it allocates, designs filters and prewarms); the
//! [`Chain`](crate::chain::Chain) only runs it.

use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use crate::levels::ModelLevels;
use crate::stream_resample::{Quality, ResampleError, ResamplerPair};

/// Why a slot could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("{0}")]
    Model(#[from] tubeless_nam::Error),
    #[error("resampling: {0}")]
    Resample(#[from] ResampleError),
}

/// What a slot is built for: the host's side of the connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotSpec {
    pub host_rate: f64,
    /// The longest block the host will hand over; longer ones are split by the chain.
    pub max_block: usize,
    pub activations: ActivationMode,
    /// The starting size of a model with sizes (0.0..=1.0; 1.0 is the largest).
    pub size: f32,
    /// How hard the resamplers work when the host's rate is not the model's.
    pub quality: Quality,
}

/// Two engines of the same model (the second one is the right channel in dual mono), each
/// inside its resampler pair, and what the chain needs to know about the model's level.
pub struct ModelSlot {
    engines: [Engine; 2],
    pairs: [ResamplerPair; 2],
    host_rate: f64,
    levels: ModelLevels,
    /// `tail_samples` of each size step, worked out at build: the plugin asks every block.
    tails: Box<[usize]>,
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
    /// Allocates and prewarms both engines and designs the resamplers: after this, the
    /// first sample out is exact. Models without a stated rate are taken as 48 kHz.
    pub fn build(file: &NamFile, spec: SlotSpec) -> Result<ModelSlot, SlotError> {
        let max_block = spec.max_block.clamp(1, crate::stream_resample::MAX_BLOCK);
        let pair = ResamplerPair::new(spec.host_rate, file.sample_rate, max_block, spec.quality)?;
        let options = BuildOptions {
            // Longer model-rate runs (a high model rate under a low host rate) are split
            // by the engine itself.
            max_block: pair
                .max_model_block()
                .clamp(1, tubeless_nam::limits::MAX_BLOCK_LIMIT),
            activations: spec.activations,
            size: if spec.size.is_finite() {
                spec.size.clamp(0.0, 1.0)
            } else {
                1.0
            },
            ..BuildOptions::default()
        };
        let engine = Engine::build(file, options)?;
        let ratio = spec.host_rate / engine.sample_rate();
        let tails = (0..engine.size_steps().unwrap_or(1))
            .map(|k| (engine.receptive_field_of(k) as f64 * ratio).ceil() as usize + pair.latency())
            .collect();
        Ok(ModelSlot {
            engines: [engine, Engine::build(file, options)?],
            pairs: [pair.clone(), pair],
            host_rate: spec.host_rate,
            levels: levels_of(file),
            tails,
        })
    }

    /// Runs one side at the host's rate, in place. Real-time safe; any length.
    #[inline]
    pub fn process(&mut self, side: Side, buf: &mut [f32]) {
        let k = side as usize;
        let engine = &mut self.engines[k];
        self.pairs[k].process(buf, |m| engine.process_buffer(m));
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
        for p in &mut self.pairs {
            p.reset();
        }
    }

    /// Samples of silence after which an engine is back in its freshly built state: the
    /// chain feeds an idle engine this much silence so it can resume without a ghost of
    /// old audio.
    pub fn settle_samples(&self) -> usize {
        let at_host = self.engines[0].prewarm_samples() as f64 * self.host_rate / self.model_rate();
        at_host.ceil() as usize + 2 * self.latency() + 1
    }

    /// How long, in host samples, the model keeps sounding after its input stops: its
    /// history (receptive field, of the size being heard) and the resamplers' delay.
    #[inline]
    pub fn tail_samples(&self) -> usize {
        self.tails
            .get(self.engines[0].heard_step())
            .copied()
            .unwrap_or(0)
    }

    /// The engine of one side, for benchmarks that time the very engine the chain runs
    /// (the same memory, so the comparison is free of where the allocator put each one).
    #[doc(hidden)]
    pub fn engine_mut(&mut self, side: Side) -> &mut Engine {
        &mut self.engines[side as usize]
    }

    /// Delay this slot adds, in whole host samples: the resampler pair's (0 at the
    /// model's own rate; NAM models are causal).
    pub fn latency(&self) -> usize {
        self.pairs[0].latency()
    }

    /// True when the host's rate differs from the model's, so the model runs inside the
    /// resampler pair.
    pub fn is_resampled(&self) -> bool {
        !self.pairs[0].is_bypass()
    }

    pub fn quality(&self) -> Quality {
        self.pairs[0].quality()
    }

    pub fn model_rate(&self) -> f64 {
        self.engines[0].sample_rate()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail follows the size being heard: a container's sizes differ in history.
    #[test]
    fn the_tail_follows_the_size_being_heard() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../nam/tests/fixtures/container_lstm_wavenets_v070.nam");
        let file = NamFile::from_path(&path).unwrap();
        let spec = SlotSpec {
            host_rate: file.sample_rate,
            max_block: 64,
            activations: ActivationMode::Accurate,
            size: 1.0,
            quality: Quality::Standard,
        };
        let mut slot = ModelSlot::build(&file, spec).unwrap();
        let largest = slot.tail_samples();
        assert_eq!(largest, slot.engines[0].receptive_field());
        slot.set_size(0.0);
        let mut buf = [0.0f32; 64];
        for _ in 0..(spec.host_rate as usize / 64) {
            slot.process(Side::A, &mut buf);
        }
        let smallest = slot.tail_samples();
        assert_eq!(smallest, slot.engines[0].receptive_field());
        assert_ne!(smallest, largest, "the fixture's sizes differ in history");

        // At another host rate: the history in host samples, rounded up, plus the
        // resamplers' delay.
        let spec = SlotSpec {
            host_rate: 2.0 * file.sample_rate,
            ..spec
        };
        let mut slot = ModelSlot::build(&file, spec).unwrap();
        assert!(slot.latency() > 0);
        for size in [1.0, 0.0] {
            slot.set_size(size);
            let mut buf = [0.0f32; 64];
            for _ in 0..(spec.host_rate as usize / 64) {
                slot.process(Side::A, &mut buf);
            }
            let rf = slot.engines[0].receptive_field();
            assert_eq!(slot.tail_samples(), 2 * rf + slot.latency(), "size {size}");
        }
    }
}
