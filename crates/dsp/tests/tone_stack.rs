//! The tone stack against its design: the RBJ cookbook biquads the reference plugin
//! builds (coefficients computed here from the cookbook formulas), their analog
//! prototypes at the bilinear-warped frequency, the reference's dB per knob step; the
//! response measured from the impulse response and from sines. Then the point of the
//! smoothing: a fast knob sweep or jump, and on/off, leave the output as smooth as a
//! steady sine, where the same sweep without smoothing does not.

use std::f64::consts::PI;

use tubeless_dsp::tone_stack::*;

const RATES: [f64; 6] = [8_000.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 768_000.0];

#[derive(Clone, Copy, Debug)]
enum Band {
    Bass,
    Middle,
    Treble,
}

fn design(band: Band, knob: f32) -> (f64, f64, f64) {
    // (frequency, Q, dB) as the reference's ToneStack.cpp sets them.
    match band {
        Band::Bass => (150.0, 0.707, 4.0 * (knob as f64 - 5.0)),
        Band::Middle => {
            let db = 3.0 * (knob as f64 - 5.0);
            (425.0, if db < 0.0 { 1.5 } else { 0.7 }, db)
        }
        Band::Treble => (1800.0, 0.707, 2.0 * (knob as f64 - 5.0)),
    }
}

/// Cookbook biquad (b0, b1, b2, a0, a1, a2).
fn rbj(band: Band, knob: f32, rate: f64) -> [f64; 6] {
    let (f, q, db) = design(band, knob);
    let a = 10f64.powf(db / 40.0);
    let w0 = 2.0 * PI * f / rate;
    let (cw, alpha) = (w0.cos(), w0.sin() / (2.0 * q));
    let ra = 2.0 * a.sqrt() * alpha;
    match band {
        Band::Bass => [
            a * ((a + 1.0) - (a - 1.0) * cw + ra),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
            a * ((a + 1.0) - (a - 1.0) * cw - ra),
            (a + 1.0) + (a - 1.0) * cw + ra,
            -2.0 * ((a - 1.0) + (a + 1.0) * cw),
            (a + 1.0) + (a - 1.0) * cw - ra,
        ],
        Band::Middle => [
            1.0 + alpha * a,
            -2.0 * cw,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * cw,
            1.0 - alpha / a,
        ],
        Band::Treble => [
            a * ((a + 1.0) + (a - 1.0) * cw + ra),
            -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
            a * ((a + 1.0) + (a - 1.0) * cw - ra),
            (a + 1.0) - (a - 1.0) * cw + ra,
            2.0 * ((a - 1.0) - (a + 1.0) * cw),
            (a + 1.0) - (a - 1.0) * cw - ra,
        ],
    }
}

fn biquad_db(c: [f64; 6], w: f64) -> f64 {
    // |b0 + b1 z^-1 + b2 z^-2| / |a0 + a1 z^-1 + a2 z^-2| at z = e^jw
    let mag2 = |p: f64, q: f64, r: f64| {
        let re = p + q * w.cos() + r * (2.0 * w).cos();
        let im = -q * w.sin() - r * (2.0 * w).sin();
        re * re + im * im
    };
    10.0 * (mag2(c[0], c[1], c[2]) / mag2(c[3], c[4], c[5])).log10()
}

/// The cookbook's analog prototypes, |H(j W)| with W the frequency over the band's.
fn analog_db(band: Band, knob: f32, big_w: f64) -> f64 {
    let (_, q, db) = design(band, knob);
    let a = 10f64.powf(db / 40.0);
    let (sa, s2) = (a.sqrt() / q, -big_w * big_w);
    // |(n2 s^2 + n1 s + n0) / (d2 s^2 + d1 s + d0)| at s = jW
    let ratio = |n: [f64; 3], d: [f64; 3]| {
        let num = (n[2] * s2 + n[0]).powi(2) + (n[1] * big_w).powi(2);
        let den = (d[2] * s2 + d[0]).powi(2) + (d[1] * big_w).powi(2);
        10.0 * (num / den).log10()
    };
    match band {
        Band::Bass => ratio([a * a, a * sa, a], [1.0, sa, a]),
        Band::Middle => ratio([1.0, a / q, 1.0], [1.0, 1.0 / (a * q), 1.0]),
        Band::Treble => ratio([a, a * sa, a * a], [a, sa, 1.0]),
    }
}

