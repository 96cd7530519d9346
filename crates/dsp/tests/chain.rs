//! The shared chain: the same samples for any split of the stream; the engine's exact
//! output at rest; and no click from anything that moves (model swaps, gains, bypass,
//! channel mode): each transition's largest sample-to-sample step stays within what the
//! two steady states produce on their own, where a hard switch would not.

use std::path::PathBuf;

use tubeless_dsp::chain::{BYPASS_FADE_MS, SWAP_FADE_MS};
use tubeless_dsp::dc_blocker::DcBlocker;
use tubeless_dsp::{Chain, ChainSettings, ChannelMode, ModelSlot, OutputMode, SlotSpec};
use tubeless_nam::{ActivationMode, BuildOptions, Engine, NamFile};

const RATE: f64 = 48_000.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model(name: &str) -> NamFile {
    let p = if name == "demo" {
        repo().join("assets/demo_amp.nam")
    } else {
        repo().join(format!("crates/nam/tests/fixtures/{name}.nam"))
    };
    NamFile::from_path(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn slot(file: &NamFile, max_block: usize) -> Box<ModelSlot> {
    Box::new(
        ModelSlot::build(
            file,
            SlotSpec {
                host_rate: RATE,
                max_block,
                activations: ActivationMode::Accurate,
                size: 1.0,
                quality: Default::default(),
            },
        )
        .unwrap(),
    )
}

fn raw() -> ChainSettings {
    ChainSettings {
        output_mode: OutputMode::Raw,
        ..ChainSettings::default()
    }
}

/// A guitar-like stereo test signal: decaying plucks, different on each side.
fn stereo(n: usize) -> (Vec<f32>, Vec<f32>) {
    let tone = |f: f32, phase: f32| -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let env = (-(t % 0.25) * 9.0).exp();
                0.5 * env * (2.0 * std::f32::consts::PI * f * t + phase).sin()
            })
            .collect()
    };
    (tone(110.0, 0.0), tone(164.8, 1.0))
}

/// Runs the chain over (l, r) in blocks, calling `at_block(chain, start)` before each.
fn run(
    chain: &mut Chain,
    l: &[f32],
    r: Option<&[f32]>,
    blocks: &[usize],
    mut at_block: impl FnMut(&mut Chain, usize),
) -> (Vec<f32>, Vec<f32>) {
    let mut ol = l.to_vec();
    let mut or = r.map_or_else(|| vec![0.0; l.len()], |r| r.to_vec());
    let inputs = if r.is_some() { 2 } else { 1 };
    let mut at = 0;
    for &n in blocks {
        at_block(chain, at);
        let mut chans: [&mut [f32]; 2] = [&mut ol[at..at + n], &mut or[at..at + n]];
        chain.process(&mut chans, inputs);
        at += n;
    }
    (ol, or)
}

fn fixed(total: usize, b: usize) -> Vec<usize> {
    (0..total.div_ceil(b))
        .map(|i| b.min(total - i * b))
        .collect()
}

fn random_blocks(total: usize, seed: u64, max: usize) -> Vec<usize> {
    let mut s = seed;
    let mut left = total;
    let mut v = Vec::new();
    while left > 0 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = ((s >> 33) as usize % (max + 1)).min(left);
        v.push(n);
        left -= n;
    }
    v
}

