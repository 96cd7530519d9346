//! The bundled `.clap` in a test host, as a DAW runs it: activate at 48 kHz, restore a
//! session that names a model, play audio in every block pattern and get exactly what the
//! CLI renders, report latency, save and restore into a second instance, and survive a
//! missing or moved model without losing it from the session.

mod common;

use common::*;
use serde_json::json;
use tubeless_dsp::render::{render, RenderOptions};
use tubeless_dsp::wav::Audio;
use tubeless_nam::NamFile;

const RATE: f64 = 48_000.0;
const MAX_BLOCK: u32 = 1024;

fn fresh(clap: &std::path::Path) -> (Instance, serde_json::Value) {
    let mut p = Instance::load(clap);
    p.activate(RATE, MAX_BLOCK);
    let state = state_json(&p.save_state());
    (p, state)
}

fn with_model(clap: &std::path::Path, model: serde_json::Value) -> Instance {
    let (mut p, state) = fresh(clap);
    assert!(p.load_state(&state_bytes(&with_model_field(&state, &model))));
    p
}

fn cli_render(model: &std::path::Path, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let file = NamFile::from_path(model).unwrap();
    let audio = Audio {
        sample_rate: RATE as u32,
        channels: input.to_vec(),
    };
    render(&file, None, &audio, &RenderOptions::default(), &mut |_| {})
        .unwrap()
        .channels
}

#[test]
fn plays_what_the_cli_renders_in_every_block_pattern_and_round_trips_its_state() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let model = demo_model();
    let n = 30_000;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 1)];
    let want = cli_render(&model, &input);
    let mono: Vec<f32> = input[0]
        .iter()
        .zip(&input[1])
        .map(|(a, b)| (a + b) * 0.5)
        .collect();
    assert!(
        max_abs_diff(&want[0], &mono) > 0.05,
        "the model must change the sound"
    );

    let mut first = None;
    for (name, blocks) in block_patterns(n, MAX_BLOCK as usize, 3) {
        let mut p = with_model(&clap, json!({ "path": model.display().to_string() }));
        assert_eq!(p.latency(), 0, "latency at the model's rate");
        let got = p.render(&input, &blocks);
        for ch in 0..2 {
            let d = max_abs_diff(&got[ch], &want[ch]);
            assert!(
                d <= 1e-6,
                "blocks {name}, channel {ch}: differs from the CLI by {d}"
            );
        }
        if first.is_none() {
            first = Some((p.save_state(), got));
        }
    }

    // The saved session names the model and carries it; a second instance restored from it
    // plays the same samples.
    let (saved, got) = first.unwrap();
    let field = model_field(&state_json(&saved));
    assert_eq!(field["path"], json!(model.display().to_string()));
    assert_eq!(field["embedded"]["codec"], json!("nam-f32le-base64"));
    let (mut second, _) = fresh(&clap);
    assert!(second.load_state(&saved));
    let again = second.render(&input, &block_patterns(n, MAX_BLOCK as usize, 9)[2].1);
    assert_eq!(again, got, "restored instance plays differently");
    assert_eq!(model_field(&state_json(&second.save_state())), field);
}

#[test]
fn a_missing_model_leaves_audio_passing_and_the_session_unchanged() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let n = 4096;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 2)];
    let missing = json!({ "v": 1, "path": "/nonexistent/amp.nam", "embed": true });
    let mut p = with_model(&clap, missing.clone());
    let got = p.render(&input, &vec![256; n / 256]);
    let mono: Vec<f32> = input[0]
        .iter()
        .zip(&input[1])
        .map(|(a, b)| (a + b) * 0.5)
        .collect();
    // No model: the input passes through the rest of the chain (gate open, EQ flat, no
    // cab), where only the 5 Hz DC blocker touches it.
    let mut dc = mono.clone();
    tubeless_dsp::dc_blocker::DcBlocker::new(RATE).process(&mut dc);
    assert_eq!(got[0], dc, "no model: the input passes through");
    assert_eq!(model_field(&state_json(&p.save_state())), missing);

    // A field that is not even an object is kept too.
    let odd = json!({ "path": 42, "future_key": [1, 2, 3] });
    let mut p = with_model(&clap, odd.clone());
    p.render(&input, &vec![256; n / 256]);
    assert_eq!(model_field(&state_json(&p.save_state())), odd);
}

