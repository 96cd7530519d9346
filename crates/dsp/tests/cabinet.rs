//! The cab slot: swaps crossfade (raised cosine, equal gain) from exactly the old IR's
//! output to exactly the new one's; an IR arriving mid-fade waits; every convolver
//! comes back out through `set_ir` or `take_retired`, exactly once; off is the dry
//! signal, on fades back with no stale history.

use std::f64::consts::PI;

use tubeless_dsp::ir::{Cabinet, Convolver, Crossfade, DEFAULT_CROSSFADE_MS};

const RATE: f64 = 48_000.0;

fn conv(taps: &[f32]) -> Box<Convolver> {
    Box::new(Convolver::new(&[taps], RATE))
}

fn sine(f: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * (2.0 * PI * f * i as f64 / RATE).sin() as f32)
        .collect()
}

fn run(cab: &mut Cabinet, x: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (x.to_vec(), vec![0.0; x.len()]);
    for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        cab.process(a, b);
    }
    (l, r)
}

fn fade_len() -> usize {
    (RATE * DEFAULT_CROSSFADE_MS / 1000.0).round() as usize
}

/// Raised cosine weight of the new signal at sample k of the fade.
fn w(k: usize) -> f32 {
    (0.5 - 0.5 * (PI * (k + 1) as f64 / fade_len() as f64).cos()) as f32
}

#[test]
fn empty_slot_is_dry() {
    let mut cab = Cabinet::new(RATE, 256);
    let x = sine(440.0, 2000);
    let (l, r) = run(&mut cab, &x, 100);
    assert_eq!(l, x);
    assert_eq!(r, x);
    assert!(!cab.is_stereo());
}

#[test]
fn a_swap_crossfades_from_the_old_ir_to_the_new() {
    let a: Vec<f32> = (0..3000i32).map(|k| 0.9f32.powi(k % 40) * 0.1).collect();
    let b: Vec<f32> = (0..5000)
        .map(|k| (k as f32 * 0.01).cos() * (-(k as f32) / 900.0).exp())
        .collect();
    let x = sine(220.0, 20_000);
    let mut cab = Cabinet::new(RATE, 512);
    assert!(cab.set_ir(Some(conv(&a))).is_none());
    let (l1, _) = run(&mut cab, &x[..6000], 300);
    assert!(cab.take_retired().is_none(), "dry -> A retires nothing");
    // Dry to A: dry * (1 - w) + A * w, A fed from the swap on.
    let mut ra = conv(&a);
    let mut ya = x[..6000].to_vec();
    ra.process(&mut ya);
    for k in 0..6000 {
        let want = if k < fade_len() {
            x[k] + w(k) * (ya[k] - x[k])
        } else {
            ya[k]
        };
        assert!(
            (l1[k] - want).abs() < 1e-6 * want.abs().max(1.0),
            "{k}: {} vs {want}",
            l1[k]
        );
    }
    // A to B: A keeps its history; B starts fresh at the swap.
    assert!(cab.set_ir(Some(conv(&b))).is_none());
    let (l2, r2) = run(&mut cab, &x[6000..], 300);
    assert_eq!(l2, r2);
    let mut yb = x[6000..].to_vec();
    conv(&b).process(&mut yb);
    let mut ya = x.to_vec();
    conv(&a).process(&mut ya);
    for k in 0..14_000 {
        let (old, new) = (ya[6000 + k], yb[k]);
        let want = if k < fade_len() {
            old + w(k) * (new - old)
        } else {
            new
        };
        assert!(
            (l2[k] - want).abs() < 1e-6 * want.abs().max(1.0),
            "{k}: {} vs {want}",
            l2[k]
        );
    }
    let old = cab.take_retired().expect("A comes back after the fade");
    assert_eq!(old.len(), 3000);
    assert!(cab.take_retired().is_none());
    assert_eq!(cab.ir().map(|c| c.len()), Some(5000));
    // The weights' steps: at most pi / (2 * len) per sample, no jump.
    let mut f = Crossfade::new(RATE, DEFAULT_CROSSFADE_MS);
    f.start();
    let mut prev = 0.0;
    for _ in 0..fade_len() {
        let v = f.next_value();
        assert!(v >= prev && v - prev <= (PI / (2.0 * fade_len() as f64)) as f32 * 1.0001);
        prev = v;
    }
    assert_eq!(prev, 1.0);
    assert!(!f.is_active());
}

