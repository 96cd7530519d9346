//! Tubeless's engine side by side with the crates.io NAM engines, in one process:
//! `NeuralAmpModeler-rs` 1.0.1 (the fastest peer) and `nam-rs` 0.4, on the same models and
//! the same noise, interleaved round by round. The figures that hold on a shared, noisy
//! machine are the medians of per-round ratios; ns/sample are medians too.
//!
//! Never built by default or in CI (not a default member): the peer needs x86-64-v3, a
//! newer toolchain than it declares and three unstable std APIs. `run.sh` beside this
//! crate sets that up; see its header.
//!
//! Environment: `BENCH_FILTER` (substring of the model name), `BENCH_ROUNDS` (default 15),
//! `BENCH_SECONDS` (audio per engine and round, default 0.1), `BENCH_BLOCKS` (default
//! `16,64,512`), `BENCH_NAMRS=0` to leave out nam-rs, `BENCH_REAL=all` for every real
//! capture (default: one of each width), `BENCH_KERNELS=avx2|portable` to force
//! Tubeless's kernels.

mod alloc;
mod peak;

use std::path::{Path, PathBuf};
use std::time::Instant;

use neural_amp_modeler_rs::loader::{load_and_build_model, LoadOptions};
use neural_amp_modeler_rs::models::{NamModel, StaticModel};
use neural_amp_modeler_rs::SystemSnapshot;
use tubeless_nam::{BuildOptions, Engine, Kernels, NamFile};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const RATE: f64 = 48_000.0;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// White noise at -12 dBFS RMS (uniform, so peak 0.435), from a fixed seed.
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let amp = 0.251 * 3f32.sqrt();
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: sets FTZ and DAZ in this thread's MXCSR; every engine here runs on it.
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr);
        csr |= 0x8040;
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr);
    }
}

/// One engine under test: processes `buf` in blocks (in place).
trait Runner {
    fn name(&self) -> &'static str;
    fn run(&mut self, buf: &mut [f32], block: usize);
}

struct Tubeless(Engine, &'static str);

impl Runner for Tubeless {
    fn name(&self) -> &'static str {
        self.1
    }
    fn run(&mut self, buf: &mut [f32], block: usize) {
        for c in buf.chunks_mut(block) {
            self.0.process_buffer(c);
        }
    }
}

struct Peer(Box<StaticModel>, Vec<f32>);

impl Runner for Peer {
    fn name(&self) -> &'static str {
        "NeuralAmpModeler-rs"
    }
    fn run(&mut self, buf: &mut [f32], block: usize) {
        for c in buf.chunks_mut(block) {
            let x = &mut self.1[..c.len()];
            x.copy_from_slice(c);
            self.0.process(x, c);
        }
    }
}

struct NamRs(nam_rs::Model);

impl Runner for NamRs {
    fn name(&self) -> &'static str {
        "nam-rs"
    }
    fn run(&mut self, buf: &mut [f32], block: usize) {
        for c in buf.chunks_mut(block) {
            self.0.process_buffer(c);
        }
    }
}

fn tubeless(file: &NamFile, block: usize, kernels: Kernels, label: &'static str) -> Tubeless {
    let opts = BuildOptions {
        max_block: block,
        kernels,
        ..BuildOptions::default()
    };
    Tubeless(Engine::build(file, opts).expect("tubeless builds"), label)
}

fn peer(path: &Path, block: usize) -> Option<Peer> {
    let sys = SystemSnapshot::capture();
    let pair = load_and_build_model(path, &sys, false, LoadOptions::default()).ok()?;
    let mut m = pair.model_l?;
    m.reset(RATE as u32, block).ok()?;
    Some(Peer(m, vec![0.0; block]))
}

fn nam_rs(path: &Path) -> Option<NamRs> {
    let f = nam_rs::NamModel::from_file(path).ok()?;
    nam_rs::Model::from_nam(&f).ok().map(NamRs)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Interleaves `engines` round by round on the same noise; returns each one's median
/// ns/sample and the median per-round ratio of each to the first.
fn race(
    engines: &mut [Box<dyn Runner>],
    block: usize,
    rounds: usize,
    len: usize,
) -> Vec<(f64, f64)> {
    let input = noise(len, 7);
    let mut buf = input.clone();
    for e in engines.iter_mut() {
        // Warm-up: caches, page faults, branch predictors.
        buf.copy_from_slice(&input);
        e.run(&mut buf, block);
    }
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); engines.len()];
    for r in 0..rounds {
        // Rotate the order so that no engine always runs right after another.
        for k in 0..engines.len() {
            let i = (k + r) % engines.len();
            buf.copy_from_slice(&input);
            let t = Instant::now();
            engines[i].run(&mut buf, block);
            let dt = t.elapsed().as_secs_f64();
            std::hint::black_box(&buf);
            ns[i].push(dt * 1e9 / len as f64);
        }
    }
    let first = ns[0].clone();
    ns.iter()
        .map(|v| {
            let mut ratios: Vec<f64> = v.iter().zip(&first).map(|(a, b)| a / b).collect();
            (median(&mut v.clone()), median(&mut ratios))
        })
        .collect()
}