fn max_step(y: &[f32]) -> f32 {
    y.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn any_split_of_the_stream_gives_the_same_samples() {
    let file = model("wavenet_feather_v054");
    let (l, r) = stereo(20_000);
    for mode in [ChannelMode::Mono, ChannelMode::DualMono] {
        let settings = ChainSettings {
            input_gain_db: 3.0,
            output_gain_db: -2.0,
            channel_mode: mode,
            ..ChainSettings::default()
        };
        let mut reference = None;
        for blocks in [
            fixed(l.len(), 1),
            fixed(l.len(), 7),
            fixed(l.len(), 64),
            fixed(l.len(), 1024),
            fixed(l.len(), 5000), // above max_block: split inside
            random_blocks(l.len(), 9, 1500),
        ] {
            let mut chain = Chain::new(RATE, 1024, settings);
            chain.place(Some(slot(&file, 1024)));
            let out = run(&mut chain, &l, Some(&r), &blocks, |_, _| {});
            match &reference {
                None => reference = Some(out),
                Some(want) => assert!(out == *want, "{mode:?}: block split changed the output"),
            }
        }
    }
}

#[test]
fn at_rest_mono_is_the_engine_on_the_average_and_dual_mono_each_side() {
    let file = model("wavenet_feather_v054");
    let (l, r) = stereo(8000);
    let engine_then_dc = |x: &[f32]| {
        let mut e = Engine::build(&file, BuildOptions::default()).unwrap();
        let mut y = x.to_vec();
        e.process_buffer(&mut y);
        DcBlocker::new(RATE).process(&mut y);
        y
    };
    let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| (a + b) * 0.5).collect();
    let want_mono = engine_then_dc(&mono);

    let mut chain = Chain::new(RATE, 512, raw());
    chain.place(Some(slot(&file, 512)));
    let (ol, or) = run(&mut chain, &l, Some(&r), &fixed(l.len(), 512), |_, _| {});
    assert!(
        ol == want_mono && or == want_mono,
        "mono differs from the engine"
    );

    let mut chain = Chain::new(
        RATE,
        512,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..raw()
        },
    );
    chain.place(Some(slot(&file, 512)));
    let (ol, or) = run(&mut chain, &l, Some(&r), &fixed(l.len(), 512), |_, _| {});
    assert!(ol == engine_then_dc(&l), "dual mono left differs");
    assert!(or == engine_then_dc(&r), "dual mono right differs");

    // A mono input in dual mode is mono: one engine, the same on both outputs.
    let mut chain = Chain::new(
        RATE,
        512,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..raw()
        },
    );
    chain.place(Some(slot(&file, 512)));
    let (ol, or) = run(&mut chain, &l, None, &fixed(l.len(), 512), |_, _| {});
    assert!(ol == engine_then_dc(&l) && or == ol);
}

#[test]
fn gains_and_normalization_are_exact_at_rest() {
    let file = model("demo");
    let loudness = file.metadata.loudness.unwrap();
    let (l, _) = stereo(4000);
    let mut plain = Chain::new(RATE, 256, raw());
    plain.place(Some(slot(&file, 256)));
    let (base, _) = run(&mut plain, &l, None, &fixed(l.len(), 256), |_, _| {});
    let mut norm = Chain::new(
        RATE,
        256,
        ChainSettings {
            output_gain_db: 6.0,
            ..ChainSettings::default()
        },
    );
    norm.place(Some(slot(&file, 256)));
    let (y, _) = run(&mut norm, &l, None, &fixed(l.len(), 256), |_, _| {});
    let g = 10f32.powf((-18.0 - loudness as f32) / 20.0) * 10f32.powf(6.0 / 20.0);
    // The DC blocker now follows the gains: equal up to float rounding, relative to peak.
    let peak = y.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for (a, b) in y.iter().zip(&base) {
        assert!((a - b * g).abs() <= 1e-5 * peak, "{a} vs {}", b * g);
    }
}

fn dc(x: &[f32]) -> Vec<f32> {
    let mut y = x.to_vec();
    DcBlocker::new(RATE).process(&mut y);
    y
}

#[test]
fn with_no_model_audio_passes_through_the_rest_of_the_chain() {
    // Gate open, tone stack flat, no cab: only the 5 Hz DC blocker touches the signal.
    let (l, r) = stereo(3000);
    let mut chain = Chain::new(RATE, 128, ChainSettings::default());
    let (ol, or) = run(&mut chain, &l, Some(&r), &fixed(l.len(), 100), |_, _| {});
    let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| (a + b) * 0.5).collect();
    assert!(ol == dc(&mono) && or == ol);
    let mut chain = Chain::new(
        RATE,
        128,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..ChainSettings::default()
        },
    );
    let (ol, or) = run(&mut chain, &l, Some(&r), &fixed(l.len(), 100), |_, _| {});
    assert!(ol == dc(&l) && or == dc(&r));
}

