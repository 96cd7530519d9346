//! [`Engine`]: a built network for one `.nam` file, of any architecture. `build`
//! allocates everything; `process_buffer`, `reset` and `set_size` allocate nothing, lock
//! nothing and cannot panic on any input, so all three may run on an audio thread.

use crate::activation::ActivationMode;
use crate::error::{Error, Result};
use crate::file::NamFile;
use crate::kernels::Level;
use crate::limits::{MAX_BLOCK_LIMIT, MAX_ENGINE_BYTES};
use crate::model::step_for;
use crate::net::{BuildCtx, Net};
use crate::sizes::Sizes;

/// Block length an engine is built for unless told otherwise. Longer buffers are split.
pub const DEFAULT_MAX_BLOCK: usize = 512;

/// How long a run of samples a WaveNet (or ConvNet) layer is given at once: each layer
/// writes its rows for the whole run before the next layer reads them, so past some length
/// the rows no longer stay in the L1 cache between the two. Measured in one process on
/// Zen 5 (AVX-512, 48 KiB L1d), engines fed the same 512- and 2048-sample buffers with
/// runs of 64 to 2048: every WaveNet ran 3-14 % slower a sample with runs of 1024 or 2048
/// than with 512, and the captures 20 channels wide and wider 1-3 % faster with 256
/// than with 512, the narrow ones 0-9 % slower. So runs of at most `RUN_FLOATS / rows`
/// samples (a power of two) and never more than [`MAX_RUN`]; any split gives the same
/// output, so this changes no sample, and the histories and scratch shrink with it.
const RUN_FLOATS: usize = 8192;
const MAX_RUN: usize = 512;

/// The longest run a network `rows` wide (see [`crate::net::rows_for`]) is given at
/// once, for buffers of up to `max_block`. An LSTM or a linear filter (0 rows) keeps no
/// rows between layers: any run suits it.
pub(crate) fn run_length(rows: usize, max_block: usize) -> usize {
    match RUN_FLOATS.checked_div(rows) {
        Some(fit) => max_block.min(1 << fit.clamp(64, MAX_RUN).ilog2()),
        None => max_block,
    }
}

/// Inputs beyond this magnitude (+60 dBFS) are clamped: no audio gets there, and it keeps
/// a runaway host from pushing the network into float overflow.
pub const INPUT_LIMIT: f32 = 1000.0;

/// Inputs smaller than this are silence (and would otherwise be denormal).
pub(crate) const DENORMAL_FLOOR: f32 = 1e-30;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildOptions {
    /// The largest run the kernels process at once; sizes the scratch buffers.
    pub max_block: usize,
    pub activations: ActivationMode,
    pub kernels: Kernels,
    /// The initial size (0.0 ..= 1.0) of a model with a size control; ignored by others.
    /// 1.0, the default, is the largest, as the reference runs until told otherwise.
    pub size: f32,
}

/// Which build of the kernels runs. All compute the same network, well inside the parity
/// bound of each other: the AVX2 and AVX-512 builds run the same fused multiply-adds in
/// the same order (their WaveNet tanhs differ: piecewise polynomials in AVX-512, Eigen's
/// rational in AVX2), `Portable` separate multiplies and adds. Chosen once, at
/// [`Engine::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// The widest the CPU has: AVX-512, else AVX2 + FMA, else portable.
    #[default]
    Fast,
    /// Baseline x86-64 / any architecture: what every CPU runs.
    Portable,
    /// AVX2 + FMA (x86-64-v3), even where the CPU also has AVX-512. Where it lacks
    /// them, `Portable` (see [`Kernels::available`]).
    Avx2,
    /// AVX-512F. Where the CPU lacks it, the widest below it (see [`Kernels::available`]).
    Avx512,
}

impl Kernels {
    /// Whether this CPU runs this choice as named (`Fast` and `Portable` always do).
    pub fn available(self) -> bool {
        match self {
            Kernels::Fast | Kernels::Portable => true,
            Kernels::Avx2 => has_avx2(),
            Kernels::Avx512 => has_avx512(),
        }
    }

    /// The name of what actually runs for this choice on this CPU: "avx512", "avx2" or
    /// "portable".
    pub fn resolved(self) -> &'static str {
        match self.level() {
            Level::Avx512 => "avx512",
            Level::Avx2 => "avx2",
            Level::Portable => "portable",
        }
    }

    pub(crate) fn level(self) -> Level {
        match self {
            Kernels::Portable => Level::Portable,
            Kernels::Avx2 if has_avx2() => Level::Avx2,
            Kernels::Fast | Kernels::Avx512 if has_avx512() => Level::Avx512,
            Kernels::Fast | Kernels::Avx512 if has_avx2() => Level::Avx2,
            _ => Level::Portable,
        }
    }
}

pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2() && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            max_block: DEFAULT_MAX_BLOCK,
            activations: ActivationMode::Accurate,
            kernels: Kernels::Fast,
            size: 1.0,
        }
    }
}

/// Refuses an engine of `floats` 32-bit values above [`MAX_ENGINE_BYTES`].
pub(crate) fn check_engine_bytes(floats: usize) -> Result<u64> {
    let bytes = (floats as u64).saturating_mul(4);
    if bytes > MAX_ENGINE_BYTES {
        return Err(Error::EngineTooLarge {
            bytes,
            max: MAX_ENGINE_BYTES,
        });
    }
    Ok(bytes)
}

enum Top {
    One(Net),
    Sized(Box<Sizes>),
}

/// A runnable model at its own sample rate. Causal: no latency.
pub struct Engine {
    top: Top,
    sample_rate: f64,
    /// Receptive field and prewarm of each size step (one entry without sizes).
    steps: Vec<(usize, usize)>,
    max_block: usize,
    /// The longest run the network is built for and given at once (see [`run_length`]).
    run: usize,
    activations: ActivationMode,
    /// The instruction set of the guard around each block (the networks hold their own).
    level: Level,
    faults: u64,
}

impl Engine {
    /// Allocates the whole network (every size step of a model with a size control) and
    /// prewarms it, so the first output sample is exact.
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
        if !(0.0..=1.0).contains(&options.size) {
            return Err(Error::BadOption {
                name: "size",
                value: options.size as f64,
                min: 0.0,
                max: 1.0,
            });
        }
        let run = run_length(crate::net::rows_for(&file.model), max_block);
        file.engine_bytes(max_block)?;
        let ctx = BuildCtx {
            max_block: run,
            mode: options.activations,
            level: options.kernels.level(),
        };
        let steps = file.size_steps();
        let build = || match steps.len() {
            0 => Top::One(Net::build(file, &ctx)),
            1 => Top::One(Net::build(&steps[0].model, &ctx)),
            _ => {
                let nets = steps.iter().map(|s| Net::build(&s.model, &ctx)).collect();
                Top::Sized(Box::new(Sizes::new(
                    &steps,
                    nets,
                    options.size,
                    run,
                    file.sample_rate,
                )))
            }
        };
        // Twice: the first build measures the layout's slab, the second lays itself out
        // in one allocation of exactly that size (an estimate would waste its margin in
        // every instance).
        let slab = {
            let layout = crate::floats::Layout::begin(0);
            drop(build());
            layout.placed()
        };
        let _layout = crate::floats::Layout::begin(slab);
        let top = build();
        let info = |f: &NamFile| (f.receptive_field(), f.prewarm_samples());
        let mut engine = Engine {
            top,
            sample_rate: file.sample_rate,
            steps: if steps.is_empty() {
                vec![info(file)]
            } else {
                steps.iter().map(|s| info(&s.model)).collect()
            },
            max_block,
            run,
            activations: options.activations,
            level: ctx.level,
            faults: 0,
        };
        engine.reset();
        Ok(engine)
    }

    /// Processes `buf` in place: any length, any split of a stream into calls gives the
    /// same output as one call on the whole stream. Non-finite and denormal input is
    /// treated as silence, and input beyond +-[`INPUT_LIMIT`] is clamped.
    pub fn process_buffer(&mut self, buf: &mut [f32]) {
        for chunk in buf.chunks_mut(self.run) {
            // Denormal input (below -600 dBFS) would only drag every multiply in the
            // network onto the CPU's slow path; it is silence.
            crate::guard::scrub(self.level, chunk);
            match &mut self.top {
                Top::One(n) => n.process_block(chunk),
                Top::Sized(s) => s.process_block(chunk),
            }
            // Finite weights and clamped input cannot overflow in practice; if they ever
            // do, a poisoned state would stay poisoned, so start over from a clean one.
            if crate::guard::any_non_finite(self.level, chunk) {
                chunk.fill(0.0);
                self.faults += 1;
                self.reset();
            }
        }
    }

    /// Back to the prewarmed state of a freshly built engine (at the size last asked
    /// for). Allocation-free; costs a prewarm (see [`Engine::prewarm_samples`]) of compute.
    pub fn reset(&mut self) {
        match &mut self.top {
            Top::One(n) => n.prewarm(),
            Top::Sized(s) => s.reset(),
        }
    }

    /// Whether the last block processed was returned without computing: a WaveNet whose
    /// input has been silent for at least its receptive field outputs its (constant)
    /// response to silence, bit-identical to computing it, at the cost of a comparison
    /// per sample. For a CPU meter or a host's "tail" logic; no effect on the output.
    pub fn idle(&self) -> bool {
        match &self.top {
            Top::One(n) => n.idle(),
            Top::Sized(s) => s.idle(),
        }
    }

    /// Number of size steps, for a model with a size control (a SlimmableContainer, a
    /// slimmable WaveNet); `None` for a model without one.
    pub fn size_steps(&self) -> Option<usize> {
        match &self.top {
            Top::One(_) => None,
            Top::Sized(s) => Some(s.steps()),
        }
    }

    pub fn has_sizes(&self) -> bool {
        self.size_steps().is_some()
    }

    /// Sizes at which the step changes, ascending (`size_steps - 1` of them): step `i`
    /// covers sizes from breakpoint `i - 1` (or 0) up to, not including, breakpoint `i`.
    pub fn size_breakpoints(&self) -> &[f64] {
        match &self.top {
            Top::One(_) => &[],
            Top::Sized(s) => s.breakpoints(),
        }
    }

    /// Asks for another size, 0.0 (smallest) ..= 1.0 (largest); clamped, NaN ignored.
    /// Real-time safe and allocation-free. The step is picked exactly as the reference
    /// does: a container's first submodel whose `max_value` is greater than `size` (the
    /// last if none is); a slimmable WaveNet's arrays cut to `allowed[min(floor(size *
    /// len), len - 1)]` channels. The new step is brought in step with the live input
    /// and crossfaded in over 20 ms (see `sizes`); no effect on a model without sizes.
    pub fn set_size(&mut self, size: f32) {
        if let Top::Sized(s) = &mut self.top {
            s.set_size(size);
        }
    }

    /// The size last asked for (1.0 for a model without sizes).
    pub fn size(&self) -> f32 {
        match &self.top {
            Top::One(_) => 1.0,
            Top::Sized(s) => s.size(),
        }
    }

    /// The step the size last asked for picks (0 without sizes).
    pub fn size_index(&self) -> usize {
        match &self.top {
            Top::One(_) => 0,
            Top::Sized(s) => s.target(),
        }
    }

    /// Whether a size switch (catch-up or crossfade) is under way.
    pub fn switching(&self) -> bool {
        matches!(&self.top, Top::Sized(s) if s.switching())
    }

    /// The step a size would pick, without asking for it.
    pub fn size_index_for(&self, size: f32) -> usize {
        match &self.top {
            Top::One(_) => 0,
            Top::Sized(s) => step_for(size.clamp(0.0, 1.0) as f64, s.below()),
        }
    }

    /// The size step being heard (the incoming one once a switch has caught up; 0
    /// without sizes): an index for [`Engine::receptive_field_of`].
    #[inline]
    pub fn heard_step(&self) -> usize {
        match &self.top {
            Top::One(_) => 0,
            Top::Sized(s) => s.active(),
        }
    }

    /// Samples of history each output of the step being heard depends on (1 for an
    /// LSTM). Not a latency.
    pub fn receptive_field(&self) -> usize {
        self.steps[self.heard_step()].0
    }

    /// The receptive field of one size step (`0..size_steps`, or 0 without sizes); 0
    /// past the last.
    pub fn receptive_field_of(&self, step: usize) -> usize {
        self.steps.get(step).map_or(0, |s| s.0)
    }

    /// Samples of silence run at build and reset (for the step being heard).
    pub fn prewarm_samples(&self) -> usize {
        self.steps[self.heard_step()].1
    }

    /// The rate the model was trained at; feed it audio at this rate.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Always 0: NAM models are causal (a size switch adds none either).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_shorten_with_the_width_and_stop_at_the_cap() {
        // (rows, max_block, run)
        let cases = [
            (0, 4096, 4096), // an LSTM: no rows kept between layers
            (1, 4096, 512),
            (4, 4096, 512),
            (16, 4096, 512),
            (17, 4096, 256),
            (32, 4096, 256),
            (33, 4096, 128),
            (64, 4096, 128),
            (65, 4096, 64),
            (100_000, 4096, 64),
            (32, 100, 100),
            (8, 1, 1),
        ];
        for (rows, max_block, run) in cases {
            assert_eq!(run_length(rows, max_block), run, "{rows} rows, {max_block}");
        }
    }
}
