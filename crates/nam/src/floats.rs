//! [`Floats`]: the working buffers of a network (histories, scratch, the streams between
//! layers), laid out by the build rather than the allocator: one after another in a
//! page-aligned slab, each starting where a bump allocator would put it within its 4 KiB
//! page. (Where a WaveNet's weights lie made no measurable difference; they stay in
//! `Vec`s. An LSTM's step is one serial chain of loads and stores, where a vector that
//! straddles a line costs: its weights and state are laid out here too, see
//! `lstm/aligned.rs`.)
//!
//! Why: the L1 cache picks a set from the address bits below 4 KiB, and a load stalls on
//! an earlier store whose address matches it in those bits (4K aliasing). Where malloc
//! happened to put a layer's history relative to the rows the next layer reads made the
//! same engine run up to 9 % faster or slower from one instance to the next (measured on
//! the standard WaveNet, twelve instances of one build). Laid out as one run, every
//! instance runs at the speed of the best placements: within 1 % of each other.
//!
//! One slab per build ([`Layout::begin`]), of the size a first, measuring build found
//! ([`Layout::placed`]), so the layout costs a line or two per buffer rather than a page;
//! without the size (or past it) the layout continues in further chunks. Each [`Floats`]
//! owns a disjoint range of its chunk and keeps the chunk alive; the chunk is freed with
//! the last of them.

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout as Alloc};
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;

/// Bytes in the address range that picks an L1 set (and that 4K aliasing compares).
const PAGE: usize = 4096;
const LINE: usize = 64;

/// Floats a placed buffer may cost beyond its length: the line of gap before the next
/// one and the rounding to a whole line. What the memory estimates count per buffer.
pub(crate) const GAP: usize = 2 * LINE / 4;

/// Floats beyond the buffer in a chunk started without a size (or past it).
const SPARE_CHUNK: usize = 4096;

/// Page-aligned, zeroed floats, freed on drop.
struct Chunk {
    ptr: NonNull<f32>,
    cap: usize,
}

// SAFETY: the memory is only ever reached through `Floats`, each of which has its own
// range of it (shared access reads, exclusive access writes, as for a `Vec`).
unsafe impl Send for Chunk {}
// SAFETY: as above.
unsafe impl Sync for Chunk {}

impl Chunk {
    fn new(cap: usize) -> Arc<Chunk> {
        let cap = cap.max(1);
        let layout = Self::layout(cap);
        // SAFETY: the size is not zero.
        let p = unsafe { alloc_zeroed(layout) }.cast::<f32>();
        let ptr = NonNull::new(p).unwrap_or_else(|| handle_alloc_error(layout));
        Arc::new(Chunk { ptr, cap })
    }

    fn layout(cap: usize) -> Alloc {
        Alloc::from_size_align(cap * 4, PAGE).expect("a chunk within the memory limit")
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr.as_ptr().cast(), Self::layout(self.cap)) };
    }
}

/// The build under way on this thread.
#[derive(Default)]
struct Build {
    /// Where in the page the next buffer starts, bytes.
    cursor: usize,
    chunk: Option<Arc<Chunk>>,
    /// Floats of `chunk` handed out, gaps included.
    used: usize,
    /// The slab's size, until the first buffer allocates it.
    estimate: usize,
    /// Floats the whole build would take in a single slab, gaps included.
    placed: usize,
}

thread_local! {
    static BUILD: RefCell<Build> = RefCell::new(Build::default());
}

/// One engine build's layout: from [`Layout::begin`] until the guard drops.
pub(crate) struct Layout(());

impl Layout {
    /// Starts a build with a slab of `estimate` floats (more chunks follow if it is too
    /// small; [`Layout::placed`] tells what would have been enough).
    pub fn begin(estimate: usize) -> Layout {
        BUILD.with(|b| {
            *b.borrow_mut() = Build {
                estimate,
                ..Build::default()
            }
        });
        Layout(())
    }
}

