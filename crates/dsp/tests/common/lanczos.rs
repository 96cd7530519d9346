//! The yardstick: the official NAM plugin's resampler, re-implemented from its behaviour
//! (NeuralAmpModelerPlugin 0.7.x uses AudioDSPTools' `ResamplingContainer` around two
//! `LanczosResampler<A = 12>`s), latency accounting included, so it can be measured by the
//! same tests as ours.
//!
//! What it does: each resampler keeps an input phase (samples pushed) and an output phase
//! (advanced by in/out rate per output, the ratio computed in f32 as the original does); an
//! output is popped while more than `A + 1` inputs lie ahead of the output phase, and is
//! the Lanczos kernel `sinc(x) sinc(x / A)` over `2A` inputs centred one input behind the
//! output phase. The kernel is never widened, so going down in rate it filters at the
//! *input* Nyquist (no anti-aliasing). The container pre-rolls the first resampler with
//! `latency` zeros and the second with the samples that produces, and reports `latency =
//! R1.required(R2.required(1))`, where `required(n) = floor(A + 2 + n * in/out)` on fresh
//! resamplers. The kernel is interpolated from an 8192-points-per-sample table as in the original.

const A: usize = 12;

fn exact_kernel(x: f64) -> f64 {
    if x.abs() < 1e-7 {
        return 1.0;
    }
    if x.abs() >= A as f64 {
        return 0.0;
    }
    let pi = std::f64::consts::PI;
    A as f64 * (pi * x).sin() * (pi * x / A as f64).sin() / (pi * pi * x * x)
}

/// Points per unit of the kernel table (as the original's 8192 per input sample).
const TABLE_POINTS: usize = 8192;

/// The kernel from a table with linear interpolation, as the original computes it.
fn kernel(x: f64) -> f64 {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..=A * TABLE_POINTS + 1)
            .map(|i| exact_kernel(i as f64 / TABLE_POINTS as f64))
            .collect()
    });
    let u = x.abs() * TABLE_POINTS as f64;
    let i = u as usize;
    if i >= A * TABLE_POINTS {
        return 0.0;
    }
    let f = u - i as f64;
    t[i] + (t[i + 1] - t[i]) * f
}

#[derive(Debug, Clone)]
struct Lanczos {
    /// Everything pushed since the start (a test tool: no ring buffer needed).
    input: Vec<f32>,
    phase_in: f64,
    phase_out: f64,
    step: f64,
}

impl Lanczos {
    fn new(in_rate: f64, out_rate: f64) -> Self {
        Lanczos {
            input: Vec::new(),
            phase_in: 0.0,
            phase_out: 0.0,
            step: (in_rate as f32 / out_rate as f32) as f64,
        }
    }

    fn required_for(&self, n: usize) -> usize {
        let res = A as f64 + 1.0 - (self.phase_in - self.phase_out - self.step * n as f64);
        (res + 1.0).max(0.0) as usize
    }

    fn push(&mut self, x: &[f32]) {
        self.input.extend_from_slice(x);
        self.phase_in += x.len() as f64;
    }

    fn pop(&mut self, out: &mut Vec<f32>, max: usize) -> usize {
        let mut n = 0;
        while n < max && self.phase_in - self.phase_out > A as f64 + 1.0 {
            let pos = self.phase_out;
            let idx = pos.floor() as isize;
            let frac = pos - idx as f64;
            let mut acc = 0.0f64;
            for i in 0..2 * A as isize {
                let j = idx - A as isize + i;
                if j >= 0 {
                    acc += self.input[j as usize] as f64
                        * kernel(1.0 - frac + (i - A as isize) as f64);
                }
            }
            out.push(acc as f32);
            self.phase_out += self.step;
            n += 1;
        }
        n
    }
}

/// The container: host -> model -> host, like `ResamplingContainer::ProcessBlock`.
#[derive(Debug, Clone)]
pub struct LanczosPair {
    host: f64,
    model: f64,
    r1: Lanczos,
    r2: Lanczos,
    latency: usize,
    mid: Vec<f32>,
    out: Vec<f32>,
    /// Output samples the second resampler could not supply (the original pads them with
    /// the last sample and prints a warning); each one shifts the rest of the stream.
    pub short: usize,
}

impl LanczosPair {
    pub fn new(host: f64, model: f64) -> Self {
        let mut p = LanczosPair {
            host,
            model,
            r1: Lanczos::new(host, model),
            r2: Lanczos::new(model, host),
            latency: 0,
            mid: Vec::new(),
            out: Vec::new(),
            short: 0,
        };
        p.reset();
        p
    }

    /// What the plugin reports to the host.
    pub fn latency(&self) -> usize {
        self.latency
    }

    pub fn reset(&mut self) {
        self.r1 = Lanczos::new(self.host, self.model);
        self.r2 = Lanczos::new(self.model, self.host);
        let mid = self.r2.required_for(1);
        self.latency = self.r1.required_for(mid);
        self.r1.push(&vec![0.0; self.latency]);
        let mut warm = Vec::new();
        let got = self.r1.pop(&mut warm, mid);
        assert_eq!(got, mid, "the container's own pre-roll check");
        // The container assumes the model is silent on silence and skips it here.
        self.r2.push(&warm);
        self.out.clear();
        self.short = 0;
    }

    pub fn process(&mut self, buf: &mut [f32], model: &mut dyn FnMut(&mut [f32])) {
        if buf.is_empty() {
            return;
        }
        self.r1.push(buf);
        let max_enc = (buf.len() as f64 / (self.host / self.model)).ceil() as usize;
        while self.r1.required_for(1) == 0 {
            self.mid.clear();
            self.r1.pop(&mut self.mid, max_enc);
            model(&mut self.mid);
            self.r2.push(&self.mid);
        }
        self.out.clear();
        let got = self.r2.pop(&mut self.out, buf.len());
        self.short += buf.len() - got;
        let last = if got > 0 { self.out[got - 1] } else { 0.0 };
        for (i, y) in buf.iter_mut().enumerate() {
            // As the original: a short pop is padded with its last sample.
            *y = if i < got { self.out[i] } else { last };
        }
    }
}
