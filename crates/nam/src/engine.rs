//! [`Engine`]: a built network for one `.nam` file. `build` allocates everything;
//! `process_buffer` and `reset` allocate nothing, lock nothing and cannot panic on any
//! input, so both may run on an audio thread.

use super::activation::ActivationMode;
use super::error::{Error, Result};
use super::file::{ModelConfig, NamFile};
use super::limits::MAX_BLOCK_LIMIT;
use super::lstm::Lstm;
use super::wavenet::WaveNet;

/// Block length an engine is built for unless told otherwise. Longer buffers are split.
pub const DEFAULT_MAX_BLOCK: usize = 512;

/// Inputs beyond this magnitude (+60 dBFS) are clamped: no audio gets there, and it keeps
/// a runaway host from pushing the network into float overflow.
pub const INPUT_LIMIT: f32 = 1000.0;

/// Inputs smaller than this are silence (and would otherwise be denormal).
const DENORMAL_FLOOR: f32 = 1e-30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions {
    /// The largest run the kernels process at once; sizes the scratch buffers.
    pub max_block: usize,
    pub activations: ActivationMode,
    pub kernels: Kernels,
}

/// Which build of the kernels runs. Both compute the same network; `Fast` rounds
/// differently (fused multiply-adds), well inside the parity bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// AVX2 + FMA where the CPU has them, else portable.
    #[default]
    Fast,
    /// Baseline x86-64 / any architecture: what every CPU runs.
    Portable,
}

impl Kernels {
    fn use_fma(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self == Kernels::Fast
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            max_block: DEFAULT_MAX_BLOCK,
            activations: ActivationMode::Accurate,
            kernels: Kernels::Fast,
        }
    }
}

enum Net {
    WaveNet(WaveNet),
    Lstm(Lstm),
}

/// A runnable model at its own sample rate. Causal: no latency.
pub struct Engine {
    net: Net,
    sample_rate: f64,
    receptive_field: usize,
    prewarm: usize,
    max_block: usize,
    activations: ActivationMode,
    faults: u64,
}

impl Engine {
    /// Allocates the whole network and prewarms it, so the first output sample is exact.
    pub fn build(file: &NamFile, options: BuildOptions) -> Result<Engine> {
        let max_block = options.max_block;
        if !(1..=MAX_BLOCK_LIMIT).contains(&max_block) {
            return Err(Error::BadOption {
                name: "max_block",
                value: max_block as f64,
                min: 1.0,
                max: MAX_BLOCK_LIMIT as f64,
            });
        }
        file.engine_bytes(max_block)?;
        let net = match &file.model {
            ModelConfig::WaveNet(cfg) => Net::WaveNet(WaveNet::build(
                cfg,
                &file.weights,
                max_block,
                options.activations,
                options.kernels.use_fma(),
            )),
            ModelConfig::Lstm(cfg) => Net::Lstm(Lstm::build(
                cfg,
                &file.weights,
                options.activations,
                options.kernels.use_fma(),
            )),
        };
        let mut engine = Engine {
            net,
            sample_rate: file.sample_rate,
            receptive_field: file.receptive_field(),
            prewarm: file.prewarm_samples(),
            max_block,
            activations: options.activations,
            faults: 0,
        };
        engine.reset();
        Ok(engine)
    }

    /// Processes `buf` in place: any length, any split of a stream into calls gives the
    /// same output as one call on the whole stream. Non-finite and denormal input is
    /// treated as silence, and input beyond +-[`INPUT_LIMIT`] is clamped.
    pub fn process_buffer(&mut self, buf: &mut [f32]) {
        for chunk in buf.chunks_mut(self.max_block) {
            for x in chunk.iter_mut() {
                // Denormal input (below -600 dBFS) would only drag every multiply in the
                // network onto the CPU's slow path; it is silence.
                *x = if x.is_finite() && x.abs() >= DENORMAL_FLOOR {
                    x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
                } else {
                    0.0
                };
            }
            match &mut self.net {
                Net::WaveNet(n) => n.process_block(chunk),
                Net::Lstm(n) => n.process_block(chunk),
            }
            // Finite weights and clamped input cannot overflow in practice; if they ever
            // do, a poisoned state would stay poisoned, so start over from a clean one.
            if chunk.iter().any(|y| !y.is_finite()) {
                chunk.fill(0.0);
                self.faults += 1;
                self.reset();
            }
        }
    }

    /// Back to the prewarmed state of a freshly built engine. Allocation-free; costs a
    /// prewarm (the receptive field, or 0.5 s for an LSTM) of compute.
    pub fn reset(&mut self) {
        match &mut self.net {
            Net::WaveNet(n) => {
                n.clear();
                n.process_silence(self.prewarm);
            }
            Net::Lstm(n) => {
                n.clear();
                n.process_silence(self.prewarm);
            }
        }
    }

    /// Samples of history each output depends on (1 for an LSTM). Not a latency.
    pub fn receptive_field(&self) -> usize {
        self.receptive_field
    }

    /// Samples of silence run at build and reset.
    pub fn prewarm_samples(&self) -> usize {
        self.prewarm
    }

    /// The rate the model was trained at; feed it audio at this rate.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Always 0: NAM models are causal.
    pub fn latency(&self) -> usize {
        0
    }

    pub fn max_block(&self) -> usize {
        self.max_block
    }

    pub fn activations(&self) -> ActivationMode {
        self.activations
    }

    /// Times a non-finite output forced a reset (should stay 0).
    pub fn faults(&self) -> u64 {
        self.faults
    }
}
