//! A second, independent opinion: every model in `../shared/models` run through our engine
//! and through the crates.io `nam-rs` crate (prewarmed the same way) must agree. The
//! trainer fixtures in `parity.rs` are the authority; this catches a disagreement on the
//! real-world files those fixtures do not cover.

mod common;

use tubeless_nam::{BuildOptions, Engine, Gating, ModelConfig, NamFile};

/// What nam-rs runs: LSTMs, and WaveNets without a 0.7.0 knob.
fn is_a1(f: &NamFile) -> bool {
    match &f.model {
        ModelConfig::Lstm(_) => true,
        ModelConfig::WaveNet(w) => {
            w.condition_dsp.is_none()
                && w.post_head.is_none()
                && w.arrays.iter().all(|a| {
                    a.bottleneck == a.channels
                        && a.layer1x1 == Some(1)
                        && a.head1x1.is_none()
                        && a.groups_input == 1
                        && a.groups_input_mixin == 1
                        && a.film.iter().all(Option::is_none)
                        && a.head_kernel_size == 1
                        && a.slimmable.is_none()
                        && a.layers
                            .iter()
                            .all(|l| !matches!(l.gating, Gating::Blended(_)))
                })
        }
        _ => false,
    }
}

#[test]
fn agrees_with_nam_rs_on_every_shared_model() {
    let Some(dir) = common::shared_models() else {
        eprintln!("skipped: ../shared/models not present");
        return;
    };
    let mut files = common::nam_files(&dir);
    files.extend(common::nam_files(&dir.join("real")));
    // NeuralAmpModelerCore's examples of what nam-rs implements (A1 WaveNets, LSTMs);
    // the others are checked against the trainer in core_examples.rs.
    files.extend(
        common::nam_files(&dir.join("core-examples"))
            .into_iter()
            .filter(|p| NamFile::from_path(p).is_ok_and(|f| is_a1(&f))),
    );
    let input = common::test_signal(12_000, 7);
    let mut checked = 0;
    for path in files {
        let file = NamFile::from_path(&path).unwrap();
        let mut ours = Engine::build(&file, BuildOptions::default()).unwrap();
        let mut y = input.clone();
        ours.process_buffer(&mut y);

        let peer_file = nam_rs::NamModel::from_file(&path).unwrap();
        let mut peer = nam_rs::Model::from_nam(&peer_file).unwrap();
        let mut warm = vec![0.0f32; file.prewarm_samples()];
        peer.process_buffer(&mut warm);
        let mut z = input.clone();
        peer.process_buffer(&mut z);

        let (err, peak) = common::max_err(&y, &z);
        let kind = file.architecture();
        eprintln!("{}: {kind} err {err:.3e} peak {peak:.3}", path.display());
        assert!(
            err <= 1e-5 * peak.max(1.0),
            "{}: err {err} peak {peak}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 20);
}
