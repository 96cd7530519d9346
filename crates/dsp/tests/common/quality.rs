//! Quality figures of a resampler pair around a model, measured from what actually comes
//! out of it (streamed in blocks), the same way for every system compared.
//!
//! Bands, from the lower of the two rates: pass band `0 ..= pass` with `pass = min(20 kHz,
//! 0.45 x lower)`; the "transition zone" `(pass, lower - pass)`, where anything there folds
//! to above the pass band, is not scored (`strict` scores it too, down to the lower
//! Nyquist). Test tones sit in the pass band or above `lower - pass`.
//! - flatness: round trip gain of pass band tones, worst |dB|.
//! - into model: what the model receives for host tones, other than the tone itself
//!   (images of pass band tones, aliases of tones above the band), worst dB re the tone.
//! - out of model: what the host receives for tones the model *generates* (an amp's
//!   harmonics go up to the model's Nyquist), other than the tone, worst dB.
//! - round trip: host tone in, host out, identity model, spurious worst dB.
//! - noise floor: a 997 Hz round trip, power outside every image / alias line
//!   `|+-f + a host + b model|`, as total noise over the band, dB re the tone.

use super::lanczos::LanczosPair;
use super::spectrum::{db, fold, power, tone_power, TONE_BINS};
use tubeless_dsp::resample::Resampler;
use tubeless_dsp::stream_resample::{Quality, ResamplerPair};

pub const AMPLITUDE: f64 = 0.5;

/// A system under test.
pub enum System {
    Ours(Box<ResamplerPair>),
    Lanczos(LanczosPair),
    /// The CLI's offline zero-phase resampler, run on the whole signal at once.
    ZeroPhase {
        host: f64,
        model: f64,
    },
}

impl System {
    pub fn ours(host: f64, model: f64, q: Quality) -> System {
        System::Ours(Box::new(ResamplerPair::new(host, model, 512, q).unwrap()))
    }

    pub fn name(&self) -> String {
        match self {
            System::Ours(p) => format!("{:?}", p.quality()),
            System::Lanczos(_) => "Lanczos a=12".into(),
            System::ZeroPhase { .. } => "zero-phase offline".into(),
        }
    }

    pub fn latency(&self) -> usize {
        match self {
            System::Ours(p) => p.latency(),
            System::Lanczos(p) => p.latency(),
            System::ZeroPhase { .. } => 0,
        }
    }

