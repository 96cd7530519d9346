//! The cabinet: impulse responses from WAV files, prepared for the host rate off the
//! audio thread, convolved with zero latency on it.
//!
//! Loading (any thread but the audio one):
//! ```no_run
//! # use tubeless_dsp::ir::{Convolver, IrFile, IrOptions};
//! let file = IrFile::load("cab.wav".as_ref())?; // keep it: its bytes go in the state
//! let conv = Box::new(Convolver::build(&file, 48_000.0, IrOptions::default()));
//! // ... hand `conv` to the audio thread: `Cabinet::set_ir(Some(conv))`.
//! # Ok::<(), tubeless_dsp::ir::IrError>(())
//! ```
//! A host rate change needs a new `Convolver::build` from the kept `IrFile`.

mod cabinet;
mod convolver;
mod file;
mod kernels;
mod prepare;
mod slot;

pub use cabinet::{Cabinet, Crossfade, DEFAULT_CROSSFADE_MS};
pub use convolver::{Convolver, FIRST_PARTITION, LAST_PARTITION};
pub use file::{IrError, IrFile, MAX_FILE_BYTES, MAX_IR_SECONDS};
pub use prepare::{reference_gain, IrData, IrOptions, Normalization};
pub use slot::IrSlot;