#[test]
fn non_finite_input_is_silence() {
    let file = model("wavenet_feather_v054");
    let mut chain = Chain::new(RATE, 64, ChainSettings::default());
    chain.place(Some(slot(&file, 64)));
    let mut x = vec![0.1f32; 1000];
    x[10] = f32::NAN;
    x[20] = f32::INFINITY;
    x[30] = f32::NEG_INFINITY;
    let (y, _) = run(&mut chain, &x, None, &fixed(1000, 64), |_, _| {});
    assert!(y.iter().all(|v| v.is_finite()));
}

/// Largest step within `window` samples after `at`, and the bound it must stay within: the
/// steepest step of either steady signal plus what the fade's own slope can add.
fn check_transition(y: &[f32], a: &[f32], b: &[f32], at: usize, fade: usize, what: &str) {
    let window = at.saturating_sub(2)..(at + fade + 2).min(y.len());
    let steady = max_step(&a[window.clone()]).max(max_step(&b[window.clone()]));
    let gap = window
        .clone()
        .map(|i| (a[i] - b[i]).abs())
        .fold(0.0f32, f32::max);
    // d/dn of the raised cosine peaks at pi / (2 * fade).
    let bound = steady * 1.02 + gap * std::f32::consts::PI / (2.0 * fade as f32) + 1e-6;
    let seen = max_step(&y[window.clone()]);
    assert!(
        seen <= bound,
        "{what}: step {seen:.5} > bound {bound:.5} (steady {steady:.5}, gap {gap:.3})"
    );
    // The test can fail: switching hard from `a` to `b` at the worst sample would not pass.
    let worst_hard = window
        .map(|i| (b[i] - a[i.saturating_sub(1)]).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst_hard > bound,
        "{what}: signals too alike to tell ({worst_hard:.5} <= {bound:.5})"
    );
}

#[test]
fn a_model_swap_crossfades_without_a_click() {
    let a_file = model("demo");
    let b_file = model("wavenet_feather_v054");
    let (l, _) = stereo(24_000);
    let blocks = fixed(l.len(), 64);
    let steady = |file: &NamFile| {
        let mut c = Chain::new(RATE, 64, raw());
        c.place(Some(slot(file, 64)));
        run(&mut c, &l, None, &blocks, |_, _| {}).0
    };
    let ya = steady(&a_file);
    let switch = 9600;
    let mut new_slot = Some(slot(&b_file, 64));
    let mut retired = 0;
    let mut chain = Chain::new(RATE, 64, raw());
    chain.place(Some(slot(&a_file, 64)));
    let (y, _) = run(&mut chain, &l, None, &blocks, |c, at| {
        if at == switch {
            c.offer(new_slot.take()).ok().unwrap();
        }
        while c.take_retired().is_some() {
            retired += 1;
        }
    });
    // What fades in: the new model, freshly built, hearing the input from the switch on.
    let mut fresh = Chain::new(RATE, 64, raw());
    fresh.place(Some(slot(&b_file, 64)));
    let mut incoming = ya[..switch].to_vec();
    incoming.extend(
        run(
            &mut fresh,
            &l[switch..],
            None,
            &fixed(l.len() - switch, 64),
            |_, _| {},
        )
        .0,
    );
    let fade = (SWAP_FADE_MS * 1e-3 * RATE) as usize;
    check_transition(&y, &ya, &incoming, switch, fade, "model swap");
    // Before: the old model exactly; after the fade: the new one exactly.
    assert!(y[..switch] == ya[..switch]);
    // After the fade: the new model, but for the DC blocker's memory of the old model's
    // offset, a slow drift (no step in it) that dies away with its 32 ms time constant.
    let diff: Vec<f32> = y[switch + fade..]
        .iter()
        .zip(&incoming[switch + fade..])
        .map(|(a, b)| a - b)
        .collect();
    let drift_step = max_step(&diff);
    assert!(
        drift_step < 1e-4,
        "the difference after the fade moves: {drift_step}"
    );
    let tail = diff[diff.len() - 1000..]
        .iter()
        .fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(tail < 1e-3, "the old model's offset still shows: {tail}");
    assert_eq!(
        retired, 1,
        "the old slot comes back to be dropped elsewhere"
    );
}