fn models() -> Vec<PathBuf> {
    let shared = std::env::var_os("TUBELESS_SHARED_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models"));
    let list = |dir: &Path| -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        f.retain(|p| p.extension().is_some_and(|e| e == "nam"));
        f.sort();
        f
    };
    let order = [
        "wavenet-standard",
        "wavenet-lite",
        "wavenet-feather",
        "wavenet-nano",
        "lstm-1x12",
        "lstm-1x16",
        "lstm-1x24",
        "lstm-2x8",
    ];
    let presets = list(&shared);
    let mut v: Vec<PathBuf> = order
        .iter()
        .filter_map(|o| {
            presets
                .iter()
                .find(|p| p.to_string_lossy().contains(o))
                .cloned()
        })
        .collect();
    let real = list(&shared.join("real"));
    let all = std::env::var("BENCH_REAL").is_ok_and(|s| s == "all");
    let picks = [
        "real-01", "real-02", "real-03", "real-04", "real-05", "real-06", "real-07", "real-11",
    ];
    v.extend(
        real.into_iter()
            .filter(|p| all || picks.iter().any(|k| p.to_string_lossy().contains(k))),
    );
    if let Ok(filter) = std::env::var("BENCH_FILTER") {
        v.retain(|p| p.to_string_lossy().contains(&filter));
    }
    v
}

/// `render MODEL IN OUT [fast|avx512|avx2|portable] [block]`: raw mono f32 in and out,
/// through a prewarmed engine (accurate mode), for error measurements.
fn render(args: &[String]) {
    let file = NamFile::from_path(&args[0]).expect("model");
    let kernels = match args.get(3).map(String::as_str) {
        Some("portable") => Kernels::Portable,
        Some("avx2") => Kernels::Avx2,
        Some("avx512") => Kernels::Avx512,
        _ => Kernels::Fast,
    };
    let block = args.get(4).and_then(|b| b.parse().ok()).unwrap_or(64);
    let bytes = std::fs::read(&args[1]).expect("input");
    let mut x: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    tubeless(&file, block, kernels, "Tubeless").run(&mut x, block);
    let out: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&args[2], out).expect("output");
}

