//! Peak meters from the audio thread to the editor: lock-free, one atomic each. The audio
//! thread raises the held peak; the editor takes it (and resets it) once per frame.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use tubeless_dsp::Meter;

/// A peak above this is a clip: full scale, where the host's converter or the next plugin
/// would flatten it.
pub const CLIP_LEVEL: f32 = 1.0;

#[derive(Default)]
pub struct Meters {
    input: AtomicU32,
    output: AtomicU32,
    /// The gate's reduction, dB (0: open), as f32 bits.
    gate: AtomicU32,
    /// The latency reported to the host, samples.
    latency: AtomicU32,
    input_clipped: AtomicBool,
    output_clipped: AtomicBool,
}

/// What the editor reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peaks {
    pub input: f32,
    pub output: f32,
    pub input_clipped: bool,
    pub output_clipped: bool,
    pub gate_db: f32,
}

impl Meters {
    /// Audio thread: wait-free.
    pub fn record(&self, m: Meter) {
        raise(&self.input, m.input_peak);
        raise(&self.output, m.output_peak);
        self.gate.store(m.gate_db.to_bits(), Ordering::Relaxed);
        if m.input_peak > CLIP_LEVEL {
            self.input_clipped.store(true, Ordering::Relaxed);
        }
        if m.output_peak > CLIP_LEVEL {
            self.output_clipped.store(true, Ordering::Relaxed);
        }
    }

    /// Editor: the peaks since the last call. Clip flags stay until cleared.
    pub fn take(&self) -> Peaks {
        Peaks {
            input: f32::from_bits(self.input.swap(0, Ordering::Relaxed)),
            output: f32::from_bits(self.output.swap(0, Ordering::Relaxed)),
            input_clipped: self.input_clipped.load(Ordering::Relaxed),
            output_clipped: self.output_clipped.load(Ordering::Relaxed),
            gate_db: f32::from_bits(self.gate.load(Ordering::Relaxed)),
        }
    }

    /// Audio thread, when the reported latency changes: wait-free.
    pub fn set_latency(&self, samples: u32) {
        self.latency.store(samples, Ordering::Relaxed);
    }

    pub fn latency(&self) -> u32 {
        self.latency.load(Ordering::Relaxed)
    }

    pub fn clear_clips(&self) {
        self.input_clipped.store(false, Ordering::Relaxed);
        self.output_clipped.store(false, Ordering::Relaxed);
    }
}

/// Non-negative floats order like their bit patterns, so a max is an integer max.
fn raise(a: &AtomicU32, peak: f32) {
    // Most blocks are below the peak already held: a plain load spares them the locked
    // read-modify-write (x86 has no atomic max: `fetch_max` is a compare-exchange loop).
    // Positive and finite is one range of the bits (negatives and NaN lie above it).
    let bits = peak.to_bits();
    if (1..f32::INFINITY.to_bits()).contains(&bits) && bits > a.load(Ordering::Relaxed) {
        a.fetch_max(bits, Ordering::Relaxed);
    }
}