#[test]
fn a_moved_model_plays_from_the_copy_saved_in_the_session() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tubeless-moved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let moved = dir.join("amp.nam");
    std::fs::copy(demo_model(), &moved).unwrap();
    let n = 8192;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 0)];

    let mut p = with_model(&clap, json!({ "path": moved.display().to_string() }));
    let before = p.render(&input, &vec![512; n / 512]);
    let saved = p.save_state();
    std::fs::remove_file(&moved).unwrap();

    let (mut q, _) = fresh(&clap);
    assert!(q.load_state(&saved));
    let after = q.render(&input, &vec![512; n / 512]);
    assert_eq!(after, before, "the embedded copy is the same model");
    // Saved again as it came: the path still names where the user keeps it.
    assert_eq!(
        model_field(&state_json(&q.save_state())),
        model_field(&state_json(&saved))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_script_can_load_a_model_with_just_a_path() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    // The smallest state a script can write: parameters omitted, one field.
    let (mut p, _) = fresh(&clap);
    let minimal = json!({
        "params": {},
        "fields": { "model": json!({"path": demo_model().display().to_string()}).to_string() }
    });
    assert!(p.load_state(&state_bytes(&minimal)));
    let n = 4096;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 0)];
    let got = p.render(&input, &vec![512; n / 512]);
    let want = cli_render(&demo_model(), &input);
    assert!(max_abs_diff(&got[0], &want[0]) <= 1e-6);
}

#[test]
fn dual_mono_plays_what_the_cli_renders_in_dual_mono() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let model = demo_model();
    let n = 12_000;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 3)];
    let file = NamFile::from_path(&model).unwrap();
    let mut opts = RenderOptions::default();
    opts.chain.channel_mode = tubeless_dsp::ChannelMode::DualMono;
    let audio = Audio {
        sample_rate: RATE as u32,
        channels: input.clone(),
    };
    let want = render(&file, None, &audio, &opts, &mut |_| {})
        .unwrap()
        .channels;
    assert!(
        max_abs_diff(&want[0], &want[1]) > 0.05,
        "left and right must differ"
    );
    let mut p = with_model(&clap, json!({ "path": model.display().to_string() }));
    p.set_param("chmode", 1.0);
    let got = p.render(&input, &vec![300; n / 300]);
    for ch in 0..2 {
        let d = max_abs_diff(&got[ch], &want[ch]);
        assert!(d <= 1e-6, "channel {ch}: differs from the CLI by {d}");
    }
}

/// Largest sample-to-sample step in `y[range]`.
fn max_step(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn a_model_swap_while_playing_crossfades_without_a_click() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let (a, b) = (demo_model(), fixture("wavenet_nano_v054.nam"));
    let n = 24_000;
    let switch = 9_600; // a block boundary: the swap starts with the block after the load
    let block = 64;
    let input = vec![guitar(n, RATE, 0), guitar(n, RATE, 0)];
    let mut p = with_model(&clap, json!({ "path": a.display().to_string() }));
    let head: Vec<Vec<f32>> = input.iter().map(|c| c[..switch].to_vec()).collect();
    let mut got = p.render(&head, &vec![block; switch / block]);
    let state = state_json(&p.save_state());
    assert!(p.load_state(&state_bytes(&with_model_field(
        &state,
        &json!({ "path": b.display().to_string() })
    ))));
    let tail: Vec<Vec<f32>> = input.iter().map(|c| c[switch..].to_vec()).collect();
    let rest = p.render(&tail, &vec![block; (n - switch) / block]);
    got[0].extend_from_slice(&rest[0]);

    // What each model alone plays: the old one all along, the new one (freshly built, as
    // the loader builds it) from the switch on.
    let old = cli_render(&a, &input)[0].clone();
    let mut new = old[..switch].to_vec();
    new.extend_from_slice(&cli_render(&b, &tail)[0]);
    let fade = (tubeless_dsp::chain::SWAP_FADE_MS * 1e-3 * RATE) as usize;
    let window = switch - 2..switch + fade + 2;
    let steady = max_step(&old[window.clone()]).max(max_step(&new[window.clone()]));
    let gap = window
        .clone()
        .map(|i| (old[i] - new[i]).abs())
        .fold(0.0f32, f32::max);
    let bound = steady * 1.02 + gap * std::f32::consts::PI / (2.0 * fade as f32) + 1e-5;
    let seen = max_step(&got[0][window.clone()]);
    assert!(seen <= bound, "step {seen} at the swap > bound {bound}");
    let hard = window
        .map(|i| (new[i] - old[i - 1]).abs())
        .fold(0.0f32, f32::max);
    assert!(
        hard > bound,
        "a hard switch ({hard}) would pass too: the test cannot tell"
    );
    assert!(max_abs_diff(&got[0][..switch], &old[..switch]) <= 1e-6);
    // After the fade the new model plays; only the DC blocker's memory of the old
    // model's offset remains, a drift without steps that dies away.
    let drift: Vec<f32> = got[0][switch + fade..]
        .iter()
        .zip(&new[switch + fade..])
        .map(|(a, b)| a - b)
        .collect();
    assert!(max_step(&drift) < 1e-4, "{}", max_step(&drift));
    let end = drift[drift.len() - 500..]
        .iter()
        .fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(end < 2e-3, "{end}");
}

