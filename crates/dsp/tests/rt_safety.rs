//! Real-time safety of every block of the amp chain: no allocation, reallocation or
//! free in `process*`, `detect`/`apply`, `reset`, the parameter setters, IR swaps and
//! hand-backs, at every block pattern (0-length blocks and blocks longer than the
//! declared maximum included), with parameters moving mid-stream, at 8 kHz, 48 kHz and
//! 768 kHz, on input with NaN, infinities, huge and denormal values. The guard is a
//! counting global allocator armed per thread (the engine's, crates/nam/tests); the
//! first test proves it catches both an allocation and a free.

use tubeless_dsp::dc_blocker::DcBlocker;
use tubeless_dsp::gate::NoiseGate;
use tubeless_dsp::ir::{Cabinet, Convolver};
use tubeless_dsp::levels::{self, ModelLevels, OutputMode};
use tubeless_dsp::smoother::{GainSmoother, Glide, Smoother};
use tubeless_dsp::tone_stack::ToneStack;

#[path = "../../../tests/support/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::heap_events;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn hostile_input(n: usize) -> Vec<f32> {
    let mut r = Rng(7);
    let mut v: Vec<f32> = (0..n)
        .map(|i| {
            // Bursts and silences, so the gate opens and closes.
            let on = (i / 3000) % 2 == 0;
            if on {
                0.3 * r.uniform()
            } else {
                0.0
            }
        })
        .collect();
    for (k, bad) in [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e30,
        -1e30,
        1e-40,
        -1e-39,
    ]
    .iter()
    .enumerate()
    {
        v[100 + 977 * k] = *bad;
    }
    v
}

fn block_patterns(len: usize, max: usize) -> Vec<(&'static str, Vec<usize>)> {
    let fixed = |name, b: usize| {
        let mut v = vec![b; len / b];
        v.push(len % b);
        (name, v)
    };
    let mut r = Rng(99);
    let mut mix = Vec::new();
    let mut left = len;
    while left > 0 {
        let n = match r.next() % 5 {
            0 => 0,
            1 => 1 + (r.next() % 7) as usize,
            2 => 1 + (r.next() % max as u64) as usize,
            3 => max + (r.next() % (3 * max) as u64) as usize,
            _ => max,
        }
        .min(left);
        mix.push(n);
        left -= n;
    }
    vec![
        fixed("1", 1),
        fixed("7", 7),
        fixed("max", max),
        ("mix", mix),
    ]
}

fn ir(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    (0..n)
        .map(|k| r.uniform() * (-3.0 * k as f32 / n as f32).exp())
        .collect()
}

