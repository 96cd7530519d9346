//! The kernel builds, the silence fast path, the reset snapshot and the accuracy against
//! the exact network.
//!
//! - Each forced kernel choice (`Kernels::Avx512`, `Avx2`) runs where the CPU has it and
//!   says it was skipped where not; the AVX-512 and AVX2 builds agree to within a few
//!   ulp of the output for every fixture (the same fused multiply-adds in the same order;
//!   the tanh differs: piecewise polynomials in AVX-512, Eigen's rational in AVX2). Their parity with the trainer is in
//!   `parity.rs`, which runs every choice.
//! - Silence after a receptive field of it is returned without computing: bit-identical
//!   to computing it (against the same engine built with one block as long as the whole
//!   stream, where no block is ever all silence after silence).
//! - `reset` restores the first prewarm's state: bit-identical to a freshly built engine,
//!   whose prewarm is computed.
//! - Accuracy: the output in accurate mode against a float64 evaluation of the same
//!   network (`fixtures/f64/*.f64`, written by `../shared/bench/ref64.py`: weights rounded
//!   to f32, everything else in float64), RMS and max error within the bounds below.

mod common;

use std::path::PathBuf;

use tubeless_nam::{ActivationMode, BuildOptions, Engine, Kernels, ModelConfig, NamFile};

fn fixture_models() -> Vec<PathBuf> {
    let mut v = common::nam_files(&common::fixtures_dir());
    v.extend(common::nam_files(&common::fixtures_dir().join("a2")));
    v
}

