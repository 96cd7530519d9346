//! `cargo bench -p tubeless --bench plugin`: what the plugin costs next to the engine
//! alone on the same model, at host blocks of 64 and 512, two ways:
//! - `process()`: the plugin's `Plugin::process` (parameters, model hand-over, the chain:
//!   gains, gate, DC blocker, meters, stereo in and out) called as nice-plug's wrappers
//!   call it, on the host's buffers with the input copied to the outputs;
//! - `CLAP call`: the whole call a host makes into the bundle's CLAP entry point, which
//!   adds nice-plug's wrapper (events, buffer setup, the denormal guard) and the test
//!   host's own `clap_process` setup.
//!
//! Against two engines alone: `vs own` times each plugin's own engine (the one its chain
//! plays, in the same memory) run without the plugin around it; `vs built` times engines
//! built apart. The same engine runs a few percent faster or slower depending on where
//! the allocator put its buffers, so `vs built` mixes that placement in and `vs own` is
//! the plugin's cost alone.
//!
//! Within a process all run interleaved round by round on the same input; each figure is
//! the median of the per-round ratios (machines here are shared and noisy), beside the
//! plugin with no model as a share of the engine. The whole runs in several processes
//! (`TUBELESS_BENCH_PROCESSES`, 5 unless set), each a different placement of the same
//! code's data, and the table gives their medians and the range of the overheads.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "plugin/direct.rs"]
mod direct;

use std::time::Instant;

use clack_host::prelude::PluginEntry;
use serde_json::json;
use tubeless_nam::{BuildOptions, Engine, NamFile};

const RATE: f64 = 48_000.0;
const ROUNDS: usize = 15;
/// Instances of the engine alone and of the plugin, each (see the loop over models);
/// `TUBELESS_BENCH_INSTANCES` overrides.
const INSTANCES: usize = 3;
/// `vs own`: samples per stretch, and stretches per instance.
const OWN_STRETCH: usize = 12_288;
const OWN_PAIRS: usize = 100;

/// The variable `name` parsed, or `default` when it is unset or does not parse.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The plugin, loaded in-process as a host loads the bundle, active at `block`.
fn plugin_at(block: usize) -> common::Instance {
    let entry =
        unsafe { PluginEntry::load_from_raw(&tubeless::clap_entry, c"/in-process/Tubeless.clap") }
            .unwrap();
    let mut plugin = common::Instance::from_entry(entry);
    plugin.activate(RATE, block as u32);
    plugin
}

/// A host's buffers: the whole input on each channel (the plugin never writes its
/// inputs, so they are filled once), and one block of output per channel that every call
/// reuses, as a DAW's engine does (a run-long output would stream megabytes through the
/// caches that no host streams).
struct Stereo {
    l: Vec<f32>,
    r: Vec<f32>,
    ol: Vec<f32>,
    or: Vec<f32>,
}

impl Stereo {
    fn new(input: &[f32], block: usize) -> Self {
        Stereo {
            l: input.to_vec(),
            r: input.to_vec(),
            ol: vec![0.0; block],
            or: vec![0.0; block],
        }
    }

    /// The input on both channels through `plugin`, in host blocks of `block`.
    fn play(&mut self, plugin: &mut common::Instance, block: usize) {
        let n = self.l.len();
        let mut at = 0;
        while at < n {
            let k = block.min(n - at);
            plugin.process(
                &mut [&mut self.l[at..at + k], &mut self.r[at..at + k]],
                &mut [&mut self.ol[..k], &mut self.or[..k]],
            );
            at += k;
        }
    }
}

/// Processes the bench runs itself in (`TUBELESS_BENCH_PROCESSES` overrides; 1 runs
/// once in this process): where the allocator, the stack and the loader put the code's
/// data differs from one process to the next, and with it the same engine's speed by up
/// to 10-20 % (with address randomisation off, `setarch -R`, every run of one binary
/// gives the same figure), so one process measures one placement.
const PROCESSES: usize = 5;
const CHILD: &str = "TUBELESS_BENCH_CHILD";

fn main() {
    let processes = env_or("TUBELESS_BENCH_PROCESSES", PROCESSES).max(1);
    if processes > 1 && std::env::var_os(CHILD).is_none() {
        across_processes(processes);
    } else {
        one_process();
    }
}