#[test]
fn swaps_during_a_fade_wait_and_nothing_is_dropped_on_the_audio_thread() {
    let taps = |k: usize| vec![1.0 / (k + 1) as f32; 10 * (k + 1)];
    let mut cab = Cabinet::new(RATE, 128);
    let x = sine(100.0, 128);
    assert!(cab.set_ir(Some(conv(&taps(0)))).is_none());
    run(&mut cab, &x, 128); // fade 0 starts: dry -> ir0
                            // Two more while it fades: the first waits, the second displaces it.
    assert!(cab.set_ir(Some(conv(&taps(1)))).is_none());
    assert!(cab.has_pending());
    let back = cab
        .set_ir(Some(conv(&taps(2))))
        .expect("the displaced pending IR");
    assert_eq!(back.len(), 20);
    let mut seen = Vec::new();
    for _ in 0..40 {
        run(&mut cab, &x, 128);
        if let Some(c) = cab.take_retired() {
            seen.push(c.len());
        }
    }
    // ir0 faded in, then out again for ir2.
    assert_eq!(seen, [10]);
    assert_eq!(cab.ir().map(|c| c.len()), Some(30));
    assert!(!cab.has_pending());
    // A clear fades to dry and hands the last IR back.
    assert!(cab.set_ir(None).is_none());
    for _ in 0..40 {
        run(&mut cab, &x, 128);
        if let Some(c) = cab.take_retired() {
            seen.push(c.len());
        }
    }
    assert_eq!(seen, [10, 30]);
    let (l, r) = run(&mut cab, &x, 128);
    assert_eq!(l, x);
    assert_eq!(r, x);
}

#[test]
fn a_retired_ir_not_collected_holds_up_the_next_swap_instead_of_being_freed() {
    let mut cab = Cabinet::new(RATE, 64);
    let x = sine(100.0, 64);
    for k in 1..=3usize {
        assert!(cab.set_ir(Some(conv(&vec![0.5; k]))).is_none());
        for _ in 0..30 {
            run(&mut cab, &x, 64);
        }
    }
    // Never collected: the second swap's old IR sits in `retired`, the third swap
    // waits for it.
    assert!(cab.has_pending());
    assert_eq!(cab.take_retired().map(|c| c.len()), Some(1));
    for _ in 0..30 {
        run(&mut cab, &x, 64);
    }
    assert_eq!(cab.take_retired().map(|c| c.len()), Some(2));
    assert_eq!(cab.ir().map(|c| c.len()), Some(3));
}

#[test]
fn off_is_dry_and_on_fades_back_without_stale_history() {
    let ir: Vec<f32> = (0..4800)
        .map(|k| (-(k as f32) / 500.0).exp() * 0.05)
        .collect();
    let mut cab = Cabinet::new(RATE, 256);
    cab.set_ir(Some(conv(&ir)));
    let x = sine(300.0, 9600);
    run(&mut cab, &x, 256);
    cab.set_enabled(false);
    let (l, r) = run(&mut cab, &x, 256);
    // Fades to dry in the crossfade time, then is the input exactly.
    assert_eq!(&l[fade_len()..], &x[fade_len()..]);
    assert_eq!(&r[fade_len()..], &x[fade_len()..]);
    // Back on: the IR's history was cleared, so it sounds as if fed from this moment.
    cab.set_enabled(true);
    let y = sine(300.0, 9600);
    let (l, _) = run(&mut cab, &y, 256);
    let mut fresh = y.clone();
    conv(&ir).process(&mut fresh);
    for k in 0..9600 {
        // Dry fading into the fresh IR (linear wet/dry ramp).
        let wk = ((k + 1) as f32 / fade_len() as f32).min(1.0);
        let want = y[k] + wk * (fresh[k] - y[k]);
        assert!((l[k] - want).abs() < 1e-5, "{k}: {} vs {want}", l[k]);
    }
}

#[test]
fn stereo_ir_makes_stereo_and_long_blocks_are_cut() {
    let (a, b) = (vec![1.0f32, 0.5, 0.25], vec![0.0f32, 0.0, 1.0]);
    let mut cab = Cabinet::new(RATE, 64);
    cab.set_ir(Some(Box::new(Convolver::new(&[&a, &b], RATE))));
    cab.reset(); // ends the fade at once
    let x = sine(1000.0, 5000);
    let (mut l, mut r) = (x.clone(), vec![0.0; 5000]);
    cab.process(&mut l, &mut r); // 5000 > 64: cut internally
    assert!(cab.is_stereo());
    for k in 2..5000 {
        let wl = x[k] + 0.5 * x[k - 1] + 0.25 * x[k - 2];
        assert!(
            (l[k] - wl).abs() < 1e-6 && (r[k] - x[k - 2]).abs() < 1e-6,
            "{k}"
        );
    }
}
