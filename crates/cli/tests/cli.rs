//! The `tubeless` binary as a user runs it: rendering every common WAV format at any
//! rate, aligned and of the same length; `--raw` equal to the engine; never overwriting;
//! clear errors and exit codes; `info` and `bench`.

#[path = "../../nam/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tubeless_dsp::wav::{self, Audio, BitDepth};
use tubeless_nam::{BuildOptions, Engine, NamFile};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tubeless"))
}

fn run(args: &[&str], cwd: &Path) -> Output {
    bin().args(args).current_dir(cwd).output().unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tubeless-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A WaveNet whose output is its input, at `rate`: 1 channel, kernel 1, an activation
/// that is the identity for audio, residual 1x1 of zero, head 1, head scale 1. Shows
/// timing and level through the whole pipeline without a model's colouring.
fn identity_model(dir: &Path, rate: u32) -> PathBuf {
    let json = format!(
        r#"{{"version": "0.7.0", "architecture": "WaveNet", "sample_rate": {rate},
        "metadata": {{"name": "identity"}},
        "config": {{"layers": [{{"input_size": 1, "condition_size": 1, "channels": 1,
            "head_size": 1, "head_bias": false, "kernel_size": 1, "dilations": [1],
            "activation": {{"type": "Hardtanh", "min_val": -1000, "max_val": 1000}},
            "gated": false}}], "head": null, "head_scale": 1.0}},
        "weights": [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]}}"#
    );
    let p = dir.join(format!("identity-{rate}.nam"));
    std::fs::write(&p, json).unwrap();
    p
}

fn a_real_model() -> PathBuf {
    let fx = common::fixtures_dir();
    let mut v = common::nam_files(&fx);
    v.retain(|p| p.to_string_lossy().contains("wavenet_lite"));
    v.first()
        .cloned()
        .unwrap_or_else(|| common::repo_root().join("assets/demo_amp.nam"))
}

/// Writes a WAV in any encoding, by hand (the project's writer only does what it outputs).
fn write_wav(path: &Path, rate: u32, channels: &[Vec<f32>], tag: u16, bits: u16, extensible: bool) {
    let nch = channels.len() as u16;
    let frames = channels[0].len();
    let width = bits as usize / 8;
    let mut data = Vec::new();
    for i in 0..frames {
        for ch in channels {
            let x = ch[i] as f64;
            match (tag, bits) {
                (1, 8) => data.push(((x * 127.0).round() + 128.0) as u8),
                (1, 16) => data.extend_from_slice(&((x * 32767.0).round() as i16).to_le_bytes()),
                (1, 24) => {
                    data.extend_from_slice(&((x * 8388607.0).round() as i32).to_le_bytes()[..3])
                }
                (1, 32) => {
                    data.extend_from_slice(&((x * 2147483647.0).round() as i32).to_le_bytes())
                }
                (3, 32) => data.extend_from_slice(&(x as f32).to_le_bytes()),
                (3, 64) => data.extend_from_slice(&x.to_le_bytes()),
                _ => unreachable!(),
            }
        }
    }
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&(if extensible { 0xFFFEu16 } else { tag }).to_le_bytes());
    fmt.extend_from_slice(&nch.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * nch as u32 * width as u32).to_le_bytes());
    fmt.extend_from_slice(&(nch * width as u16).to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes());
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&[0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((4 + 8 + fmt.len() + 8 + 6 + 8 + data.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    // An unknown chunk with an odd size (and its pad byte) before the data.
    out.extend_from_slice(b"junk");
    out.extend_from_slice(&5u32.to_le_bytes());
    out.extend_from_slice(b"hello\0");
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).unwrap();
}

/// Writes a 32-bit float WAV.
fn write_float(path: &Path, rate: u32, channels: Vec<Vec<f32>>) {
    let audio = Audio {
        sample_rate: rate,
        channels,
    };
    wav::write(path, &audio, BitDepth::Float32).unwrap();
}

/// `tubeless render -q -m MODEL INPUT -o OUT EXTRA...` in `dir`; must succeed.
fn render_ok(dir: &Path, model: &Path, input: &Path, out: &str, extra: &[&str]) -> Audio {
    let mut args = vec!["render", "-q", "-m", model.to_str().unwrap()];
    args.extend_from_slice(&[input.to_str().unwrap(), "-o", out]);
    args.extend_from_slice(extra);
    let o = run(&args, dir);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    wav::read(&dir.join(out)).unwrap()
}

fn chirp(rate: u32, seconds: f64) -> Vec<f32> {
    let n = (rate as f64 * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            (0.5 * (2.0 * std::f64::consts::PI * (100.0 + 3000.0 * t) * t).sin()) as f32
        })
        .collect()
}

