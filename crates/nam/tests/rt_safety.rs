//! Real-time safety: no allocation, reallocation or free inside `Engine::process_buffer`,
//! `Engine::reset` or `Engine::set_size`, for every fixture model (every architecture,
//! every size of the ones with a size control) and every block pattern, including NaN and
//! out-of-range input and a size change before every block. The guard is the shared
//! counting allocator of `tests/support/alloc_guard.rs`, whose own test proves it catches
//! both an allocation and a free.

mod common;

use std::path::PathBuf;

use tubeless_nam::{ActivationMode, BuildOptions, Engine, Kernels, NamFile};

#[path = "../../../tests/support/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::heap_events;

fn models() -> Vec<PathBuf> {
    let mut v = common::nam_files(&common::fixtures_dir());
    v.extend(common::nam_files(&common::fixtures_dir().join("a2")));
    v.extend(
        common::nam_files(&common::bad_files_dir())
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("valid_"))
            }),
    );
    if let Some(shared) = common::shared_models() {
        // One real capture of each kind keeps this quick; parity covers the rest.
        v.extend(common::nam_files(&shared).into_iter().take(2));
        // NAM Core's examples: containers, a slimmable WaveNet, condition DSPs.
        v.extend(common::nam_files(&shared.join("core-examples")));
    }
    v
}

/// Sizes asked for while processing (NaN and out-of-range ones included).
const SIZES: [f32; 8] = [0.0, 0.5, 1.0, 0.2, f32::NAN, 0.9, -1.0, 0.6];

#[test]
fn process_reset_and_set_size_never_touch_the_heap() {
    let files = models();
    assert!(files.len() >= 2);
    let mut input = common::test_signal(6000, 5);
    input[100] = f32::NAN;
    input[200] = f32::INFINITY;
    input[300] = -1e30;
    input[400] = 1e-40; // denormal
    for path in &files {
        let file = NamFile::from_path(path).unwrap();
        for (mode, kernels) in [
            (ActivationMode::Accurate, Kernels::Fast),
            (ActivationMode::NamCompatible, Kernels::Fast),
            (ActivationMode::Accurate, Kernels::Portable),
            // Where the CPU has AVX-512, `Fast` runs it; this covers the AVX2 build too.
            (ActivationMode::Accurate, Kernels::Avx2),
        ] {
            let opts = BuildOptions {
                activations: mode,
                kernels,
                ..BuildOptions::default()
            };
            let mut engine = Engine::build(&file, opts).unwrap();
            for (name, blocks) in common::block_patterns(input.len(), 12345, 700) {
                let mut buf = input.clone();
                let ((), events) = heap_events(|| {
                    let mut at = 0;
                    for (k, n) in blocks.iter().enumerate() {
                        // Switches start, restart, cancel and finish mid-stream.
                        if k % 3 == 0 {
                            engine.set_size(SIZES[(k / 3) % SIZES.len()]);
                        }
                        engine.process_buffer(&mut buf[at..at + n]);
                        at += n;
                    }
                    engine.reset();
                });
                assert_eq!(
                    events,
                    0,
                    "{}: blocks {name}, {mode:?} {kernels:?}",
                    path.display()
                );
                assert!(buf.iter().all(|x| x.is_finite()), "{}", path.display());
            }
        }
    }
}
