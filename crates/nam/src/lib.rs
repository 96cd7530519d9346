//! The NAM inference library: `.nam` file -> [`NamFile`] -> [`Engine`].
//!
//! Knows nothing of plugins, hosts or GUIs. Everything that allocates happens in
//! [`NamFile`] parsing and [`Engine::build`]; [`Engine::process_buffer`],
//! [`Engine::reset`] and [`Engine::set_size`] are real-time safe.
//!
//! One module per architecture, each holding its config, its parser and its network:
//! `wavenet`, `lstm`, `convnet`, `linear`, `container` (SlimmableContainer),
//! `sequential`. `file` reads the top level of a file, `model` dispatches on the
//! architecture, `net` builds the network, `sizes` switches between size steps.

mod activation;
mod container;
mod conv;
mod convnet;
mod engine;
mod error;
mod file;
mod floats;
mod guard;
mod json;
mod kernels;
pub mod limits;
mod linear;
mod lstm;
mod metadata;
mod model;
mod net;
mod sequential;
mod sizes;
mod wavenet;

pub use activation::{activation_name, fast_tanh, tanh, Activation, ActivationMode};
pub use container::{ContainerConfig, Submodel};
pub use conv::ConvShape;
pub use convnet::ConvNetConfig;
pub use engine::{BuildOptions, Engine, Kernels, DEFAULT_MAX_BLOCK, INPUT_LIMIT};
pub use error::{Error, Result, ARCHITECTURES};
pub use file::{NamFile, Version, DEFAULT_SAMPLE_RATE};
pub use linear::LinearConfig;
pub use lstm::LstmConfig;
pub use metadata::{Date, Metadata};
pub use model::{ModelConfig, SizeStep};
pub use sequential::SequentialConfig;
pub use sizes::{CATCH_UP, FADE_SECONDS};
pub use wavenet::{
    FilmConfig, FilmSlot, Gating, Head1x1Config, LayerArrayConfig, LayerConfig, PostHeadConfig,
    WaveNetConfig,
};
