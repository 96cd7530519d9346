//! The cabinet's convolver against direct convolution (float64, computed here tap by
//! tap): IR lengths from 1 sample to 10 s at 48 kHz, around every partition boundary,
//! at every block pattern (1, 7, 64, 1024, and a random mix with 0-length blocks and
//! blocks longer than any partition). Bound: 1e-6 of the reference's peak; and every
//! block pattern gives the same samples bit for bit.

use tubeless_dsp::ir::{Convolver, FIRST_PARTITION, LAST_PARTITION};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.uniform()).collect()
}

/// A cab-like IR: noise under an exponential decay, so the tail is quiet but not zero.
fn ir(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    (0..n)
        .map(|k| r.uniform() * (-3.0 * k as f32 / n as f32).exp())
        .collect()
}

fn direct(h: &[f32], x: &[f32], t: usize) -> f64 {
    let lo = t.saturating_sub(h.len() - 1);
    (lo..=t).map(|j| h[t - j] as f64 * x[j] as f64).sum()
}

fn patterns(len: usize, seed: u64) -> Vec<(&'static str, Vec<usize>)> {
    let fixed = |name, b: usize| {
        let mut v = vec![b; len / b];
        if !len.is_multiple_of(b) {
            v.push(len % b);
        }
        (name, v)
    };
    let mut r = Rng(seed);
    let mut mix = Vec::new();
    let mut left = len;
    while left > 0 {
        let n = match r.below(6) {
            0 => 0,
            1 => 1 + r.below(8),
            2 => 1 + r.below(200),
            3 => 1 + r.below(2000),
            4 => LAST_PARTITION + r.below(3 * LAST_PARTITION),
            _ => 64 * (1 + r.below(16)),
        }
        .min(left);
        mix.push(n);
        left -= n;
    }
    vec![
        fixed("1", 1),
        fixed("7", 7),
        fixed("64", 64),
        fixed("1024", 1024),
        ("mix", mix),
    ]
}

fn run_mono(conv: &mut Convolver, x: &[f32], blocks: &[usize]) -> Vec<f32> {
    let mut y = x.to_vec();
    let mut at = 0;
    for &n in blocks {
        conv.process(&mut y[at..at + n]);
        at += n;
    }
    assert_eq!(at, x.len());
    y
}

/// Output samples to check: all of them when that is cheap, else the start, a spread
/// through the middle and the last 1500 (where every partition has seen input).
fn checked(n_ir: usize, len: usize, seed: u64) -> Vec<usize> {
    if (n_ir as u64) * (len as u64) <= 40_000_000 {
        return (0..len).collect();
    }
    let mut r = Rng(seed);
    let mut v: Vec<usize> = (0..500).collect();
    v.extend((0..600).map(|_| r.below(len)));
    v.extend(len - 1500..len);
    v.sort_unstable();
    v.dedup();
    v
}

