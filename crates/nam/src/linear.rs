//! Linear (an impulse response): `config = {receptive_field, bias}`, weights the
//! `receptive_field` taps of a causal FIR in conv order (the last tap multiplies the
//! current sample, as the trainer's `Conv1d` does), then the bias if any.
//!
//! Run as a direct convolution through the shared block kernel. (The reference switches
//! to partitioned FFT convolution above 256 taps; the arithmetic is the same.)

use serde_json::{json, Value};

use crate::conv::{run_block, Conv, ConvShape, Hist, Isa, PerIsa, Weights};
use crate::error::{Error, Result};
use crate::json::Field;
use crate::kernels::Level;
use crate::limits::*;
use crate::net::BuildCtx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearConfig {
    pub receptive_field: usize,
    pub bias: bool,
}

impl LinearConfig {
    fn shape(&self) -> ConvShape {
        ConvShape::new(1, 1, self.receptive_field).bias(self.bias)
    }

    pub fn weight_count(&self) -> usize {
        self.shape().weights()
    }

    pub fn macs(&self) -> u64 {
        self.receptive_field as u64
    }

    pub fn floats_needed(&self, max_block: usize) -> usize {
        Hist::floats(1, self.receptive_field - 1, max_block) + 2 * self.weight_count()
    }

    pub fn summary(&self) -> String {
        format!(
            "Linear FIR, {} taps{}",
            self.receptive_field,
            if self.bias { ", bias" } else { "" }
        )
    }

    pub fn to_json(&self) -> Value {
        json!({"type": "Linear", "receptive_field": self.receptive_field, "bias": self.bias})
    }
}

pub(crate) fn parse(config: &Field) -> Result<LinearConfig> {
    config.object()?;
    for key in ["in_channels", "out_channels"] {
        let n = config.usize_or(key, 1, 1, MAX_CHANNELS)?;
        if n != 1 {
            return Err(Error::ShapeMismatch {
                path: config.path_of(key),
                expected: 1,
                found: n,
                why: "the engine is mono",
            });
        }
    }
    Ok(LinearConfig {
        receptive_field: config
            .req("receptive_field")?
            .usize_in(1, MAX_RECEPTIVE_FIELD)?,
        bias: config.bool_or("bias", false)?,
    })
}

/// A built, runnable FIR.
pub struct Linear {
    level: Level,
    hist: Hist,
    conv: Conv,
}

impl PerIsa for Linear {
    #[inline(always)]
    fn block_with<A: Isa>(&mut self, io: &mut [f32]) {
        self.process_with::<A>(io);
    }
}

impl Linear {
    pub fn build(cfg: &LinearConfig, weights: &[f32], ctx: &BuildCtx) -> Self {
        let hist = Hist::new(1, cfg.receptive_field - 1, ctx.max_block);
        let conv = Conv::new(cfg.shape(), &mut Weights::new(weights), hist.cap);
        Linear {
            level: ctx.level,
            hist,
            conv,
        }
    }

    /// Zero history is silence: nothing else to warm up.
    pub fn clear(&mut self) {
        self.hist.clear();
    }

    pub fn process_block(&mut self, io: &mut [f32]) {
        run_block(self.level, self, io);
    }

    #[inline(always)]
    fn process_with<A: Isa>(&mut self, io: &mut [f32]) {
        let n = io.len();
        self.hist.make_room(n);
        let pos = self.hist.pos;
        self.hist.buf[pos..pos + n].copy_from_slice(io);
        self.conv.run::<A>(io, n, self.hist.window(), n);
        self.hist.advance(n);
    }
}
