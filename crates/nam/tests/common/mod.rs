//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository's top folder (every crate sits two levels below it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// This crate's test data (fixtures, bad files), also used by the CLI's tests.
pub fn nam_tests_dir() -> PathBuf {
    repo_root().join("crates/nam/tests")
}

/// `../shared/models` beside the repository (or `$TUBELESS_SHARED_MODELS`), when present.
pub fn shared_models() -> Option<PathBuf> {
    let dir = std::env::var_os("TUBELESS_SHARED_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/models"));
    dir.is_dir().then_some(dir)
}

pub fn nam_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "nam"));
    v.sort();
    v
}

pub fn fixtures_dir() -> PathBuf {
    nam_tests_dir().join("fixtures")
}

pub fn bad_files_dir() -> PathBuf {
    nam_tests_dir().join("bad_files")
}

pub fn read_f32(path: &std::path::Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes.len() % 4,
        0,
        "{}: not a whole number of f32",
        path.display()
    );
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// A deterministic guitar-ish test signal: plucks, a loud chirp, noise, silence.
pub fn test_signal(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    (0..n)
        .map(|i| {
            let t = i as f32 / 48_000.0;
            let seg = (i * 4) / n.max(1);
            match seg {
                0 => 0.6 * (-t * 8.0).exp() * (2.0 * std::f32::consts::PI * 110.0 * t).sin(),
                1 => 0.9 * (2.0 * std::f32::consts::PI * (80.0 + 4000.0 * t) * t).sin(),
                2 => 0.3 * rnd(),
                _ => 0.01 * rnd(),
            }
        })
        .collect()
}

/// Largest |a - b| and the peak |b|.
pub fn max_err(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let err = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let peak = b.iter().map(|y| y.abs()).fold(0.0, f32::max);
    (err, peak)
}

/// Ways to split a stream of `total` samples into blocks: fixed sizes 1, 7, 64, 4096, and
/// a seeded random mix of 0 ..= `max_random` (zero-length blocks included).
pub fn block_patterns(total: usize, seed: u64, max_random: usize) -> Vec<(String, Vec<usize>)> {
    let mut state = seed;
    let mut mix = Vec::new();
    let mut left = total;
    while left > 0 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = ((state >> 33) as usize % (max_random + 1)).min(left);
        mix.push(n);
        left -= n;
    }
    let fixed = |b: usize| {
        (0..total.div_ceil(b))
            .map(|i| b.min(total - i * b))
            .collect()
    };
    vec![
        ("1".into(), fixed(1)),
        ("7".into(), fixed(7)),
        ("64".into(), fixed(64)),
        ("4096".into(), fixed(4096)),
        ("random mix".into(), mix),
    ]
}
