//! Where an LSTM's floats lie. Its step is a short, serial recurrence of vector loads and
//! stores, and a 32-byte vector that straddles a 64-byte line costs two loads (one that
//! straddles a 4 KiB page, far more), so every buffer it touches starts on a line.
//!
//! Measured on Zen 3 (block 64), before this: on the stack, the step's scratch was only
//! 16-byte aligned wherever the caller's stack was, and a sweep of the caller's depth in
//! 16-byte steps found the 1x16 preset 20-24 % slower at the two positions of 256 in a
//! page where one of its vectors straddled a page, the 1x12 and 2x8 presets 20-35 %
//! slower at a few others (a host's audio thread calls at one depth for good, so a host
//! could have had that on every block); on the heap, malloc's 16-byte alignment left
//! about half of sixteen 1x16 engines built in one process 10-16 % slower than the rest.
//! Aligned, the same sweeps stay within the noise (a few percent).

use std::ops::{Deref, DerefMut};

/// `T` on whole cache lines: the step's scratch on the stack (the frame is then aligned
/// too, and with it the compiler's spills), and the unit of [`Lines`].
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Aligned<T>(pub(crate) T);

/// Floats per line.
const LINE: usize = 16;

/// A fixed-length run of floats starting on a cache line, used as a slice.
#[derive(Clone)]
pub(crate) struct Lines {
    lines: Vec<Aligned<[f32; LINE]>>,
    len: usize,
}

impl Lines {
    pub(crate) fn from_slice(x: &[f32]) -> Lines {
        let mut lines = vec![Aligned([0.0f32; LINE]); x.len().div_ceil(LINE)];
        for (line, x) in lines.iter_mut().zip(x.chunks(LINE)) {
            line.0[..x.len()].copy_from_slice(x);
        }
        Lines {
            lines,
            len: x.len(),
        }
    }
}

impl Deref for Lines {
    type Target = [f32];

    #[inline(always)]
    fn deref(&self) -> &[f32] {
        // SAFETY: `lines` holds `lines.len() * LINE >= len` initialised floats, contiguous
        // (`Aligned<[f32; LINE]>` is 64 bytes, its alignment, so no padding between).
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }
}

impl DerefMut for Lines {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`; `&mut self` makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}

impl<'a> IntoIterator for &'a Lines {
    type Item = &'a f32;
    type IntoIter = std::slice::Iter<'a, f32>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_on_a_line_and_hold_the_floats() {
        for n in [0, 1, 15, 16, 17, 100] {
            let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut l = Lines::from_slice(&x);
            assert_eq!(&l[..], &x[..]);
            assert_eq!(l.as_ptr() as usize % 64, 0);
            l.iter_mut().for_each(|v| *v += 1.0);
            assert!(l.iter().zip(&x).all(|(a, b)| *a == b + 1.0));
            assert_eq!(l.clone()[..], l[..]);
        }
        assert_eq!(std::mem::size_of::<Aligned<[f32; LINE]>>(), 64);
    }
}