#[test]
fn offers_during_a_crossfade_queue_and_the_newest_wins() {
    let files = [
        model("demo"),
        model("wavenet_feather_v054"),
        model("wavenet_nano_v054"),
    ];
    let mut chain = Chain::new(RATE, 64, raw());
    chain.place(Some(slot(&files[0], 64)));
    let mut buf = vec![0.1f32; 64];
    chain.offer(Some(slot(&files[1], 64))).ok().unwrap();
    chain.process(&mut [&mut buf[..]], 1);
    chain.offer(Some(slot(&files[2], 64))).ok().unwrap(); // waits
    chain.offer(None).ok().unwrap(); // replaces the waiting one, which is retired
    assert!(chain.has_retired());
    assert!(chain.take_retired().is_some());
    assert!(!chain.has_retired(), "nothing else retired yet");
    for _ in 0..100 {
        chain.process(&mut [&mut buf[..]], 1);
    }
    assert!(!chain.is_swapping());
    assert!(chain.model().is_none(), "the newest offer (no model) wins");
    let mut n = 0;
    while chain.has_retired() {
        assert!(chain.take_retired().is_some(), "has_retired promised one");
        n += 1;
    }
    assert!(chain.take_retired().is_none());
    assert_eq!(n, 2, "demo and feather retired");
}

#[test]
fn gain_automation_glides() {
    let file = model("demo");
    let (l, _) = stereo(12_000);
    let blocks = fixed(l.len(), 64);
    let at_gain = |db: f32| {
        let mut c = Chain::new(
            RATE,
            64,
            ChainSettings {
                input_gain_db: db,
                output_gain_db: -db,
                ..raw()
            },
        );
        c.place(Some(slot(&file, 64)));
        run(&mut c, &l, None, &blocks, |_, _| {}).0
    };
    let (lo, hi) = (at_gain(-20.0), at_gain(20.0));
    let mut c = Chain::new(
        RATE,
        64,
        ChainSettings {
            input_gain_db: -20.0,
            output_gain_db: 20.0,
            ..raw()
        },
    );
    c.place(Some(slot(&file, 64)));
    let switch = 4800;
    let (y, _) = run(&mut c, &l, None, &blocks, |c, at| {
        if at == switch {
            c.set_settings(ChainSettings {
                input_gain_db: 20.0,
                output_gain_db: -20.0,
                ..raw()
            });
        }
    });
    let glide = (tubeless_dsp::chain::GAIN_GLIDE_MS * 1e-3 * RATE) as usize;
    // The gains glide along different paths than a crossfade, so bound by the steepest of
    // the two steady signals, with headroom for the moving gain's own slope.
    let w = switch - 1..switch + glide + 200;
    let steady = max_step(&lo[w.clone()]).max(max_step(&hi[w.clone()]));
    let seen = max_step(&y[w.clone()]);
    assert!(
        seen <= steady * 1.5,
        "gain jump: step {seen} vs steady {steady}"
    );
    let hard = w.map(|i| (hi[i] - lo[i - 1]).abs()).fold(0.0f32, f32::max);
    assert!(hard > steady * 1.5, "test cannot tell: {hard} vs {steady}");
}

