//! WaveNet: its config and parsing (both schemas, every 0.7.0 knob), channel slicing for
//! slimmable arrays, and the network that runs it.

pub(crate) mod config;
mod film;
mod layer;
pub(crate) mod network;
pub(crate) mod parse;
pub(crate) mod slim;

pub use config::{
    FilmConfig, FilmSlot, Gating, Head1x1Config, LayerArrayConfig, LayerConfig, PostHeadConfig,
    WaveNetConfig,
};