fn stack(band: Band, knob: f32, rate: f64) -> ToneStack {
    let mut t = ToneStack::new(rate);
    match band {
        Band::Bass => t.set_bass(knob),
        Band::Middle => t.set_middle(knob),
        Band::Treble => t.set_treble(knob),
    }
    t.reset();
    t
}

fn set(t: &mut ToneStack, band: Band, knob: f32) {
    match band {
        Band::Bass => t.set_bass(knob),
        Band::Middle => t.set_middle(knob),
        Band::Treble => t.set_treble(knob),
    }
}

fn freqs(rate: f64) -> Vec<f64> {
    let top = 0.49 * rate;
    (0..60)
        .map(|i| 10.0 * (top / 10.0f64).powf(i as f64 / 59.0))
        .collect()
}

#[test]
fn responses_equal_the_cookbook_at_every_rate() {
    let mut worst = 0.0f64;
    for rate in RATES {
        for band in [Band::Bass, Band::Middle, Band::Treble] {
            for knob in [0.0, 1.5, 4.0, 5.0, 6.2, 8.0, 10.0] {
                let t = stack(band, knob, rate);
                // Impulse response; the slowest pole pair decays by 1e-8 in ~50 ms.
                let n = (0.1 * rate) as usize;
                let mut h = vec![0.0f32; n];
                h[0] = 1.0;
                let mut t2 = t.clone();
                t2.process(&mut h);
                let (f0, _, _) = design(band, knob);
                let c = rbj(band, knob, rate);
                for f in freqs(rate) {
                    let w = 2.0 * PI * f / rate;
                    let want = biquad_db(c, w);
                    // The cookbook biquad is the bilinear image of its prototype.
                    let warped = (w / 2.0).tan() / (PI * f0 / rate).tan();
                    let proto = analog_db(band, knob, warped);
                    assert!(
                        (want - proto).abs() < 1e-6,
                        "{band:?} {knob} {f}: {want} vs {proto}"
                    );
                    // The response our filter reports (drawn by the editor).
                    let reported = t.response_db(f);
                    // The response it has: DFT of its impulse response.
                    let (mut re, mut im) = (0.0f64, 0.0f64);
                    let (zr, zi) = (w.cos(), -w.sin());
                    let (mut pr, mut pi) = (1.0f64, 0.0f64);
                    for &v in &h {
                        re += v as f64 * pr;
                        im += v as f64 * pi;
                        (pr, pi) = (pr * zr - pi * zi, pr * zi + pi * zr);
                    }
                    let measured = 10.0 * (re * re + im * im).log10();
                    let err = (measured - want).abs().max((reported - want).abs());
                    assert!(
                        err < 2e-3,
                        "{rate} Hz, {band:?} knob {knob}, {f:.1} Hz: measured {measured:.5} dB, reported {reported:.5}, cookbook {want:.5}"
                    );
                    worst = worst.max(err);
                }
            }
        }
    }
    println!("worst deviation from the cookbook: {worst:.2e} dB");
}

#[test]
fn db_per_knob_step_is_the_reference() {
    let rate = 48_000.0;
    for knob in [0.0f32, 2.0, 5.0, 7.0, 10.0] {
        let k = knob as f64 - 5.0;
        // Shelves reach their full gain at DC / Nyquist, the peak at its centre.
        let bass = stack(Band::Bass, knob, rate).response_db(0.01);
        let mid = stack(Band::Middle, knob, rate).response_db(425.0);
        let treble = stack(Band::Treble, knob, rate).response_db(0.4999 * rate);
        assert!((bass - 4.0 * k).abs() < 1e-4, "bass {knob}: {bass}");
        assert!((mid - 3.0 * k).abs() < 1e-9, "middle {knob}: {mid}");
        assert!((treble - 2.0 * k).abs() < 1e-3, "treble {knob}: {treble}");
    }
    // Half the shelf's gain at its corner (|H| = A there).
    let b = stack(Band::Bass, 10.0, rate).response_db(150.0);
    assert!((b - 10.0).abs() < 1e-9, "{b}");
    let t = stack(Band::Treble, 0.0, rate).response_db(1800.0);
    assert!((t + 5.0).abs() < 1e-9, "{t}");
}