fn main() {
    flush_denormals();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "render") {
        render(&args[1..]);
        return;
    }
    let rounds: usize = env_or("BENCH_ROUNDS", 15);
    let seconds: f64 = env_or("BENCH_SECONDS", 0.1);
    let blocks: Vec<usize> = std::env::var("BENCH_BLOCKS")
        .unwrap_or_else(|_| "16,64,512".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let with_namrs = std::env::var("BENCH_NAMRS").map_or(true, |s| s != "0");
    // `BENCH_KERNELS=avx2` (or `portable`) forces Tubeless's kernels, as on a CPU without
    // AVX-512.
    let kernels = match std::env::var("BENCH_KERNELS").as_deref() {
        Ok("avx2") => Kernels::Avx2,
        Ok("portable") => Kernels::Portable,
        _ => Kernels::Fast,
    };
    println!("Tubeless kernels: {}", kernels.resolved());
    let len = ((RATE * seconds) as usize / 512).max(1) * 512;
    let peaks = peak::measure();
    println!(
        "FMA peak, one core: AVX2 {:.1} GFLOP/s, AVX-512 {}",
        peaks.avx2 / 1e9,
        peaks
            .avx512
            .map_or("n/a (CPU lacks it)".into(), |p| format!(
                "{:.1} GFLOP/s",
                p / 1e9
            ))
    );
    println!("{rounds} rounds of {len} samples per engine; medians of rounds; ratio = engine / NeuralAmpModeler-rs per round, median.\n");
    println!("| model | block | Tubeless ns/smp | NAM-rs ns/smp | ratio | nam-rs ns/smp | %AVX2 peak | %AVX-512 peak |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut memory = Vec::new();
    let mut idle = Vec::new();
    let mut resets = Vec::new();
    for path in models() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let file = match NamFile::from_path(&path) {
            Ok(f) => f,
            Err(e) => {
                println!("| {name} | skipped: {e} |");
                continue;
            }
        };
        let macs = file.macs_per_sample() as f64;
        for &block in &blocks {
            let mut engines: Vec<Box<dyn Runner>> = Vec::new();
            let Some(p) = peer(&path, block) else {
                println!("| {name} | {block} | peer cannot load it |");
                continue;
            };
            engines.push(Box::new(p));
            engines.push(Box::new(tubeless(&file, block, kernels, "Tubeless")));
            let namrs = with_namrs && block == 64;
            if namrs {
                if let Some(n) = nam_rs(&path) {
                    engines.push(Box::new(n));
                }
            }
            let r = race(&mut engines, block, rounds, len);
            let ours = r[1].0;
            let pct = |p: f64| 100.0 * 2.0 * macs / (ours * 1e-9) / p;
            println!(
                "| {name} | {block} | {:.1} | {:.1} | {:.3} | {} | {:.0} % | {} |",
                ours,
                r[0].0,
                r[1].1,
                r.get(2).map_or("".into(), |x| format!("{:.0}", x.0)),
                pct(peaks.avx2),
                peaks
                    .avx512
                    .map_or("n/a".into(), |p| format!("{:.0} %", pct(p))),
            );
        }
        memory.push((name.clone(), bytes_per_instance(&file, &path)));
        resets.push((name.clone(), reset_cost(&file, &path, rounds)));
        idle.push((name.clone(), idle_cost(&file, &path, rounds, len)));
    }
    println!("\nIdle (input silent for longer than the receptive field), block 64, ns/sample:\n");
    println!("| model | Tubeless | NeuralAmpModeler-rs | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, (a, b, r)) in &idle {
        println!("| {name} | {a:.2} | {b:.1} | {r:.3} |");
    }
    println!(
        "\nReset (back to the prewarmed state, as a host's transport start asks), block 64, µs:\n"
    );
    println!("| model | Tubeless | NeuralAmpModeler-rs |");
    println!("|---|---:|---:|");
    for (name, (a, b)) in &resets {
        println!("| {name} | {a:.2} | {b:.1} |");
    }
    println!("\nBytes per instance (heap live after build, max block 512):\n");
    println!("| model | Tubeless | NeuralAmpModeler-rs |");
    println!("|---|---:|---:|");
    for (name, (a, b)) in &memory {
        println!("| {name} | {a} | {b} |");
    }
}

fn bytes_per_instance(file: &NamFile, path: &Path) -> (usize, usize) {
    let (e, ours) = alloc::live_delta(|| tubeless(file, 512, Kernels::Fast, "Tubeless"));
    drop(e);
    let (p, theirs) = alloc::live_delta(|| peer(path, 512));
    drop(p);
    (ours, theirs)
}

/// Both engines after a long silence, fed more silence.
fn idle_cost(file: &NamFile, path: &Path, rounds: usize, len: usize) -> (f64, f64, f64) {
    let block = 64;
    let mut engines: Vec<Box<dyn Runner>> = vec![
        Box::new(peer(path, block).expect("peer")),
        Box::new(tubeless(file, block, Kernels::Fast, "Tubeless")),
    ];
    let mut silence = vec![0.0f32; len];
    for e in engines.iter_mut() {
        e.run(&mut silence, block);
    }
    let mut ns = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, e) in engines.iter_mut().enumerate() {
            silence.fill(0.0);
            let t = Instant::now();
            e.run(&mut silence, block);
            ns[i].push(t.elapsed().as_secs_f64() * 1e9 / len as f64);
        }
    }
    let mut ratios: Vec<f64> = ns[1].iter().zip(&ns[0]).map(|(a, b)| a / b).collect();
    let _ = engines[0].name();
    (median(&mut ns[1]), median(&mut ns[0]), median(&mut ratios))
}

/// Median time of one reset of each engine (after some audio), in µs.
fn reset_cost(file: &NamFile, path: &Path, rounds: usize) -> (f64, f64) {
    let block = 64;
    let mut ours = tubeless(file, block, Kernels::Fast, "Tubeless");
    let mut theirs = peer(path, block).expect("peer");
    let mut buf = noise(4096, 3);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.run(&mut buf, block);
        let t = Instant::now();
        ours.0.reset();
        a.push(t.elapsed().as_secs_f64() * 1e6);
        theirs.run(&mut buf, block);
        let t = Instant::now();
        let _ = theirs.0.reset(RATE as u32, block);
        b.push(t.elapsed().as_secs_f64() * 1e6);
    }
    (median(&mut a), median(&mut b))
}
