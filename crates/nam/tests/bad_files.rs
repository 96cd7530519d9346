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
    ("activation_list_wrong_length", "`config.layers[0].activation` has 3 entries, expected 2"),
    ("activation_wrong_type", "`config.layers[0].activation` should be an activation name or object, found a number"),
    ("bottleneck", "`config.layers[0].bottleneck`: a bottleneck different from `channels` is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("condition_dsp", "`config.condition_dsp`: a condition DSP (nested model feeding the condition) is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("condition_size_2", "`config.layers[0].condition_size` is 2, but it must equal 1 (the condition is the mono input)"),
    ("container", "`architecture`: the SlimmableContainer architecture is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("deeply_nested", "not valid JSON (line 1, column 128): recursion limit exceeded"),
    ("empty", "not valid JSON (line 1, column 0): EOF while parsing a value"),
    ("empty_dilations", "`config.layers[0].dilations` has 0 entries, allowed 1 ..= 256"),
    ("engine_too_large", "the model would need 548674564 bytes of engine memory, more than the 268435456-byte limit"),
    ("film_active", "`config.layers[0].conv_pre_film.active`: FiLM (conv_pre_film) is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("first_input_size_not_1", "`config.layers[0].input_size` is 2, but it must equal 1 (the first layer array takes the mono input)"),
    ("fractional_channels", "`config.layers[0].channels` should be a whole number, found a number"),
    ("gated_not_bool", "`config.layers[0].gated` should be a boolean, found a string"),
    ("gating_blended", "`config.layers[0].gating_mode[0]`: gating_mode \"blended\" is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("gating_unknown", "`config.layers[0].gating_mode`: unknown value \"sometimes\" (expected one of: none, gated, blended)"),
    ("head_kernel", "`config.layers[0].head.kernel_size`: a head kernel larger than 1 is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("head_scale_missing", "missing field `config.head_scale`"),
    ("huge_channels", "`config.layers[0].channels` is 100000, outside the allowed range 1 ..= 256"),
    ("huge_dilation", "`config.layers[0].dilations[1]` is 1000000000, outside the allowed range 1 ..= 65536"),
    ("huge_kernel", "`config.layers[0].kernel_size` is 4096, outside the allowed range 1 ..= 64"),
    ("last_head_size_not_1", "`config.layers[0].head_size` is 2, but it must equal 1 (the last head is the mono output)"),
    ("layers_empty", "`config.layers` has 0 entries, allowed 1 ..= 16"),
    ("layers_not_array", "`config.layers` should be an array, found an object"),
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
    ("not_an_object", "`(top level)` should be an object, found an array"),
    ("post_stack_head", "`config.head`: a post-stack head is not supported by this version of Tubeless (the file turns it on; it cannot be ignored without changing the sound)"),
    ("receptive_field_too_large", "the receptive field is 33030145 samples, more than the 262144-sample limit (it sets the history memory and the prewarm time)"),
    ("sample_rate_negative", "`sample_rate` is -44100, outside the allowed range 8000 ..= 768000"),
    ("sample_rate_string", "`sample_rate` should be a number, found a string"),
    ("sample_rate_zero", "`sample_rate` is 0, outside the allowed range 8000 ..= 768000"),
    ("too_many_layers", "`config.layers[0].dilations` has 5000 entries, allowed 1 ..= 256"),
    ("truncated_json", "not valid JSON (line 1, column 288): EOF while parsing a string"),
    ("unknown_activation", "`config.layers[0].activation`: unknown activation \"Swish9000\" (known: Tanh, Hardtanh, Fasttanh, ReLU, LeakyReLU, PReLU, Sigmoid, SiLU, Hardswish, LeakyHardtanh, Softsign)"),
    ("unknown_architecture", "unknown architecture \"Transformer\" (supported: WaveNet, LSTM)"),
    ("version_garbage", "`version` \"five\" is not of the form MAJOR.MINOR.PATCH"),
    ("version_not_string", "`version` should be a string, found a number"),
    ("version_too_new_major", "file version 1.0.0 is newer than this build understands (newest: 0.7.x); update Tubeless to load it"),
    ("version_too_new_minor", "file version 0.8.0 is newer than this build understands (newest: 0.7.x); update Tubeless to load it"),
    ("version_too_old", "file version 0.4.9 is older than the oldest supported (0.5.0)"),
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
    assert_eq!(files, seen + 2, "corpus and table differ");
}

#[test]
fn the_controls_load_and_run() {
    for stem in ["valid_wavenet", "valid_lstm"] {
        let file = NamFile::from_path(corpus().join(format!("{stem}.nam"))).unwrap();
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
                found: 41
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
    for stem in ["valid_wavenet", "valid_lstm"] {
        let original = std::fs::read(corpus().join(format!("{stem}.nam"))).unwrap();
        for _ in 0..1500 {
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