/// Runs the bench in `k` child processes one after another (each inherits this one's
/// CPU affinity) and prints, per model and block, the median of their figures and, for
/// the two overheads, their range.
fn across_processes(k: usize) {
    let exe = std::env::current_exe().expect("the bench's own path");
    let mut rows: Vec<(String, Vec<Vec<f64>>)> = Vec::new();
    for i in 0..k {
        let out = std::process::Command::new(&exe)
            .env(CHILD, "1")
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run the bench in a child process");
        assert!(out.status.success(), "child {i} failed");
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!("process {}/{k}:\n{text}", i + 1);
        for line in text.lines().filter_map(|l| l.strip_prefix("#row\t")) {
            let mut cells = line.split('\t');
            let key = format!("{}\t{}", cells.next().unwrap(), cells.next().unwrap());
            let nums: Vec<f64> = cells.map(|c| c.parse().unwrap()).collect();
            match rows.iter_mut().find(|(k, _)| *k == key) {
                Some((_, all)) => all.push(nums),
                None => rows.push((key, vec![nums])),
            }
        }
    }
    println!("{k} processes: medians, and [lowest, highest] of the per-process overheads");
    println!(
        "{:<28} {:>6} {:>12} {:>12} {:>22} {:>22} {:>9}",
        "model", "block", "engine ns/s", "process()", "vs own", "vs built", "no-model"
    );
    for (key, all) in &rows {
        let (name, block) = key.split_once('\t').unwrap();
        let col = |j: usize| all.iter().map(|r| r[j]).collect::<Vec<f64>>();
        let spread = |j: usize| {
            let v = col(j);
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            format!("{:+.1}% [{:+.1}, {:+.1}]", median(v), lo, hi)
        };
        println!(
            "{:<28} {:>6} {:>12.1} {:>12.1} {:>22} {:>22} {:>+8.1}%",
            name,
            block,
            median(col(0)),
            median(col(1)),
            spread(2),
            spread(3),
            median(col(4))
        );
    }
}

