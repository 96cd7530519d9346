//! Real-time safety of the streaming resampler: no allocation, reallocation or free inside
//! `ResamplerPair::process` or `reset`, at every kind of rate pair (exact polyphase rows,
//! interpolated rows, bypass), both qualities, block lengths that change on every call
//! (0, 1, odd, above `max_block`), NaN / Inf / huge / denormal input, with the standard
//! WaveNet as the model, and across a switch to a pair built for another host rate. Bad
//! input leaves no trace once it has passed. The guard is a counting global allocator
//! armed per thread (as `crates/nam/tests/rt_safety.rs`); the first test proves it sees
//! both an allocation and a free.

mod common;

use tubeless_dsp::stream_resample::{Quality, ResamplerPair};
use tubeless_nam::{BuildOptions, Engine, NamFile};

#[path = "../../../tests/support/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::heap_events;

const MAX_BLOCK: usize = 256;

fn signal(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * ((i as f32) * 0.031).sin() + 0.2 * ((i as f32) * 0.9).sin())
        .collect()
}

/// Bad samples: non-finite ones (`clean` gets 0 there) and finite extremes (kept).
fn spoil(x: &mut [f32]) -> Vec<f32> {
    let mut clean = x.to_vec();
    for (i, v) in [
        (500, f32::NAN),
        (900, f32::INFINITY),
        (1300, f32::NEG_INFINITY),
    ] {
        x[i] = v;
        clean[i] = 0.0;
    }
    for (i, v) in [
        (1700, f32::MAX),
        (2100, -1e30),
        (2500, 1e-40),
        (2600, -1e-45),
    ] {
        x[i] = v;
        clean[i] = v;
    }
    clean
}

/// Splits `total` into blocks that change on every call: 0, 1, odd, up to 3 x MAX_BLOCK.
fn changing_blocks(total: usize, seed: u64) -> Vec<usize> {
    let (_, mix) = common::block_patterns(total, MAX_BLOCK, seed)
        .pop()
        .unwrap();
    mix
}

fn run_guarded(pair: &mut ResamplerPair, x: &[f32], blocks: &[usize]) -> Vec<f32> {
    let mut y = x.to_vec();
    let ((), events) = heap_events(|| {
        pair.reset();
        let mut at = 0;
        for &n in blocks {
            pair.process(&mut y[at..at + n], |b: &mut [f32]| {
                b.iter_mut().for_each(|v| *v = v.clamp(-4.0, 4.0));
            });
            at += n;
        }
        pair.reset();
    });
    assert_eq!(
        events,
        0,
        "{}/{}: heap touched",
        pair.host_rate(),
        pair.model_rate()
    );
    y
}

#[test]
fn process_and_reset_never_touch_the_heap_and_bad_input_leaves_no_trace() {
    let pairs = [
        (44_100.0, 48_000.0),
        (96_000.0, 48_000.0),
        (48_000.0, 44_100.0),
        (48_000.0, 96_000.0),
        (8_000.0, 768_000.0),
        (768_000.0, 8_000.0),
        (47_999.0, 48_000.0), // interpolated rows
        (47_999.5, 44_100.0), // rate not a whole number of Hz
        (48_000.0, 48_000.0), // bypass
    ];
    for (host, model) in pairs {
        for q in [Quality::Standard, Quality::High] {
            let mut pair = ResamplerPair::new(host, model, MAX_BLOCK, q).unwrap();
            let n =
                3000 + 4 * pair.latency() + 8 * common::taps(&pair).0.max(common::taps(&pair).1);
            let mut x = signal(n);
            let clean = spoil(&mut x);
            let blocks = changing_blocks(n, host as u64 ^ q as u64);
            let y = run_guarded(&mut pair, &x, &blocks);
            let y_clean = run_guarded(&mut pair, &clean, &blocks);
            if pair.is_bypass() {
                // The model (here a clamp) sees the host's samples untouched.
                for (a, b) in x.iter().zip(&y) {
                    assert!(a.clamp(-4.0, 4.0).to_bits() == b.to_bits() || a.is_nan());
                }
                continue;
            }
            // Once the extremes have left the filters, nothing tells the two runs apart;
            // NaN and Inf never differ from silence at all.
            let (up, down) = common::taps(&pair);
            let reach = up + (down as f64 * host / model).ceil() as usize + 2;
            for (i, (a, b)) in y.iter().zip(&y_clean).enumerate() {
                if (1700..1700 + reach).contains(&i) || (2100..2600 + reach).contains(&i) {
                    continue;
                }
                assert_eq!(a.to_bits(), b.to_bits(), "{host}/{model} {q:?}: sample {i}");
            }
            assert!(y[2600 + reach..].iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn the_wavenet_inside_and_a_host_rate_switch_stay_off_the_heap() {
    let path = common::fixtures_dir().join("wavenet_standard_v054.nam");
    let file = NamFile::from_path(&path).unwrap();
    // Both pairs are built before the stream (as the plugin does off the audio thread);
    // the engine is sized for the larger model block of the two.
    let mut a = ResamplerPair::new(44_100.0, 48_000.0, MAX_BLOCK, Quality::Standard).unwrap();
    let mut b = ResamplerPair::new(96_000.0, 48_000.0, MAX_BLOCK, Quality::High).unwrap();
    let opts = BuildOptions {
        max_block: a.max_model_block().max(b.max_model_block()),
        ..BuildOptions::default()
    };
    let mut engine = Engine::build(&file, opts).unwrap();
    let mut x = signal(20_000);
    spoil(&mut x);
    let blocks = changing_blocks(x.len(), 99);
    let half = blocks.len() / 2;
    let mut y = x.clone();
    let ((), events) = heap_events(|| {
        let mut at = 0;
        for (i, &n) in blocks.iter().enumerate() {
            let pair = if i < half { &mut a } else { &mut b };
            if i == half {
                // The host re-initialised at 96 kHz: fresh resampler, fresh model state.
                pair.reset();
                engine.reset();
            }
            pair.process(&mut y[at..at + n], |m: &mut [f32]| engine.process_buffer(m));
            at += n;
        }
    });
    assert_eq!(events, 0, "heap touched");
    assert!(y.iter().all(|v| v.is_finite()));
    assert_eq!(engine.faults(), 0);
    // The model really ran: the output is not the input.
    assert!(
        y.iter()
            .zip(&x)
            .filter(|(a, b)| (*a - *b).abs() > 1e-3)
            .count()
            > 1000
    );
}
