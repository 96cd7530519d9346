//! `tubeless`: offline reamping, model inspection and benchmarking from the command line.
//!
//! Exit codes: 0 success, 1 a model, input or output failed (the message says which),
//! 2 a usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tubeless_dsp::render::{level_note, render, RenderOptions};
use tubeless_dsp::wav::{self, BitDepth};
use tubeless_dsp::{ChainSettings, ChannelMode, OutputMode};
use tubeless_nam::{activation_name, ActivationMode, BuildOptions, Engine, ModelConfig, NamFile};

#[derive(Parser)]
#[command(
    name = "tubeless",
    version,
    about = "Neural Amp Modeler player: reamp WAV files through .nam models",
    long_about = "Neural Amp Modeler player: reamp WAV files through .nam captures of amps and \
                  pedals, inspect models, and measure their CPU cost.\n\n\
                  Example:\n  tubeless render --model assets/demo_amp.nam assets/demo_di.wav\n  \
                  (writes tubeless-out/demo_di.wav)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render WAV files (or folders of them) through a model.
    Render(RenderArgs),
    /// Describe a model: architecture, receptive field, sample rate, metadata, CPU cost.
    Info(InfoArgs),
    /// Measure how fast a model runs on this machine.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Activations {
    /// tanh within float precision: the network exactly as trained.
    Accurate,
    /// The official NAM plugin's fast tanh, for its sound bit for bit.
    NamCompatible,
}

impl From<Activations> for ActivationMode {
    fn from(a: Activations) -> Self {
        match a {
            Activations::Accurate => ActivationMode::Accurate,
            Activations::NamCompatible => ActivationMode::NamCompatible,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Channels {
    /// Inputs averaged into one engine; the result on every output channel.
    Mono,
    /// Left and right of a stereo file each through their own engine (twice the CPU).
    DualMono,
}

impl From<Channels> for ChannelMode {
    fn from(c: Channels) -> Self {
        match c {
            Channels::Mono => ChannelMode::Mono,
            Channels::DualMono => ChannelMode::DualMono,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Depth {
    #[value(name = "16")]
    B16,
    #[value(name = "24")]
    B24,
    #[value(name = "32")]
    B32,
}

#[derive(Args)]
#[command(
    after_help = "Output: one WAV per input, same rate, same length (plus --tail), \
    aligned sample for sample with the input. Stereo inputs are averaged to mono for the \
    model and the result is written to every channel, as the plugin does (with \
    --channel-mode dual-mono, left and right each get their own engine). Without -o, files \
    go to ./tubeless-out/. Inputs are never overwritten; existing outputs only with --force."
)]
struct RenderArgs {
    /// The .nam model to render through.
    #[arg(short, long, value_name = "MODEL.nam")]
    model: PathBuf,
    /// Output file (one input) or folder (any number of inputs). Default: ./tubeless-out/
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// WAV files or folders of WAV files (16/24/32-bit int, 32/64-bit float, any rate).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output sample format (32 = 32-bit float; 16 is dithered).
    #[arg(long, value_enum, default_value = "32")]
    bit_depth: Depth,
    /// Seconds of silence appended so the amp can ring out.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    tail: f64,
    /// The engine alone: no input/output gain, normalization or DC blocker.
    #[arg(long)]
    raw: bool,
    /// Activation functions.
    #[arg(long, value_enum, default_value = "accurate")]
    activations: Activations,
    /// Gain before the model, in dB.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "DB"
    )]
    input_db: f32,
    /// Gain after the model, in dB.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "DB"
    )]
    output_db: f32,
    /// Do not bring the model's output to -18 dB loudness (done when the model's metadata
    /// has its loudness).
    #[arg(long)]
    no_normalize: bool,
    /// How a stereo file reaches the model (as the plugin's channel mode).
    #[arg(long, value_enum, default_value = "mono")]
    channel_mode: Channels,
    /// Overwrite existing output files (inputs are never overwritten).
    #[arg(long)]
    force: bool,
    /// Files rendered at once (default: the number of cores).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
struct InfoArgs {
    /// The .nam model.
    model: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// The .nam model.
    model: PathBuf,
    /// Samples per process call, as a host's buffer size.
    #[arg(long, default_value_t = 512)]
    block: usize,
    /// Seconds of audio to process.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, value_enum, default_value = "accurate")]
    activations: Activations,
}

fn main() -> ExitCode {
    // Like any Unix filter: `tubeless info x.nam | head` ends quietly when the pipe closes,
    // instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: called before any thread exists; restores the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(a) => cmd_render(a),
        Command::Info(a) => cmd_info(a),
        Command::Bench(a) => cmd_bench(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

fn load_model(path: &Path) -> Result<NamFile, String> {
    let file = NamFile::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for w in &file.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(file)
}

fn is_wav_name(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

/// Files as given, folders expanded to the WAV files directly inside them (sorted).
fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_wav_name(f))
                .collect();
            if found.is_empty() {
                return Err(format!("{}: folder has no .wav files", p.display()));
            }
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(files)
}

/// A path to compare against others: canonical where it exists, else its canonical
/// parent joined with its name.
fn identity(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let parent = p
        .parent()
        .filter(|q| !q.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), p.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => p.to_path_buf(),
    }
}

fn plan_outputs(inputs: &[PathBuf], output: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let single_file = inputs.len() == 1 && output.is_some_and(|o| is_wav_name(o) && !o.is_dir());
    let outs: Vec<PathBuf> = if single_file {
        vec![output.unwrap().to_path_buf()]
    } else {
        let dir = output.map_or_else(|| PathBuf::from("tubeless-out"), Path::to_path_buf);
        if dir.is_file() {
            return Err(format!(
                "{}: is a file; with {} inputs, -o must be a folder",
                dir.display(),
                inputs.len()
            ));
        }
        inputs
            .iter()
            .map(|i| {
                let stem = i.file_stem().unwrap_or_default().to_string_lossy();
                dir.join(format!("{stem}.wav"))
            })
            .collect()
    };
    let input_ids: Vec<PathBuf> = inputs.iter().map(|p| identity(p)).collect();
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for (o, i) in outs.iter().zip(inputs) {
        let id = identity(o);
        if input_ids.contains(&id) {
            return Err(format!(
                "{}: output would overwrite an input; choose another -o",
                o.display()
            ));
        }
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == id) {
            return Err(format!(
                "{} and {} would both be written to {}; render them separately or rename one",
                other.display(),
                i.display(),
                o.display()
            ));
        }
        seen.push((id, i));
    }
    Ok(outs)
}

