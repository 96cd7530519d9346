//! Noise gate timing against its design, with the detector's level known in closed
//! form: the input is a burst of +-a alternating samples (a constant square, so the
//! mean-square detector has no ripple) and the level after it decays as a^2 0.5^(t/10ms).
//! - attack: from fully closed, the reduction rises at (max reduction / attack) per
//!   second: it reaches a given gain at a predictable sample;
//! - hold: the gain stays exactly 1 for `hold` after the level crosses the threshold;
//! - release: it then falls no faster than (max reduction / release), and at exactly
//!   that rate once its quadratic target is far below.

use tubeless_dsp::gate::*;

/// The gain the gate applies at each sample of `input` (applied to ones), in blocks.
fn gains(g: &mut NoiseGate, input: &[f32], block: usize) -> Vec<f32> {
    let mut out = vec![1.0f32; input.len()];
    for (x, y) in input.chunks(block).zip(out.chunks_mut(block)) {
        g.detect(x);
        g.apply(y);
    }
    out
}

fn square(a: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| if i % 2 == 0 { a } else { -a }).collect()
}

fn amp_db(g: f32) -> f64 {
    20.0 * (g as f64).log10()
}

/// Reference dB reduction when fully closed: -ratio (floor - threshold)^2.
fn max_reduction(threshold: f64) -> f64 {
    -RATIO * (FLOOR_DB - threshold).powi(2)
}

#[test]
fn attack_opens_at_the_designed_rate() {
    for rate in [48_000.0, 96_000.0, 768_000.0] {
        for attack_ms in [DEFAULT_ATTACK_MS, 20.0] {
            let mut g = NoiseGate::new(rate, 256);
            g.set_attack_ms(attack_ms);
            // Close it fully: a second of silence.
            let closed = gains(&mut g, &vec![0.0; rate as usize], 256);
            assert_eq!(
                amp_db(*closed.last().unwrap()).round(),
                2.0 * max_reduction(-80.0)
            );
            let n0 = 1000;
            let mut input = vec![0.0f32; n0];
            input.extend(square(0.1, (0.1 * rate) as usize));
            let gn = gains(&mut g, &input, 256);
            // The level is above the threshold from the burst's first sample; the
            // reduction then climbs d = 160 / (attack * rate) reference dB per sample
            // (amplitude dB = 2 x reference dB).
            let d = -max_reduction(-80.0) / (attack_ms as f64 / 1000.0 * rate);
            for target_amp_db in [-240.0, -80.0, -6.0] {
                let r = target_amp_db / 2.0;
                let k = ((r - max_reduction(-80.0)) / d).ceil() as usize - 1;
                let got = n0
                    + gn[n0..]
                        .iter()
                        .position(|&v| amp_db(v) >= target_amp_db)
                        .unwrap();
                assert!(
                    got.abs_diff(n0 + k) <= 1,
                    "{rate} Hz, attack {attack_ms} ms: {target_amp_db} dB at {got}, expected {}",
                    n0 + k
                );
            }
            // Fully open (exactly 1) a few samples after the linear climb ends.
            let open = n0 + gn[n0..].iter().position(|&v| v == 1.0).unwrap();
            let full = n0 + (-max_reduction(-80.0) / d) as usize;
            assert!(open >= full - 2 && open <= full + 30, "{open} vs {full}");
            // Never faster than the attack rate.
            let fastest = gn
                .windows(2)
                .map(|w| amp_db(w[1]) - amp_db(w[0]))
                .fold(0.0, f64::max);
            // (f32 gains: dB differences are exact to ~1e-6 dB.)
            assert!(fastest <= 2.0 * d + 1e-5, "{fastest} vs {}", 2.0 * d);
        }
    }
}

/// Gate open on a long burst of amplitude `a`, then silence: (gains, first silent
/// sample, sample at which the level first falls below the threshold).
fn burst_then_silence(
    g: &mut NoiseGate,
    rate: f64,
    a: f32,
    threshold_db: f64,
) -> (Vec<f32>, usize, usize) {
    let n1 = (0.3 * rate) as usize; // 30 half-lives: the level is a^2 to 1e-9
    let mut input = square(a, n1);
    input.extend(vec![0.0; (3.0 * rate) as usize]);
    let gn = gains(g, &input, g.max_block().min(333));
    let alpha_ln = 0.5f64.ln() / (DETECTOR_HALF_LIFE_S * rate);
    let ratio = 10f64.powf(threshold_db / 10.0) / (a as f64 * a as f64);
    // a^2 alpha^k < threshold power, first k >= 1.
    let k = (ratio.ln() / alpha_ln).floor() as usize + 1;
    (gn, n1, n1 + k - 1)
}

