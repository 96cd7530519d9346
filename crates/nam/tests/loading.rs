//! Loading rules: versions, sample rates, lenient metadata, both WaveNet schemas, and every
//! real-world capture in `../shared/models/real/` (when present).

mod common;

use serde_json::{json, Value};
use tubeless_nam::{
    Activation, BuildOptions, Engine, Error, ModelConfig, NamFile, Version, DEFAULT_SAMPLE_RATE,
};

fn base() -> Value {
    let text = std::fs::read_to_string(common::bad_files_dir().join("valid_wavenet.nam")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load(v: &Value) -> Result<NamFile, Error> {
    NamFile::from_value(v)
}

#[test]
fn versions_from_0_5_0_to_0_7_x_load_newer_minor_is_refused() {
    for v in [
        "0.5.0", "0.5.1", "0.5.2", "0.5.3", "0.5.4", "0.6.0", "0.7.0",
    ] {
        let mut d = base();
        d["version"] = json!(v);
        let f = load(&d).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert!(f.warnings.is_empty(), "{v}: {:?}", f.warnings);
    }
    let mut d = base();
    d["version"] = json!("0.7.3");
    let f = load(&d).unwrap();
    assert_eq!(f.version, Version::new(0, 7, 3));
    assert!(
        f.warnings.iter().any(|w| w.contains("0.7.3")),
        "{:?}",
        f.warnings
    );
    d["version"] = json!("0.8.0");
    assert!(matches!(load(&d), Err(Error::VersionTooNew { .. })));
}

#[test]
fn sample_rate_int_float_null_or_absent() {
    let mut d = base();
    d["sample_rate"] = json!(44100);
    assert_eq!(load(&d).unwrap().sample_rate, 44100.0);
    d["sample_rate"] = json!(96000.0);
    assert_eq!(load(&d).unwrap().sample_rate, 96000.0);
    d["sample_rate"] = Value::Null;
    let f = load(&d).unwrap();
    assert_eq!(
        (f.sample_rate, f.sample_rate_stated),
        (DEFAULT_SAMPLE_RATE, false)
    );
    d.as_object_mut().unwrap().remove("sample_rate");
    assert_eq!(load(&d).unwrap().sample_rate, 48000.0);
}

#[test]
fn metadata_is_lenient_and_keeps_unknown_keys() {
    let mut d = base();
    d["metadata"] = json!({
        "name": "Plexi", "modeled_by": 42, "gear_type": "amp", "tone_type": "crunch",
        "loudness": -17.5, "gain": "high", "input_level_dbu": 12.0, "output_level_dbu": null,
        "date": {"year": 2024, "month": 13, "day": 1}, "validation_esr": 0.01,
        "training": {"anything": [1, 2]}, "my_own_key": {"x": 1}
    });
    let f = load(&d).unwrap();
    let m = &f.metadata;
    assert_eq!(m.name.as_deref(), Some("Plexi"));
    assert_eq!(m.modeled_by, None);
    assert_eq!(m.gain, None);
    assert_eq!(m.date, None);
    assert_eq!(m.loudness, Some(-17.5));
    assert_eq!(m.input_level_dbu, Some(12.0));
    assert!(m.training.is_some());
    assert_eq!(m.extra.get("my_own_key"), Some(&json!({"x": 1})));
    assert_eq!(f.warnings.len(), 3, "{:?}", f.warnings);
    d["metadata"] = json!("not an object");
    assert!(load(&d).is_ok());
}

#[test]
fn the_0_7_0_schema_with_knobs_off_equals_the_legacy_schema() {
    let legacy = base();
    let mut modern = base();
    modern["version"] = json!("0.7.0");
    let arr = modern["config"]["layers"][0].as_object_mut().unwrap();
    for k in [
        "head_size",
        "head_bias",
        "kernel_size",
        "activation",
        "gated",
    ] {
        arr.remove(k);
    }
    let off = json!({"active": false, "shift": true, "groups": 1});
    arr.insert(
        "head".into(),
        json!({"out_channels": 1, "kernel_size": 1, "bias": true}),
    );
    arr.insert("kernel_sizes".into(), json!([2, 2]));
    arr.insert(
        "activation".into(),
        json!([{"type": "Tanh"}, {"type": "Tanh"}]),
    );
    arr.insert("gating_mode".into(), json!(["none", "none"]));
    arr.insert("secondary_activation".into(), json!([null, null]));
    arr.insert("bottleneck".into(), json!(2));
    arr.insert("layer1x1".into(), json!({"active": true, "groups": 1}));
    arr.insert(
        "head1x1".into(),
        json!({"active": false, "out_channels": 2, "groups": 1}),
    );
    arr.insert("groups_input".into(), json!(1));
    arr.insert("groups_input_mixin".into(), json!(1));
    for slot in [
        "conv_pre_film",
        "conv_post_film",
        "input_mixin_pre_film",
        "input_mixin_post_film",
        "activation_pre_film",
        "activation_post_film",
        "layer1x1_post_film",
        "head1x1_post_film",
    ] {
        arr.insert(slot.into(), off.clone());
    }
    arr.insert("slimmable".into(), Value::Null);
    let (a, b) = (load(&legacy).unwrap(), load(&modern).unwrap());
    assert_eq!(a.model, b.model);
    let run = |f: &NamFile| {
        let mut e = Engine::build(f, BuildOptions::default()).unwrap();
        let mut x = common::test_signal(2000, 3);
        e.process_buffer(&mut x);
        x
    };
    assert_eq!(run(&a), run(&b));
}

#[test]
fn activation_objects_and_gating_modes_parse() {
    let mut d = base();
    d["version"] = json!("0.7.0");
    d["config"]["layers"][0]["activation"] =
        json!([{"type": "LeakyReLU", "negative_slope": 0.2}, "Softsign"]);
    let f = load(&d).unwrap();
    let ModelConfig::WaveNet(wn) = &f.model else {
        panic!()
    };
    assert_eq!(
        wn.arrays[0].layers[0].activation,
        Activation::LeakyReLU {
            negative_slope: 0.2
        }
    );
    assert_eq!(wn.arrays[0].layers[1].activation, Activation::Softsign);
}

#[test]
fn every_real_capture_loads_and_runs() {
    let Some(dir) = common::shared_models() else {
        eprintln!("skipped: ../shared/models not present");
        return;
    };
    let files = common::nam_files(&dir.join("real"));
    if files.is_empty() {
        eprintln!("skipped: no real captures");
        return;
    }
    let input = common::test_signal(4800, 11);
    for path in &files {
        let f = NamFile::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut e = Engine::build(&f, BuildOptions::default()).unwrap();
        let mut y = input.clone();
        e.process_buffer(&mut y);
        let peak = y.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            y.iter().all(|x| x.is_finite()) && peak > 1e-4,
            "{}",
            path.display()
        );
        assert_eq!(e.latency(), 0);
        assert_eq!(e.receptive_field(), f.receptive_field());
    }
    eprintln!("{} real captures loaded and ran", files.len());
}

/// NeuralAmpModelerCore's own example files: every one loads and runs.
#[test]
fn core_examples_all_load_and_run() {
    let Some(dir) = common::shared_models() else {
        eprintln!("skipped: ../shared/models not present");
        return;
    };
    let files = common::nam_files(&dir.join("core-examples"));
    for path in &files {
        let f = NamFile::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut e = Engine::build(&f, BuildOptions::default()).unwrap();
        let mut y = common::test_signal(2000, 1);
        e.process_buffer(&mut y);
        assert!(y.iter().all(|x| x.is_finite()));
        eprintln!(
            "{}: {} (steps {:?}) {:?}",
            path.display(),
            f.summary(),
            e.size_steps(),
            f.warnings
        );
    }
    assert!(files.len() >= 9, "{} core examples", files.len());
}

/// A condition DSP of any architecture: an identity FIR (one tap of 1, no bias) as the
/// condition DSP changes nothing; an LSTM one runs, and adds its half second of prewarm.
#[test]
fn a_condition_dsp_may_be_any_architecture() {
    let plain = base();
    let mut with_fir = base();
    with_fir["version"] = json!("0.6.0");
    with_fir["config"]["condition_dsp"] = json!({
        "version": "0.5.4", "architecture": "Linear", "sample_rate": 48000,
        "config": {"receptive_field": 1, "bias": false}, "weights": [1.0]
    });
    let run = |v: &Value| {
        let f = load(v).unwrap();
        let mut e = Engine::build(&f, BuildOptions::default()).unwrap();
        let mut x = common::test_signal(3000, 8);
        e.process_buffer(&mut x);
        (x, f.receptive_field(), f.prewarm_samples())
    };
    let (a, rf_a, pw_a) = run(&plain);
    let (b, rf_b, pw_b) = run(&with_fir);
    assert_eq!(a, b);
    assert_eq!(
        (rf_a, pw_a),
        (rf_b, pw_b + 1),
        "a 1-tap FIR adds no history"
    );
    let mut with_lstm = base();
    with_lstm["config"]["condition_dsp"] = serde_json::from_str(
        &std::fs::read_to_string(common::bad_files_dir().join("valid_lstm.nam")).unwrap(),
    )
    .unwrap();
    let (c, rf_c, pw_c) = run(&with_lstm);
    assert!(c.iter().all(|x| x.is_finite()) && c != a);
    assert_eq!((rf_c, pw_c), (rf_a, 24_000 + rf_a - 1));
}
