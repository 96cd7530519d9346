//! `tubeless info` and `tubeless bench`: what a model is and what it costs here.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

use crate::{warn_model, Activations};

#[derive(Args)]
pub struct InfoArgs {
    /// The .nam model.
    model: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct BenchArgs {
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

pub fn cmd_info(a: InfoArgs) -> Result<(), String> {
    let file = NamFile::from_path(&a.model).map_err(|e| format!("{}: {e}", a.model.display()))?;
    let macs = file.macs_per_sample();
    let rtf = measure_rtf(&file, 512, 0.25, ActivationMode::Accurate)?;
    let md = &file.metadata;
    if a.json {
        let out = serde_json::json!({
            "path": a.model.display().to_string(),
            "version": file.version.to_string(),
            "summary": file.summary(),
            "architecture": file.architecture_json(),
            "weights": file.weight_count(),
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
    println!("  weights          {}", file.weight_count());
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
    let steps = file.size_steps();
    if steps.len() > 1 {
        println!(
            "  sizes            {} (render --size 0..1; 1 is the largest, the default)",
            steps.len()
        );
        let mut from = 0.0;
        for (k, st) in steps.iter().enumerate() {
            let to = if k + 1 == steps.len() { 1.0 } else { st.below };
            println!(
                "    {from:.2} ..{} {to:.2}  {}  ({} multiply-adds per sample)",
                if k + 1 == steps.len() { "=" } else { " " },
                st.model.summary(),
                st.model.macs_per_sample()
            );
            from = st.below;
        }
    }
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

pub fn cmd_bench(a: BenchArgs) -> Result<(), String> {
    if !(1..=65_536).contains(&a.block) {
        return Err(format!("--block {} is outside 1 ..= 65536", a.block));
    }
    if !(a.seconds.is_finite() && (0.01..=3600.0).contains(&a.seconds)) {
        return Err(format!("--seconds {} is outside 0.01 ..= 3600", a.seconds));
    }
    let file = NamFile::from_path(&a.model).map_err(|e| format!("{}: {e}", a.model.display()))?;
    warn_model(&a.model, &file);
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
