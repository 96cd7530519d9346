//! The size control of models with size steps (a SlimmableContainer, a slimmable
//! WaveNet): which step a size picks (the reference's rules), and what a switch sounds
//! like. A switch brings the incoming step in step with the live input (fed from the
//! recent input, from a cleared state), then crossfades linearly, so:
//!
//! * until the switch, the output is the old step's, sample for sample;
//! * after it, the new step's, sample for sample (for steps without an LSTM, whose state
//!   is a function of the last `receptive_field - 1` inputs);
//! * in between, each sample lies between the two steps' outputs, and the step from one
//!   sample to the next is at most the larger of the two models' own steps plus
//!   `max |a - b| / fade_len`.

mod common;

use tubeless_nam::{BuildOptions, Engine, NamFile, FADE_SECONDS};

fn fixture(name: &str) -> NamFile {
    NamFile::from_path(common::fixtures_dir().join(format!("{name}.nam"))).unwrap()
}

/// The output of `file` for `input` in blocks of `block`, from a fresh engine.
fn render(file: &NamFile, input: &[f32], block: usize) -> Vec<f32> {
    let mut e = Engine::build(file, BuildOptions::default()).unwrap();
    let mut y = input.to_vec();
    for c in y.chunks_mut(block) {
        e.process_buffer(c);
    }
    y
}

#[test]
fn a_container_picks_the_first_submodel_whose_max_value_exceeds_the_size() {
    let file = fixture("container_lstm_wavenets_v070"); // max_value 0.3, 0.7, 1.0
    let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
    assert_eq!(e.size_steps(), Some(3));
    assert_eq!(e.size_breakpoints(), &[0.3, 0.7]);
    // The reference's default: the last submodel.
    assert_eq!((e.size(), e.size_index()), (1.0, 2));
    for (size, step) in [
        (0.0f32, 0),
        (0.29, 0),
        (0.3, 1), // f32 0.3 is 0.30000001, above the f64 0.3
        (0.5, 1),
        (0.69, 1),
        (0.7, 1), // f32 0.7 is 0.69999999 (what a float parameter hands the reference)
        (f32::from_bits(0.7f32.to_bits() + 1), 2),
        (1.0, 2),
        (7.0, 2),  // clamped to 1.0
        (-3.0, 0), // clamped to 0.0
    ] {
        assert_eq!(e.size_index_for(size), step, "size {size}");
        e.set_size(size);
        assert_eq!(e.size_index(), step, "size {size}");
    }
    e.set_size(0.5);
    e.set_size(f32::NAN);
    assert_eq!((e.size(), e.size_index()), (0.5, 1), "NaN is ignored");
    let opts = BuildOptions {
        size: 0.0,
        ..BuildOptions::default()
    };
    assert_eq!(Engine::build(&file, opts).unwrap().size_index(), 0);
    let bad = BuildOptions {
        size: 1.5,
        ..BuildOptions::default()
    };
    assert!(Engine::build(&file, bad).is_err());
}

