//! `cargo bench`: ns per sample and real-time factor at 48 kHz, Tubeless vs the crates.io
//! `nam-rs` crate on the same files, blocks 64 and 512. A plain timing harness: each cell
//! is the best of several passes over 1 s of guitar-like input, after a warm-up.
//!
//! Models: the trainer presets in `tests/fixtures/` (always there), the 0.7.0 ("A2")
//! fixtures, and the containers and the slimmable WaveNet at each of their sizes, plus the
//! seeded presets, a few real captures and NAM Core's A2 container from
//! `../shared/models/` when present. nam-rs runs only A1 WaveNets and LSTMs ("n/a" for
//! the rest). A last row per container times it while its size switches every 0.25 s
//! (catch-up and crossfade included).
//! `TUBELESS_BENCH_FILTER=lstm` narrows the list; `TUBELESS_BENCH_SECONDS` sets the audio
//! length per pass.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tubeless_nam::{BuildOptions, Engine, NamFile};

const RATE: f64 = 48_000.0;
const PASSES: usize = 5;

fn signal(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.4 * (2.0 * std::f32::consts::PI * 110.0 * t).sin() * (-(t % 0.5) * 6.0).exp()
                + 0.05 * (2.0 * std::f32::consts::PI * 1234.5 * t).sin()
        })
        .collect()
}

fn best_of(passes: usize, mut run: impl FnMut()) -> f64 {
    run(); // warm-up: caches, page faults, branch predictors
    (0..passes)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn time_blocks(input: &[f32], block: usize, mut process: impl FnMut(&mut [f32])) -> f64 {
    let mut buf = input.to_vec();
    best_of(PASSES, || {
        buf.copy_from_slice(input);
        for chunk in buf.chunks_mut(block) {
            process(chunk);
        }
        std::hint::black_box(&buf);
    })
}

fn row(label: &str, block: usize, t_ours: f64, peer: Option<f64>, len: usize, seconds: f64) {
    let ns_ours = t_ours * 1e9 / len as f64;
    let rtf_ours = t_ours / seconds;
    match peer {
        Some(t_peer) => println!(
            "| {label} | {block} | {ns_ours:.1} | {rtf_ours:.4} | {:.1} | {:.4} | {:.2}x |",
            t_peer * 1e9 / len as f64,
            t_peer / seconds,
            t_peer / t_ours
        ),
        None => println!("| {label} | {block} | {ns_ours:.1} | {rtf_ours:.4} | n/a | n/a | |"),
    }
}

fn models() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = Vec::new();
    let list = |dir: &Path| -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        f.retain(|p| p.extension().is_some_and(|e| e == "nam"));
        f.sort();
        f
    };
    for p in list(&root.join("tests/fixtures")) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let preset = ["standard", "lite", "feather", "nano"]
            .iter()
            .any(|s| name.starts_with(&format!("wavenet_{s}_v054")) || name.starts_with("lstm_"));
        let newer = [
            "a2_everything",
            "wavenet_condition_dsp",
            "wavenet_slimmable",
            "container_",
            "sequential_",
            "convnet_batchnorm",
            "linear_",
        ]
        .iter()
        .any(|s| name.starts_with(s));
        if preset || newer {
            v.push(p);
        }
    }
    v.extend(
        list(&root.join("tests/fixtures/a2"))
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("a2_default_c3")),
    );
    let shared = std::env::var_os("TUBELESS_SHARED_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../../../shared/models"));
    v.extend(list(&shared));
    let real = list(&shared.join("real"));
    for pick in ["real-02", "real-01", "real-07"] {
        v.extend(
            real.iter()
                .filter(|p| p.to_string_lossy().contains(pick))
                .cloned(),
        );
    }
    v.extend(
        list(&shared.join("core-examples"))
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "A2.nam")),
    );
    if let Ok(filter) = std::env::var("TUBELESS_BENCH_FILTER") {
        v.retain(|p| p.to_string_lossy().contains(&filter));
    }
    v
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: stay quick there.
    let quick = !std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("TUBELESS_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 0.05 } else { 1.0 });
    let input = signal((RATE * seconds) as usize);
    println!(
        "| model | block | tubeless ns/sample | tubeless RTF | nam-rs ns/sample | nam-rs RTF | speed-up |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for path in models() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let file = match NamFile::from_path(&path) {
            Ok(f) => f,
            Err(e) => {
                println!("| {name} | skipped: {e} |");
                continue;
            }
        };
        let peer_file = nam_rs::NamModel::from_file(&path).ok();
        // One row per size step (the middle of its range) for models with a size control.
        let steps = file.size_steps();
        let mut sizes: Vec<(String, f32)> = Vec::new();
        let mut low = 0.0;
        for (k, s) in steps.iter().enumerate() {
            let high = s.below.min(1.0);
            sizes.push((format!("{name} size {k}"), ((low + high) / 2.0) as f32));
            low = high;
        }
        if sizes.is_empty() {
            sizes.push((name.clone(), 1.0));
        }
        for (label, size) in &sizes {
            for block in [64usize, 512] {
                let mut ours = Engine::build(
                    &file,
                    BuildOptions {
                        max_block: block,
                        size: *size,
                        ..BuildOptions::default()
                    },
                )
                .unwrap();
                let t_ours = time_blocks(&input, block, |b| ours.process_buffer(b));
                let peer = peer_file
                    .as_ref()
                    .filter(|_| steps.is_empty())
                    .and_then(|f| nam_rs::Model::from_nam(f).ok())
                    .map(|mut m| time_blocks(&input, block, |b| m.process_buffer(b)));
                row(label, block, t_ours, peer, input.len(), seconds);
            }
        }
        if steps.len() > 1 {
            // The size switching every 0.25 s between the smallest and the largest step.
            let block = 64;
            let mut ours = Engine::build(
                &file,
                BuildOptions {
                    max_block: block,
                    ..BuildOptions::default()
                },
            )
            .unwrap();
            let every = (0.25 * RATE) as usize / block;
            let mut k = 0usize;
            let t = time_blocks(&input, block, |b| {
                if k.is_multiple_of(every) {
                    ours.set_size(if (k / every).is_multiple_of(2) {
                        0.0
                    } else {
                        1.0
                    });
                }
                k += 1;
                ours.process_buffer(b);
            });
            row(
                &format!("{name} switching"),
                block,
                t,
                None,
                input.len(),
                seconds,
            );
        }
    }
    println!("\nRTF = processing time / audio time at 48 kHz, single core (lower is better).");
}