impl Layout {
    /// Floats the build so far would take in one slab, gaps included: the size to begin
    /// the same build with for a single allocation.
    pub fn placed(&self) -> usize {
        BUILD.with(|b| b.borrow().placed)
    }
}

impl Drop for Layout {
    fn drop(&mut self) {
        // The build's buffers keep their chunks; this thread lets go of them.
        BUILD.with(|b| *b.borrow_mut() = Build::default());
    }
}

/// `len` zeroed floats where the build's [`Layout`] puts them.
pub(crate) struct Floats {
    chunk: Option<Arc<Chunk>>,
    start: usize,
    len: usize,
}

impl Floats {
    pub fn zeroed(len: usize) -> Floats {
        Floats::place(len, LINE)
    }

    /// A copy of `x` on the line after the previous buffer's end, without the line of gap:
    /// for small buffers that one serial loop reads whole (an LSTM's weights and state),
    /// where a line apiece would cost more memory than the buffer (12 floats of state).
    pub fn packed(x: &[f32]) -> Floats {
        let mut f = Floats::place(x.len(), 0);
        f.copy_from_slice(x);
        f
    }

    /// Copies of `a` and `b`, `b` straight after `a` when the two fit in one line (an
    /// LSTM of 8 cells: its state and cell, 32 bytes each, share a line instead of
    /// taking one apiece), else each [`packed`](Floats::packed). Either way neither
    /// crosses a line it need not: the step's vector loads of each stay whole.
    pub fn packed_pair(a: &[f32], b: &[f32]) -> (Floats, Floats) {
        if a.is_empty() || b.is_empty() || (a.len() + b.len()) * 4 > LINE {
            return (Floats::packed(a), Floats::packed(b));
        }
        let mut both = Floats::place(a.len() + b.len(), 0);
        both[..a.len()].copy_from_slice(a);
        both[a.len()..].copy_from_slice(b);
        let second = Floats {
            chunk: both.chunk.clone(),
            start: both.start + a.len(),
            len: b.len(),
        };
        both.len = a.len();
        (both, second)
    }

    /// `len` floats at the cursor, which then moves `gap` bytes past their last line.
    fn place(len: usize, gap: usize) -> Floats {
        if len == 0 {
            return Floats {
                chunk: None,
                start: 0,
                len: 0,
            };
        }
        BUILD.with(|b| {
            let b = &mut *b.borrow_mut();
            let target = b.cursor;
            // Usually a line of gap, so that one buffer's end and the next one's start do
            // not share a line.
            b.cursor = (target + len * 4 + gap).next_multiple_of(LINE) % PAGE;
            let at = b.placed * 4;
            b.placed = (at + (target + PAGE - at % PAGE) % PAGE) / 4 + len;
            if let Some(c) = &b.chunk {
                let base = c.ptr.as_ptr() as usize;
                let at = base + b.used * 4;
                let start = (at + (target + PAGE - at % PAGE) % PAGE - base) / 4;
                if start + len <= c.cap {
                    b.used = start + len;
                    return Floats {
                        chunk: Some(Arc::clone(c)),
                        start,
                        len,
                    };
                }
            }
            // Chunks start on a page, so the target is the start's offset.
            let start = target / 4;
            let cap = match std::mem::take(&mut b.estimate) {
                0 => start + len + SPARE_CHUNK,
                size => size.max(start + len),
            };
            let c = Chunk::new(cap);
            b.used = start + len;
            b.chunk = Some(Arc::clone(&c));
            Floats {
                chunk: Some(c),
                start,
                len,
            }
        })
    }
}

impl Deref for Floats {
    type Target = [f32];

    #[inline(always)]
    fn deref(&self) -> &[f32] {
        match &self.chunk {
            // SAFETY: `start + len <= cap` (checked when handed out), and no other
            // `Floats` has any of this range.
            Some(c) => unsafe {
                std::slice::from_raw_parts(c.ptr.as_ptr().add(self.start), self.len)
            },
            None => &[],
        }
    }
}

