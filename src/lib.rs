//! Tubeless: a Neural Amp Modeler player.
//!
//! - [`nam`]: the inference library (`.nam` files, engines). Real-time safe where it says.
//! - [`dsp`]: signal processing around the model (resampling, DC blocker).
//! - [`wav`]: reading and writing WAV files.
//! - [`render`]: offline reamping, used by the `tubeless` CLI.
//!
//! The plugin glue will live here once the plugin lands.

pub mod dsp;
pub mod nam;
pub mod render;
pub mod wav;
