//! The real-time tests' allocation guard, shared by every test binary that includes it
//! (`#[path = ".../tests/support/alloc_guard.rs"] mod alloc_guard;`): a counting global
//! allocator, armed per thread, that sees allocations, reallocations and frees. The test
//! below proves, in each binary, that it catches both an allocation and a free.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Guard;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static EVENTS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // try_with: the allocator may run during thread teardown, after the TLS is gone.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = EVENTS.try_with(|e| e.set(e.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GUARD: Guard = Guard;

/// Runs `f` with the guard armed on this thread; returns how many heap events it caused.
pub fn heap_events<R>(f: impl FnOnce() -> R) -> (R, usize) {
    EVENTS.with(|e| e.set(0));
    ARMED.with(|a| a.set(true));
    let r = f();
    ARMED.with(|a| a.set(false));
    (r, EVENTS.with(|e| e.get()))
}

#[test]
fn the_guard_catches_allocations_and_frees() {
    let (v, n) = heap_events(|| vec![1u8; 64]);
    assert!(n >= 1, "allocation not seen");
    let ((), n) = heap_events(move || drop(v));
    assert!(n >= 1, "free not seen");
    let ((), n) = heap_events(|| {
        let mut x = [0.0f32; 8];
        x[3] = 1.0;
        std::hint::black_box(&x);
    });
    assert_eq!(n, 0);
}
