//! The corpus in `tests/bad_files/` (written by `tools/gen_bad_files.py`): every broken or
//! hostile file gives exactly the error below, never a panic, and a mutated valid file
//! never panics the parser or the engine.

mod common;

use std::path::PathBuf;

use tubeless_nam::{BuildOptions, Engine, Error, NamFile};

fn corpus() -> PathBuf {
    common::bad_files_dir()
}

/// (file stem, the exact message).
const EXPECTED: &[(&str, &str)] = &[
    ("a2_weights_short", "`weights` has 187 values, the config needs 188"),
    ("activation_list_wrong_length", "`config.layers[0].activation` has 3 entries, expected 2"),
    ("activation_wrong_type", "`config.layers[0].activation` should be an activation name or object, found a number"),
    ("architecture_packed", "`architecture`: PackedWaveNet is the trainer's training-time form, not a playable file; the trainer exports it as a SlimmableContainer"),
    ("bottleneck_without_layer1x1", "`config.layers[0].bottleneck` is 2, but it must equal 4 (with the layer 1x1 off, the activation itself joins the residual)"),
    ("condition_dsp_bad_nested", "`config.condition_dsp.version`: file version 0.9.0 is newer than this build understands (newest: 0.7.x); update Tubeless to load it"),
    ("condition_dsp_width_mismatch", "`config.layers[0].condition_size` is 1, but it must equal 3 (the condition is the condition DSP's output)"),
    ("condition_size_2", "`config.layers[0].condition_size` is 2, but it must equal 1 (the condition is the mono input)"),
    ("container_empty", "`config.submodels` has 0 entries, allowed 1 ..= 16"),
    ("container_last_below_one", "`config.submodels[1].max_value`: the last submodel's max_value is 0.9, below 1.0: sizes up to 1.0 would pick no submodel"),
    ("container_missing_max_value", "missing field `config.submodels[0].max_value`"),
    ("container_not_ascending", "`config.submodels[1].max_value`: 0.5 is not above the previous submodel's 0.5 (they must ascend strictly)"),
    ("container_rate_mismatch", "`config.submodels[1].model.sample_rate` is 44100 Hz, but the model it belongs to runs at 48000 Hz"),
    ("container_submodel_bad", "`config.submodels[1].model.config.layers[0].channels` is 0, outside the allowed range 1 ..= 256"),
    ("container_submodel_no_version", "missing field `config.submodels[0].model.version`"),
    ("container_too_many", "`config.submodels` has 20 entries, allowed 1 ..= 16"),
    ("container_weights_not_empty", "`weights` has 1 values, the config needs 0"),
    ("convnet_batchnorm_negative_variance", "`weights[6]`: block 0's batchnorm variance -1 plus eps 0.00001 is not positive"),
    ("convnet_groups", "`config.groups` is 2, which does not divide the first block's mono input (1)"),
    ("convnet_missing_activation", "missing field `config.activation`"),
    ("convnet_weights_short", "`weights` has 32 values, the config needs 33"),
    ("deeply_nested", "not valid JSON (line 1, column 128): recursion limit exceeded"),
    ("empty", "not valid JSON (line 1, column 0): EOF while parsing a value"),
    ("empty_dilations", "`config.layers[0].dilations` has 0 entries, allowed 1 ..= 256"),
    ("engine_too_large", "the model would need 547662728 bytes of engine memory, more than the 268435456-byte limit"),
    ("film_groups_not_dividing", "`config.layers[0].conv_pre_film.groups` is 2, which does not divide the condition's channels (1)"),
    ("film_groups_vs_width", "`config.layers[0].conv_pre_film.groups` is 3, which does not divide the FiLM's scale and shift outputs (2)"),
    ("film_not_an_object", "`config.layers[0].conv_post_film` should be a FiLM object {active, shift, groups}, found a number"),
    ("film_on_inactive_head1x1", "`config.layers[0].head1x1_post_film`: this FiLM modulates the head 1x1, which is off"),
    ("film_on_inactive_layer1x1", "`config.layers[0].layer1x1_post_film`: this FiLM modulates the layer 1x1, which is off"),
    ("first_input_size_not_1", "`config.layers[0].input_size` is 2, but it must equal 1 (the first layer array takes the mono input)"),
    ("fractional_channels", "`config.layers[0].channels` should be a whole number, found a number"),
    ("gated_not_bool", "`config.layers[0].gated` should be a boolean, found a string"),
    ("gating_secondary_unknown", "`config.layers[0].secondary_activation`: unknown activation \"Swish9000\" (known: Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU, PReLU, Sigmoid, SiLU, Hardswish, LeakyHardtanh, Softsign, Softsigmoid)"),
    ("gating_unknown", "`config.layers[0].gating_mode`: unknown value \"sometimes\" (expected one of: none, gated, blended)"),
    ("groups_head1x1_not_dividing", "`config.layers[0].head1x1.groups` is 2, which does not divide the head 1x1's outputs (3)"),
    ("groups_input_not_dividing", "`config.layers[0].groups_input` is 3, which does not divide the layer input's channels (4)"),
    ("groups_layer1x1_not_dividing", "`config.layers[0].layer1x1.groups` is 4, which does not divide the bottleneck (2)"),
    ("head_scale_missing", "missing field `config.head_scale`"),
    ("head_widths_dont_chain", "`config.layers[0].head.out_channels` is 3, but it must equal 2 (a head feeds the next array's head accumulator (its bottleneck, or its head 1x1's outputs))"),
    ("huge_channels", "`config.layers[0].channels` is 100000, outside the allowed range 1 ..= 256"),
    ("huge_dilation", "`config.layers[0].dilations[1]` is 1000000000, outside the allowed range 1 ..= 65536"),
    ("huge_kernel", "`config.layers[0].kernel_size` is 4096, outside the allowed range 1 ..= 64"),
    ("in_channels_2", "`config.in_channels` is 2, but it must equal 1 (the input is mono)"),
    ("last_head_size_not_1", "`config.layers[0].head_size` is 2, but it must equal 1 (the last head is the mono output)"),
    ("layers_empty", "`config.layers` has 0 entries, allowed 1 ..= 16"),
    ("layers_not_array", "`config.layers` should be an array, found an object"),
    ("linear_weights_short", "`weights` has 4 values, the config needs 5"),
    ("linear_zero_taps", "`config.receptive_field` is 0, outside the allowed range 1 ..= 262144"),
    ("lstm_huge_hidden", "`config.hidden_size` is 1048576, outside the allowed range 1 ..= 1024"),
    ("lstm_input_size_2", "`config.input_size` is 2, but it must equal 1 (the input is mono)"),
    ("lstm_missing_layers", "missing field `config.num_layers`"),
    ("lstm_weights_short", "`weights` has 38 values, the config needs 39"),
    ("lstm_zero_hidden", "`config.hidden_size` is 0, outside the allowed range 1 ..= 1024"),
    ("missing_config", "missing field `config`"),
    ("missing_dilations", "missing field `config.layers[0].dilations`"),
    ("missing_version", "missing field `version`"),
    ("missing_weights", "missing field `weights`"),
    ("negative_kernel", "`config.layers[0].kernel_size` is -3, outside the allowed range 1 ..= 64"),
    ("nesting_too_deep", "`config.condition_dsp.config.condition_dsp.config.condition_dsp.config.condition_dsp.config.condition_dsp.config.condition_dsp.config.condition_dsp`: models are nested more than 6 deep"),
    ("not_an_object", "`(top level)` should be an object, found an array"),
    ("post_head_in_channels_mismatch", "`config.head.in_channels` is 3, but it must equal 2 (the post-stack head takes the last array's head output)"),
    ("post_stack_head_incomplete", "missing field `config.head.channels`"),
    ("prelu_slopes_mismatch", "`config.layers[0].activation[1].negative_slopes` has 3 entries, expected 2"),
    ("receptive_field_too_large", "the receptive field of `config` is 33030145 samples, more than the 262144-sample limit (it sets the history memory and the prewarm time)"),
    ("sample_rate_negative", "`sample_rate` is -44100, outside the allowed range 8000 ..= 768000"),
    ("sample_rate_string", "`sample_rate` should be a number, found a string"),
    ("sample_rate_zero", "`sample_rate` is 0, outside the allowed range 8000 ..= 768000"),
    ("sequential_child_incomplete", "missing field `config.models[1].model.config`"),
    ("sequential_empty", "`config.models` has 0 entries, allowed 1 ..= 16"),
    ("sequential_rate_mismatch", "`config.models[1].model.sample_rate` is 48000 Hz, but `config.models[0]` runs at 44100 Hz"),
    ("sequential_weights_version_1", "`config.weights_version`: weights_version 1 is not read (version 1, weights concatenated at the top level, is deprecated); 2 is: every stage a whole model with its own weights"),
    ("slimmable_bad_allowed", "`config.layers[0].slimmable.kwargs.allowed_channels`: allowed channel counts must be strictly ascending and end at the array's 2 channels"),
    ("slimmable_grouped", "`config.layers[0].slimmable`: channel slicing is not defined for grouped convolutions"),
    ("slimmable_unknown_method", "`config.layers[0].slimmable.method`: unknown value \"prune_randomly\" (expected one of: slice_channels_uniform)"),
    ("too_many_layers", "`config.layers[0].dilations` has 5000 entries, allowed 1 ..= 256"),
    ("truncated_json", "not valid JSON (line 1, column 288): EOF while parsing a string"),
    ("unknown_activation", "`config.layers[0].activation`: unknown activation \"Swish9000\" (known: Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU, PReLU, Sigmoid, SiLU, Hardswish, LeakyHardtanh, Softsign, Softsigmoid)"),
    ("unknown_architecture", "`architecture`: unknown architecture \"Transformer\" (supported: WaveNet, LSTM, ConvNet, Linear, SlimmableContainer, Sequential)"),
    ("version_garbage", "`version` \"five\" is not of the form MAJOR.MINOR.PATCH"),
    ("version_not_string", "`version` should be a string, found a number"),
    ("version_too_new_major", "`version`: file version 1.0.0 is newer than this build understands (newest: 0.7.x); update Tubeless to load it"),
    ("version_too_new_minor", "`version`: file version 0.8.0 is newer than this build understands (newest: 0.7.x); update Tubeless to load it"),
    ("version_too_old", "`version`: file version 0.4.9 is older than the oldest supported (0.5.0)"),
    ("weight_infinity_token", "`-Infinity` at line 1, column 387: the file holds a non-finite number (typically the weights of a training run that diverged); it cannot be played"),
    ("weight_nan_token", "`NaN` at line 1, column 380: the file holds a non-finite number (typically the weights of a training run that diverged); it cannot be played"),
    ("weight_null", "`weights[4]` should be a number, found null"),
    ("weight_overflows_f32", "`weights[5]` is 1e39, which is not a finite 32-bit float"),
    ("weight_string", "`weights[3]` should be a number, found a string"),
    ("weights_not_array", "`weights` should be an array, found a string"),
    ("weights_too_few", "`weights` has 41 values, the config needs 42"),
    ("weights_too_many", "`weights` has 43 values, the config needs 42"),
    ("zero_channels", "`config.layers[0].channels` is 0, outside the allowed range 1 ..= 256"),
    ("zero_dilation", "`config.layers[0].dilations[1]` is 0, outside the allowed range 1 ..= 65536"),
];

