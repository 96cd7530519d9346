//! `cargo bench -p tubeless-dsp --bench stream_resample`: the streaming resampler's
//! figures at every common rate pair (and a few odd ones), side by side with the official
//! plugin's Lanczos a = 12 resampler (re-implemented in `tests/common/lanczos.rs`) and the
//! CLI's zero-phase offline resampler (`resample.rs`), then its cost next to the standard
//! WaveNet in the same run.
//!
//! `TUBELESS_BENCH_PAIRS=odd` adds the odd pairs; `=quick` keeps only 44.1k/48k and
//! 96k/48k. `TUBELESS_BENCH_SKIP=quality` or `=cpu` skips a part.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::delay::{click, phase_delay};
use common::lanczos::LanczosPair;
use common::quality::{input_floor, Figures, Measure, System};
use tubeless_dsp::stream_resample::{reference_latency, Quality, ResamplerPair};
use tubeless_nam::{BuildOptions, Engine, NamFile};

fn pairs() -> Vec<(f64, f64)> {
    let sel = std::env::var("TUBELESS_BENCH_PAIRS").unwrap_or_default();
    let mut v: Vec<(f64, f64)> = common::COMMON_PAIRS
        .iter()
        .copied()
        .filter(|(h, m)| h != m)
        .collect();
    if sel == "quick" {
        v.retain(|p| *p == (44_100.0, 48_000.0) || *p == (96_000.0, 48_000.0));
    }
    if sel == "odd" {
        v.extend(common::ODD_PAIRS);
    }
    v
}

fn khz(r: f64) -> String {
    format!("{}", r / 1000.0)
}

/// The round trip's delay measured on a band-limited click (host samples).
fn measured_delay(sys: &mut System, host: f64, model: f64) -> f64 {
    let pass = 20_000f64.min(0.45 * host.min(model)) / host;
    let half = ((40.0 / pass) as usize).min(4096);
    let len = (8 * half + 4 * sys.latency())
        .max(1 << 15)
        .next_power_of_two();
    let x = click(len, len / 4, 0.8 * pass, half);
    let y = sys.run(&x, 256, &mut |_| {});
    phase_delay(&x, &y, 0.8 * pass)
}

fn quality_tables() {
    let m = Measure {
        n: 1 << 15,
        block: 256,
    };
    println!("\n## Latency (host samples)\n");
    println!("| host / model | official reports | Lanczos yardstick measured | Standard | High | Standard filter | High filter |");
    println!("|---|---:|---:|---:|---:|---|---|");
    for (h, md) in pairs() {
        let mut lz = System::Lanczos(LanczosPair::new(h, md));
        let std_ = ResamplerPair::new(h, md, 512, Quality::Standard).unwrap();
        let high = ResamplerPair::new(h, md, 512, Quality::High).unwrap();
        let ms = measured_delay(&mut lz, h, md);
        let info = |p: &ResamplerPair| {
            let i = p.filter_info().unwrap();
            format!(
                "length {:.1}, delay {:.2}, pass {:.0} Hz {:.0} dB, stop {:.0} Hz {:.0} dB",
                i.length, i.delay, i.pass_hz, i.pass_error_db, i.stop_hz, i.stop_error_db
            )
        };
        println!(
            "| {} / {} | {} | {:.2} | {} | {} | {} | {} |",
            khz(h),
            khz(md),
            reference_latency(h, md),
            ms,
            std_.latency(),
            high.latency(),
            info(&std_),
            info(&high)
        );
    }
    println!("\nLengths and delays in samples of the lower rate. The zero-phase offline resampler has no latency (it is not causal).");
    println!("\nFigures in dB (rejection: worst spurious re the tone; lower is better).\n");
    println!("| host / model | system | latency | flatness | into model | into model strict | out of model | out of model strict | round trip | noise floor |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (h, md) in pairs() {
        if (h - md).abs() < 100.0 {
            // The images of a tone land within |host - model| of it: not resolvable here.
            println!(
                "| {} / {} | (images within {} Hz of the tone: not measured) |",
                khz(h),
                khz(md),
                (h - md).abs()
            );
            continue;
        }
        let systems = vec![
            System::ours(h, md, Quality::Standard),
            System::ours(h, md, Quality::High),
            System::Lanczos(LanczosPair::new(h, md)),
            System::ZeroPhase { host: h, model: md },
        ];
        for mut s in systems {
            let t = Instant::now();
            let f: Figures = m.figures_for(&mut s, h, md, 24);
            println!(
                "| {} / {} | {} | {} | {:.4} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                khz(h),
                khz(md),
                s.name(),
                s.latency(),
                f.flatness_db,
                f.into_model_db,
                f.into_model_strict_db,
                f.out_of_model_db,
                f.out_of_model_strict_db,
                f.round_trip_db,
                f.noise_floor_db,
            );
            eprintln!("  ({:.1} s)", t.elapsed().as_secs_f64());
        }
    }
    println!(
        "\nThe f32 test tone's own floor, measured the same way: {:.1} dB.",
        input_floor(m.n, 48_000.0, 44_100.0)
    );
}