#[test]
fn bypass_is_click_free_keeps_time_and_is_exact_when_settled() {
    let file = model("demo");
    let (l, r) = stereo(30_000);
    let blocks = fixed(l.len(), 64);
    let mut wet_chain = Chain::new(RATE, 64, raw());
    wet_chain.place(Some(slot(&file, 64)));
    let (wet, _) = run(&mut wet_chain, &l, Some(&r), &blocks, |_, _| {});
    let dry: Vec<f32> = l.clone();
    let (on, off) = (6400, 19200);
    let mut chain = Chain::new(
        RATE,
        64,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..raw()
        },
    );
    chain.place(Some(slot(&file, 64)));
    let mut wet_dual_chain = Chain::new(
        RATE,
        64,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..raw()
        },
    );
    wet_dual_chain.place(Some(slot(&file, 64)));
    let (wet_l, _) = run(&mut wet_dual_chain, &l, Some(&r), &blocks, |_, _| {});
    let (y, yr) = run(&mut chain, &l, Some(&r), &blocks, |c, at| {
        let bypass = (on..off).contains(&at);
        c.set_settings(ChainSettings {
            bypass,
            channel_mode: ChannelMode::DualMono,
            ..raw()
        });
    });
    let fade = (BYPASS_FADE_MS * 1e-3 * RATE) as usize;
    check_transition(&y, &wet_l, &dry, on, fade, "bypass on");
    // Fully bypassed: the input, untouched and not delayed (latency is 0 here).
    assert!(y[on + fade + 64..off] == l[on + fade + 64..off]);
    assert!(yr[on + fade + 64..off] == r[on + fade + 64..off]);
    // Coming back, the engines resume from clean (they were fed silence while bypassed),
    // so the wet signal returns as a fresh engine would play it.
    let mut fresh = Chain::new(
        RATE,
        64,
        ChainSettings {
            channel_mode: ChannelMode::DualMono,
            ..raw()
        },
    );
    fresh.place(Some(slot(&file, 64)));
    let mut tail_in = l[off..].to_vec();
    let mut tail_r = r[off..].to_vec();
    fresh.process(&mut [&mut tail_in[..], &mut tail_r[..]], 2);
    let resumed = &y[off + fade + 64..];
    let fresh_tail = &tail_in[fade + 64..];
    assert!(resumed == fresh_tail, "resumed engine is not clean");
    let _ = wet; // the mono wet signal is covered by the split test
    let mut back = dry.clone();
    back[off..].copy_from_slice(&tail_in);
    check_transition(&y, &dry, &back, off, fade, "bypass off");
}

#[test]
fn channel_mode_changes_are_click_free() {
    let file = model("demo");
    let (l, r) = stereo(30_000);
    let blocks = fixed(l.len(), 64);
    let steady = |mode| {
        let mut c = Chain::new(
            RATE,
            64,
            ChainSettings {
                channel_mode: mode,
                ..raw()
            },
        );
        c.place(Some(slot(&file, 64)));
        run(&mut c, &l, Some(&r), &blocks, |_, _| {})
    };
    let (mono_l, mono_r) = steady(ChannelMode::Mono);
    let (dual_l, dual_r) = steady(ChannelMode::DualMono);
    let (to_dual, to_mono) = (9600, 19200);
    let mut c = Chain::new(RATE, 64, raw());
    c.place(Some(slot(&file, 64)));
    let (yl, yr) = run(&mut c, &l, Some(&r), &blocks, |c, at| {
        let mode = if (to_dual..to_mono).contains(&at) {
            ChannelMode::DualMono
        } else {
            ChannelMode::Mono
        };
        c.set_settings(ChainSettings {
            channel_mode: mode,
            ..raw()
        });
    });
    let fade = (tubeless_dsp::chain::MODE_FADE_MS * 1e-3 * RATE) as usize;
    // The right channel crossfades between two engines' outputs.
    check_transition(&yr, &mono_r, &dual_r, to_dual, fade, "mono -> dual, right");
    check_transition(&yr, &dual_r, &mono_r, to_mono, fade, "dual -> mono, right");
    // The left engine's input glides; its output must not jump either.
    let w = to_dual - 1..to_dual + fade + 64;
    let steady_step = max_step(&mono_l[w.clone()]).max(max_step(&dual_l[w.clone()]));
    assert!(max_step(&yl[w]) <= steady_step * 1.5);
    assert!(yl[..to_dual] == mono_l[..to_dual]);
}

