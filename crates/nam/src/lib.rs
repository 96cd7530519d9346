//! The NAM inference library: `.nam` file -> [`NamFile`] -> [`Engine`].
//!
//! Knows nothing of plugins, hosts or GUIs. Everything that allocates happens in
//! [`NamFile`] parsing and [`Engine::build`]; [`Engine::process_buffer`] and
//! [`Engine::reset`] are real-time safe.

mod activation;
mod engine;
mod error;
mod file;
mod json;
pub mod limits;
mod lstm;
mod wavenet;

pub use activation::{fast_tanh, tanh, Activation, ActivationMode};
pub use engine::{BuildOptions, Engine, Kernels, DEFAULT_MAX_BLOCK, INPUT_LIMIT};
pub use error::{Error, Result};
pub use file::{
    activation_name, Date, LayerArrayConfig, LayerConfig, LstmConfig, Metadata, ModelConfig,
    NamFile, Version, WaveNetConfig, DEFAULT_SAMPLE_RATE,
};
