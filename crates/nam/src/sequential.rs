//! Sequential (NeuralAmpModelerCore 0.6.0, `weights_version` 2): `config.models` holds
//! whole `.nam` objects (or `{"model": ...}` wrappers) run in series, each with its own
//! weights; the container itself has none.
//!
//! Receptive field `1 + sum (rf_i - 1)`, prewarm the sum of the stages' prewarms. The
//! prewarm is staged: each stage is warmed on what the (already warm) stages before it
//! give for silence, which is what the trainer's padded forward pass computes.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::file::{NamFile, ParseCtx};
use crate::json::Field;
use crate::limits::{MAX_RECEPTIVE_FIELD, MAX_SUBMODELS};
use crate::net::{BuildCtx, Net};

#[derive(Debug, Clone, PartialEq)]
pub struct SequentialConfig {
    pub models: Vec<NamFile>,
}

impl SequentialConfig {
    pub fn receptive_field(&self) -> usize {
        1 + self
            .models
            .iter()
            .map(|m| m.receptive_field() - 1)
            .sum::<usize>()
    }

    pub fn prewarm_samples(&self) -> usize {
        self.models.iter().map(NamFile::prewarm_samples).sum()
    }

    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.models.iter().map(NamFile::summary).collect();
        format!("Sequential: {}", parts.join(" -> "))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "Sequential",
            "models": self.models.iter().map(NamFile::architecture_json).collect::<Vec<_>>(),
        })
    }
}

pub(crate) fn parse(config: &Field, ctx: &mut ParseCtx) -> Result<SequentialConfig> {
    config.object()?;
    if let Some(v) = config.opt("weights_version")? {
        let version = v.usize_in(0, 1 << 20)?;
        if version != 2 {
            return Err(Error::Invalid {
                path: v.path.clone(),
                why: format!(
                    "weights_version {version} is not read (version 1, weights concatenated \
                     at the top level, is deprecated); 2 is: every stage a whole model with \
                     its own weights"
                ),
            });
        }
    }
    // The reference reads `models`, or `layers` as an alias.
    let list = match config.opt("models")? {
        Some(m) => m,
        None => config.opt("layers")?.ok_or_else(|| Error::MissingField {
            path: config.path_of("models"),
        })?,
    };
    let items = list.items()?;
    if items.is_empty() || items.len() > MAX_SUBMODELS {
        return Err(Error::CountOutOfRange {
            path: list.path.clone(),
            found: items.len(),
            min: 1,
            max: MAX_SUBMODELS,
        });
    }
    let models = items
        .iter()
        .map(|item| {
            let model = match item.opt("model")? {
                Some(m) => m,
                None => item.clone(),
            };
            ctx.nested(&model, true)
        })
        .collect::<Result<Vec<_>>>()?;
    let cfg = SequentialConfig { models };
    if cfg.receptive_field() > MAX_RECEPTIVE_FIELD {
        return Err(Error::ReceptiveFieldTooLarge {
            path: config.path.clone(),
            samples: cfg.receptive_field(),
            max: MAX_RECEPTIVE_FIELD,
        });
    }
    Ok(cfg)
}

/// A built, runnable chain.
pub struct Sequential {
    stages: Vec<Net>,
    /// Samples of input that settle each stage (its prewarm, or its history).
    warm: Vec<usize>,
    silence: Vec<f32>,
}

impl Sequential {
    pub fn build(cfg: &SequentialConfig, ctx: &BuildCtx) -> Self {
        Sequential {
            stages: cfg.models.iter().map(|m| Net::build(m, ctx)).collect(),
            warm: cfg.models.iter().map(NamFile::warm_samples).collect(),
            silence: vec![0.0; ctx.max_block],
        }
    }

    pub fn clear(&mut self) {
        for s in &mut self.stages {
            s.clear();
        }
    }

    pub fn prewarm(&mut self) {
        for i in 0..self.stages.len() {
            if i == 0 {
                self.stages[0].prewarm();
                continue;
            }
            self.stages[i].clear();
            let mut left = self.warm[i];
            while left > 0 {
                let m = left.min(self.silence.len());
                let buf = &mut self.silence[..m];
                buf.fill(0.0);
                for s in &mut self.stages[..=i] {
                    s.process_block(buf);
                }
                left -= m;
            }
        }
    }

    pub fn process_block(&mut self, io: &mut [f32]) {
        for s in &mut self.stages {
            s.process_block(io);
        }
    }
}
