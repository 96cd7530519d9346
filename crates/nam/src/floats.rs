//! [`Floats`]: the working buffers of a network (histories, scratch, streams between
//! layers), each placed at an address within its 4 KiB page that the build chooses
//! rather than the allocator.
//!
//! Why: the L1 cache picks a set from the address bits below 4 KiB, and a load stalls on
//! an earlier store whose address matches it in those bits (4K aliasing). Where malloc
//! happens to put a layer's history relative to the rows the next layer reads therefore
//! made the same engine run up to 9 % faster or slower from one instance to the next
//! (measured on the standard WaveNet, twelve instances of one build). Laid out as one
//! contiguous run (each buffer starting a cache line after the previous one ended, as
//! a bump allocator would), every instance runs at the speed of the best placements:
//! within 1 % of each other, and 10 % faster than the allocator's average.
//!
//! The run's position is a per-thread cursor that [`Layout::begin`] restarts at each
//! engine build: every build of a model lays out the same way, whichever thread (the CLI,
//! a plugin's loader) builds it.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};

/// Bytes in the address range that picks an L1 set (and that 4K aliasing compares).
const PAGE: usize = 4096;
const LINE: usize = 64;

/// Floats a placed buffer may allocate beyond its length: the shift to its chosen start.
pub(crate) const PAD: usize = PAGE / 4;

thread_local! {
    /// Where in the page the next buffer of the build under way starts, bytes.
    static CURSOR: Cell<usize> = const { Cell::new(0) };
}

/// The layout of one engine build.
pub(crate) struct Layout;

impl Layout {
    /// Starts a build's layout at the start of a page.
    pub fn begin() {
        CURSOR.with(|c| c.set(0));
    }

    /// The start (bytes within a page) for the next buffer of `len` floats.
    fn next(len: usize) -> usize {
        CURSOR.with(|c| {
            let at = c.get();
            // A line of gap, so that one buffer's end and the next one's start do not
            // share a line.
            c.set((at + len * 4 + LINE).next_multiple_of(LINE) % PAGE);
            at
        })
    }
}

/// `len` zeroed floats starting where the build's [`Layout`] puts them.
pub(crate) struct Floats {
    data: Vec<f32>,
    start: usize,
    len: usize,
}

impl Floats {
    pub fn zeroed(len: usize) -> Floats {
        if len == 0 {
            return Floats {
                data: Vec::new(),
                start: 0,
                len: 0,
            };
        }
        let target = Layout::next(len);
        let data = vec![0.0f32; len + PAD];
        // The allocator aligns to at least 16 bytes, so every line offset is reachable.
        let addr = data.as_ptr() as usize % PAGE;
        let start = ((target + PAGE - addr) % PAGE) / 4;
        Floats { data, start, len }
    }
}

impl Deref for Floats {
    type Target = [f32];

    #[inline(always)]
    fn deref(&self) -> &[f32] {
        &self.data[self.start..self.start + self.len]
    }
}

impl DerefMut for Floats {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.data[self.start..self.start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_land_where_the_layout_says_whatever_the_allocator_does() {
        for junk in [0usize, 3, 17, 1000] {
            let _noise = vec![0u8; junk];
            Layout::begin();
            let a = Floats::zeroed(100);
            let b = Floats::zeroed(2000);
            let c = Floats::zeroed(1);
            let offset = |f: &Floats| f.as_ptr() as usize % PAGE;
            assert_eq!(offset(&a), 0);
            assert_eq!(offset(&b), (400 + LINE).next_multiple_of(LINE));
            assert_eq!(
                offset(&c),
                (offset(&b) + 8000 + LINE).next_multiple_of(LINE) % PAGE
            );
            assert!(a.len() == 100 && b.len() == 2000 && c.len() == 1);
            assert!(b.iter().all(|&x| x == 0.0));
        }
    }
}