#[test]
fn raw_render_equals_the_engine_at_the_model_rate() {
    let dir = tmpdir("raw");
    let model = a_real_model();
    let file = NamFile::from_path(&model).unwrap();
    let rate = file.sample_rate as u32;
    let x = common::test_signal(30_000, 4);
    write_float(&dir.join("in.wav"), rate, vec![x.clone()]);
    let y = render_ok(&dir, &model, Path::new("in.wav"), "out.wav", &["--raw"]);
    let mut expected = x;
    Engine::build(&file, BuildOptions::default())
        .unwrap()
        .process_buffer(&mut expected);
    assert_eq!(
        y.channels[0], expected,
        "--raw must be the engine, bit for bit"
    );

    let o = run(
        &[
            "render",
            "--raw",
            "-q",
            "--activations",
            "nam-compatible",
            "-m",
            model.to_str().unwrap(),
            "in.wav",
            "-o",
            "fast.wav",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fast = wav::read(&dir.join("fast.wav")).unwrap();
    assert_ne!(
        fast.channels[0], y.channels[0],
        "the activation flag changes the engine"
    );
}

#[test]
fn every_common_format_renders_aligned_and_same_length() {
    let dir = tmpdir("formats");
    let model = identity_model(&dir, 48_000);
    let cases: &[(&str, u16, u16, bool, f32)] = &[
        ("int8", 1, 8, false, 1.0 / 64.0),
        ("int16", 1, 16, false, 1e-4),
        ("int24", 1, 24, false, 1e-5),
        ("int32", 1, 32, false, 1e-5),
        ("float32", 3, 32, false, 1e-5),
        ("float64", 3, 64, false, 1e-5),
        ("ext24", 1, 24, true, 1e-5),
        ("extfloat", 3, 32, true, 1e-5),
    ];
    for &(name, tag, bits, ext, tol) in cases {
        for rate in [44_100u32, 48_000, 96_000] {
            let x = chirp(rate, 0.3);
            let input = dir.join(format!("{name}-{rate}.wav"));
            write_wav(&input, rate, &[x.clone(), x.clone()], tag, bits, ext);
            let out = format!("{name}-{rate}-out.wav");
            let y = render_ok(&dir, &model, &input, &out, &["--raw"]);
            assert_eq!(y.sample_rate, rate);
            assert_eq!(y.channels.len(), 2, "stereo in, stereo out");
            assert_eq!(y.frames(), x.len(), "{name} {rate}: same length");
            assert_eq!(y.channels[0], y.channels[1]);
            // Through an identity model, the output is the input: same level, same timing.
            // (Resampled runs go through the plugin's streaming resamplers, their latency
            // removed; the standard quality's pass band is flat to 0.007 dB, 8e-4 of full
            // scale. The first and last 10 ms see the filters' edges.)
            let edge = (rate / 100) as usize;
            let tol = if rate == 48_000 { tol } else { tol.max(1e-3) };
            let err = (edge..x.len() - edge)
                .map(|i| (y.channels[0][i] - x[i]).abs())
                .fold(0.0, f32::max);
            assert!(err <= tol, "{name} at {rate} Hz: error {err}");
        }
    }
}

#[test]
fn an_impulse_comes_out_where_it_went_in_at_any_rate() {
    let dir = tmpdir("impulse");
    for model_rate in [44_100u32, 48_000, 96_000] {
        let model = identity_model(&dir, model_rate);
        for rate in [44_100u32, 48_000, 88_200, 96_000, 192_000] {
            let mut x = vec![0.0f32; rate as usize / 10];
            let at = x.len() / 2 + 3;
            x[at] = 0.5;
            let input = dir.join(format!("imp-{rate}.wav"));
            write_float(&input, rate, vec![x.clone()]);
            let out = format!("imp-{rate}-{model_rate}-out.wav");
            let y = &render_ok(&dir, &model, &input, &out, &["--raw"]).channels[0];
            assert_eq!(y.len(), x.len());
            let peak_at = (0..y.len())
                .max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs()))
                .unwrap();
            assert_eq!(
                peak_at, at,
                "model {model_rate} Hz, file {rate} Hz: impulse moved"
            );
        }
    }
}

#[test]
fn tail_lengthens_and_chain_applies_gain() {
    let dir = tmpdir("tail");
    let model = identity_model(&dir, 48_000);
    let x = chirp(48_000, 0.5);
    write_float(&dir.join("in.wav"), 48_000, vec![x.clone()]);
    let y = &render_ok(
        &dir,
        &model,
        Path::new("in.wav"),
        "out.wav",
        &["--tail", "0.25", "--output-db", "-6"],
    )
    .channels[0];
    assert_eq!(y.len(), x.len() + 12_000);
    let mid = x.len() / 2;
    let ratio = y[mid - 200..mid + 200]
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt()
        / x[mid - 200..mid + 200]
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
    assert!(
        (ratio - 0.501).abs() < 0.01,
        "-6 dB output gain, got ratio {ratio}"
    );
}