/// The slimmable WaveNet's steps follow `allowed[min(floor(size * len), len - 1)]`,
/// checked on a fine grid of sizes and at every float next to a breakpoint.
#[test]
fn a_slimmable_wavenet_cuts_channels_as_the_reference() {
    let file = fixture("wavenet_slimmable_v070"); // allowed channels 2, 4, 6
    let e = Engine::build(&file, BuildOptions::default()).unwrap();
    assert_eq!(e.size_steps(), Some(3));
    let steps = file.size_steps();
    let channels: Vec<usize> = steps
        .iter()
        .map(|s| match &s.model.model {
            tubeless_nam::ModelConfig::WaveNet(w) => w.arrays[0].channels,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(channels, [2, 4, 6]);
    let allowed = [2usize, 4, 6];
    let reference = |size: f32| {
        let s = size.clamp(0.0, 1.0) as f64;
        allowed[((s * 3.0).floor() as usize).min(2)]
    };
    let mut sizes: Vec<f32> = (0..=10_000).map(|i| i as f32 / 10_000.0).collect();
    for b in e.size_breakpoints() {
        let b = *b as f32;
        sizes.extend([
            b,
            f32::from_bits(b.to_bits() - 1),
            f32::from_bits(b.to_bits() + 1),
        ]);
    }
    for size in sizes {
        assert_eq!(
            channels[e.size_index_for(size)],
            reference(size),
            "size {size:e}"
        );
    }
}

/// One switch: before it the old step, after it the new one exactly, in between a
/// convex mix whose sample-to-sample step is bounded.
fn check_switch(file: &NamFile, from: f32, to: f32, block: usize, exact_landing: bool) {
    let steps = file.size_steps();
    let probe = Engine::build(file, BuildOptions::default()).unwrap();
    let (i, j) = (probe.size_index_for(from), probe.size_index_for(to));
    assert_ne!(i, j);
    let input = common::test_signal(48_000, 21);
    let a = render(&steps[i].model, &input, block);
    let b = render(&steps[j].model, &input, block);

    let opts = BuildOptions {
        size: from,
        ..BuildOptions::default()
    };
    let mut e = Engine::build(file, opts).unwrap();
    let switch_at = 12_032; // a block boundary for 64 and for 128
    let mut y = input.clone();
    let mut at = 0;
    let mut landed = None;
    for c in y.chunks_mut(block) {
        if at == switch_at {
            e.set_size(to);
        }
        e.process_buffer(c);
        at += c.len();
        if at > switch_at && landed.is_none() && !e.switching() {
            landed = Some(at);
        }
    }
    let landed = landed.expect("the switch finished");
    let fade = (FADE_SECONDS * file.sample_rate).round() as usize;
    assert_eq!(&y[..switch_at], &a[..switch_at], "before the switch");
    // The catch-up is bounded: the incoming step's history at CATCH_UP extra samples per
    // live one, then the fade.
    let warm = steps[j]
        .model
        .prewarm_samples()
        .max(steps[j].model.receptive_field());
    let bound = switch_at + warm / tubeless_nam::CATCH_UP + fade + 2 * block;
    assert!(landed <= bound, "switch took until {landed}, bound {bound}");
    let tail = &y[landed..];
    let (err, peak) = common::max_err(tail, &b[landed..]);
    if exact_landing {
        assert_eq!(tail, &b[landed..], "after the switch: max error {err:e}");
    } else {
        // An LSTM caught up on half a second of history is close, not equal.
        assert!(err <= 1e-3 * peak.max(1.0), "after the switch: {err:e}");
    }
    let apart = (switch_at..landed)
        .map(|t| (a[t] - b[t]).abs())
        .fold(0.0f32, f32::max);
    let mut worst_excess = f32::NEG_INFINITY;
    let mut worst_step = 0.0f32;
    for t in switch_at..landed.min(y.len()) {
        let (lo, hi) = (a[t].min(b[t]), a[t].max(b[t]));
        assert!(
            y[t] >= lo - 1e-6 && y[t] <= hi + 1e-6,
            "sample {t}: {} outside [{lo}, {hi}]",
            y[t]
        );
        let step = (y[t] - y[t - 1]).abs();
        let own = (a[t] - a[t - 1]).abs().max((b[t] - b[t - 1]).abs());
        let allowed = own + apart / fade as f32 + 1e-6;
        assert!(step <= allowed, "sample {t}: step {step:e} > {allowed:e}");
        worst_excess = worst_excess.max(step - own);
        worst_step = worst_step.max(step);
    }
    eprintln!(
        "switch {from} -> {to} (steps {i} -> {j}), blocks of {block}: landed {} samples \
         after the request; largest step {worst_step:.2e}, above the models' own by at most \
         {worst_excess:.2e} (bound {:.2e}); a hard switch would step by up to {apart:.2e}",
        landed - switch_at,
        apart / fade as f32,
    );
}

#[test]
fn container_switches_are_click_free_and_land_in_step() {
    let file = fixture("container_lstm_wavenets_v070");
    check_switch(&file, 0.5, 0.9, 64, true); // WaveNet -> WaveNet
    check_switch(&file, 0.9, 0.5, 128, true);
    check_switch(&file, 0.9, 0.1, 64, false); // -> LSTM
    check_switch(&file, 0.1, 0.9, 64, true); // LSTM -> WaveNet
}

#[test]
fn slimmable_switches_are_click_free_and_land_in_step() {
    let file = fixture("wavenet_slimmable_v070");
    check_switch(&file, 0.1, 0.9, 64, true);
    check_switch(&file, 0.9, 0.5, 128, true);
}

#[test]
fn a_change_of_mind_cancels_or_restarts_the_switch() {
    let file = fixture("container_lstm_wavenets_v070");
    let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
    let mut buf = common::test_signal(64, 3);
    e.set_size(0.5);
    e.process_buffer(&mut buf);
    assert!(e.switching());
    // Back to the step being heard while catching up: the switch is dropped.
    e.set_size(1.0);
    e.process_buffer(&mut buf);
    assert!(!e.switching());
    assert_eq!(
        e.receptive_field(),
        file.size_steps()[2].model.receptive_field()
    );
}

#[test]
fn reset_finishes_a_switch_at_once() {
    let file = fixture("container_lstm_wavenets_v070");
    let input = common::test_signal(4000, 9);
    let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
    let mut buf = input.clone();
    e.process_buffer(&mut buf[..256]);
    e.set_size(0.5);
    e.process_buffer(&mut buf[256..512]);
    assert!(e.switching());
    e.reset();
    assert!(!e.switching());
    let mut y = input.clone();
    e.process_buffer(&mut y);
    let fresh = BuildOptions {
        size: 0.5,
        ..BuildOptions::default()
    };
    let mut z = input.clone();
    Engine::build(&file, fresh).unwrap().process_buffer(&mut z);
    assert_eq!(y, z);
    assert_eq!(
        e.receptive_field(),
        file.size_steps()[1].model.receptive_field()
    );
}

#[test]
fn models_without_sizes_ignore_the_control() {
    let file = fixture("wavenet_nano_v070");
    let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
    assert_eq!((e.size_steps(), e.has_sizes()), (None, false));
    assert!(e.size_breakpoints().is_empty());
    let input = common::test_signal(3000, 4);
    let mut a = input.clone();
    e.set_size(0.0);
    e.process_buffer(&mut a);
    assert_eq!(a, render(&file, &input, 512));
    assert!(file.size_steps().is_empty());
}

/// The host moves engines between threads (built off the audio thread, run on it).
#[test]
fn engines_and_files_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<Engine>();
    send::<NamFile>();
}