#[test]
fn hold_keeps_it_open_for_the_hold_time_after_the_level_drops() {
    for rate in [48_000.0, 96_000.0] {
        for hold_ms in [0.0, DEFAULT_HOLD_MS, 100.0] {
            let mut g = NoiseGate::new(rate, 512);
            g.set_hold_ms(hold_ms);
            let (gn, n1, cross) = burst_then_silence(&mut g, rate, 0.1, -80.0);
            assert!(gn[..n1].iter().all(|&v| v == 1.0), "open during the burst");
            let first_closing = gn.iter().position(|&v| v < 1.0).unwrap();
            let hold = (hold_ms as f64 / 1000.0 * rate).ceil() as usize;
            // The reference counts held time from the first sample below threshold and
            // starts moving once it reaches the hold time.
            // (A reduction under f32 resolution of the gain takes a sample or two more.)
            let from = cross + hold.max(1);
            assert!(
                (from..=from + 3).contains(&first_closing),
                "{rate} Hz hold {hold_ms} ms: closing at {first_closing}, crossing {cross} + hold {hold}"
            );
        }
    }
}

#[test]
fn release_closes_at_the_designed_rate() {
    let rate = 48_000.0;
    // Default release: never faster than 160 reference dB per 50 ms.
    let mut g = NoiseGate::new(rate, 256);
    let (gn, _, cross) = burst_then_silence(&mut g, rate, 0.1, -80.0);
    let d = max_reduction(-80.0) / (DEFAULT_RELEASE_MS as f64 / 1000.0 * rate);
    let steepest = gn
        .windows(2)
        .map(|w| amp_db(w[1]) - amp_db(w[0]))
        .fold(0.0, f64::min);
    assert!(steepest >= 2.0 * d - 1e-5, "{steepest} vs {}", 2.0 * d);
    // Fully closed once the detector hits its floor (40 dB below the threshold, at
    // 3.01 dB per half-life) plus the hold: the quadratic target is the slower part.
    let floor_at = cross + (40.0 / (10.0 * 2f64.log10()) * DETECTOR_HALF_LIFE_S * rate) as usize;
    let closed = gn
        .iter()
        .position(|&v| amp_db(v) <= 2.0 * max_reduction(-80.0) + 1e-6)
        .unwrap();
    assert!(
        closed > floor_at && closed < floor_at + (0.03 * rate) as usize,
        "{closed} vs {floor_at}"
    );

    // A long release is slew-limited almost from the start: the gain then falls
    // linearly in dB at 2 x 160 / release amplitude dB per second.
    for release_ms in [1000.0f32, 3000.0] {
        let mut g = NoiseGate::new(rate, 256);
        g.set_release_ms(release_ms);
        let (gn, _, cross) = burst_then_silence(&mut g, rate, 0.1, -80.0);
        let start = cross + (DEFAULT_HOLD_MS as f64 / 1000.0 * rate) as usize;
        for level in [-80.0, -160.0, -240.0] {
            let at = gn.iter().position(|&v| amp_db(v) <= level).unwrap();
            let expect = start as f64 + level / -320.0 * release_ms as f64 / 1000.0 * rate;
            // The first ~5 ms follow the quadratic target, slower than the slew.
            assert!(
                (at as f64 - expect).abs() < 0.006 * rate,
                "release {release_ms} ms: {level} dB at {at}, expected {expect:.0}"
            );
        }
    }
}

#[test]
fn threshold_and_floor_follow_the_reference() {
    let rate = 48_000.0;
    for thr in [-100.0f32, -80.0, -60.0, -30.0] {
        let mut g = NoiseGate::new(rate, 128);
        g.set_threshold_db(thr);
        let gn = gains(&mut g, &vec![0.0; 2 * rate as usize], 128);
        let floor = amp_db(*gn.last().unwrap());
        let expect = 2.0 * max_reduction(thr as f64);
        // f32 gains flush to 0 below 1e-30 (-600 dB): beyond that "closed" is silence.
        if expect > -600.0 {
            assert!((floor - expect).abs() < 1e-3, "{thr}: {floor} vs {expect}");
        } else {
            assert_eq!(*gn.last().unwrap(), 0.0);
        }
        // A steady signal 3 dB over the threshold keeps it open (once the detector has
        // risen: from silence, a level 3 dB over needs one half-life, 10 ms, to cross,
        // which is the hold time; the reference dips there too); 10 dB under closes it
        // to exactly the quadratic law's value.
        let a_over = (10f64.powf((thr as f64 + 3.0) / 20.0)) as f32;
        let mut g = NoiseGate::new(rate, 128);
        g.set_threshold_db(thr);
        let gn = gains(&mut g, &square(a_over, rate as usize), 128);
        assert!(
            gn[(0.1 * rate) as usize..].iter().all(|&v| v == 1.0),
            "{thr}"
        );
        let a_under = (10f64.powf((thr as f64 - 10.0) / 20.0)) as f32;
        let gn = gains(&mut g, &square(a_under, 2 * rate as usize), 128);
        let got = amp_db(*gn.last().unwrap());
        assert!((got - 2.0 * -RATIO * 100.0).abs() < 0.01, "{thr}: {got}");
    }
}