fn cmd_render(a: RenderArgs) -> Result<(), String> {
    if !(a.tail.is_finite() && (0.0..=600.0).contains(&a.tail)) {
        return Err(format!("--tail {} is outside 0 ..= 600 seconds", a.tail));
    }
    for (name, v) in [("--input-db", a.input_db), ("--output-db", a.output_db)] {
        if !(v.is_finite() && (-60.0..=60.0).contains(&v)) {
            return Err(format!("{name} {v} is outside -60 ..= 60 dB"));
        }
    }
    let model = load_model(&a.model)?;
    let inputs = expand_inputs(&a.inputs)?;
    let outputs = plan_outputs(&inputs, a.output.as_deref())?;
    if !a.force {
        let existing: Vec<String> = outputs
            .iter()
            .filter(|o| o.exists())
            .map(|o| o.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} already exist{}; use --force to overwrite: {}",
                if existing.len() == 1 {
                    "output"
                } else {
                    "outputs"
                },
                if existing.len() == 1 { "s" } else { "" },
                existing.join(", ")
            ));
        }
    }
    for o in &outputs {
        if let Some(dir) = o.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }

    // Headers first: bad inputs are reported before any work, and the bar knows the total.
    let mut failures: Vec<String> = Vec::new();
    let mut jobs: Vec<(PathBuf, PathBuf, usize)> = Vec::new();
    for (i, o) in inputs.iter().zip(&outputs) {
        match wav::probe(i) {
            Ok(info) => jobs.push((i.clone(), o.clone(), info.frames)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let opts = RenderOptions {
        raw: a.raw,
        activations: a.activations.into(),
        chain: ChainSettings {
            input_gain_db: a.input_db,
            output_gain_db: a.output_db,
            output_mode: if a.no_normalize {
                OutputMode::Raw
            } else {
                OutputMode::Normalized
            },
            channel_mode: a.channel_mode.into(),
            ..ChainSettings::default()
        },
        tail_seconds: a.tail,
        ..RenderOptions::default()
    };
    let depth = match a.bit_depth {
        Depth::B16 => BitDepth::Int16,
        Depth::B24 => BitDepth::Int24,
        Depth::B32 => BitDepth::Float32,
    };
    if let Some(note) = level_note(&model, &opts) {
        eprintln!("{note}");
    }

    let total: usize = jobs.iter().map(|j| j.2).sum();
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64)
        .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(failures);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((input, output, _)) = jobs.get(k) else {
                    break;
                };
                match render_one(&model, input, output, &opts, depth, &bar) {
                    Ok(line) => bar.suspend(|| eprintln!("{line}")),
                    Err(e) => failures.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                }
            });
        }
    });
    bar.finish_and_clear();
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    let ok = inputs.len() - failures.len();
    eprintln!(
        "rendered {ok} of {} file{} in {:.1} s",
        inputs.len(),
        if inputs.len() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        for f in &failures {
            eprintln!("error: {f}");
        }
        Err(format!("{} file(s) failed", failures.len()))
    }
}