fn one_process() {
    let models = [
        (
            "WaveNet standard",
            common::fixture("wavenet_standard_v054.nam"),
        ),
        ("WaveNet feather (demo amp)", common::demo_model()),
        ("LSTM 1x16", common::fixture("lstm_feather_v070.nam")),
    ];
    let seconds = env_or("TUBELESS_BENCH_SECONDS", 1.0);
    let n = (seconds * RATE) as usize;
    let instances = env_or("TUBELESS_BENCH_INSTANCES", INSTANCES).max(1);
    let input = common::guitar(n, RATE, 0);
    println!(
        "{:<28} {:>6} {:>12} {:>12} {:>9} {:>9} {:>12} {:>9} {:>9}",
        "model",
        "block",
        "engine ns/s",
        "process()",
        "vs own",
        "vs built",
        "CLAP call",
        "overhead",
        "no-model"
    );
    // The plugin with no model: what the wrapper and the chain cost on their own. Its
    // share of each engine is the last column, the overhead free of the engines'
    // placement.
    let mut no_model = [(0.0f64, 0.0f64); 2];
    for block in [64usize, 512] {
        let mut plugin = plugin_at(block);
        let mut bare = direct::Direct::new(RATE, block, None);
        let mut io = Stereo::new(&input, block);
        let (mut times, mut clap) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let t = Instant::now();
            bare.play(&input, block);
            times.push(t.elapsed().as_secs_f64() * 1e9 / n as f64);
            let t = Instant::now();
            io.play(&mut plugin, block);
            clap.push(t.elapsed().as_secs_f64() * 1e9 / n as f64);
        }
        no_model[block / 512] = (median(times), median(clap));
        println!(
            "{:<28} {:>6} {:>12} {:>12.1} {:>9} {:>9} {:>12.1}",
            "(no model)",
            block,
            "-",
            no_model[block / 512].0,
            "",
            "",
            no_model[block / 512].1
        );
    }
    // The same engine runs a few percent faster or slower depending on where the
    // allocator happens to put its buffers (cache-set conflicts between layers), so one
    // engine against one plugin compares placements as much as code. Each side is
    // several instances, built interleaved, and a round times all of them.
    // `TUBELESS_BENCH_ONLY=LSTM` times only the models whose name holds it.
    let only = std::env::var("TUBELESS_BENCH_ONLY").unwrap_or_default();
    for (name, path) in models
        .iter()
        .filter(|(name, _)| name.contains(only.as_str()))
    {
        let file = NamFile::from_path(path).unwrap();
        for block in [64usize, 512] {
            let mut engines = Vec::new();
            let mut plugins = Vec::new();
            let mut bares = Vec::new();
            for _ in 0..instances {
                engines.push(
                    Engine::build(
                        &file,
                        BuildOptions {
                            max_block: block,
                            ..BuildOptions::default()
                        },
                    )
                    .unwrap(),
                );
                let mut plugin = plugin_at(block);
                let base = common::state_json(&plugin.save_state());
                let state =
                    common::with_model_field(&base, &json!({ "path": path.display().to_string() }));
                assert!(plugin.load_state(&common::state_bytes(&state)));
                plugins.push(plugin);
                bares.push(direct::Direct::new(RATE, block, Some(path)));
            }

            // The engine alone gets the same: each block of the input copied into one
            // reused buffer (what the plugin's wrapper does) and run there.
            let mut buf = vec![0.0f32; block];
            let mut io = Stereo::new(&input, block);
            let mut run_engines = || {
                let t = Instant::now();
                for engine in &mut engines {
                    for c in input.chunks(block) {
                        let b = &mut buf[..c.len()];
                        b.copy_from_slice(c);
                        engine.process_buffer(b);
                    }
                }
                t.elapsed().as_secs_f64() / instances as f64
            };
            let mut run_plugins = || {
                let t = Instant::now();
                for plugin in &mut plugins {
                    io.play(plugin, block);
                }
                t.elapsed().as_secs_f64() / instances as f64
            };
            // `own`: each plugin's own engine run alone, on its own memory (the same
            // engine with and without the plugin around it); else the plugins.
            let run_bares = |bares: &mut Vec<direct::Direct>, own: bool| {
                let t = Instant::now();
                for bare in bares.iter_mut() {
                    if own {
                        bare.play_engine(&input, block);
                    } else {
                        bare.play(&input, block);
                    }
                }
                t.elapsed().as_secs_f64() / instances as f64
            };
            run_engines();
            run_plugins();
            run_bares(&mut bares, false);
            run_bares(&mut bares, true);
            // `vs own`: the same engine with and without the plugin, alternated in short
            // stretches (in turn first) so that the machine's drift cancels pair by pair.
            let mut own_ratios = Vec::new();
            let stretch = (OWN_STRETCH / block).max(1) * block;
            for (i, bare) in bares.iter_mut().enumerate() {
                for (j, part) in input.chunks(stretch).cycle().take(OWN_PAIRS).enumerate() {
                    let mut time = |own: bool| {
                        let t = Instant::now();
                        if own {
                            bare.play_engine(part, block);
                        } else {
                            bare.play(part, block);
                        }
                        t.elapsed().as_secs_f64()
                    };
                    let (p, o) = if (i + j) % 2 == 0 {
                        let p = time(false);
                        (p, time(true))
                    } else {
                        let o = time(true);
                        (time(false), o)
                    };
                    own_ratios.push(p / o);
                }
            }
            let (mut ratios, mut clap_ratios) = (Vec::new(), Vec::new());
            let (mut te, mut tp, mut tc) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let e = run_engines();
                let d = run_bares(&mut bares, false);
                let c = run_plugins();
                ratios.push(d / e);
                clap_ratios.push(c / e);
                te.push(e);
                tp.push(d);
                tc.push(c);
            }
            let ns = |t: f64| t * 1e9 / n as f64;
            let engine = ns(median(te));
            let (own, built) = (
                (median(own_ratios) - 1.0) * 100.0,
                (median(ratios) - 1.0) * 100.0,
            );
            let share = no_model[block / 512].0 / engine * 100.0;
            let played = ns(median(tp));
            if std::env::var_os(CHILD).is_some() {
                // For the parent (see `across_processes`).
                println!("#row\t{name}\t{block}\t{engine}\t{played}\t{own}\t{built}\t{share}");
            }
            println!(
                "{:<28} {:>6} {:>12.1} {:>12.1} {:>+8.1}% {:>+8.1}% {:>12.1} {:>+8.1}% {:>+8.1}%",
                name,
                block,
                engine,
                played,
                own,
                built,
                ns(median(tc)),
                (median(clap_ratios) - 1.0) * 100.0,
                share
            );
        }
    }
}