#[test]
fn detector_hears_the_input_while_the_gain_lands_on_the_output() {
    let rate = 48_000.0;
    let mut input = square(0.05, 24_000);
    input.extend(vec![0.0; 48_000]);
    input.extend(square(0.05, 24_000));
    // A "model" that adds hiss the input does not have.
    let hiss = |x: &[f32], at: usize| -> Vec<f32> {
        x.iter()
            .enumerate()
            .map(|(i, v)| 4.0 * v + 0.01 * (((at + i) as f32) * 0.37).sin())
            .collect()
    };
    let mut a = NoiseGate::new(rate, 512);
    let mut b = NoiseGate::new(rate, 512);
    let want = gains(&mut b, &input, 512);
    let mut out = Vec::new();
    let mut buf = input.clone();
    let mut at = 0;
    a.process_with(&mut buf, |chunk| {
        let y = hiss(chunk, at);
        chunk.copy_from_slice(&y);
        at += chunk.len();
    });
    out.extend(buf);
    for (i, (o, g)) in out.iter().zip(&want).enumerate() {
        let expect = hiss(&input[i..i + 1], i)[0] * g;
        assert!(
            (o - expect).abs() <= 1e-7 * expect.abs().max(1e-6),
            "{i}: {o} vs {expect}"
        );
    }
    // The hiss is gone in the gap.
    assert!(out[60_000..70_000].iter().all(|v| v.abs() < 1e-9));
}

#[test]
fn any_block_pattern_gives_the_same_gains() {
    let rate = 44_100.0;
    let mut input = square(0.02, 10_000);
    input.extend(vec![0.0; 30_000]);
    input.extend(square(0.3, 5_000));
    input.extend(vec![0.0; 20_000]);
    let whole = gains(&mut NoiseGate::new(rate, 4096), &input, 4096);
    for block in [1, 7, 64, 1000] {
        let g = gains(&mut NoiseGate::new(rate, 4096), &input, block);
        assert_eq!(g, whole, "block {block}");
    }
}

#[test]
fn switching_is_click_free() {
    let rate = 48_000.0;
    let mut g = NoiseGate::new(rate, 256);
    let closed = gains(&mut g, &vec![0.0; 48_000], 256);
    assert!(amp_db(*closed.last().unwrap()) < -300.0);
    // Off: opens at the attack rate, not at once.
    g.set_enabled(false);
    let opening = gains(&mut g, &vec![0.0; 4_800], 256);
    let d = 2.0 * -max_reduction(-80.0) / (DEFAULT_ATTACK_MS as f64 / 1000.0 * rate);
    let fastest = opening
        .windows(2)
        .map(|w| amp_db(w[1]) - amp_db(w[0]))
        .fold(0.0, f64::max);
    assert!(fastest <= d + 1e-5, "{fastest} vs {d}");
    assert_eq!(*opening.last().unwrap(), 1.0);
    // Off and open: silence passes untouched, and so does anything else.
    let off = gains(&mut g, &vec![0.0; 48_000], 256);
    assert!(off.iter().all(|&v| v == 1.0));
    // On during silence: open, holds, then closes at the release rate.
    g.set_enabled(true);
    let back = gains(&mut g, &vec![0.0; 48_000], 256);
    assert_eq!(back[0], 1.0);
    let r = 2.0 * max_reduction(-80.0) / (DEFAULT_RELEASE_MS as f64 / 1000.0 * rate);
    let steepest = back
        .windows(2)
        .map(|w| amp_db(w[1]) - amp_db(w[0]))
        .fold(0.0, f64::min);
    assert!(steepest >= r - 1e-5, "{steepest} vs {r}");
    assert!(amp_db(*back.last().unwrap()) < -300.0);
    // On while playing: open at once, stays open.
    g.set_enabled(false);
    gains(&mut g, &vec![0.0; 4_800], 256);
    g.set_enabled(true);
    let playing = gains(&mut g, &square(0.01, 48_000), 256);
    assert!(playing.iter().all(|&v| v == 1.0));
}