#[test]
fn defaults_are_the_reference_plugins() {
    let s = ChainSettings::default();
    assert_eq!((s.input_gain_db, s.output_gain_db), (0.0, 0.0));
    assert!(s.gate.enabled && s.tone.enabled && s.cab_enabled);
    assert_eq!(
        (
            s.gate.threshold_db,
            s.gate.attack_ms,
            s.gate.hold_ms,
            s.gate.release_ms
        ),
        (-80.0, 5.0, 10.0, 50.0)
    );
    assert_eq!((s.tone.bass, s.tone.middle, s.tone.treble), (5.0, 5.0, 5.0));
    assert_eq!(s.output_mode, OutputMode::Normalized);
    assert!(!s.input_calibration);
    assert_eq!(s.input_calibration_dbu, 12.0);
    assert_eq!(s.channel_mode, ChannelMode::Mono);
    // Our own default where the reference has none: the largest size.
    assert_eq!(s.size, 1.0);
}

/// The chain equals the blocks run by hand in the reference plugin's order: input gain,
/// gate detector on the input, model, gate gain, tone stack, cab, DC blocker, output gain.
#[test]
fn the_blocks_run_in_the_reference_plugins_order() {
    use tubeless_dsp::gate::NoiseGate;
    use tubeless_dsp::ir::{Cabinet, Convolver, IrSlot};
    use tubeless_dsp::tone_stack::ToneStack;
    let file = model("demo");
    let n = 24_000;
    // Loud notes and near-silence, so the gate works; the model is an overdriven amp, so
    // a block in the wrong place changes the result.
    let mut x = stereo(n).0;
    for (i, v) in x.iter_mut().enumerate() {
        if (i / 4000) % 2 == 1 {
            *v *= 3e-4;
        }
    }
    let ir: Vec<f32> = (0..2400)
        .map(|i| (-(i as f32) / 300.0).exp() * ((i * 7 % 13) as f32 / 13.0 - 0.5))
        .collect();
    let settings = ChainSettings {
        input_gain_db: 6.0,
        output_gain_db: -3.0,
        output_mode: OutputMode::Raw,
        gate: tubeless_dsp::GateSettings {
            threshold_db: -50.0,
            ..Default::default()
        },
        tone: tubeless_dsp::ToneSettings {
            bass: 8.0,
            middle: 3.0,
            treble: 7.0,
            enabled: true,
        },
        ..ChainSettings::default()
    };
    let block = 256;
    let mut chain = Chain::new(RATE, block, settings);
    chain.place(Some(slot(&file, block)));
    chain.place_ir(Some(IrSlot {
        main: Box::new(Convolver::new(&[&ir], RATE)),
        side: Box::new(Convolver::new(&[&ir], RATE)),
        taps: ir.len(),
    }));
    let (got, _) = run(&mut chain, &x, None, &fixed(n, block), |_, _| {});

    let mut engine = Engine::build(&file, BuildOptions::default()).unwrap();
    let mut gate = NoiseGate::new(RATE, block);
    gate.set_threshold_db(-50.0);
    let mut tone = ToneStack::new(RATE);
    tone.set_bass(8.0);
    tone.set_middle(3.0);
    tone.set_treble(7.0);
    tone.reset();
    let mut cab = Cabinet::new(RATE, block);
    cab.set_ir(Some(Box::new(Convolver::new(&[&ir], RATE))));
    cab.reset();
    let mut dc = DcBlocker::new(RATE);
    let (g_in, g_out) = (10f32.powf(6.0 / 20.0), 10f32.powf(-3.0 / 20.0));
    let mut want = Vec::with_capacity(n);
    let mut right = vec![0.0f32; block];
    for chunk in x.chunks(block) {
        let mut b: Vec<f32> = chunk.iter().map(|v| v * g_in).collect();
        gate.detect(&b);
        engine.process_buffer(&mut b);
        gate.apply(&mut b);
        tone.process(&mut b);
        cab.process(&mut b, &mut right[..chunk.len()]);
        dc.process(&mut b);
        want.extend(b.iter().map(|v| v * g_out));
    }
    let peak = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = max_abs(&got, &want);
    assert!(
        err <= 1e-5 * peak,
        "chain differs from the reference order by {err} (peak {peak})"
    );
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