fn run(file: &NamFile, opts: BuildOptions, input: &[f32], block: usize) -> Vec<f32> {
    let mut e = Engine::build(file, opts).unwrap();
    let mut y = input.to_vec();
    for c in y.chunks_mut(block) {
        e.process_buffer(c);
    }
    y
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn forced_kernels_run_where_the_cpu_has_them() {
    for k in [Kernels::Avx512, Kernels::Avx2] {
        if k.available() {
            eprintln!("{k:?}: runs as {}", k.resolved());
            assert_eq!(
                k.resolved(),
                if k == Kernels::Avx512 {
                    "avx512"
                } else {
                    "avx2"
                }
            );
        } else {
            eprintln!(
                "{k:?}: SKIPPED, this CPU lacks it (falls back to {})",
                k.resolved()
            );
            assert_ne!(
                k.resolved(),
                if k == Kernels::Avx512 {
                    "avx512"
                } else {
                    "avx2"
                }
            );
        }
    }
    assert!(Kernels::Portable.available() && Kernels::Fast.available());
    assert_eq!(Kernels::Portable.resolved(), "portable");
}

#[test]
fn avx512_and_avx2_builds_agree() {
    if !(Kernels::Avx512.available() && Kernels::Avx2.available()) {
        eprintln!("SKIPPED: this CPU lacks AVX-512 or AVX2 (both are needed to compare)");
        return;
    }
    let input = common::test_signal(3000, 11);
    let mut worst = 0.0f32;
    for path in fixture_models() {
        let file = NamFile::from_path(&path).unwrap();
        for block in [1, 13, 64, 512] {
            let opts = |kernels| BuildOptions {
                kernels,
                ..BuildOptions::default()
            };
            let a = run(&file, opts(Kernels::Avx512), &input, block);
            let b = run(&file, opts(Kernels::Avx2), &input, block);
            let (err, peak) = common::max_err(&a, &b);
            assert!(
                err <= 2e-6 * peak.max(1.0),
                "{}, block {block}: {err:e}",
                path.display()
            );
            worst = worst.max(err / peak.max(1.0));
        }
    }
    eprintln!("AVX-512 vs AVX2: worst difference / max(1, peak) = {worst:.2e}");
}

fn wavenets() -> Vec<(String, NamFile)> {
    let mut v: Vec<PathBuf> = fixture_models();
    if let Some(shared) = common::shared_models() {
        v.extend(common::nam_files(&shared));
        v.extend(common::nam_files(&shared.join("real")).into_iter().take(3));
    }
    v.into_iter()
        .map(|p| (p.display().to_string(), NamFile::from_path(&p).unwrap()))
        .filter(|(_, f)| matches!(f.model, ModelConfig::WaveNet(_)))
        .collect()
}

/// Sound, a silence longer than the receptive field, sound again, silence to the end.
fn with_silences(rf: usize) -> Vec<f32> {
    let mut x = common::test_signal(1500, 3);
    x.extend(std::iter::repeat_n(0.0, rf + 700));
    x.extend(common::test_signal(900, 4));
    x.extend(std::iter::repeat_n(0.0, rf + 300));
    x
}

#[test]
fn silence_is_returned_without_computing_and_bit_identical() {
    let all = wavenets();
    assert!(all.len() >= 10, "{} WaveNets", all.len());
    for (name, file) in &all {
        for kernels in [Kernels::Fast, Kernels::Portable] {
            let mut e = Engine::build(
                file,
                BuildOptions {
                    max_block: 64,
                    kernels,
                    ..BuildOptions::default()
                },
            )
            .unwrap();
            let x = with_silences(e.receptive_field());
            // The reference computes every sample: one block, as long as the stream.
            let whole = BuildOptions {
                max_block: x.len(),
                kernels,
                ..BuildOptions::default()
            };
            let expect = run(file, whole, &x, x.len());
            let mut y = x.clone();
            let mut skipped = 0;
            for c in y.chunks_mut(64) {
                e.process_buffer(c);
                skipped += e.idle() as usize;
            }
            assert_eq!(bits(&y), bits(&expect), "{name} ({kernels:?})");
            // Every block of the silences after their first receptive field (and the
            // prewarm's own silence for the first blocks, which are sound: none there).
            let rf = e.receptive_field();
            // Not with a condition DSP, whose state (an LSTM's, say) need not settle.
            let settles =
                matches!(&file.model, ModelConfig::WaveNet(w) if w.condition_dsp.is_none());
            let least = if settles {
                (700 + 300 - 2 * 64) / 64
            } else {
                0
            };
            assert!(
                skipped >= least,
                "{name}: {skipped} idle blocks, expected at least {least} (rf {rf})"
            );
            // The idle output is the silence response, constant.
            let tail = &y[y.len() - 200..];
            assert!(
                tail.iter().all(|v| v.to_bits() == tail[0].to_bits()),
                "{name}"
            );
        }
    }
}

#[test]
fn reset_is_bit_identical_to_a_computed_prewarm() {
    let input = common::test_signal(5000, 8);
    let mut files: Vec<PathBuf> = fixture_models();
    if let Some(shared) = common::shared_models() {
        files.extend(common::nam_files(&shared));
        files.extend(common::nam_files(&shared.join("core-examples")));
    }
    for path in files {
        let file = NamFile::from_path(&path).unwrap();
        for kernels in [Kernels::Fast, Kernels::Portable] {
            let opts = BuildOptions {
                kernels,
                ..BuildOptions::default()
            };
            // A freshly built engine's prewarm is computed; a reset's is restored.
            let fresh = run(&file, opts, &input, 100);
            let mut e = Engine::build(&file, opts).unwrap();
            let mut junk = common::test_signal(3000, 9);
            e.process_buffer(&mut junk);
            e.reset();
            let mut y = input.clone();
            for c in y.chunks_mut(100) {
                e.process_buffer(c);
            }
            assert_eq!(bits(&y), bits(&fresh), "{} ({kernels:?})", path.display());
        }
    }
}

/// RMS and max of `|y - exact|`, over max(1, peak).
fn errors(y: &[f32], exact: &[f64]) -> (f64, f64) {
    let peak = exact.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    let d: Vec<f64> = y.iter().zip(exact).map(|(a, b)| *a as f64 - b).collect();
    let rms = (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt();
    let max = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    (rms / peak, max / peak)
}

/// Measured on these fixtures (trained presets on a test signal at moderate drive, output
/// peak 0.6, where one f32 ulp is 6e-8): at most rms 5.7e-8 and max 2.6e-7 in every
/// build (the AVX2 build, with the rational tanh: rms 5.4e-8, max 2.3e-7), from rms
/// 6.8e-8 and max 3.1e-7 before the sums started from zero. For scale,
/// NeuralAmpModelerCore's float32 error on 259 community captures reaches 9.9e-6 max
/// (../shared/bench/README.md).
const MAX_BOUND: f64 = 4.0e-7;
const RMS_BOUND: f64 = 6.0e-8;

#[test]
fn accurate_mode_is_close_to_the_exact_network() {
    let dir = common::fixtures_dir();
    let input = common::read_f32(&dir.join("input.f32"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("f64")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let exact: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(exact.len(), input.len(), "{name}");
        let file = NamFile::from_path(dir.join(format!("{name}.nam"))).unwrap();
        for kernels in [Kernels::Fast, Kernels::Avx2, Kernels::Portable] {
            let y = run(
                &file,
                BuildOptions {
                    kernels,
                    ..BuildOptions::default()
                },
                &input,
                64,
            );
            let (rms, max) = errors(&y, &exact);
            eprintln!(
                "{name:<28} {:<8} rms {rms:.2e} max {max:.2e}",
                kernels.resolved()
            );
            assert!(
                rms <= RMS_BOUND && max <= MAX_BOUND,
                "{name} {kernels:?}: rms {rms:.2e}, max {max:.2e}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} float64 references");
}

/// An engine built for long host buffers runs them as shorter runs (see the engine's
/// `run_length`): built for 4096 and fed 4096 at a time, every fixture gives the bits of
/// one built for 16 and fed 16 at a time.
#[test]
fn long_buffers_give_the_bits_of_short_ones() {
    let input = common::test_signal(9000, 11);
    for path in fixture_models() {
        let file = NamFile::from_path(&path).unwrap();
        let opts = |max_block| BuildOptions {
            max_block,
            ..BuildOptions::default()
        };
        assert!(
            bits(&run(&file, opts(4096), &input, 4096)) == bits(&run(&file, opts(16), &input, 16)),
            "{}",
            path.display()
        );
    }
}

/// A two-layer LSTM runs as a wavefront inside each block (the top layer one sample
/// behind the bottom one), a one-sample block sample by sample: the same bits at every
/// block size, in every kernel build and activation mode.
#[test]
fn lstm_layers_give_the_same_bits_at_every_block_size() {
    let input = common::test_signal(2000, 5);
    let mut stacked = 0;
    for path in fixture_models() {
        let file = NamFile::from_path(&path).unwrap();
        let ModelConfig::Lstm(cfg) = &file.model else {
            continue;
        };
        stacked += usize::from(cfg.num_layers > 1);
        let modes = [ActivationMode::Accurate, ActivationMode::NamCompatible];
        for kernels in [Kernels::Avx512, Kernels::Avx2, Kernels::Portable] {
            if !kernels.available() {
                eprintln!("{kernels:?}: SKIPPED, this CPU lacks it");
                continue;
            }
            for activations in modes {
                let opts = BuildOptions {
                    kernels,
                    activations,
                    max_block: 512,
                    ..BuildOptions::default()
                };
                let one = bits(&run(&file, opts, &input, 1));
                for block in [2, 7, 64, 512] {
                    assert!(
                        bits(&run(&file, opts, &input, block)) == one,
                        "{}, {kernels:?}, {activations:?}, block {block}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(stacked > 0, "no stacked LSTM among the fixtures");
}
