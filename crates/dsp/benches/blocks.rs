//! `cargo bench -p tubeless-dsp --bench blocks`: ns per sample of each block of the amp
//! chain at 48 kHz, blocks of 64 and 512, beside the standard WaveNet engine in the same
//! run; the cab convolver's worst single call (the CPU spike a host sees); and a chain
//! of every block around the engine against the engine alone.
//!
//! `--features fft-convolver` adds the crates.io `fft-convolver` (two-stage, head 64) on
//! the same IRs: the numbers behind writing our own.
//! `TUBELESS_BENCH_SECONDS` sets the audio length per pass (default 2).

use std::path::Path;
use std::time::Instant;

use tubeless_dsp::gate::NoiseGate;
use tubeless_dsp::ir::{Cabinet, Convolver, IrData, IrFile, IrOptions, IrSlot};
use tubeless_dsp::tone_stack::ToneStack;
use tubeless_dsp::wav::{self, Audio, BitDepth};
use tubeless_dsp::{Chain, ChainSettings, ModelSlot, SlotSpec, ToneSettings};
use tubeless_nam::{BuildOptions, Engine, NamFile};

const RATE: f64 = 48_000.0;
const PASSES: usize = 5;

fn seconds() -> f64 {
    std::env::var("TUBELESS_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

fn signal(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.4 * (2.0 * std::f32::consts::PI * 110.0 * t).sin() * (-(t % 0.5) * 6.0).exp()
                + 0.05 * (2.0 * std::f32::consts::PI * 1234.5 * t).sin()
        })
        .collect()
}

fn cab_ir(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|k| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0)
                * (-6.0 * k as f32 / n as f32).exp()
        })
        .collect()
}