#[test]
fn every_bad_file_gives_its_exact_error() {
    let mut seen = 0;
    for (stem, message) in EXPECTED {
        let path = corpus().join(format!("{stem}.nam"));
        assert!(
            path.is_file(),
            "{} is missing from the corpus",
            path.display()
        );
        match NamFile::from_path(&path) {
            Ok(_) => panic!("{stem}: loaded, expected: {message}"),
            Err(e) => assert_eq!(&e.to_string(), message, "{stem}"),
        }
        seen += 1;
    }
    // Every file in the corpus is covered by the table (or is a valid control).
    let files = std::fs::read_dir(corpus()).unwrap().count();
    assert_eq!(files, seen + controls().len(), "corpus and table differ");
}

/// The valid files every bad file is one defect away from.
fn controls() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = common::nam_files(&corpus())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("valid_"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_controls_load_and_run() {
    assert_eq!(controls().len(), 7);
    for path in controls() {
        let file = NamFile::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            file.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            file.warnings
        );
        let mut engine = Engine::build(&file, BuildOptions::default()).unwrap();
        let mut buf = vec![0.25f32; 300];
        engine.process_buffer(&mut buf);
        assert!(buf.iter().all(|x| x.is_finite()));
    }
}

#[test]
fn error_variants_carry_the_numbers() {
    let e = NamFile::from_path(corpus().join("weights_too_few.nam")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WeightCount {
                expected: 42,
                found: 41,
                ..
            }
        ),
        "{e:?}"
    );
    let e = NamFile::from_path(corpus().join("huge_dilation.nam")).unwrap_err();
    assert!(
        matches!(&e, Error::OutOfRange { path, value, .. }
            if path == "config.layers[0].dilations[1]" && *value == 1e9),
        "{e:?}"
    );
    let e = NamFile::from_path(corpus().join("engine_too_large.nam")).unwrap_err();
    assert!(matches!(e, Error::EngineTooLarge { .. }), "{e:?}");
    let e = NamFile::from_path(corpus().join("groups_input_not_dividing.nam")).unwrap_err();
    assert!(
        matches!(&e, Error::Groups { path, groups: 3, channels: 4, .. }
            if path == "config.layers[0].groups_input"),
        "{e:?}"
    );
    let e = NamFile::from_path(corpus().join("container_rate_mismatch.nam")).unwrap_err();
    assert!(
        matches!(&e, Error::SampleRateMismatch { path, expected, found, .. }
            if path == "config.submodels[1].model.sample_rate" && *expected == 48000.0 && *found == 44100.0),
        "{e:?}"
    );
    let e = NamFile::from_path(corpus().join("nesting_too_deep.nam")).unwrap_err();
    assert!(matches!(e, Error::NestingTooDeep { max: 6, .. }), "{e:?}");
    let e = NamFile::from_path(corpus().join("container_submodel_bad.nam")).unwrap_err();
    assert!(
        matches!(&e, Error::OutOfRange { path, value, .. }
            if path == "config.submodels[1].model.config.layers[0].channels" && *value == 0.0),
        "{e:?}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let e = NamFile::from_path("/nonexistent/amp.nam").unwrap_err();
    assert!(matches!(&e, Error::Io { path, .. } if path.ends_with("amp.nam")));
    assert!(e.to_string().contains("/nonexistent/amp.nam"), "{e}");
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("tubeless-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.nam");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: costs no disk, but reports its length.
    f.set_len(tubeless_nam::limits::MAX_FILE_BYTES + 1).unwrap();
    let e = NamFile::from_path(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(e, Error::FileTooLarge { .. }), "{e:?}");
}

/// Byte-level mutations of the valid files: whatever comes out, parse and (when it parses)
/// build and run must not panic.
#[test]
fn mutated_files_never_panic() {
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut rnd = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let alphabet = b"0123456789-+.eE[]{},:\" tfnalsru";
    for path in controls() {
        let original = std::fs::read(&path).unwrap();
        let classic = ["valid_wavenet", "valid_lstm"]
            .iter()
            .any(|s| path.ends_with(format!("{s}.nam")));
        for _ in 0..if classic { 1500 } else { 400 } {
            let mut bytes = original.clone();
            for _ in 0..1 + rnd(4) {
                let at = rnd(bytes.len());
                match rnd(3) {
                    0 => bytes[at] = alphabet[rnd(alphabet.len())],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[rnd(alphabet.len())]),
                }
            }
            if let Ok(file) = NamFile::from_slice(&bytes) {
                if let Ok(mut engine) = Engine::build(&file, BuildOptions::default()) {
                    let mut buf = [0.5f32, -0.5, f32::NAN, 1.0];
                    engine.process_buffer(&mut buf);
                    assert!(buf.iter().all(|x| x.is_finite()));
                }
            }
        }
    }
}
