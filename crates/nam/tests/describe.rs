//! What a file says about itself, for every architecture: the one-line summary, the
//! machine-readable description (nested models included), the cost in multiply-adds per
//! sample (against hand counts), the weight count, the size steps, and how nested models
//! take their sample rate.

mod common;

use serde_json::{json, Value};
use tubeless_nam::{BuildOptions, Engine, NamFile};

fn fixture(name: &str) -> NamFile {
    NamFile::from_path(common::fixtures_dir().join(format!("{name}.nam"))).unwrap()
}

fn control(name: &str) -> Value {
    let text =
        std::fs::read_to_string(common::bad_files_dir().join(format!("{name}.nam"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An A1 array's multiply-adds: rechannel, per layer (dilated conv, mono mixin, 1x1),
/// head rechannel.
fn a1_array(
    input: usize,
    ch: usize,
    head: usize,
    layers: usize,
    kernel: usize,
    gated: bool,
) -> u64 {
    let mid = if gated { 2 * ch } else { ch };
    (input * ch + layers * (ch * mid * kernel + mid + ch * ch) + head * ch) as u64
}

#[test]
fn summaries_name_every_architecture() {
    for (name, summary) in [
        (
            "wavenet_standard_v054",
            "WaveNet 16->8 (10 layers, kernel 3, Tanh), 8->1 (10 layers, kernel 3, Tanh)",
        ),
        ("lstm_standard_v070", "LSTM 1 layer x 24 hidden"),
        ("lstm_lite_v070", "LSTM 2 layers x 8 hidden"),
        (
            "convnet_batchnorm_v070",
            "ConvNet 6 channels x 8 blocks (Tanh, batchnorm)",
        ),
        (
            "convnet_plain_v070",
            "ConvNet 4 channels x 6 blocks (LeakyReLU)",
        ),
        ("linear_v070", "Linear FIR, 96 taps, bias"),
        (
            "sequential_wavenet_lstm_v070",
            "Sequential: WaveNet 4->2 (7 layers, kernel 3, Tanh), 2->1 (3 layers, kernel 3, \
             Tanh) -> LSTM 1 layer x 5 hidden",
        ),
        (
            "wavenet_slimmable_v070",
            "WaveNet 6->1 (9 layers, kernel 3, Tanh, slimmable to 2/4/6 channels)",
        ),
    ] {
        assert_eq!(fixture(name).summary(), summary, "{name}");
    }
    let c = fixture("container_lstm_wavenets_v070").summary();
    assert!(
        c.starts_with("SlimmableContainer of 3 sizes (below 0.3: LSTM 1 layer x 6 hidden | below 0.7: WaveNet 3->2"),
        "{c}"
    );
    let a2 = fixture("a2_everything_v070").summary();
    for part in [
        "blended",
        "gated",
        "bottleneck 4",
        "head 1x1 to 4",
        "grouped",
        "FiLM x8",
        "head kernel 3",
        "no layer 1x1",
        "post-stack head",
    ] {
        assert!(a2.contains(part), "{a2}: {part}");
    }
    let cd = fixture("wavenet_condition_dsp_v070").summary();
    assert!(cd.contains("; condition DSP: WaveNet 4->4"), "{cd}");
}

#[test]
fn multiply_adds_match_hand_counts() {
    let standard = a1_array(1, 16, 8, 10, 3, false) + a1_array(16, 8, 1, 10, 3, false);
    assert_eq!(fixture("wavenet_standard_v054").macs_per_sample(), standard);
    assert_eq!(fixture("wavenet_standard_v070").macs_per_sample(), standard);
    let gated = a1_array(1, 6, 3, 7, 3, true) + a1_array(6, 3, 1, 8, 3, true);
    assert_eq!(fixture("wavenet_gated_v054").macs_per_sample(), gated);
    // LSTM: 4H x (I + H) gates, 3H for the cell and hidden updates, H for the head.
    let h = 24;
    assert_eq!(
        fixture("lstm_standard_v070").macs_per_sample(),
        (4 * h * (1 + h) + 3 * h + h) as u64
    );
    // ConvNet: kernel-2 convs, a scale per channel for the batchnorm, the 1x1 head.
    assert_eq!(
        fixture("convnet_batchnorm_v070").macs_per_sample(),
        (6 * 2 + 6 + 7 * (6 * 6 * 2 + 6) + 6) as u64
    );
    assert_eq!(fixture("linear_v070").macs_per_sample(), 96);
    // A container costs what its default (last) submodel costs; each step its own.
    let c = fixture("container_lstm_wavenets_v070");
    let steps = c.size_steps();
    assert_eq!(c.macs_per_sample(), steps[2].model.macs_per_sample());
    assert_eq!(
        steps[1].model.macs_per_sample(),
        a1_array(1, 3, 2, 7, 3, false) + a1_array(3, 2, 1, 7, 3, false)
    );
    // A sequential model: the sum of its stages.
    let q = fixture("sequential_wavenet_lstm_v070");
    let tubeless_nam::ModelConfig::Sequential(s) = &q.model else {
        panic!()
    };
    assert_eq!(
        q.macs_per_sample(),
        s.models.iter().map(NamFile::macs_per_sample).sum::<u64>()
    );
    // A slimmable WaveNet at 2 of its 6 channels.
    let slimmable = fixture("wavenet_slimmable_v070");
    let slim = slimmable.size_steps();
    assert_eq!(
        slim[0].model.macs_per_sample(),
        a1_array(1, 2, 1, 9, 3, false)
    );
}

#[test]
fn the_description_covers_nested_models_and_sizes() {
    let c = fixture("container_lstm_wavenets_v070");
    let j = c.architecture_json();
    assert_eq!(j["type"], "SlimmableContainer");
    assert_eq!(j["summary"], c.summary());
    assert_eq!(j["weights"], c.weight_count() as u64);
    assert_eq!(j["submodels"][0]["max_value"], 0.3);
    assert_eq!(j["submodels"][0]["model"]["type"], "LSTM");
    assert_eq!(j["submodels"][2]["model"]["type"], "WaveNet");
    assert_eq!(j["submodels"][2]["model"]["arrays"][0]["channels"], 6);
    assert_eq!(j["sizes"].as_array().unwrap().len(), 3);
    assert_eq!(j["sizes"][1]["below"], 0.7);
    assert_eq!(
        j["sizes"][1]["macs_per_sample"],
        c.size_steps()[1].model.macs_per_sample()
    );
    assert_eq!(j["receptive_field"], c.receptive_field() as u64);

    let q = fixture("sequential_wavenet_lstm_v070").architecture_json();
    assert_eq!(
        (
            q["models"][0]["type"].clone(),
            q["models"][1]["type"].clone()
        ),
        (json!("WaveNet"), json!("LSTM"))
    );
    assert_eq!(q["sample_rate"], 48000.0, "taken from its stages");

    let d = fixture("wavenet_condition_dsp_v070").architecture_json();
    assert_eq!(d["condition_dsp"]["type"], "WaveNet");
    assert_eq!(d["condition_dsp"]["out_channels"], 3);
    assert_eq!(d["arrays"][0]["condition_size"], 3);
    assert_eq!(d["arrays"][0]["groups_input_mixin"], 3);
    assert_eq!(
        d["arrays"][0]["film"]["conv_pre_film"],
        json!({"shift": true, "groups": 3})
    );

    let a = fixture("a2_everything_v070").architecture_json();
    let arr = &a["arrays"][0];
    assert_eq!(
        arr["gating"],
        json!(["blended", "gated", "none", "blended", "none"])
    );
    assert_eq!(arr["secondary_activations"][3]["type"], "Hardswish");
    assert_eq!(
        arr["head1x1"],
        json!({"active": true, "out_channels": 4, "groups": 2})
    );
    assert_eq!(arr["head_kernel_size"], 3);
    assert_eq!(a["arrays"][1]["layer1x1"]["active"], false);
    assert_eq!(a["post_head"]["kernel_sizes"], json!([2, 3]));
    assert_eq!(arr["film"].as_object().unwrap().len(), 8);

    for (name, ty) in [
        ("convnet_batchnorm_v070", "ConvNet"),
        ("linear_v070", "Linear"),
        ("lstm_nano_v070", "LSTM"),
    ] {
        let f = fixture(name);
        let j = f.architecture_json();
        assert_eq!((j["type"].as_str(), f.architecture()), (Some(ty), ty));
        assert_eq!(j["macs_per_sample"], f.macs_per_sample());
        assert_eq!(j["prewarm_samples"], f.prewarm_samples() as u64);
    }
}

#[test]
fn receptive_fields_and_prewarms_of_every_architecture() {
    let rf_pw = |name: &str| {
        let f = fixture(name);
        (f.receptive_field(), f.prewarm_samples())
    };
    assert_eq!(rf_pw("convnet_batchnorm_v070"), (1 + 255, 1 + 255));
    assert_eq!(rf_pw("linear_v070"), (96, 0));
    assert_eq!(rf_pw("lstm_nano_v070"), (1, 24_000));
    // Sequential: 1 + the stages' (rf - 1); prewarm the sum of theirs.
    let wn = 1 + 2 * (1 + 2 + 4 + 8 + 16 + 32 + 64) + 2 * (1 + 3 + 9);
    assert_eq!(rf_pw("sequential_wavenet_lstm_v070"), (wn, wn + 24_000));
    // A condition DSP adds its history to the model's; the prewarm is the condition
    // DSP's plus the network's history.
    let cond = 1 + 2 * (1 + 2 + 4 + 8 + 16 + 32);
    let main = 1 + 2 * (1 + 2 + 4 + 8 + 16 + 32 + 64) + 2 * (1 + 3 + 9);
    assert_eq!(
        rf_pw("wavenet_condition_dsp_v070"),
        (cond + main - 1, cond + main - 1)
    );
    // Head kernels and the post-stack head count too.
    let a2 = 1 + (2 + 2 + 3 * 4 + 2 * 8 + 16) + 2 + (32 + 2 + 3) + 1 + (1 + 2);
    assert_eq!(rf_pw("a2_everything_v070"), (a2, a2));
}

#[test]
fn nested_models_take_their_parents_sample_rate() {
    let mut c = control("valid_container");
    c["sample_rate"] = json!(44100);
    for s in c["config"]["submodels"].as_array_mut().unwrap() {
        s["model"].as_object_mut().unwrap().remove("sample_rate");
    }
    let f = NamFile::from_value(&c).unwrap();
    assert_eq!(f.sample_rate, 44100.0);
    let lstm = &f.size_steps()[0].model;
    assert_eq!(
        (lstm.sample_rate, lstm.sample_rate_stated),
        (44100.0, false)
    );
    assert_eq!(lstm.prewarm_samples(), 22_050);
    let e = Engine::build(
        &f,
        BuildOptions {
            size: 0.0,
            ..BuildOptions::default()
        },
    )
    .unwrap();
    assert_eq!(e.prewarm_samples(), 22_050);

    // A parent that states nothing takes its stages' rate.
    let mut q = control("valid_sequential");
    for m in q["config"]["models"].as_array_mut().unwrap() {
        let stage = if m.get("model").is_some() {
            &mut m["model"]
        } else {
            m
        };
        stage["sample_rate"] = json!(96000);
    }
    let f = NamFile::from_value(&q).unwrap();
    assert_eq!((f.sample_rate, f.sample_rate_stated), (96000.0, true));
}

#[test]
fn weights_of_nested_models_are_counted() {
    let c = fixture("container_lstm_wavenets_v070");
    assert!(c.weights.is_empty());
    let total: usize = c.size_steps().iter().map(|s| s.model.weights.len()).sum();
    assert_eq!(c.weight_count(), total);
    let d = fixture("wavenet_condition_dsp_v070");
    let tubeless_nam::ModelConfig::WaveNet(w) = &d.model else {
        panic!()
    };
    let cond = w.condition_dsp.as_ref().unwrap();
    assert_eq!(d.weight_count(), d.weights.len() + cond.weights.len());
}