fn best_of(mut run: impl FnMut()) -> f64 {
    run(); // warm-up: caches, page faults, branch predictors
    (0..PASSES)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Best ns per sample of `process` over `input` in blocks of `block`.
fn ns_per_sample(input: &[f32], block: usize, mut process: impl FnMut(&mut [f32])) -> f64 {
    let mut buf = input.to_vec();
    let s = best_of(|| {
        buf.copy_from_slice(input);
        for chunk in buf.chunks_mut(block) {
            process(chunk);
        }
        std::hint::black_box(&buf);
    });
    s * 1e9 / input.len() as f64
}

/// Mean, 99.9th percentile and worst time of one call (µs), over `input` in blocks of
/// `block`, after a warm-up pass.
fn call_times(input: &[f32], block: usize, mut process: impl FnMut(&mut [f32])) -> (f64, f64, f64) {
    let mut buf = input.to_vec();
    for chunk in buf.chunks_mut(block) {
        process(chunk);
    }
    buf.copy_from_slice(input);
    let mut t: Vec<f64> = Vec::with_capacity(input.len() / block + 1);
    for chunk in buf.chunks_mut(block) {
        let s = Instant::now();
        process(chunk);
        t.push(s.elapsed().as_secs_f64() * 1e6);
    }
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    t.sort_by(f64::total_cmp);
    (
        mean,
        t[(t.len() * 999 / 1000).min(t.len() - 1)],
        t[t.len() - 1],
    )
}

fn row(name: &str, ns64: f64, ns512: f64, engine: f64) {
    println!(
        "{name:<44} {ns64:>9.2} {ns512:>9.2}   {:>6.2} %",
        100.0 * ns64 / engine
    );
}

fn main() {
    let n = (seconds() * RATE) as usize;
    let input = signal(n);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("../nam/tests/fixtures/wavenet_standard_v054.nam");
    let file = NamFile::from_path(&fixture).expect("standard WaveNet fixture");

    println!(
        "tubeless-dsp blocks at {RATE} Hz, {:.1} s per pass, best of {PASSES}",
        seconds()
    );
    println!(
        "{:<44} {:>9} {:>9}   {:>8}",
        "ns/sample", "block 64", "block 512", "of engine"
    );

    let engine_ns = |block: usize| {
        let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
        ns_per_sample(&input, block, |b| e.process_buffer(b))
    };
    let (e64, e512) = (engine_ns(64), engine_ns(512));
    row("engine: WaveNet standard (tubeless-nam)", e64, e512, e64);

    // Gate.
    let gate = |input: &[f32], on: bool, block: usize| {
        let mut g = NoiseGate::new(RATE, 512);
        g.set_enabled(on);
        let mut y = input.to_vec();
        ns_per_sample(input, block, |b| {
            g.detect(b);
            y[..b.len()].copy_from_slice(b);
            g.apply(b);
        })
    };
    let silence = vec![0.0f32; n];
    let copy_only = |block: usize| {
        let mut y = input.clone();
        ns_per_sample(&input, block, |b| y[..b.len()].copy_from_slice(b))
    };
    let (c64, c512) = (copy_only(64), copy_only(512));
    row("  (the same loop with no gate: a copy)", c64, c512, e64);
    row(
        "gate on, open and idle (playing)",
        gate(&input, true, 64),
        gate(&input, true, 512),
        e64,
    );
    row(
        "gate on, closed (silence)",
        gate(&silence, true, 64),
        gate(&silence, true, 512),
        e64,
    );
    row(
        "gate off",
        gate(&input, false, 64),
        gate(&input, false, 512),
        e64,
    );

    // Tone stack.
    let tone = |moving: bool, on: bool, block: usize| {
        let mut t = ToneStack::new(RATE);
        t.set_bass(7.0);
        t.set_middle(3.0);
        t.set_treble(6.0);
        t.reset();
        t.set_enabled(on);
        let mut k = 0u32;
        ns_per_sample(&input, block, |b| {
            if moving {
                // A new value every block: the three bands never settle.
                k += 1;
                let v = if k.is_multiple_of(2) { 2.0 } else { 8.0 };
                t.set_bass(v);
                t.set_middle(10.0 - v);
                t.set_treble(v);
            }
            t.process(b)
        })
    };
    row(
        "tone stack, knobs set",
        tone(false, true, 64),
        tone(false, true, 512),
        e64,
    );
    row(
        "tone stack, all three knobs moving",
        tone(true, true, 64),
        tone(true, true, 512),
        e64,
    );
    row(
        "tone stack off",
        tone(false, false, 64),
        tone(false, false, 512),
        e64,
    );

    // Cab convolver.
    let irs: Vec<(&str, Vec<Vec<f32>>)> = vec![
        ("200 ms mono", vec![cab_ir(9_600, 1)]),
        ("1 s mono", vec![cab_ir(48_000, 1)]),
        ("1 s stereo", vec![cab_ir(48_000, 1), cab_ir(48_000, 2)]),
        ("10 s stereo", vec![cab_ir(480_000, 1), cab_ir(480_000, 2)]),
    ];
    let conv_ns = |ir: &[Vec<f32>], block: usize| {
        let chans: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
        let mut c = Convolver::new(&chans, RATE);
        let mut right = vec![0.0f32; 512];
        ns_per_sample(&input, block, |b| {
            c.process_stereo(b, &mut right[..b.len()])
        })
    };
    for (name, ir) in &irs {
        row(
            &format!("cab IR {name}"),
            conv_ns(ir, 64),
            conv_ns(ir, 512),
            e64,
        );
    }
    let cabinet = |block: usize| {
        let mut cab = Cabinet::new(RATE, 512);
        cab.set_ir(Some(Box::new(Convolver::new(
            &[&irs[2].1[0], &irs[2].1[1]],
            RATE,
        ))));
        cab.reset();
        let mut right = vec![0.0f32; 512];
        ns_per_sample(&input, block, |b| cab.process(b, &mut right[..b.len()]))
    };
    row(
        "Cabinet slot, 1 s stereo IR",
        cabinet(64),
        cabinet(512),
        e64,
    );

    // The whole shared chain (what the plugin and the CLI run), with the engine inside,
    // the gate, a non-flat EQ and a 1 s stereo cab, stereo out.
    let chain = |block: usize| {
        let settings = ChainSettings {
            tone: ToneSettings {
                bass: 6.0,
                treble: 4.0,
                ..ToneSettings::default()
            },
            output_gain_db: -6.0,
            ..ChainSettings::default()
        };
        let mut c = Chain::new(RATE, 512, settings);
        let spec = SlotSpec {
            host_rate: RATE,
            max_block: 512,
            activations: Default::default(),
            size: 1.0,
            quality: Default::default(),
        };
        c.place(Some(Box::new(ModelSlot::build(&file, spec).unwrap())));
        let (l, r) = (&irs[2].1[0], &irs[2].1[1]);
        c.place_ir(Some(IrSlot {
            main: Box::new(Convolver::new(&[l, r], RATE)),
            side: Box::new(Convolver::new(&[r], RATE)),
            taps: l.len(),
        }));
        let mut right = vec![0.0f32; 512];
        ns_per_sample(&input, block, |b| {
            let r = &mut right[..b.len()];
            c.process(&mut [b, r], 1);
        })
    };
    let (ch64, ch512) = (chain(64), chain(512));
    row(
        "Chain: gate, engine, EQ, 1 s stereo cab, DC, out",
        ch64,
        ch512,
        e64,
    );
    println!(
        "  the blocks around the engine: {:.1} ns/sample at 64, {:.1} at 512 ({:.1} % / {:.1} % of the engine)",
        ch64 - e64,
        ch512 - e512,
        100.0 * (ch64 - e64) / e64,
        100.0 * (ch512 - e512) / e512
    );

    println!();
    println!("cab convolver, one call of 64 samples (1.33 ms of audio): mean / 99.9 % / worst, us");
    for (name, ir) in &irs[2..] {
        let chans: Vec<&[f32]> = ir.iter().map(|c| c.as_slice()).collect();
        let mut c = Convolver::new(&chans, RATE);
        let mut right = vec![0.0f32; 64];
        let (m, p, w) = call_times(&input, 64, |b| c.process_stereo(b, &mut right[..b.len()]));
        println!("  tubeless {name:<16} {m:>8.2} {p:>8.2} {w:>8.2}");
        #[cfg(feature = "fft-convolver")]
        peer::spikes(name, ir, &input);
    }
    #[cfg(feature = "fft-convolver")]
    peer::throughput(&irs, &input, e64);

    // Loading, off the audio thread: decode, resample, partition.
    println!();
    let dir = std::env::temp_dir().join(format!("tubeless-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (secs, rate) in [(1.0, 44_100u32), (10.0, 44_100), (10.0, 48_000)] {
        let n = (secs * rate as f64) as usize;
        let path = dir.join("ir.wav");
        let audio = Audio {
            sample_rate: rate,
            channels: vec![cab_ir(n, 1), cab_ir(n, 2)],
        };
        wav::write(&path, &audio, BitDepth::Float32).unwrap();
        let t = Instant::now();
        let file = IrFile::load(&path).unwrap();
        let t_load = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let data = IrData::prepare(&file, RATE, IrOptions::default());
        let t_prep = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let c = data.convolver();
        let t_conv = t.elapsed().as_secs_f64();
        println!(
            "load {secs} s stereo {rate} Hz IR for {RATE} Hz: read {:.1} ms, resample {:.1} ms, partition {:.1} ms; {:.1} MB",
            t_load * 1e3,
            t_prep * 1e3,
            t_conv * 1e3,
            c.memory_bytes() as f64 / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "fft-convolver")]
mod peer {
    use super::*;
    use fft_convolver::TwoStageFFTConvolver;

    fn build(ir: &[Vec<f32>]) -> Vec<TwoStageFFTConvolver<f32>> {
        ir.iter()
            .map(|c| {
                let mut t = TwoStageFFTConvolver::default();
                t.init_default(64, c).unwrap();
                t
            })
            .collect()
    }

    fn run(convs: &mut [TwoStageFFTConvolver<f32>], b: &[f32], out: &mut [f32]) {
        for c in convs.iter_mut() {
            c.process(b, &mut out[..b.len()]).unwrap();
        }
    }

    pub fn spikes(name: &str, ir: &[Vec<f32>], input: &[f32]) {
        let mut convs = build(ir);
        let mut out = vec![0.0f32; 64];
        let (m, p, w) = call_times(input, 64, |b| run(&mut convs, b, &mut out));
        println!("  fft-convolver {name:<11} {m:>8.2} {p:>8.2} {w:>8.2}");
    }

    pub fn throughput(irs: &[(&str, Vec<Vec<f32>>)], input: &[f32], e64: f64) {
        println!();
        println!(
            "{:<44} {:>9} {:>9}   {:>8}",
            "fft-convolver 0.4 (two-stage, head 64)", "block 64", "block 512", "of engine"
        );
        for (name, ir) in irs {
            let ns = |block: usize| {
                let mut convs = build(ir);
                let mut out = vec![0.0f32; 512];
                ns_per_sample(input, block, |b| run(&mut convs, b, &mut out))
            };
            row(&format!("cab IR {name}"), ns(64), ns(512), e64);
        }
        for block in [1usize, 16] {
            let mut a = build(&irs[2].1);
            let mut out = vec![0.0f32; 512];
            let peer = ns_per_sample(&input[..48_000], block, |b| run(&mut a, b, &mut out));
            let mut c = Convolver::new(&[&irs[2].1[0], &irs[2].1[1]], RATE);
            let mut right = vec![0.0f32; 512];
            let ours = ns_per_sample(&input[..48_000], block, |b| {
                c.process_stereo(b, &mut right[..b.len()])
            });
            println!("  1 s stereo at block {block:>2}: fft-convolver {peer:.1} ns/sample, tubeless {ours:.1}");
        }
    }
}
