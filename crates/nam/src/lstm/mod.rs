//! LSTM: `config = {input_size, hidden_size, num_layers}`. Per layer (input `I` is
//! `input_size` for the first, `hidden_size` after): `W` of shape `4H x (I + H)` row-major
//! (columns `[input | hidden]`, row blocks in gate order i, f, g, o), then the bias (4H,
//! already `b_ih + b_hh`), then the initial h (H) and c (H). After the layers: the head's
//! weights (H) and bias (1).

mod aligned;
#[cfg(target_arch = "x86_64")]
mod block256;
#[cfg(target_arch = "x86_64")]
mod block512;
pub(crate) mod network;
mod step;

use serde_json::{json, Value};

use aligned::Aligned;

use crate::error::{Error, Result};
use crate::json::Field;
use crate::limits::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmConfig {
    pub input_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
}

impl LstmConfig {
    pub fn weight_count(&self) -> usize {
        let h = self.hidden_size;
        (0..self.num_layers)
            .map(|l| {
                let i = if l == 0 { self.input_size } else { h };
                4 * h * (i + h) + 4 * h + 2 * h
            })
            .sum::<usize>()
            + h
            + 1
    }

    /// Multiply-adds per sample: the gates' matrix, the cell and hidden updates, the head.
    pub fn macs(&self) -> u64 {
        let h = self.hidden_size;
        let layers: usize = (0..self.num_layers)
            .map(|l| 4 * h * (if l == 0 { self.input_size } else { h } + h) + 3 * h)
            .sum();
        (layers + h) as u64
    }

    /// The reference runs half a second of silence (the stored state is already the
    /// state after silence, so this mostly settles rounding).
    pub fn prewarm_samples(sample_rate: f64) -> usize {
        ((0.5 * sample_rate).round() as usize).max(1)
    }

    pub fn summary(&self) -> String {
        format!(
            "LSTM {} layer{} x {} hidden",
            self.num_layers,
            if self.num_layers == 1 { "" } else { "s" },
            self.hidden_size
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "LSTM",
            "num_layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "input_size": self.input_size,
        })
    }
}

pub(crate) fn parse(config: &Field) -> Result<LstmConfig> {
    config.object()?;
    let input_field = config.req("input_size")?;
    let input_size = input_field.usize_in(1, MAX_CHANNELS)?;
    if input_size != 1 {
        return Err(Error::ShapeMismatch {
            path: input_field.path,
            expected: 1,
            found: input_size,
            why: "the input is mono",
        });
    }
    let hidden_size = config.req("hidden_size")?.usize_in(1, MAX_LSTM_HIDDEN)?;
    let num_layers = config.req("num_layers")?.usize_in(1, MAX_LSTM_LAYERS)?;
    Ok(LstmConfig {
        input_size,
        hidden_size,
        num_layers,
    })
}
