//! `tubeless render`: reamping files through the plugin's own chain, with its settings as
//! flags or as a preset file the plugin saved (flags win over the preset).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tubeless_dsp::ir::{IrFile, IrOptions};
use tubeless_dsp::levels::OutputMode;
use tubeless_dsp::preset::{ranges, Preset};
use tubeless_dsp::render::{level_note, render, RenderOptions};
use tubeless_dsp::source::{self, SourceState};
use tubeless_dsp::stream_resample::Quality;
use tubeless_dsp::wav::{self, BitDepth};
use tubeless_dsp::{ChainSettings, ChannelMode};
use tubeless_nam::NamFile;

use crate::files::{expand_inputs, plan_outputs};
use crate::{warn_model, Activations};

#[derive(Clone, Copy, ValueEnum)]
pub enum Channels {
    /// Inputs averaged into one engine; the result on every output channel.
    Mono,
    /// Left and right of a stereo file each through their own engine (twice the CPU).
    DualMono,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Level {
    /// The model's output as trained.
    Raw,
    /// Brought to -18 dB loudness (needs the model's loudness metadata).
    Normalized,
    /// To the analog level it was captured at (needs output_level_dbu; see
    /// --input-calibration).
    Calibrated,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Resampling {
    Standard,
    High,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Depth {
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
    aligned sample for sample with the input. The chain is the plugin's: input gain, gate, \
    model, EQ, cabinet IR, DC blocker, output. A stereo file is averaged for the model and \
    the result written to every channel, as the plugin does (with --channel-mode dual-mono, \
    left and right each get their own engine; a stereo IR makes the output stereo). \
    Settings come from --preset (a file the plugin saved), then the flags. Without -o, \
    files go to ./tubeless-out/. Inputs are never overwritten; existing outputs only with \
    --force."
)]
pub struct RenderArgs {
    /// The .nam model (or the one the --preset names).
    #[arg(short, long, value_name = "MODEL.nam")]
    model: Option<PathBuf>,
    /// Settings, model and IR from a preset file saved by the plugin (or its state).
    #[arg(long, value_name = "PRESET.json")]
    preset: Option<PathBuf>,
    /// Output file (one input) or folder (any number of inputs). Default: ./tubeless-out/
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// WAV files or folders of WAV files (8/16/24/32-bit int, 32/64-bit float, any rate).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output sample format (32 = 32-bit float; 16 is dithered).
    #[arg(long, value_enum, default_value = "32")]
    bit_depth: Depth,
    /// Seconds of silence appended so the amp and the cab can ring out.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    tail: f64,
    /// The engine alone: no gain, gate, EQ, cab, level or DC blocker.
    #[arg(long)]
    raw: bool,
    /// Activation functions.
    #[arg(long, value_enum, default_value = "accurate")]
    activations: Activations,
    /// The size of a model with sizes, 0 (smallest) ..= 1 (largest, the default).
    #[arg(long, value_name = "0..1")]
    size: Option<f32>,
    /// Gain before the model, dB (-20 ..= 20).
    #[arg(long, allow_negative_numbers = true, value_name = "DB")]
    input_db: Option<f32>,
    /// Gain after everything, dB (-40 ..= 40).
    #[arg(long, allow_negative_numbers = true, value_name = "DB")]
    output_db: Option<f32>,
    /// How the model's level is set (default: normalized).
    #[arg(long, value_enum)]
    output_mode: Option<Level>,
    /// Same as --output-mode raw (kept for scripts).
    #[arg(long)]
    no_normalize: bool,
    /// Calibrate the input: your interface's full scale in dBu (-60 ..= 60), matched to
    /// the level the capture was made at (the model's input_level_dbu).
    #[arg(long, allow_negative_numbers = true, value_name = "DBU")]
    input_calibration: Option<f32>,
    /// How a stereo file reaches the model (as the plugin's channel mode).
    #[arg(long, value_enum)]
    channel_mode: Option<Channels>,
    /// Noise gate threshold, dB (-100 ..= 0; default -80).
    #[arg(long, allow_negative_numbers = true, value_name = "DB")]
    gate_db: Option<f32>,
    /// Gate attack, ms (0.1 ..= 500; default 5).
    #[arg(long, value_name = "MS")]
    gate_attack_ms: Option<f32>,
    /// Gate hold, ms (0 ..= 2000; default 10).
    #[arg(long, value_name = "MS")]
    gate_hold_ms: Option<f32>,
    /// Gate release, ms (1 ..= 5000; default 50).
    #[arg(long, value_name = "MS")]
    gate_release_ms: Option<f32>,
    /// No noise gate.
    #[arg(long)]
    gate_off: bool,
    /// Bass, 0 ..= 10 (5 is flat).
    #[arg(long, value_name = "0..10")]
    bass: Option<f32>,
    /// Middle, 0 ..= 10 (5 is flat).
    #[arg(long, value_name = "0..10")]
    middle: Option<f32>,
    /// Treble, 0 ..= 10 (5 is flat).
    #[arg(long, value_name = "0..10")]
    treble: Option<f32>,
    /// No tone stack.
    #[arg(long)]
    eq_off: bool,
    /// A cabinet IR (WAV: 16/24/32-bit int or 32/64-bit float, mono or stereo, any rate).
    #[arg(long, value_name = "CAB.wav")]
    ir: Option<PathBuf>,
    /// No cabinet IR, even if the preset has one.
    #[arg(long)]
    no_ir: bool,
    /// The IR at its file's own level instead of the reference plugin's (-18 dB).
    #[arg(long)]
    ir_raw_level: bool,
    /// Resampling when the file's rate is not the model's: standard (the plugin's
    /// default, its latency removed) or high (longer filters, about -120 dB images).
    #[arg(long, value_enum)]
    resampler: Option<Resampling>,
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

/// Everything a render needs besides the audio.
struct Setup {
    model: NamFile,
    ir: Option<IrFile>,
    settings: ChainSettings,
    ir_options: IrOptions,
    quality: Quality,
}

fn in_range(name: &str, v: Option<f32>, (lo, hi): (f32, f32)) -> Result<Option<f32>, String> {
    match v {
        Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => {
            Err(format!("--{name} {x} is outside {lo} ..= {hi}"))
        }
        _ => Ok(v),
    }
}

/// A preset's model or IR object: the file at its path, or the copy saved with it.
fn from_source<T>(
    value: &serde_json::Value,
    noun: &str,
    open: impl Fn(&Path) -> Result<(T, SourceState), String>,
    open_copy: impl Fn(&serde_json::Value) -> Result<T, String>,
) -> Result<(T, SourceState), String> {
    let wanted = SourceState::from_value(value);
    let (file, _, notice, state) = source::resolve(&wanted, noun, open, open_copy)
        .map_err(|e| format!("the preset's {noun}: {e}"))?;
    if let Some(n) = notice {
        eprintln!("note: the preset's {noun}: {n}");
    }
    Ok((file, state))
}

fn setup(a: &RenderArgs) -> Result<Setup, String> {
    let preset = match &a.preset {
        Some(p) => {
            let preset = Preset::from_path(p).map_err(|e| e.to_string())?;
            for w in &preset.warnings {
                eprintln!("warning: {}: {w}", p.display());
            }
            Some(preset)
        }
        None => None,
    };
    let mut s = preset.as_ref().map(|p| p.settings).unwrap_or_default();
    s.bypass = false;
    let set = |target: &mut f32, v: Option<f32>| {
        if let Some(v) = v {
            *target = v;
        }
    };
    set(
        &mut s.input_gain_db,
        in_range("input-db", a.input_db, ranges::INPUT_DB)?,
    );
    set(
        &mut s.output_gain_db,
        in_range("output-db", a.output_db, ranges::OUTPUT_DB)?,
    );
    set(&mut s.size, in_range("size", a.size, (0.0, 1.0))?);
    set(
        &mut s.gate.threshold_db,
        in_range("gate-db", a.gate_db, ranges::GATE_DB)?,
    );
    set(
        &mut s.gate.attack_ms,
        in_range("gate-attack-ms", a.gate_attack_ms, ranges::GATE_ATTACK_MS)?,
    );
    set(
        &mut s.gate.hold_ms,
        in_range("gate-hold-ms", a.gate_hold_ms, ranges::GATE_HOLD_MS)?,
    );
    set(
        &mut s.gate.release_ms,
        in_range(
            "gate-release-ms",
            a.gate_release_ms,
            ranges::GATE_RELEASE_MS,
        )?,
    );
    set(&mut s.tone.bass, in_range("bass", a.bass, ranges::KNOB)?);
    set(
        &mut s.tone.middle,
        in_range("middle", a.middle, ranges::KNOB)?,
    );
    set(
        &mut s.tone.treble,
        in_range("treble", a.treble, ranges::KNOB)?,
    );
    if let Some(dbu) = in_range("input-calibration", a.input_calibration, ranges::CAL_DBU)? {
        s.input_calibration = true;
        s.input_calibration_dbu = dbu;
    }
    if a.gate_off {
        s.gate.enabled = false;
    }
    if a.eq_off {
        s.tone.enabled = false;
    }
    if let Some(m) = a.output_mode {
        s.output_mode = match m {
            Level::Raw => OutputMode::Raw,
            Level::Normalized => OutputMode::Normalized,
            Level::Calibrated => OutputMode::Calibrated,
        };
    }
    if a.no_normalize {
        s.output_mode = OutputMode::Raw;
    }
    if let Some(c) = a.channel_mode {
        s.channel_mode = match c {
            Channels::Mono => ChannelMode::Mono,
            Channels::DualMono => ChannelMode::DualMono,
        };
    }

    let model = match (&a.model, preset.as_ref().and_then(|p| p.model.as_ref())) {
        (Some(path), _) => {
            let file = NamFile::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
            warn_model(path, &file);
            file
        }
        (None, Some(v)) => {
            let (file, state) =
                from_source(v, "model", source::open_model, source::open_embedded_model)?;
            warn_model(
                Path::new(state.path.as_deref().unwrap_or("the preset's model")),
                &file,
            );
            file
        }
        (None, None) => return Err("no model: give --model, or a --preset that names one".into()),
    };

    let mut ir_options = IrOptions::default();
    let ir = if a.no_ir {
        None
    } else if let Some(path) = &a.ir {
        Some(IrFile::load(path).map_err(|e| e.to_string())?)
    } else if let Some(v) = preset.as_ref().and_then(|p| p.ir.as_ref()) {
        let state = SourceState::from_value(v);
        if state.is_empty() {
            None
        } else {
            let (file, state) = from_source(v, "IR", source::open_ir, source::open_embedded_ir)?;
            ir_options = source::ir_options(&state);
            Some(file)
        }
    } else {
        None
    };
    if a.ir_raw_level {
        ir_options.normalization = tubeless_dsp::ir::Normalization::Off;
    }
    if a.ir.is_some() {
        s.cab_enabled = true;
    }
    let quality = match a.resampler {
        Some(Resampling::Standard) => Quality::Standard,
        Some(Resampling::High) => Quality::High,
        None => preset.as_ref().map(|p| p.quality).unwrap_or_default(),
    };
    Ok(Setup {
        model,
        ir,
        settings: s,
        ir_options,
        quality,
    })
}

pub fn cmd_render(a: RenderArgs) -> Result<(), String> {
    if !(a.tail.is_finite() && (0.0..=600.0).contains(&a.tail)) {
        return Err(format!("--tail {} is outside 0 ..= 600 seconds", a.tail));
    }
    let setup = setup(&a)?;
    let model = &setup.model;
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
        chain: setup.settings,
        ir_options: setup.ir_options,
        quality: setup.quality,
        tail_seconds: a.tail,
    };
    let depth = match a.bit_depth {
        Depth::B16 => BitDepth::Int16,
        Depth::B24 => BitDepth::Int24,
        Depth::B32 => BitDepth::Float32,
    };
    if let Some(note) = level_note(model, &opts) {
        eprintln!("{note}");
    }
    if let Some(ir) = &setup.ir {
        eprintln!(
            "cabinet IR {} ({} ch, {:.0} ms){}",
            ir.name(),
            ir.channels(),
            ir.seconds() * 1000.0,
            if setup.settings.cab_enabled {
                ""
            } else {
                ": off"
            }
        );
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
                match render_one(model, setup.ir.as_ref(), input, output, &opts, depth, &bar) {
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
    ir: Option<&IrFile>,
    input: &Path,
    output: &Path,
    opts: &RenderOptions,
    depth: BitDepth,
    bar: &ProgressBar,
) -> Result<String, String> {
    let audio = wav::read(input).map_err(|e| e.to_string())?;
    let rendered = render(model, ir, &audio, opts, &mut |n| bar.inc(n as u64))
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