    /// Runs a whole host-rate signal from a fresh state, in blocks of `block` (streaming
    /// systems), with `model` at the model rate.
    pub fn run(&mut self, x: &[f32], block: usize, model: &mut dyn FnMut(&mut [f32])) -> Vec<f32> {
        let mut y = x.to_vec();
        match self {
            System::Ours(p) => {
                p.reset();
                for c in y.chunks_mut(block) {
                    p.process(c, &mut *model);
                }
            }
            System::Lanczos(p) => {
                p.reset();
                for c in y.chunks_mut(block) {
                    p.process(c, model);
                }
            }
            System::ZeroPhase { host, model: m } => {
                let len_m = (x.len() as f64 * *m / *host).floor() as usize;
                let mut mid = Resampler::new(*host, *m).process(x, len_m);
                model(&mut mid);
                y = Resampler::new(*m, *host).process(&mid, x.len());
            }
        }
        y
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Bands {
    pub host: f64,
    pub model: f64,
    pub low: f64,
    pub pass: f64,
    pub stop: f64,
}

impl Bands {
    pub fn new(host: f64, model: f64) -> Bands {
        let low = host.min(model);
        let pass = 20_000f64.min(0.45 * low);
        Bands {
            host,
            model,
            low,
            pass,
            stop: low - pass,
        }
    }

    /// Pass band test tones, `n` of them from 100 Hz to the edge (edge included).
    pub fn pass_tones(&self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 100.0 + (self.pass - 100.0) * i as f64 / (n - 1) as f64)
            .map(|f| f * 0.999_7 + 0.37) // off any bin grid
            .collect()
    }

    /// Tones above the band, up to just below `nyquist`; empty if there is no such band.
    pub fn high_tones(&self, nyquist: f64, n: usize) -> Vec<f64> {
        let hi = nyquist * 0.995;
        if hi <= self.stop {
            return Vec::new();
        }
        (0..n)
            .map(|i| self.stop + (hi - self.stop) * i as f64 / (n - 1).max(1) as f64 + 0.37)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub flatness_db: f64,
    pub into_model_db: f64,
    pub into_model_strict_db: f64,
    pub out_of_model_db: f64,
    pub out_of_model_strict_db: f64,
    pub round_trip_db: f64,
    pub noise_floor_db: f64,
}

impl Figures {
    /// The worst of the three rejection figures.
    pub fn rejection_db(&self) -> f64 {
        self.into_model_db
            .max(self.out_of_model_db)
            .max(self.round_trip_db)
    }
}

fn tone(f: f64, rate: f64, n: usize, start: usize) -> Vec<f32> {
    (start..start + n)
        .map(|i| {
            (AMPLITUDE * (2.0 * std::f64::consts::PI * f * i as f64 / rate + 0.3).sin()) as f32
        })
        .collect()
}

/// Spurious power re the tone in a spectrum at `rate`: every bin except the tone's (when
/// `own` is set) and the unscored zone `(pass, zone_top)`.
fn spurious(p: &[f64], rate: f64, own: Option<f64>, pass: f64, zone_top: f64) -> f64 {
    let n = 2 * (p.len() - 1);
    let df = rate / n as f64;
    let own_bin = own.map(|f| (f / df).round() as isize);
    let mut s = 0.0;
    for (k, pk) in p.iter().enumerate() {
        let f = k as f64 * df;
        if f > pass && f < zone_top {
            continue;
        }
        if own_bin.is_some_and(|b| (k as isize - b).abs() <= TONE_BINS as isize) {
            continue;
        }
        s += pk;
    }
    s / (AMPLITUDE * AMPLITUDE / 2.0)
}

pub struct Measure {
    /// Analysis length (power of two), at whichever rate is analysed.
    pub n: usize,
    pub block: usize,
}

impl Measure {
    fn warm(&self, sys: &System, b: &Bands) -> usize {
        4 * sys.latency() + 4096 + (4096.0 * b.host / b.model) as usize
    }

    /// Host samples needed to have `warm + n` at the host rate and at the model rate.
    fn host_len(&self, sys: &System, b: &Bands) -> usize {
        let w = self.warm(sys, b);
        w + self
            .n
            .max((self.n as f64 * b.host / b.model).ceil() as usize)
            + 64
    }

    /// Host tone in: (round trip output spectrum, model input spectrum).
    fn host_tone(&self, sys: &mut System, b: &Bands, f: f64) -> (Vec<f64>, Vec<f64>) {
        let len = self.host_len(sys, b);
        let x = tone(f, b.host, len, 0);
        let mut seen = Vec::new();
        let y = sys.run(&x, self.block, &mut |m: &mut [f32]| {
            seen.extend_from_slice(m)
        });
        let w = self.warm(sys, b);
        let wm = (w as f64 * b.model / b.host) as usize;
        (power(&y[w..w + self.n]), power(&seen[wm..wm + self.n]))
    }

    /// Model generates a tone at `g`: host output spectrum.
    fn model_tone(&self, sys: &mut System, b: &Bands, g: f64) -> Vec<f64> {
        let len = self.host_len(sys, b);
        let x = vec![0.0f32; len];
        let mut at = 0usize;
        let y = sys.run(&x, self.block, &mut |m: &mut [f32]| {
            m.copy_from_slice(&tone(g, b.model, m.len(), at));
            at += m.len();
        });
        let w = self.warm(sys, b);
        power(&y[w..w + self.n])
    }

    pub fn figures_for(&self, sys: &mut System, host: f64, model: f64, tones: usize) -> Figures {
        let b = Bands::new(host, model);
        let strict = b.low / 2.0;
        let mut fig = Figures {
            into_model_db: -400.0,
            into_model_strict_db: -400.0,
            out_of_model_db: -400.0,
            out_of_model_strict_db: -400.0,
            round_trip_db: -400.0,
            ..Figures::default()
        };
        let worst = |a: &mut f64, v: f64| *a = a.max(db(v));
        let full = AMPLITUDE * AMPLITUDE / 2.0;
        for f in b.pass_tones(tones) {
            let (out, into) = self.host_tone(sys, &b, f);
            let gain = tone_power(&out, host, f) / full;
            fig.flatness_db = fig.flatness_db.max(db(gain).abs());
            worst(
                &mut fig.round_trip_db,
                spurious(&out, host, Some(f), b.pass, b.stop),
            );
            worst(
                &mut fig.into_model_db,
                spurious(&into, model, Some(f), b.pass, b.stop),
            );
            worst(
                &mut fig.into_model_strict_db,
                spurious(&into, model, Some(f), b.pass, strict),
            );
        }
        for f in b.high_tones(host / 2.0, tones / 2) {
            let (out, into) = self.host_tone(sys, &b, f);
            worst(
                &mut fig.round_trip_db,
                spurious(&out, host, None, b.pass, b.stop),
            );
            worst(
                &mut fig.into_model_db,
                spurious(&into, model, None, b.pass, b.stop),
            );
            worst(
                &mut fig.into_model_strict_db,
                spurious(&into, model, None, b.pass, strict),
            );
        }
        let model_tones: Vec<(f64, bool)> = b
            .pass_tones(tones)
            .into_iter()
            .map(|g| (g, true))
            .chain(
                b.high_tones(model / 2.0, tones / 2)
                    .into_iter()
                    .map(|g| (g, false)),
            )
            .collect();
        for (g, legit) in model_tones {
            let out = self.model_tone(sys, &b, g);
            let own = legit.then_some(g);
            worst(
                &mut fig.out_of_model_db,
                spurious(&out, host, own, b.pass, b.stop),
            );
            worst(
                &mut fig.out_of_model_strict_db,
                spurious(&out, host, own, b.pass, strict),
            );
        }
        fig.noise_floor_db = self.noise_floor(sys, &b);
        fig
    }

    /// The 997 Hz round trip's power away from every line it can produce, dB re the tone.
    pub fn noise_floor(&self, sys: &mut System, b: &Bands) -> f64 {
        let f = 997.0;
        let (out, _) = self.host_tone(sys, b, f);
        db(noise_outside_lines(&out, b.host, f, b.host, b.model) / tone_power(&out, b.host, f))
    }
}

/// Total noise power (density over the free bins times all bins) in a spectrum of a tone
/// `f` at `rate`, skipping every line `|+-f + a r1 + b r2|` for |a|, |b| <= 12.
pub fn noise_outside_lines(p: &[f64], rate: f64, f: f64, r1: f64, r2: f64) -> f64 {
    let n = 2 * (p.len() - 1);
    let df = rate / n as f64;
    let mut skip = vec![false; p.len()];
    for s in [-1.0, 1.0] {
        for a in -12..=12 {
            for c in -12..=12 {
                let line = fold(s * f + a as f64 * r1 + c as f64 * r2, rate);
                let k = (line / df).round() as isize;
                for j in k - TONE_BINS as isize..=k + TONE_BINS as isize {
                    if (0..p.len() as isize).contains(&j) {
                        skip[j as usize] = true;
                    }
                }
            }
        }
    }
    for s in skip.iter_mut().take(TONE_BINS + 1) {
        *s = true; // DC
    }
    let free: Vec<f64> = p
        .iter()
        .zip(&skip)
        .filter(|(_, s)| !**s)
        .map(|(v, _)| *v)
        .collect();
    if free.is_empty() {
        return 0.0;
    }
    free.iter().sum::<f64>() / free.len() as f64 * p.len() as f64
}

/// The floor of the f32 test tone itself, measured the same way, dB.
pub fn input_floor(n: usize, rate: f64, r2: f64) -> f64 {
    let x = tone(997.0, rate, n, 0);
    let p = power(&x);
    db(noise_outside_lines(&p, rate, 997.0, rate, r2) / tone_power(&p, rate, 997.0))
}
