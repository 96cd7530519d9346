//! Helpers shared by the resampler tests and its bench (`benches/stream_resample.rs`
//! includes this folder by path).
#![allow(dead_code)]

pub mod delay;
pub mod lanczos;
pub mod quality;
pub mod spectrum;

/// Rate pairs (host, model): the common ones and odd ones.
pub const COMMON_PAIRS: [(f64, f64); 8] = [
    (44_100.0, 48_000.0),
    (88_200.0, 48_000.0),
    (96_000.0, 48_000.0),
    (176_400.0, 48_000.0),
    (192_000.0, 48_000.0),
    (48_000.0, 44_100.0),
    (48_000.0, 96_000.0),
    (48_000.0, 48_000.0),
];

pub const ODD_PAIRS: [(f64, f64); 10] = [
    (8_000.0, 48_000.0),
    (22_050.0, 48_000.0),
    (768_000.0, 48_000.0),
    (47_999.0, 48_000.0),
    (48_000.0, 8_000.0),
    (8_000.0, 768_000.0),
    (768_000.0, 8_000.0),
    (47_999.5, 44_100.0),
    (32_000.0, 44_100.0),
    (352_800.0, 96_000.0),
];

/// The official plugin's published latencies (host, model, samples).
pub const PUBLISHED: [(f64, f64, usize); 6] = [
    (44_100.0, 48_000.0, 27),
    (88_200.0, 48_000.0, 39),
    (96_000.0, 48_000.0, 42),
    (192_000.0, 48_000.0, 70),
    (48_000.0, 44_100.0, 29),
    (48_000.0, 96_000.0, 22),
];

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Ways to split `total` samples into blocks: 1, 7, 64, 1024, a seeded random mix of
/// 0 ..= 3 x `max_block` (zero-length and over-long blocks included).
pub fn block_patterns(total: usize, max_block: usize, seed: u64) -> Vec<(String, Vec<usize>)> {
    let fixed = |b: usize| -> Vec<usize> {
        (0..total.div_ceil(b))
            .map(|i| b.min(total - i * b))
            .collect()
    };
    let mut rng = Rng::new(seed);
    let mut mix = Vec::new();
    let mut left = total;
    while left > 0 {
        let n = match rng.below(4) {
            0 => 0,
            1 => rng.below(8),
            2 => rng.below(max_block + 1),
            _ => rng.below(3 * max_block + 1),
        }
        .min(left);
        mix.push(n);
        left -= n;
    }
    vec![
        ("1".into(), fixed(1)),
        ("7".into(), fixed(7)),
        ("64".into(), fixed(64)),
        ("1024".into(), fixed(1024)),
        ("random mix".into(), mix),
    ]
}

/// The engine's test fixtures (`crates/nam/tests/fixtures`).
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nam/tests/fixtures")
}

/// (host -> model, model -> host) taps per output, (0, 0) in bypass.
pub fn taps(p: &tubeless_dsp::stream_resample::ResamplerPair) -> (usize, usize) {
    p.filter_info().map_or((0, 0), |i| (i.taps_up, i.taps_down))
}