fn render_one(
    model: &NamFile,
    input: &Path,
    output: &Path,
    opts: &RenderOptions,
    depth: BitDepth,
    bar: &ProgressBar,
) -> Result<String, String> {
    let audio = wav::read(input).map_err(|e| e.to_string())?;
    let rendered = render(model, None, &audio, opts, &mut |n| bar.inc(n as u64))
        .map_err(|e| format!("{}: {e}", input.display()))?;
    // Written beside the target and renamed: an interrupted render never leaves a
    // truncated file under the output's name.
    let partial = output.with_extension(format!("partial-{}.wav", std::process::id()));
    let report = wav::write(&partial, &rendered, depth).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, output).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        format!("{}: {e}", output.display())
    })?;
    let peak = rendered.channels[0]
        .iter()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let peak_db = if peak > 0.0 {
        20.0 * peak.log10()
    } else {
        f32::NEG_INFINITY
    };
    let mut line = format!(
        "{} -> {} ({:.2} s at {} Hz, {} ch, peak {peak_db:.1} dBFS)",
        input.display(),
        output.display(),
        rendered.frames() as f64 / rendered.sample_rate as f64,
        rendered.sample_rate,
        rendered.channels.len()
    );
    if report.clipped > 0 {
        line += &format!(
            "\n  warning: {} samples clipped at full scale; lower --output-db or use --bit-depth 32",
            report.clipped
        );
    }
    Ok(line)
}

/// Multiply-adds per sample at the model rate: the arithmetic a block of audio costs.
fn macs_per_sample(file: &NamFile) -> usize {
    match &file.model {
        ModelConfig::WaveNet(wn) => wn
            .arrays
            .iter()
            .map(|a| {
                let c = a.channels;
                a.input_size * c
                    + a.layers
                        .iter()
                        .map(|l| {
                            let mid = l.mid(c);
                            c * mid * l.kernel_size + mid + c * c + c
                        })
                        .sum::<usize>()
                    + a.head_size * c
            })
            .sum(),
        ModelConfig::Lstm(c) => {
            let h = c.hidden_size;
            (0..c.num_layers)
                .map(|l| 4 * h * (if l == 0 { c.input_size } else { h } + h) + 3 * h)
                .sum::<usize>()
                + h
        }
    }
}

fn measure_rtf(
    file: &NamFile,
    block: usize,
    seconds: f64,
    mode: ActivationMode,
) -> Result<f64, String> {
    let mut engine = Engine::build(
        file,
        BuildOptions {
            max_block: block,
            activations: mode,
            ..BuildOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let n = (seconds * file.sample_rate) as usize;
    let rate = file.sample_rate as f32;
    let signal: Vec<f32> = (0..n)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 110.0 * i as f32 / rate).sin())
        .collect();
    let mut buf = signal.clone();
    let t = Instant::now();
    for chunk in buf.chunks_mut(block) {
        engine.process_buffer(chunk);
    }
    std::hint::black_box(&buf);
    Ok(t.elapsed().as_secs_f64() / seconds)
}

