//! Where an LSTM's floats lie. Its step is a short, serial recurrence of vector loads and
//! stores, and a 32-byte vector that straddles a 64-byte line costs two loads (one that
//! straddles a 4 KiB page, far more), so every buffer it touches starts on a line (an
//! 8-cell layer's cell shares its state's line, where both fit whole).
//!
//! Measured on Zen 3 (block 64), before this: on the stack, the step's scratch was only
//! 16-byte aligned wherever the caller's stack was, and a sweep of the caller's depth in
//! 16-byte steps found the 1x16 preset 20-24 % slower at the two positions of 256 in a
//! page where one of its vectors straddled a page, the 1x12 and 2x8 presets 20-35 %
//! slower at a few others (a host's audio thread calls at one depth for good, so a host
//! could have had that on every block); on the heap, malloc's 16-byte alignment left
//! about half of sixteen 1x16 engines built in one process 10-16 % slower than the rest.
//! Aligned, the same sweeps stay within the noise (a few percent).

/// `T` on whole cache lines: the step's scratch on the stack (the frame is then aligned
/// too, and with it the compiler's spills). The heap buffers are [`crate::floats::Floats`],
/// which start on a line in the engine's slab.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Aligned<T>(pub(crate) T);