#[test]
fn never_overwrites_inputs_and_outputs_only_with_force() {
    let dir = tmpdir("overwrite");
    let model = identity_model(&dir, 48_000);
    let m = model.to_str().unwrap();
    wav::write(
        &dir.join("in.wav"),
        &Audio {
            sample_rate: 48_000,
            channels: vec![vec![0.1; 1000]],
        },
        BitDepth::Int24,
    )
    .unwrap();
    let before = std::fs::read(dir.join("in.wav")).unwrap();

    let o = run(
        &["render", "-q", "-m", m, "in.wav", "-o", "in.wav", "--force"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("output would overwrite an input"),
        "{}",
        stderr(&o)
    );
    let o = run(&["render", "-q", "-m", m, "in.wav", "-o", "."], &dir);
    assert_eq!(o.status.code(), Some(1), "writing ./in.wav is the input");
    assert_eq!(std::fs::read(dir.join("in.wav")).unwrap(), before);

    let o = run(&["render", "-q", "-m", m, "in.wav"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("tubeless-out/in.wav"),
        "says where the file went"
    );
    let o = run(&["render", "-q", "-m", m, "in.wav"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = run(&["render", "-q", "-m", m, "in.wav", "--force"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn folders_render_in_parallel_into_a_folder() {
    let dir = tmpdir("folder");
    let model = identity_model(&dir, 48_000);
    std::fs::create_dir_all(dir.join("takes")).unwrap();
    for k in 0..5 {
        let x = vec![0.01 * k as f32; 2000 + k * 100];
        wav::write(
            &dir.join(format!("takes/take{k}.wav")),
            &Audio {
                sample_rate: 44_100,
                channels: vec![x],
            },
            BitDepth::Int16,
        )
        .unwrap();
    }
    std::fs::write(dir.join("takes/notes.txt"), "not audio").unwrap();
    let o = run(
        &[
            "render",
            "-q",
            "-j",
            "3",
            "-m",
            model.to_str().unwrap(),
            "takes",
            "-o",
            "rendered",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for k in 0..5 {
        let y = wav::read(&dir.join(format!("rendered/take{k}.wav"))).unwrap();
        assert_eq!(y.frames(), 2000 + k * 100);
        assert_eq!(y.sample_rate, 44_100);
    }
}

#[test]
fn failures_have_clear_messages_and_exit_codes() {
    let dir = tmpdir("errors");
    let model = identity_model(&dir, 48_000);
    let m = model.to_str().unwrap();
    std::fs::write(dir.join("bad.wav"), b"RIFF\0\0\0\0WAVEjunk").unwrap();
    let o = run(&["render", "-q", "-m", m, "bad.wav"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.wav: invalid header: no `data` chunk"),
        "{}",
        stderr(&o)
    );

    let o = run(&["render", "-q", "-m", m, "missing.wav"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("missing.wav: no such file or folder"),
        "{}",
        stderr(&o)
    );

    let bad_model = common::bad_files_dir().join("weights_too_few.nam");
    let o = run(&["info", bad_model.to_str().unwrap()], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("`weights` has 41 values, the config needs 42"),
        "{}",
        stderr(&o)
    );

    let o = run(&["render", "-m", m], &dir);
    assert_eq!(o.status.code(), Some(2), "usage error");
    let o = run(&["render", "-q", "-m", m, "x.wav", "--tail", "-1"], &dir);
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn info_and_bench_describe_the_model() {
    let dir = tmpdir("info");
    let model = a_real_model();
    let o = run(&["info", "--json", model.to_str().unwrap()], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let file = NamFile::from_path(&model).unwrap();
    assert_eq!(v["receptive_field"], file.receptive_field());
    assert_eq!(v["weights"], file.weights.len());
    assert_eq!(v["latency_samples"], 0);
    assert!(v["real_time_factor"].as_f64().unwrap() > 0.0);
    let o = run(&["info", model.to_str().unwrap()], &dir);
    assert!(String::from_utf8_lossy(&o.stdout).contains("receptive field"));
    let o = run(
        &[
            "bench",
            "--seconds",
            "0.05",
            "--block",
            "64",
            model.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("real-time factor"));
}

#[test]
fn odd_inputs_render_safely() {
    let dir = tmpdir("odd");
    let model = a_real_model();
    let cases: Vec<(&str, u32, Vec<f32>)> = vec![
        ("empty", 48_000, vec![]),
        ("one", 48_000, vec![0.5]),
        ("one-44k", 44_100, vec![0.5]),
        (
            "nan",
            48_000,
            vec![
                0.1,
                f32::NAN,
                f32::INFINITY,
                -f32::INFINITY,
                0.2,
                1e30,
                -0.3,
            ],
        ),
        ("8k", 8_000, chirp(8_000, 0.1)),
        ("384k", 384_000, chirp(384_000, 0.02)),
    ];
    for (name, rate, x) in cases {
        let input = dir.join(format!("{name}.wav"));
        write_float(&input, rate, vec![x.clone()]);
        let out = format!("{name}-out.wav");
        let y = render_ok(&dir, &model, &input, &out, &[]);
        assert_eq!(y.frames(), x.len(), "{name}");
        assert_eq!(y.sample_rate, rate);
        assert!(
            y.channels[0].iter().all(|v| v.is_finite()),
            "{name}: non-finite output"
        );
    }
}

/// A decaying-noise stereo IR, 0.2 s at 44.1 kHz (so it is resampled for the file).
fn stereo_ir(dir: &Path) -> PathBuf {
    let n = 8820;
    let mut seed = 99u32;
    let chans: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(1664525).wrapping_add(1013904223 + c);
                    ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * (-(i as f32) / 1500.0).exp()
                })
                .collect()
        })
        .collect();
    let p = dir.join("cab.wav");
    wav::write(
        &p,
        &Audio {
            sample_rate: 44_100,
            channels: chans,
        },
        BitDepth::Float32,
    )
    .unwrap();
    p
}

#[test]
fn a_plugin_preset_and_the_same_flags_render_what_the_chain_renders() {
    use tubeless_dsp::ir::IrFile;
    use tubeless_dsp::preset::Preset;
    use tubeless_dsp::render::{render, RenderOptions};
    let dir = tmpdir("preset");
    let model = common::repo_root().join("assets/demo_amp.nam");
    let ir = stereo_ir(&dir);
    let x = chirp(48_000, 0.5);
    let input = dir.join("di.wav");
    write_wav(&input, 48_000, std::slice::from_ref(&x), 3, 32, false);
    // The plugin's own state format, as "Save preset..." writes it.
    let preset = serde_json::json!({
        "version": "0.1.0",
        "params": {
            "gate_db": {"f32": -40.0}, "bass": {"f32": 8.0}, "treble": {"f32": 3.0},
            "in_db": {"f32": 3.0}, "outmode": {"string": "raw"}
        },
        "fields": {
            "model": serde_json::json!({"path": model.display().to_string()}).to_string(),
            "ir": serde_json::json!({"path": ir.display().to_string()}).to_string()
        }
    });
    let preset_path = dir.join("preset.json");
    std::fs::write(&preset_path, preset.to_string()).unwrap();
    let o = run(
        &[
            "render",
            "-q",
            "--preset",
            preset_path.to_str().unwrap(),
            input.to_str().unwrap(),
            "-o",
            "p.wav",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let by_preset = wav::read(&dir.join("p.wav")).unwrap();
    assert_eq!(
        by_preset.channels.len(),
        2,
        "a stereo IR makes the output stereo"
    );

    let flags = render_ok(
        &dir,
        &model,
        &input,
        "f.wav",
        &[
            "--ir",
            ir.to_str().unwrap(),
            "--gate-db",
            "-40",
            "--bass",
            "8",
            "--treble",
            "3",
            "--input-db",
            "3",
            "--output-mode",
            "raw",
        ],
    );
    assert_eq!(flags.channels, by_preset.channels, "flags and preset agree");

    let p = Preset::from_json(&preset).unwrap();
    let file = NamFile::from_path(&model).unwrap();
    let irf = IrFile::load(&ir).unwrap();
    let audio = Audio {
        sample_rate: 48_000,
        channels: vec![x],
    };
    let opts = RenderOptions {
        chain: p.settings,
        ..RenderOptions::default()
    };
    let want = render(&file, Some(&irf), &audio, &opts, &mut |_| {}).unwrap();
    for ch in 0..2 {
        let (err, _) = common::max_err(&by_preset.channels[ch], &want.channels[ch]);
        assert!(err <= 1e-6, "channel {ch}: {err}");
    }
    // A preset whose model is gone: the embedded copy (none here) cannot stand in.
    let broken = serde_json::json!({"fields": {"model": "{\"path\": \"/nope/amp.nam\"}"}});
    std::fs::write(dir.join("broken.json"), broken.to_string()).unwrap();
    let o = run(
        &[
            "render",
            "-q",
            "--preset",
            "broken.json",
            input.to_str().unwrap(),
            "-o",
            "b.wav",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nope/amp.nam"), "{}", stderr(&o));
}