fn best_ns_per_sample(n: usize, passes: usize, mut run: impl FnMut()) -> f64 {
    run();
    let best = (0..passes)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    best * 1e9 / n as f64
}

fn cpu_table() {
    const BLOCK: usize = 128;
    let seconds = 1.0;
    let noise = |n: usize| {
        let mut rng = common::Rng::new(7);
        (0..n)
            .map(|_| (rng.next() as f64 / (1u64 << 31) as f64 - 1.0) as f32 * 0.25)
            .collect::<Vec<f32>>()
    };
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../nam/tests/fixtures/wavenet_standard_v054.nam"
    );
    let file = NamFile::from_path(std::path::Path::new(fixture)).unwrap();
    let mut engine = Engine::build(&file, BuildOptions::default()).unwrap();
    let n48 = (48_000.0 * seconds) as usize;
    let x = noise(n48);
    let mut buf = x.clone();
    let wavenet = best_ns_per_sample(n48, 3, || {
        buf.copy_from_slice(&x);
        for c in buf.chunks_mut(BLOCK) {
            engine.process_buffer(c);
        }
        std::hint::black_box(&buf);
    });
    println!("\n## Cost (block {BLOCK}, identity model, best of 5 passes over {seconds} s)\n");
    println!(
        "Standard WaveNet (tubeless-nam, wavenet_standard fixture) at 48 kHz: {wavenet:.0} ns/sample = {:.2} % of real time.\n",
        wavenet * 48_000.0 / 1e7
    );
    println!("| host / model | system | taps (up, down) | ns per host sample | % of real time | vs the WaveNet's cost per second |");
    println!("|---|---|---|---:|---:|---:|");
    let wavenet_per_second = wavenet * 48_000.0;
    for (h, md) in pairs() {
        let n = (h * seconds) as usize;
        let x = noise(n);
        for q in [Quality::Standard, Quality::High] {
            let mut p = ResamplerPair::new(h, md, BLOCK, q).unwrap();
            let mut buf = x.clone();
            let ns = best_ns_per_sample(n, 5, || {
                buf.copy_from_slice(&x);
                for c in buf.chunks_mut(BLOCK) {
                    p.process(c, |b| {
                        std::hint::black_box(b);
                    });
                }
                std::hint::black_box(&buf);
            });
            println!(
                "| {} / {} | {:?} | {:?} | {:.1} | {:.3} | {:.1} % |",
                khz(h),
                khz(md),
                q,
                common::taps(&p),
                ns,
                ns * h / 1e7,
                100.0 * ns * h / wavenet_per_second
            );
        }
        let mut lz = LanczosPair::new(h, md);
        let mut buf = x.clone();
        let ns = best_ns_per_sample(n, 3, || {
            lz.reset();
            buf.copy_from_slice(&x);
            for c in buf.chunks_mut(BLOCK) {
                lz.process(c, &mut |b: &mut [f32]| {
                    std::hint::black_box(b);
                });
            }
        });
        println!(
            "| {} / {} | Lanczos yardstick (scalar f64, test code) | (24, 24) | {:.1} | {:.3} | {:.1} % |",
            khz(h),
            khz(md),
            ns,
            ns * h / 1e7,
            100.0 * ns * h / wavenet_per_second
        );
    }
    // Building: the filter design happens here.
    println!("\nBuild time (filter design + allocation), 44.1k / 48k:");
    for q in [Quality::Standard, Quality::High] {
        let t = Instant::now();
        let p = ResamplerPair::new(44_100.0, 48_000.0, 512, q).unwrap();
        println!("- {q:?}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(p);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let skip = std::env::var("TUBELESS_BENCH_SKIP").unwrap_or_default();
    if skip != "quality" {
        quality_tables();
    }
    if skip != "cpu" {
        cpu_table();
    }
}