#[test]
fn every_block_never_touches_the_heap() {
    const MAX: usize = 256;
    let len = 24_000;
    let input = hostile_input(len);
    let meta = ModelLevels::new(Some(-14.0), Some(10.0), None);
    for rate in [8_000.0, 48_000.0, 768_000.0] {
        let one_s = ir(rate as usize, 1);
        let one_s_r = ir(rate as usize, 2);
        for (name, blocks) in block_patterns(len, MAX) {
            // Built off the "audio thread": everything that allocates.
            let mut gate = NoiseGate::new(rate, MAX);
            let mut tone = ToneStack::new(rate);
            let mut cab = Cabinet::new(rate, MAX);
            let mut dc = DcBlocker::new(rate);
            let mut gain = GainSmoother::new(rate, 30.0, 0.0);
            let mut lin = Smoother::new(rate, 20.0, 0.0);
            let mut glide = Glide::new(rate, 30.0, 0.0, 1e-4);
            let mut conv = Convolver::new(&[&one_s, &one_s_r], rate);
            let mut swaps: Vec<Option<Box<Convolver>>> = vec![
                None,
                Some(Box::new(Convolver::new(&[&ir(4800, 3)], rate))),
                Some(Box::new(Convolver::new(&[&one_s, &one_s_r], rate))),
                Some(Box::new(Convolver::new(&[&ir(100, 4)], rate))),
                Some(Box::new(Convolver::new(&[&ir(30_000, 5)], rate))),
            ];
            let mut outbox: Vec<Box<Convolver>> = Vec::with_capacity(16);
            let (mut l, mut r) = (input.clone(), vec![0.0f32; len]);
            let (mut l2, mut r2) = (input.clone(), vec![0.0f32; len]);

            let ((), events) = heap_events(|| {
                let mut at = 0;
                for (i, &n) in blocks.iter().enumerate() {
                    let (cl, cr) = (&mut l[at..at + n], &mut r[at..at + n]);
                    // Parameters move mid-stream.
                    let v = (i % 11) as f32;
                    match i % 13 {
                        0 => gate.set_threshold_db(-100.0 + 9.0 * v),
                        1 => tone.set_bass(v),
                        2 => tone.set_middle(10.0 - v),
                        3 => tone.set_treble(v * 0.7),
                        4 => gate.set_attack_ms(0.5 + v),
                        5 => gate.set_release_ms(10.0 + 30.0 * v),
                        6 => gate.set_hold_ms(5.0 * v),
                        7 => gate.set_enabled(i % 2 == 0),
                        8 => tone.set_enabled(i % 3 != 0),
                        9 => cab.set_enabled(i % 5 != 0),
                        10 => tone.set_smoothing_ms(v as f64 * 5.0),
                        11 => {
                            if let Some(next) = swaps.pop() {
                                if let Some(old) = cab.set_ir(next) {
                                    outbox.push(old);
                                }
                            }
                        }
                        _ => gain.set_target_db(-20.0 + 4.0 * v),
                    }
                    if i % 97 == 50 {
                        gate.set_sample_rate(rate);
                        tone.set_sample_rate(rate);
                        cab.set_sample_rate(rate);
                    }
                    lin.set_target(v);
                    glide.set_target(v as f64);
                    let in_db = levels::input_calibration_gain_db(true, Some(&meta), 12.0);
                    let out_db =
                        levels::output_mode_gain_db(OutputMode::Normalized, Some(&meta), 12.0);
                    let _ = levels::output_mode_availability(OutputMode::Calibrated, Some(&meta));
                    std::hint::black_box((in_db, out_db, lin.next_value(), glide.next_value()));
                    // The chain: gate detector, "model", gate gain, EQ, cab, DC, gain.
                    // (A model's output is finite whatever its input, as the engine's is; a
                    // bypassed block passes its input through untouched.)
                    gate.process_with(cl, |m| {
                        m.iter_mut().for_each(|x| {
                            *x = if x.is_finite() {
                                (*x * 3.0).tanh()
                            } else {
                                0.0
                            }
                        })
                    });
                    tone.process(cl);
                    cab.process(cl, cr);
                    dc.process(cl);
                    gain.apply(cl);
                    if let Some(old) = cab.take_retired() {
                        outbox.push(old);
                    }
                    // The split gate API on blocks the chain has already cut.
                    for c in l2[at..at + n].chunks_mut(MAX) {
                        gate.detect(c);
                        gate.apply(c);
                    }
                    conv.process_stereo(&mut l2[at..at + n], &mut r2[at..at + n]);
                    std::hint::black_box(tone.response_db(1000.0));
                    at += n;
                }
                gate.reset();
                tone.reset();
                cab.reset();
                conv.reset();
                dc.reset(rate);
            });
            assert_eq!(events, 0, "{rate} Hz, blocks {name}");
            for (which, buf) in [("L", &l), ("R", &r), ("L2", &l2), ("R2", &r2)] {
                if let Some(k) = buf.iter().position(|x| !(x.is_normal() || *x == 0.0)) {
                    panic!(
                        "{rate} Hz, blocks {name}: {which}[{k}] = {} (input {})",
                        buf[k], input[k]
                    );
                }
            }
            drop(outbox);
        }
    }
}