fn check_length(n: usize) -> f64 {
    let h = ir(n, 17 + n as u64);
    // Long enough that every partition (the last included) has full input behind it.
    let len = n + 3 * LAST_PARTITION.min(n.max(FIRST_PARTITION)) + 1500;
    let x = noise(len, 99 + n as u64);
    let idx = checked(n, len, n as u64);
    let reference: Vec<f64> = idx.iter().map(|&t| direct(&h, &x, t)).collect();
    let peak = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut conv = Convolver::new(&[&h], 48_000.0);
    let mut worst = 0.0f64;
    let pats = patterns(len, n as u64 + 5);
    let mut first: Option<Vec<f32>> = None;
    for (name, blocks) in &pats {
        conv.reset();
        let y = run_mono(&mut conv, &x, blocks);
        // Any split of the stream gives the same samples, bit for bit (the work is
        // spread differently, never reordered).
        match &first {
            None => first = Some(y.clone()),
            Some(f) => assert!(
                f == &y,
                "IR of {n} taps: blocks {name} differ from the first pattern"
            ),
        }
        for (k, &t) in idx.iter().enumerate() {
            let err = (y[t] as f64 - reference[k]).abs() / peak;
            assert!(
                err <= 1e-6,
                "IR of {n} taps, blocks {name}: sample {t}: {} vs {} (err {err:.2e} of peak)",
                y[t],
                reference[k]
            );
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn equals_direct_convolution_around_every_partition_boundary() {
    let mut lengths = vec![1, 2, 3, 17, 100];
    // The direct head ends at 2 * 64; each stage at twice its successor's partition.
    for edge in [128, 512, 2048, 8192, 16384, 16384 + 8192] {
        lengths.extend([edge - 1, edge, edge + 1]);
    }
    lengths.extend([5_000, 40_000]);
    let mut worst = 0.0f64;
    for n in lengths {
        worst = worst.max(check_length(n));
    }
    println!("worst error: {worst:.2e} of peak");
}

#[test]
fn one_second_and_ten_seconds() {
    let w1 = check_length(48_000);
    let w10 = check_length(480_000);
    println!("1 s: {w1:.2e}, 10 s: {w10:.2e} of peak");
}

#[test]
fn stereo_ir_gives_two_outputs_from_one_input() {
    for n in [50, 3000, 30_000] {
        let (hl, hr) = (ir(n, 1), ir(n + n / 3, 2));
        let len = n + 20_000;
        let x = noise(len, 3);
        let mut conv = Convolver::new(&[&hl, &hr], 48_000.0);
        assert!(conv.is_stereo());
        assert_eq!(conv.len(), n + n / 3);
        let (mut l, mut r) = (x.clone(), vec![0.0f32; len]);
        let mut at = 0;
        for n in &patterns(len, 9)[4].1 {
            conv.process_stereo(&mut l[at..at + n], &mut r[at..at + n]);
            at += n;
        }
        let idx = checked(n, len, 4);
        let (rl, rr): (Vec<f64>, Vec<f64>) = idx
            .iter()
            .map(|&t| (direct(&hl, &x, t), direct(&hr, &x, t)))
            .unzip();
        let peak = rl.iter().chain(&rr).fold(0.0f64, |m, v| m.max(v.abs()));
        for (k, &t) in idx.iter().enumerate() {
            assert!((l[t] as f64 - rl[k]).abs() <= 1e-6 * peak, "L {n} @ {t}");
            assert!((r[t] as f64 - rr[k]).abs() <= 1e-6 * peak, "R {n} @ {t}");
        }
    }
    // A mono IR into two outputs: the same signal on both.
    let h = ir(1000, 5);
    let mut conv = Convolver::new(&[&h], 48_000.0);
    let mut l = noise(5000, 6);
    let mut r = vec![0.0; 5000];
    conv.process_stereo(&mut l, &mut r);
    assert_eq!(l, r);
}

#[test]
fn zero_latency_and_a_clean_reset() {
    let mut h = vec![0.0f32; 20_000];
    h[0] = 0.5;
    h[129] = -0.25;
    h[19_999] = 1.0;
    let mut conv = Convolver::new(&[&h], 48_000.0);
    assert_eq!(conv.latency(), 0);
    let mut x = vec![0.0f32; 30_000];
    x[0] = 1.0;
    conv.process(&mut x[..1]);
    assert_eq!(x[0], 0.5, "the first tap is heard in the first sample");
    conv.process(&mut x[1..]);
    assert!((x[129] + 0.25).abs() < 1e-6 && (x[19_999] - 1.0).abs() < 1e-6);
    // After reset, nothing of the past rings on.
    conv.reset();
    let mut silence = vec![0.0f32; 30_000];
    conv.process(&mut silence);
    assert!(silence.iter().all(|&v| v == 0.0));
}

#[test]
fn bad_input_does_not_poison_the_tail() {
    let h = ir(10_000, 8);
    let mut conv = Convolver::new(&[&h], 48_000.0);
    let mut x = noise(20_000, 9);
    x[10] = f32::NAN;
    x[20] = f32::INFINITY;
    x[30] = f32::NEG_INFINITY;
    x[40] = 1e-40;
    let mut y = x.clone();
    conv.process(&mut y);
    assert!(y
        .iter()
        .all(|v| v.is_finite() && (*v == 0.0 || v.abs() >= 1e-30)));
    // Bad samples count as silence.
    for v in [10, 20, 30, 40] {
        x[v] = 0.0;
    }
    for t in [15, 5_000, 19_999] {
        assert!((y[t] as f64 - direct(&h, &x, t)).abs() < 1e-4, "{t}");
    }
}