/// Amplitude of the `f` Hz component of `y` (least squares over whole periods).
fn amplitude(y: &[f32], f: f64, rate: f64) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (i, &v) in y.iter().enumerate() {
        let ph = 2.0 * PI * f * i as f64 / rate;
        s += v as f64 * ph.sin();
        c += v as f64 * ph.cos();
    }
    2.0 * (s * s + c * c).sqrt() / y.len() as f64
}

#[test]
fn sines_come_out_at_the_cookbook_gain() {
    let rate = 48_000.0;
    for (band, knob) in [
        (Band::Bass, 0.0),
        (Band::Bass, 9.0),
        (Band::Middle, 1.0),
        (Band::Middle, 10.0),
        (Band::Treble, 3.0),
    ] {
        let mut t = stack(band, knob, rate);
        for f in [60.0, 150.0, 425.0, 1000.0, 1800.0, 6000.0, 15000.0] {
            t.reset();
            let n = 48_000;
            let mut y: Vec<f32> = (0..n)
                .map(|i| (2.0 * PI * f * i as f64 / rate).sin() as f32)
                .collect();
            t.process(&mut y);
            // Skip the first 0.25 s (settling); 0.75 s is a whole number of periods.
            let got = 20.0 * amplitude(&y[12_000..], f, rate).log10();
            let want = biquad_db(rbj(band, knob, rate), 2.0 * PI * f / rate);
            assert!(
                (got - want).abs() < 0.01,
                "{band:?} {knob} {f} Hz: {got} vs {want}"
            );
        }
    }
}

/// Largest second difference (the change of the output's slope from one sample to the
/// next): a steady sine's is a (2 sin(w/2))^2, small at low frequencies, while a step
/// of any size shows up whole. The zipper and click detector.
fn roughness(y: &[f32]) -> f64 {
    y.windows(3)
        .map(|w| (w[2] as f64 - 2.0 * w[1] as f64 + w[0] as f64).abs())
        .fold(0.0, f64::max)
}

/// A level change is itself a little curvature: the second difference of A(t) sin(wt)
/// has a 2 A' w term, up to ~20 % of a low tone's own when three bands glide several
/// dB in 30 ms. A click or a zipper step adds orders of magnitude.
const FADE_ALLOWANCE: f64 = 1.25;

fn sine(f: f64, rate: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * (2.0 * PI * f * i as f64 / rate).sin() as f32)
        .collect()
}

/// Output of a knob move on a sine: 100 ms at knob 0, the move, 150 ms to settle.
/// `sweep`: automation from 0 to 10 over 50 ms in 75 steps (32 samples apart at
/// 48 kHz); else one jump. Returns the output, where the move starts, and the
/// roughness of the steady states at both ends (what the sine has anyway).
fn knob_move(
    band: Band,
    f: f64,
    rate: f64,
    smoothing_ms: f64,
    sweep: bool,
) -> (Vec<f32>, usize, f64) {
    let ms = |t: f64| (t * rate / 1000.0) as usize;
    let step = ms(50.0) / 75;
    let total = ms(300.0);
    let mut y = sine(f, rate, total);
    let mut t = stack(band, 0.0, rate);
    t.set_smoothing_ms(smoothing_ms);
    let start = ms(100.0);
    t.process(&mut y[..start]);
    let mut at = start;
    if sweep {
        for k in 1..=75 {
            set(&mut t, band, 10.0 * k as f32 / 75.0);
            t.process(&mut y[at..at + step]);
            at += step;
        }
    } else {
        set(&mut t, band, 10.0);
    }
    t.process(&mut y[at..]);
    let steady = roughness(&y[ms(50.0)..start]).max(roughness(&y[ms(250.0)..]));
    (y, start, steady)
}

