//! The streaming resampler's quality, measured from its output (identity model, and a
//! model that generates tones), against the official plugin's Lanczos a = 12 resampler
//! measured by the same code: at every common rate pair, Standard has no more latency and
//! rejects images and aliases better in every direction; High is far better again and
//! flat. `cargo bench --bench stream_resample` prints the full tables.

mod common;

use common::lanczos::LanczosPair;
use common::quality::{Figures, Measure, System};
use tubeless_dsp::stream_resample::Quality;

const MEASURE: Measure = Measure {
    n: 8192,
    block: 200,
};
const TONES: usize = 10;

fn figures(host: f64, model: f64) -> (Figures, Figures, Figures, [usize; 3]) {
    let mut s = System::ours(host, model, Quality::Standard);
    let mut h = System::ours(host, model, Quality::High);
    let mut l = System::Lanczos(LanczosPair::new(host, model));
    let lat = [s.latency(), h.latency(), l.latency()];
    (
        MEASURE.figures_for(&mut s, host, model, TONES),
        MEASURE.figures_for(&mut h, host, model, TONES),
        MEASURE.figures_for(&mut l, host, model, TONES),
        lat,
    )
}

fn check(host: f64, model: f64, common_pair: bool) {
    let (s, h, l, [ls, lh, ll]) = figures(host, model);
    let label = format!("{host}/{model}");
    eprintln!("{label}: Standard {s:.1?}\n  High {h:.1?}\n  Lanczos {l:.1?}");
    assert!(ls <= ll && ls < lh, "{label}: latency {ls} / {lh} vs {ll}");

    // Standard: better than the yardstick in each direction, by a margin, and good in
    // absolute terms. (The yardstick's worst case is -38 dB at best, 0 dB wherever a
    // rate goes down.) Below -120 dB both are at the arithmetic's floor (a low host rate
    // under a high model rate filters the identity round trip twice): nothing to compare.
    let margin = if common_pair { 10.0 } else { 5.0 };
    for (what, ours, theirs) in [
        ("into model", s.into_model_db, l.into_model_db),
        ("out of model", s.out_of_model_db, l.out_of_model_db),
        ("round trip", s.round_trip_db, l.round_trip_db),
    ] {
        // Going up from a low host rate, the yardstick's images at `host - f` fold back
        // exactly onto `f` on the way down, so its round trip hides them; the directional
        // figures above are the ones that count there.
        if what == "round trip" && host < model && !common_pair {
            continue;
        }
        assert!(
            ours < (theirs - margin).max(-120.0),
            "{label} {what}: {ours:.1} vs Lanczos {theirs:.1}"
        );
    }
    let (floor_std, flat_std) = if common_pair {
        (-65.0, 0.02)
    } else {
        (-40.0, 0.1)
    };
    assert!(
        s.rejection_db() < floor_std,
        "{label}: Standard {:.1}",
        s.rejection_db()
    );
    assert!(
        s.flatness_db < flat_std,
        "{label}: Standard flatness {}",
        s.flatness_db
    );
    assert!(
        s.noise_floor_db < -120.0,
        "{label}: Standard noise {}",
        s.noise_floor_db
    );

    // High: also nothing folding into 20 kHz .. the lower Nyquist.
    for (what, v) in [
        ("into model", h.into_model_strict_db),
        ("out of model", h.out_of_model_strict_db),
        ("round trip", h.round_trip_db),
    ] {
        assert!(v < -110.0, "{label} High {what}: {v:.1}");
    }
    assert!(
        h.flatness_db < 1e-4,
        "{label}: High flatness {}",
        h.flatness_db
    );
    assert!(
        h.noise_floor_db < -125.0,
        "{label}: High noise {}",
        h.noise_floor_db
    );
}

#[test]
fn beats_lanczos_at_44k1_and_48k_both_ways() {
    check(44_100.0, 48_000.0, true);
    check(48_000.0, 44_100.0, true);
}

#[test]
fn beats_lanczos_at_high_host_rates() {
    for host in [88_200.0, 96_000.0, 176_400.0, 192_000.0] {
        check(host, 48_000.0, true);
    }
}

#[test]
fn beats_lanczos_with_a_96k_model() {
    check(48_000.0, 96_000.0, true);
}

/// Where the yardstick's small latency caps Standard hardest.
#[test]
fn beats_lanczos_where_its_latency_is_smallest() {
    check(8_000.0, 48_000.0, false);
    check(22_050.0, 48_000.0, false);
}