/// An identity model at `rate` (a one-tap Linear), for reading timing off the output.
fn identity_at(dir: &std::path::Path, rate: u32) -> std::path::PathBuf {
    let p = dir.join(format!("identity-{rate}.nam"));
    let json = json!({
        "version": "0.5.4", "architecture": "Linear", "sample_rate": rate,
        "config": {"receptive_field": 1, "bias": false}, "weights": [1.0]
    });
    std::fs::write(&p, json.to_string()).unwrap();
    p
}

#[test]
fn the_reported_latency_is_the_measured_delay_at_every_common_rate_pair() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let dir = tmpdir("latency");
    // (host rate, model rate): a 48 kHz model at every common host rate, and models at
    // 44.1 and 96 kHz in a 48 kHz session.
    let pairs = [
        (44_100.0, 48_000),
        (48_000.0, 48_000),
        (88_200.0, 48_000),
        (96_000.0, 48_000),
        (176_400.0, 48_000),
        (192_000.0, 48_000),
        (48_000.0, 44_100),
        (48_000.0, 96_000),
    ];
    for (host, model_rate) in pairs {
        let model = identity_at(&dir, model_rate);
        let expected = tubeless_dsp::stream_resample::ResamplerPair::new(
            host,
            model_rate as f64,
            512,
            Default::default(),
        )
        .unwrap()
        .latency();
        let n = (0.2 * host) as usize;
        let mut impulse = vec![0.0f32; n];
        impulse[n / 3] = 0.5;
        for (what, x) in [("click", click(n, n / 4, host)), ("impulse", impulse)] {
            for (name, blocks) in block_patterns(n, 512, 5)
                .into_iter()
                .filter(|(b, _)| b != "1")
            {
                let mut p = Instance::load(&clap);
                p.activate(host, 512);
                let state = state_json(&p.save_state());
                let state =
                    with_model_field(&state, &json!({ "path": model.display().to_string() }));
                assert!(p.load_state(&state_bytes(&state)));
                p.set_param("gate_on", 0.0); // a click in silence would open a gate slowly
                let y = p.render(&[x.clone(), x.clone()], &blocks);
                let reported = p.latency() as usize;
                assert_eq!(reported, expected, "{host}/{model_rate}: reported latency");
                assert_eq!(
                    reported == 0,
                    host == model_rate as f64,
                    "latency 0 only at the model's rate"
                );
                // The reference: the input through the chain's 5 Hz DC blocker, whose phase
                // lead would otherwise read as a fraction of a sample.
                let mut xr = x.clone();
                tubeless_dsp::dc_blocker::DcBlocker::new(host).process(&mut xr);
                if what == "impulse" {
                    // Sample-exact: the loudest output sample is the impulse's, moved by
                    // exactly the reported latency.
                    let peak = (0..n)
                        .max_by(|&a, &b| y[0][a].abs().total_cmp(&y[0][b].abs()))
                        .unwrap();
                    assert_eq!(
                        peak,
                        n / 3 + reported,
                        "{host}/{model_rate}, impulse, blocks {name}"
                    );
                    continue;
                }
                let d = measured_delay(&xr, &y[0], 400);
                assert!(
                    (d - reported as f64).abs() < 0.05,
                    "{host}/{model_rate}, click, blocks {name}: measured {d:.3} samples, reported {reported}"
                );
                if what == "click" {
                    // Once the latency is removed, the output is the (band-limited) input.
                    let err = xr[..n - reported]
                        .iter()
                        .zip(&y[0][reported..])
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max);
                    assert!(
                        err < 5e-3,
                        "{host}/{model_rate}, blocks {name}: aligned output off by {err}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_setting_survives_a_save_and_restore() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let dir = tmpdir("settings");
    let ir = cab_ir(&dir, 2, 0.2);
    let (mut p, _) = fresh(&clap);
    // Every setting away from its default, as a session holds them.
    let mut state = state_json(&p.save_state());
    let params = json!({
        "in_db": {"f32": 4.5}, "out_db": {"f32": -7.0}, "chmode": {"string": "dual"},
        "outmode": {"string": "raw"}, "bypass": {"bool": false}, "gate_on": {"bool": false},
        "gate_db": {"f32": -42.0}, "gate_att_ms": {"f32": 12.0}, "gate_hold_ms": {"f32": 80.0},
        "gate_rel_ms": {"f32": 300.0}, "eq_on": {"bool": false}, "bass": {"f32": 7.5},
        "middle": {"f32": 2.0}, "treble": {"f32": 9.0}, "ir_on": {"bool": false},
        "cal_on": {"bool": true}, "cal_dbu": {"f32": 3.5}, "size": {"f32": 0.4}
    });
    state["params"] = params.clone();
    let mut state = with_model_field(
        &state,
        &json!({ "path": demo_model().display().to_string() }),
    );
    state["fields"]["ir"] = json!(json!({ "path": ir.display().to_string() }).to_string());
    state["fields"]["options"] = json!(json!({ "resampler": "high" }).to_string());
    assert!(p.load_state(&state_bytes(&state)));
    p.render(&[vec![0.0; 64], vec![0.0; 64]], &[64]);
    let saved = state_json(&p.save_state());
    let (mut q, _) = fresh(&clap);
    assert!(q.load_state(&common::state_bytes(&saved)));
    let again = state_json(&q.save_state());
    assert_eq!(again["params"], saved["params"]);
    assert_eq!(again["fields"], saved["fields"]);
    assert_eq!(again["params"], params, "every parameter as it was set");
    let ir_field: serde_json::Value =
        serde_json::from_str(again["fields"]["ir"].as_str().unwrap()).unwrap();
    assert_eq!(ir_field["path"], json!(ir.display().to_string()));
    assert_eq!(ir_field["embedded"]["codec"], json!("wav-base64"));
    assert_eq!(
        again["fields"]["options"],
        json!("{\"resampler\":\"high\"}")
    );
}

#[test]
fn with_a_cab_gate_and_eq_the_plugin_plays_what_the_cli_renders_from_its_preset() {
    let Some(clap) = bundle("Tubeless.clap") else {
        return;
    };
    let dir = tmpdir("amp-chain");
    let ir = cab_ir(&dir, 2, 0.3);
    let (mut p, state) = fresh(&clap);
    let mut state = with_model_field(
        &state,
        &json!({ "path": demo_model().display().to_string() }),
    );
    state["fields"]["ir"] = json!(json!({ "path": ir.display().to_string() }).to_string());
    let set = |s: &mut serde_json::Value, id: &str, v: serde_json::Value| s["params"][id] = v;
    set(&mut state, "gate_db", json!({"f32": -45.0}));
    set(&mut state, "gate_rel_ms", json!({"f32": 120.0}));
    set(&mut state, "bass", json!({"f32": 7.0}));
    set(&mut state, "middle", json!({"f32": 3.5}));
    set(&mut state, "treble", json!({"f32": 8.0}));
    set(&mut state, "in_db", json!({"f32": 6.0}));
    assert!(p.load_state(&state_bytes(&state)));
    let n = 30_000;
    // Notes with silences between them, so the gate opens and closes.
    let mut x = guitar(n, RATE, 0);
    for (i, v) in x.iter_mut().enumerate() {
        if (i / 6000) % 2 == 1 {
            *v *= 1e-4;
        }
    }
    let got = p.render(&[x.clone(), x.clone()], &block_patterns(n, 1024, 8)[3].1);

    let preset = tubeless_dsp::preset::Preset::from_json(&state_json(&p.save_state())).unwrap();
    let opts = RenderOptions {
        chain: preset.settings,
        quality: preset.quality,
        ..RenderOptions::default()
    };
    let file = NamFile::from_path(demo_model()).unwrap();
    let irf = tubeless_dsp::ir::IrFile::load(&ir).unwrap();
    let audio = Audio {
        sample_rate: RATE as u32,
        channels: vec![x.clone(), x],
    };
    let want = render(&file, Some(&irf), &audio, &opts, &mut |_| {})
        .unwrap()
        .channels;
    assert!(
        max_abs_diff(&want[0], &want[1]) > 1e-3,
        "a stereo cab makes the sides differ"
    );
    for ch in 0..2 {
        let d = max_abs_diff(&got[ch], &want[ch]);
        assert!(
            d <= 1e-6,
            "channel {ch}: the plugin differs from the CLI's render by {d}"
        );
    }
}