impl DerefMut for Floats {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [f32] {
        match &self.chunk {
            // SAFETY: as in `deref`; `&mut self` makes this the only access to the range.
            Some(c) => unsafe {
                std::slice::from_raw_parts_mut(c.ptr.as_ptr().add(self.start), self.len)
            },
            None => &mut [],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_land_where_the_layout_says_and_share_the_slab() {
        let _layout = Layout::begin(100 + 2000 + 1 + 3 * GAP);
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
        // One slab, the buffers in order, at most a gap apart.
        let end = |f: &Floats| f.as_ptr() as usize + 4 * f.len();
        assert!(Arc::ptr_eq(
            a.chunk.as_ref().unwrap(),
            c.chunk.as_ref().unwrap()
        ));
        assert!(b.as_ptr() as usize - end(&a) <= 4 * GAP);
        assert!(c.as_ptr() as usize - end(&b) <= 4 * GAP);
        assert_eq!(
            _layout.placed(),
            (end(&c) - a.as_ptr() as usize) / 4,
            "what one slab takes"
        );
    }

    #[test]
    fn packed_buffers_start_on_the_next_line_and_hold_their_copy() {
        let layout = Layout::begin(1000);
        let x: Vec<f32> = (0..100).map(|i| i as f32 - 50.5).collect();
        let a = Floats::packed(&x[..12]);
        let b = Floats::packed(&x);
        let c = Floats::packed(&x[..16]);
        let d = Floats::zeroed(3);
        assert_eq!((&a[..], &b[..], &c[..]), (&x[..12], &x[..], &x[..16]));
        let at = |f: &Floats| f.as_ptr() as usize - a.as_ptr() as usize;
        assert_eq!((at(&a), at(&b), at(&c)), (0, 64, 64 + 448));
        // No gap after a packed buffer (`zeroed` leaves its gap after itself).
        assert_eq!(at(&d), 64 + 448 + 64);
        assert_eq!(layout.placed(), (at(&d) + 12) / 4);
    }

    #[test]
    fn a_pair_shares_a_line_only_when_it_fits_in_one() {
        let layout = Layout::begin(1000);
        let x: Vec<f32> = (0..40).map(|i| i as f32 + 0.25).collect();
        let (h, c) = Floats::packed_pair(&x[..8], &x[8..16]);
        let (h2, c2) = Floats::packed_pair(&x[..12], &x[12..24]);
        let d = Floats::packed(&x[..3]);
        assert_eq!((&h[..], &c[..]), (&x[..8], &x[8..16]));
        assert_eq!((&h2[..], &c2[..]), (&x[..12], &x[12..24]));
        let at = |f: &Floats| f.as_ptr() as usize - h.as_ptr() as usize;
        assert_eq!((at(&c), at(&h2), at(&c2), at(&d)), (32, 64, 128, 192));
        assert_eq!(layout.placed(), (at(&d) + 12) / 4);
        // Each half is its own buffer: writing one leaves the other as it was.
        let mut h = h;
        h.fill(-1.0);
        assert_eq!(&c[..], &x[8..16]);
        drop(h);
        assert_eq!(&c[..], &x[8..16], "the chunk lives while either half does");
    }

    #[test]
    fn past_the_estimate_the_layout_continues_and_buffers_stay_apart() {
        let _layout = Layout::begin(10);
        let mut v: Vec<Floats> = (1..40).map(|k| Floats::zeroed(k * 37)).collect();
        for (k, f) in v.iter_mut().enumerate() {
            f.fill(k as f32);
        }
        for (k, f) in v.iter().enumerate() {
            assert!(
                f.iter().all(|&x| x == k as f32),
                "buffer {k} was overwritten"
            );
        }
        drop(_layout);
        // The buffers outlive the build.
        assert!(v[38].iter().all(|&x| x == 38.0));
    }
}