#[test]
fn turning_a_knob_never_zips_or_clicks() {
    // Probe tones low enough for their own curvature to be small, where each band
    // acts; the treble needs a high rate for that (its steps at 48 kHz hide under a
    // 1.5 kHz tone's own curvature, for this detector as for the ear).
    for (band, f, rate) in [
        (Band::Bass, 100.0, 48_000.0),
        (Band::Middle, 425.0, 48_000.0),
        (Band::Treble, 3000.0, 768_000.0),
    ] {
        for sweep in [true, false] {
            let (y, start, steady) = knob_move(band, f, rate, 30.0, sweep);
            let end = start + (0.15 * rate) as usize;
            let during = roughness(&y[start - 2..end]);
            let (y0, _, steady0) = knob_move(band, f, rate, 0.0, sweep);
            let unsmoothed = roughness(&y0[start - 2..end]);
            println!(
                "{band:?} {f} Hz at {rate} Hz, {}: steady {steady:.2e}, smoothed {during:.2e} ({:.2}x), unsmoothed {unsmoothed:.2e} ({:.1}x)",
                if sweep { "sweep" } else { "jump" },
                during / steady,
                unsmoothed / steady0
            );
            assert!(
                during <= 1.1 * steady,
                "{band:?} sweep {sweep}: {during} vs steady {steady}"
            );
            // The detector sees what the reference's coefficient jumps do.
            assert!(
                unsmoothed > 3.0 * steady0,
                "{band:?} sweep {sweep}: {unsmoothed} vs {steady0}"
            );
            assert!(y.iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn on_off_is_click_free_and_off_is_the_identity() {
    let rate = 48_000.0;
    let x = sine(200.0, rate, 19_200);
    let mut t = ToneStack::new(rate);
    t.set_bass(10.0);
    t.set_middle(0.0);
    t.set_treble(10.0);
    t.reset();
    let mut y = x.clone();
    t.process(&mut y[..4_800]);
    t.set_enabled(false);
    t.process(&mut y[4_800..8_400]);
    t.process(&mut y[8_400..9_600]);
    // Off and settled: the input, untouched.
    assert_eq!(&y[8_400..9_600], &x[8_400..9_600]);
    t.set_enabled(true);
    t.process(&mut y[9_600..]);
    let steady = roughness(&y[2_400..4_800])
        .max(roughness(&x[8_400..9_600]))
        .max(roughness(&y[16_800..]));
    let switching = roughness(&y[4_700..8_400]).max(roughness(&y[9_500..16_800]));
    println!(
        "on/off: steady {steady:.2e}, switching off {:.2e}, on {:.2e}",
        roughness(&y[4_700..8_400]),
        roughness(&y[9_500..16_800])
    );
    assert!(
        switching <= FADE_ALLOWANCE * steady,
        "{switching} vs {steady}"
    );
    // Back on, the same sound as before.
    let before = amplitude(&y[2_400..4_800], 200.0, rate);
    let after = amplitude(&y[16_800..19_200], 200.0, rate);
    assert!((before / after - 1.0).abs() < 1e-3, "{before} vs {after}");
}

#[test]
fn bad_input_is_silenced_not_latched() {
    let mut t = stack(Band::Bass, 10.0, 48_000.0);
    let mut y = vec![0.1f32; 1000];
    y[10] = f32::NAN;
    y[20] = f32::INFINITY;
    y[30] = 1e-39;
    t.process(&mut y);
    assert!(y.iter().all(|v| v.is_finite()));
    let mut silence = vec![0.0f32; 48_000];
    t.process(&mut silence);
    assert!(silence[47_999] == 0.0 || silence[47_999].abs() > 1e-30);
    t.process(&mut []);
}

#[test]
fn flat_knobs_are_the_identity_and_leaving_them_is_click_free() {
    let rate = 48_000.0;
    let x = sine(100.0, rate, 38_400);
    // The default: on, every knob at 5. Skipped, and exactly the input.
    let mut t = ToneStack::new(rate);
    let mut y = x.clone();
    t.process(&mut y[..4_800]);
    assert_eq!(&y[..4_800], &x[..4_800]);
    t.set_bass(10.0);
    t.process(&mut y[4_800..19_200]);
    let steady = roughness(&x[..4_800]).max(roughness(&y[14_400..19_200]));
    let leaving = roughness(&y[4_790..14_400]);
    println!("leaving flat: steady {steady:.2e}, gliding {leaving:.2e}");
    assert!(leaving <= 1.1 * steady, "{leaving} vs {steady}");
    // Settled, the same sound as a stack that was never flat.
    let mut never_flat = stack(Band::Bass, 10.0, rate);
    let mut z = x.clone();
    never_flat.process(&mut z);
    let (a, b) = (
        amplitude(&y[14_400..19_200], 100.0, rate),
        amplitude(&z[14_400..19_200], 100.0, rate),
    );
    assert!((a / b - 1.0).abs() < 1e-4, "{a} vs {b}");
    // Back to 5: once the glide has landed, the input again, bit for bit.
    t.set_bass(5.0);
    t.process(&mut y[19_200..28_800]);
    t.process(&mut y[28_800..]);
    assert_eq!(&y[28_800..], &x[28_800..]);
}
