//! From an IR file to taps at the host rate: trailing silence trimmed, resampled with
//! the crate's Kaiser-windowed sinc (about -100 dB of aliasing, flat to 0.95 of the
//! lower Nyquist; the reference plugin uses a cubic), and scaled by the reference
//! plugin's normalisation. Off the audio thread: this allocates and takes milliseconds.

use super::convolver::Convolver;
use super::file::IrFile;
use crate::resample::Resampler;
use crate::sanitize_rate;

/// How the IR's level is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Normalization {
    /// The reference plugin's: -18 dB, times 48000 / host rate (an IR at a higher rate
    /// has proportionally more taps for the same sound, hence more gain).
    #[default]
    Reference,
    /// The file's samples as they are.
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IrOptions {
    pub normalization: Normalization,
}

/// The reference plugin's IR gain at `host_rate`: `10^(-18/20) * 48000 / host_rate`.
pub fn reference_gain(host_rate: f64) -> f64 {
    10f64.powf(-18.0 / 20.0) * 48_000.0 / host_rate
}

/// Taps ready to convolve at one host rate.
#[derive(Debug, Clone, PartialEq)]
pub struct IrData {
    pub sample_rate: f64,
    /// One per output channel: a stereo file whose channels are equal comes out mono.
    pub channels: Vec<Vec<f32>>,
}

impl IrData {
    pub fn prepare(file: &IrFile, host_rate: f64, opts: IrOptions) -> IrData {
        let host_rate = sanitize_rate(host_rate);
        let audio = file.audio();
        let mut chans: Vec<&[f32]> = audio.channels.iter().map(|c| c.as_slice()).collect();
        if chans.len() == 2 && chans[0] == chans[1] {
            chans.truncate(1);
        }
        // Exact zeros at the end cost CPU and change nothing.
        let used = chans
            .iter()
            .map(|c| c.iter().rposition(|&x| x != 0.0).map_or(0, |i| i + 1))
            .max()
            .unwrap_or(0)
            .max(1);
        let from = file.sample_rate() as f64;
        let gain = match opts.normalization {
            Normalization::Reference => reference_gain(host_rate),
            Normalization::Off => 1.0,
        } as f32;
        let channels = chans
            .iter()
            .map(|c| {
                let c = &c[..used.min(c.len())];
                let mut taps = if from == host_rate {
                    c.to_vec()
                } else {
                    let r = Resampler::new(from, host_rate);
                    // Through the kernel's reach past the last tap, so the ring-out of
                    // the IR's end is kept too.
                    let n = ((used as f64 + r.half_width()) * host_rate / from).ceil() as usize;
                    r.process(c, n)
                };
                taps.iter_mut().for_each(|t| *t *= gain);
                taps
            })
            .collect();
        IrData {
            sample_rate: host_rate,
            channels,
        }
    }

    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn convolver(&self) -> Convolver {
        let chans: Vec<&[f32]> = self.channels.iter().map(|c| c.as_slice()).collect();
        Convolver::new(&chans, self.sample_rate)
    }
}

impl Convolver {
    /// An IR file ready to play at `host_rate`: `IrData::prepare`, then `new`. Not for
    /// the audio thread.
    pub fn build(file: &IrFile, host_rate: f64, opts: IrOptions) -> Convolver {
        IrData::prepare(file, host_rate, opts).convolver()
    }
}
