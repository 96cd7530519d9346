//! Parity with the official trainer: every fixture in `tests/fixtures/manifest.json`
//! (written by `tools/gen_fixtures.py` with `neural-amp-modeler`), run through a prewarmed
//! engine at block sizes 1, 7, 64, 4096 and a random mix, must match the trainer's own
//! output within 1e-5 x max(1, peak). The `NamCompatible` mode is held to the same bound
//! against the fixture script's independent NumPy network using the plugin's fast tanh.

mod common;

use serde_json::Value;
use tubeless_nam::{ActivationMode, BuildOptions, Engine, Kernels, NamFile};

struct Fixture {
    name: String,
    file: NamFile,
    output: Vec<f32>,
    fast: Vec<f32>,
}

fn fixtures() -> (Vec<f32>, Vec<Fixture>) {
    let dir = common::fixtures_dir();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let input = common::read_f32(&dir.join("input.f32"));
    let list = manifest.as_array().expect("manifest is an array");
    let fixtures = list
        .iter()
        .map(|m| {
            let s = |k: &str| {
                m[k].as_str()
                    .unwrap_or_else(|| panic!("manifest: {k}"))
                    .to_string()
            };
            let file = NamFile::from_path(dir.join(s("model")))
                .unwrap_or_else(|e| panic!("{}: {e}", s("name")));
            let output = common::read_f32(&dir.join(s("output")));
            let fast = common::read_f32(&dir.join(s("fast")));
            assert_eq!(output.len(), input.len());
            assert_eq!(fast.len(), input.len());
            Fixture {
                name: s("name"),
                file,
                output,
                fast,
            }
        })
        .collect();
    (input, fixtures)
}

/// Both builds of the kernels: the AVX2 + FMA one (where the CPU has it) and the
/// portable one every CPU runs.
fn check(mode: ActivationMode, reference: impl Fn(&Fixture) -> &[f32]) {
    for kernels in [Kernels::Fast, Kernels::Portable] {
        check_kernels(mode, kernels, &reference);
    }
}

fn check_kernels(mode: ActivationMode, kernels: Kernels, reference: &impl Fn(&Fixture) -> &[f32]) {
    let (input, fixtures) = fixtures();
    assert!(fixtures.len() >= 20, "only {} fixtures", fixtures.len());
    let mut worst = 0.0f32;
    for fx in &fixtures {
        let expected = reference(fx);
        let peak = expected.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let tol = 1e-5 * peak.max(1.0);
        let mut whole: Option<Vec<f32>> = None;
        for (pattern, blocks) in common::block_patterns(input.len(), 99, 1500) {
            let opts = BuildOptions {
                activations: mode,
                kernels,
                ..BuildOptions::default()
            };
            let mut engine = Engine::build(&fx.file, opts).unwrap();
            let mut y = input.clone();
            let mut at = 0;
            for n in blocks {
                engine.process_buffer(&mut y[at..at + n]);
                at += n;
            }
            let (err, _) = common::max_err(&y, expected);
            worst = worst.max(err / peak.max(1.0));
            assert!(
                err <= tol,
                "{} ({mode:?}, {kernels:?}, blocks {pattern}): max error {err:.3e} > {tol:.3e} (peak {peak:.3})",
                fx.name
            );
            // Any split of the stream gives the same samples as any other.
            match &whole {
                None => whole = Some(y),
                Some(w) => assert_eq!(w, &y, "{}: blocks {pattern} differ", fx.name),
            }
        }
        eprintln!("{:<32} {mode:?} {kernels:?}: ok (peak {peak:.3})", fx.name);
    }
    eprintln!(
        "{} fixtures, {mode:?}, {kernels:?}: worst error / max(1, peak) = {worst:.3e}",
        fixtures.len()
    );
}

#[test]
fn accurate_mode_matches_the_trainer() {
    check(ActivationMode::Accurate, |f| &f.output);
}

#[test]
fn nam_compatible_mode_matches_the_fast_tanh_reference() {
    check(ActivationMode::NamCompatible, |f| &f.fast);
}

#[test]
fn reset_returns_to_the_freshly_built_state() {
    let (input, fixtures) = fixtures();
    for fx in fixtures.iter().step_by(3) {
        let mut engine = Engine::build(&fx.file, BuildOptions::default()).unwrap();
        let mut a = input.clone();
        engine.process_buffer(&mut a);
        engine.reset();
        let mut b = input.clone();
        engine.process_buffer(&mut b);
        assert_eq!(a, b, "{}", fx.name);
        assert_eq!(engine.latency(), 0);
    }
}

/// Files that turn on a 0.7.0 knob this engine does not run are refused, naming the knob,
/// rather than run wrong. (Their trainer outputs are kept for the engine that will.)
#[test]
fn a2_knob_files_are_refused_by_name() {
    let dir = common::fixtures_dir().join("a2");
    let files = common::nam_files(&dir);
    assert!(!files.is_empty());
    for path in files {
        match NamFile::from_path(&path) {
            Ok(_) => panic!("{}: loaded", path.display()),
            Err(tubeless_nam::Error::Unsupported {
                path: field,
                feature,
            }) => {
                eprintln!("{}: `{field}`: {feature}", path.display());
                assert!(!field.is_empty() && !feature.is_empty());
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}
