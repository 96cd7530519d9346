//! Parity with the official trainer: every fixture in `tests/fixtures/manifest.json` and
//! `tests/fixtures/a2/manifest.json` (written by `tools/gen_fixtures.py` with
//! `neural-amp-modeler`), run through a prewarmed engine at block sizes 1, 7, 64, 4096 and
//! a random mix, with every kernel build, must match the trainer's own output within
//! 1e-5 x max(1, peak). A model with a size control is checked at every size (the
//! trainer's output of the submodel, or of the slimmed network, at that size). The
//! `NamCompatible` mode is held to the same bound against the fixture script's
//! independent NumPy network using the plugin's fast tanh.

mod common;

use std::path::Path;

use serde_json::Value;
use tubeless_nam::{ActivationMode, BuildOptions, Engine, Kernels, NamFile};

struct Case {
    size: f32,
    receptive_field: usize,
    output: Vec<f32>,
    fast: Vec<f32>,
}

struct Fixture {
    name: String,
    file: NamFile,
    cases: Vec<Case>,
}

fn read_manifest(dir: &Path, input_len: usize) -> Vec<Fixture> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let list = manifest.as_array().expect("manifest is an array");
    list.iter()
        .map(|m| {
            let s = |m: &Value, k: &str| {
                m[k].as_str()
                    .unwrap_or_else(|| panic!("manifest: {k}"))
                    .to_string()
            };
            let name = s(m, "name");
            let file = NamFile::from_path(dir.join(s(m, "model")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let case = |c: &Value, size: f32| {
                let output = common::read_f32(&dir.join(s(c, "output")));
                let fast = common::read_f32(&dir.join(s(c, "fast")));
                assert_eq!(output.len(), input_len, "{name}");
                assert_eq!(fast.len(), input_len, "{name}");
                Case {
                    size,
                    receptive_field: c["receptive_field"].as_u64().expect("receptive_field")
                        as usize,
                    output,
                    fast,
                }
            };
            let cases = match m["sizes"].as_array() {
                Some(sizes) => sizes
                    .iter()
                    .map(|c| case(c, c["size"].as_f64().expect("size") as f32))
                    .collect(),
                None => vec![case(m, 1.0)],
            };
            Fixture { name, file, cases }
        })
        .collect()
}

fn fixtures() -> (Vec<f32>, Vec<Fixture>) {
    let dir = common::fixtures_dir();
    let input = common::read_f32(&dir.join("input.f32"));
    let mut v = read_manifest(&dir, input.len());
    v.extend(read_manifest(&dir.join("a2"), input.len()));
    (input, v)
}

/// Every build of the kernels, each forced: AVX-512 and AVX2 + FMA where the CPU has them
/// (said to be skipped where not), the portable one every CPU runs, and `Fast` (the
/// widest the CPU has, as the plugin runs).
fn check(mode: ActivationMode, reference: impl Fn(&Case) -> &[f32]) {
    let (input, fixtures) = fixtures();
    assert!(fixtures.len() >= 40, "only {} fixtures", fixtures.len());
    for kernels in [
        Kernels::Fast,
        Kernels::Avx512,
        Kernels::Avx2,
        Kernels::Portable,
    ] {
        if !kernels.available() {
            eprintln!("{kernels:?}: SKIPPED, this CPU lacks it");
            continue;
        }
        let mut worst = 0.0f32;
        for fx in &fixtures {
            for case in &fx.cases {
                worst = worst.max(check_case(fx, case, &input, mode, kernels, &reference));
            }
        }
        eprintln!(
            "{} fixtures, {mode:?}, {kernels:?}: worst error / max(1, peak) = {worst:.3e}",
            fixtures.len()
        );
    }
}

fn check_case(
    fx: &Fixture,
    case: &Case,
    input: &[f32],
    mode: ActivationMode,
    kernels: Kernels,
    reference: &impl Fn(&Case) -> &[f32],
) -> f32 {
    let expected = reference(case);
    let peak = expected.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let tol = 1e-5 * peak.max(1.0);
    let mut worst = 0.0f32;
    let mut whole: Option<Vec<f32>> = None;
    for (pattern, blocks) in common::block_patterns(input.len(), 99, 1500) {
        let opts = BuildOptions {
            activations: mode,
            kernels,
            size: case.size,
            ..BuildOptions::default()
        };
        let mut engine = Engine::build(&fx.file, opts).unwrap();
        assert_eq!(
            engine.receptive_field(),
            case.receptive_field,
            "{} at size {}: receptive field",
            fx.name,
            case.size
        );
        let mut y = input.to_vec();
        let mut at = 0;
        for n in blocks {
            engine.process_buffer(&mut y[at..at + n]);
            at += n;
        }
        let (err, _) = common::max_err(&y, expected);
        worst = worst.max(err / peak.max(1.0));
        assert!(
            err <= tol,
            "{} at size {} ({mode:?}, {kernels:?}, blocks {pattern}): max error {err:.3e} > {tol:.3e} (peak {peak:.3})",
            fx.name,
            case.size
        );
        // Any split of the stream gives the same samples as any other.
        match &whole {
            None => whole = Some(y),
            Some(w) => assert_eq!(w, &y, "{}: blocks {pattern} differ", fx.name),
        }
    }
    eprintln!(
        "{:<34} size {:.2} {mode:?} {kernels:?}: ok (peak {peak:.3}, err/peak {worst:.1e})",
        fx.name, case.size
    );
    worst
}

#[test]
fn accurate_mode_matches_the_trainer() {
    check(ActivationMode::Accurate, |c| &c.output);
}

#[test]
fn nam_compatible_mode_matches_the_fast_tanh_reference() {
    check(ActivationMode::NamCompatible, |c| &c.fast);
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