fn cmd_info(a: InfoArgs) -> Result<(), String> {
    let file = NamFile::from_path(&a.model).map_err(|e| format!("{}: {e}", a.model.display()))?;
    let macs = macs_per_sample(&file);
    let rtf = measure_rtf(&file, 512, 0.25, ActivationMode::Accurate)?;
    let md = &file.metadata;
    if a.json {
        let arch = match &file.model {
            ModelConfig::WaveNet(wn) => serde_json::json!({
                "type": "WaveNet",
                "arrays": wn.arrays.iter().map(|a| serde_json::json!({
                    "input_size": a.input_size,
                    "channels": a.channels,
                    "head_size": a.head_size,
                    "head_bias": a.head_bias,
                    "kernel_sizes": a.layers.iter().map(|l| l.kernel_size).collect::<Vec<_>>(),
                    "dilations": a.layers.iter().map(|l| l.dilation).collect::<Vec<_>>(),
                    "activations": a.layers.iter().map(|l| activation_name(&l.activation)).collect::<Vec<_>>(),
                    "gated": a.layers.iter().map(|l| l.gate.is_some()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }),
            ModelConfig::Lstm(c) => serde_json::json!({
                "type": "LSTM",
                "num_layers": c.num_layers,
                "hidden_size": c.hidden_size,
                "input_size": c.input_size,
            }),
        };
        let out = serde_json::json!({
            "path": a.model.display().to_string(),
            "version": file.version.to_string(),
            "summary": file.summary(),
            "architecture": arch,
            "weights": file.weights.len(),
            "sample_rate": file.sample_rate,
            "sample_rate_stated": file.sample_rate_stated,
            "receptive_field": file.receptive_field(),
            "prewarm_samples": file.prewarm_samples(),
            "latency_samples": 0,
            "macs_per_sample": macs,
            "real_time_factor": rtf,
            "metadata": {
                "name": md.name, "modeled_by": md.modeled_by, "gear_make": md.gear_make,
                "gear_model": md.gear_model, "gear_type": md.gear_type,
                "tone_type": md.tone_type,
                "date": md.date.map(|d| format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d.year, d.month, d.day, d.hour, d.minute, d.second)),
                "loudness": md.loudness, "gain": md.gain,
                "input_level_dbu": md.input_level_dbu, "output_level_dbu": md.output_level_dbu,
                "validation_esr": md.validation_esr,
                "other_keys": md.extra.keys().collect::<Vec<_>>(),
            },
            "warnings": file.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    println!("{}", a.model.display());
    println!("  model            {}", file.summary());
    println!("  file version     {}", file.version);
    println!("  weights          {}", file.weights.len());
    println!(
        "  sample rate      {} Hz{}",
        file.sample_rate,
        if file.sample_rate_stated {
            ""
        } else {
            " (not stated in the file; assumed)"
        }
    );
    println!(
        "  receptive field  {} samples ({:.1} ms of history; not latency)",
        file.receptive_field(),
        file.receptive_field() as f64 / file.sample_rate * 1000.0
    );
    println!("  latency          0 samples (causal)");
    println!(
        "  CPU cost         {macs} multiply-adds per sample; real-time factor {rtf:.4} \
         on this machine (about {:.0} instances per core)",
        1.0 / rtf.max(1e-9)
    );
    let text = |label: &str, v: &Option<String>| {
        if let Some(v) = v {
            println!("  {label:<16} {v}");
        }
    };
    text("name", &md.name);
    text("modeled by", &md.modeled_by);
    text("gear make", &md.gear_make);
    text("gear model", &md.gear_model);
    text("gear type", &md.gear_type);
    text("tone type", &md.tone_type);
    if let Some(d) = md.date {
        println!(
            "  date             {:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.year, d.month, d.day, d.hour, d.minute, d.second
        );
    }
    let num = |label: &str, v: Option<f64>, unit: &str| {
        if let Some(v) = v {
            println!("  {label:<16} {v:.4}{unit}");
        }
    };
    num("loudness", md.loudness, " dB");
    num("gain", md.gain, "");
    num("input level", md.input_level_dbu, " dBu at 0 dBFS");
    num("output level", md.output_level_dbu, " dBu at 0 dBFS");
    num("validation ESR", md.validation_esr, "");
    if !md.extra.is_empty() {
        let keys: Vec<&String> = md.extra.keys().collect();
        println!("  other metadata   {keys:?}");
    }
    for w in &file.warnings {
        println!("  warning          {w}");
    }
    Ok(())
}

fn cmd_bench(a: BenchArgs) -> Result<(), String> {
    if !(1..=65_536).contains(&a.block) {
        return Err(format!("--block {} is outside 1 ..= 65536", a.block));
    }
    if !(a.seconds.is_finite() && (0.01..=3600.0).contains(&a.seconds)) {
        return Err(format!("--seconds {} is outside 0.01 ..= 3600", a.seconds));
    }
    let file = load_model(&a.model)?;
    let mode: ActivationMode = a.activations.into();
    // One untimed pass warms caches and the CPU's clock.
    measure_rtf(&file, a.block, a.seconds.min(0.5), mode)?;
    let rtf = measure_rtf(&file, a.block, a.seconds, mode)?;
    let ns = rtf * 1e9 / file.sample_rate;
    println!("{}", a.model.display());
    println!("  model            {}", file.summary());
    println!(
        "  block            {} samples at {} Hz",
        a.block, file.sample_rate
    );
    println!("  time per sample  {ns:.1} ns");
    println!("  real-time factor {rtf:.4} (processing time / audio time, one core)");
    println!(
        "  headroom         about {:.0} instances per core",
        1.0 / rtf.max(1e-9)
    );
    Ok(())
}
