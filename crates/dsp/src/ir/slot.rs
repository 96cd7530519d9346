//! [`IrSlot`]: one cabinet IR made ready for one host rate, built off the audio thread.

use super::convolver::Convolver;
use super::file::IrFile;
use super::prepare::{IrData, IrOptions};

/// The convolvers the chain needs for one IR: `main` is the IR as it is (mono, or stereo:
/// a mono signal in, both sides out), `side` the right channel's taps alone, for the right
/// signal of dual mono.
pub struct IrSlot {
    pub main: Box<Convolver>,
    pub side: Box<Convolver>,
    /// The IR's length at the host rate, in samples.
    pub taps: usize,
}

impl IrSlot {
    /// Resamples, normalises and partitions the IR. Takes milliseconds; allocates.
    pub fn build(file: &IrFile, host_rate: f64, options: IrOptions) -> IrSlot {
        let data = IrData::prepare(file, host_rate, options);
        let chans: Vec<&[f32]> = data.channels.iter().map(|c| c.as_slice()).collect();
        let last = chans[chans.len() - 1];
        IrSlot {
            main: Box::new(Convolver::new(&chans, data.sample_rate)),
            side: Box::new(Convolver::new(&[last], data.sample_rate)),
            taps: data.len(),
        }
    }
}
