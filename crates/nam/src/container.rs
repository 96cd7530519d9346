//! SlimmableContainer (0.7.0; the trainer's default export): `config.submodels =
//! [{max_value, model}, ...]`, each `model` a whole `.nam` object, strictly ascending by
//! `max_value`, the last at least 1.0; no weights of its own.
//!
//! A size in 0..1 picks the first submodel whose `max_value` is strictly greater than
//! the size, the last one if none is (NeuralAmpModelerCore's `ContainerModel`). The
//! engine builds every submodel and switches between them (see `sizes`); nested inside
//! another model, a container runs its last (largest) submodel, as the reference does
//! until a size is set.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::file::{NamFile, ParseCtx};
use crate::json::Field;
use crate::limits::MAX_SUBMODELS;

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerConfig {
    pub submodels: Vec<Submodel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Submodel {
    /// Sizes below this (and at or above the previous submodel's) pick this submodel.
    pub max_value: f64,
    pub model: NamFile,
}

impl ContainerConfig {
    /// The submodel the reference runs before a size is set: the last.
    pub fn default_model(&self) -> &NamFile {
        &self.submodels[self.submodels.len() - 1].model
    }

    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .submodels
            .iter()
            .map(|s| format!("below {}: {}", s.max_value, s.model.summary()))
            .collect();
        format!(
            "SlimmableContainer of {} sizes ({})",
            self.submodels.len(),
            parts.join(" | ")
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "SlimmableContainer",
            "submodels": self.submodels.iter().map(|s| json!({
                "max_value": s.max_value,
                "model": s.model.architecture_json(),
            })).collect::<Vec<_>>(),
        })
    }
}

pub(crate) fn parse(config: &Field, ctx: &mut ParseCtx) -> Result<ContainerConfig> {
    config.object()?;
    let list = config.req("submodels")?;
    let items = list.items()?;
    if items.is_empty() || items.len() > MAX_SUBMODELS {
        return Err(Error::CountOutOfRange {
            path: list.path.clone(),
            found: items.len(),
            min: 1,
            max: MAX_SUBMODELS,
        });
    }
    let mut submodels: Vec<Submodel> = Vec::with_capacity(items.len());
    for item in &items {
        item.object()?;
        let mv = item.req("max_value")?;
        let max_value = mv.f64()?;
        if let Some(prev) = submodels.last() {
            if max_value <= prev.max_value {
                return Err(Error::Invalid {
                    path: mv.path.clone(),
                    why: format!(
                        "{max_value} is not above the previous submodel's {} (they must \
                         ascend strictly)",
                        prev.max_value
                    ),
                });
            }
        }
        let model = ctx.nested(&item.req("model")?, true)?;
        submodels.push(Submodel { max_value, model });
    }
    let last = &submodels[submodels.len() - 1];
    if last.max_value < 1.0 {
        return Err(Error::Invalid {
            path: format!("{}.max_value", items[items.len() - 1].path),
            why: format!(
                "the last submodel's max_value is {}, below 1.0: sizes up to 1.0 would pick \
                 no submodel",
                last.max_value
            ),
        });
    }
    Ok(ContainerConfig { submodels })
}
