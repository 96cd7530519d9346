//! One direction of the pair: a causal polyphase FIR from one rate to another.
//!
//! Output `j` sits at input position `j * num / den` (exact rational arithmetic, so no
//! drift however long it runs). It is the dot product of the `taps` newest inputs at that
//! position with the row of coefficients for its fractional phase: `g(phase + m)` for input
//! `floor(position) - m`, where `g(tau) = s * h(s * tau)` is the prototype stretched to the
//! input rate (`s = 1` when the input is the lower rate, `s = out / in` when it is the
//! higher one, so the cut-off sits at the lower rate either way). An output is computed as
//! soon as its newest input has arrived: the stage adds no delay beyond its filter's.

use super::design::Prototype;
use crate::dot;

/// Exact rows are kept for every phase while they fit in this many floats (4 MiB).
const EXACT_ROWS_MAX: usize = 1 << 20;
/// Rows per input sample of the interpolated table, when the input is the lower rate.
/// Linear interpolation between rows then costs less than -120 dB (images) and 1e-6 of
/// gain at the band edge.
const TABLE_ROWS: usize = 1024;

#[derive(Debug, Clone)]
enum Rows {
    /// One row per phase `0 .. den`.
    Exact(Vec<f32>),
    /// `rows + 1` rows at phases `i / rows` and their differences; a phase between two
    /// rows blends their dot products.
    Table {
        rows: usize,
        at: Vec<f32>,
        delta: Vec<f32>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Stage {
    /// Input samples per output: `step_int + step_num / den`.
    step_int: u64,
    step_num: u64,
    den: u64,
    taps: usize,
    /// Coefficients stored oldest input first, so a row is a forward dot product with the
    /// input window.
    rows: Rows,
    /// Input history: `hist[..end]`, newest last. Moved to the front when full.
    hist: Vec<f32>,
    end: usize,
    max_push: usize,
    /// Inputs received so far.
    received: u64,
    /// Integer position and phase (`0 .. den`) of the next output.
    next_pos: u64,
    next_phase: u64,
}

impl Stage {
    /// `num / den` = input rate / output rate (reduced); `stretch` = `s` above;
    /// `max_push` = the most inputs one `push` receives.
    pub fn new(
        proto: &Prototype,
        support: f64,
        num: u64,
        den: u64,
        stretch: f64,
        max_push: usize,
    ) -> Stage {
        let span = support / stretch;
        let taps = span.ceil() as usize + 1;
        let g = |tau: f64| stretch * proto.eval(stretch * tau);
        let row = |phase: f64, out: &mut Vec<f32>| {
            // Input floor(position) - m gets g(phase + m); stored oldest (largest m) first.
            out.extend((0..taps).rev().map(|m| g(phase + m as f64) as f32));
        };
        let rows = if (den as usize).saturating_mul(taps) <= EXACT_ROWS_MAX {
            let mut v = Vec::with_capacity(den as usize * taps);
            for p in 0..den {
                row(p as f64 / den as f64, &mut v);
            }
            Rows::Exact(v)
        } else {
            // A stretched kernel is smoother per input sample: fewer rows do.
            let rows = ((TABLE_ROWS as f64 * stretch).ceil() as usize)
                .next_power_of_two()
                .max(16);
            let mut at = Vec::with_capacity((rows + 1) * taps);
            for i in 0..=rows {
                row(i as f64 / rows as f64, &mut at);
            }
            let delta = (0..rows * taps).map(|i| at[i + taps] - at[i]).collect();
            at.truncate(rows * taps);
            Rows::Table { rows, at, delta }
        };
        // Room for a full push behind the history, and as much again so the history is
        // moved to the front at most once per `taps + max_push` inputs.
        let cap = 2 * (taps + max_push);
        let mut s = Stage {
            step_int: num / den,
            step_num: num % den,
            den,
            taps,
            rows,
            hist: vec![0.0; cap],
            end: 0,
            max_push,
            received: 0,
            next_pos: 0,
            next_phase: 0,
        };
        s.reset();
        s
    }

    pub fn taps(&self) -> usize {
        self.taps
    }

    /// Back to silence since forever; the next output is at position 0.
    pub fn reset(&mut self) {
        self.hist.fill(0.0);
        // `taps - 1` zeros of history stand for the silence before the first input.
        self.end = self.taps - 1;
        self.received = 0;
        self.next_pos = 0;
        self.next_phase = 0;
    }

    /// Appends inputs; non-finite ones become silence (they would otherwise sit in the
    /// history and spoil `taps` outputs each). At most `max_push` at a time.
    pub fn push(&mut self, input: &[f32]) {
        debug_assert!(input.len() <= self.max_push);
        if self.end + input.len() > self.hist.len() {
            // Keep what the next output still reads: the inputs not yet reached (at most one,
            // see `ResamplerPair`) and the `taps - 1` before them.
            let pending = (self.received - self.next_pos.min(self.received)) as usize;
            let keep = (pending + self.taps - 1).min(self.end);
            self.hist.copy_within(self.end - keep..self.end, 0);
            self.end = keep;
        }
        let n = input.len().min(self.hist.len() - self.end);
        for (d, x) in self.hist[self.end..self.end + n].iter_mut().zip(input) {
            *d = if x.is_finite() { *x } else { 0.0 };
        }
        self.end += n;
        self.received += n as u64;
    }

    /// Outputs available from the inputs received so far, up to `out.len()`, written in
    /// order; returns how many.
    pub fn pull(&mut self, out: &mut [f32]) -> usize {
        let mut written = 0;
        while written < out.len() && self.next_pos < self.received {
            // Window of `taps` inputs ending at `next_pos`, oldest first.
            let back = (self.received - 1 - self.next_pos) as usize;
            let last = self.end - 1 - back;
            let w = &self.hist[last + 1 - self.taps..=last];
            out[written] = match &self.rows {
                Rows::Exact(v) => {
                    let r = self.next_phase as usize * self.taps;
                    dot(&v[r..r + self.taps], w)
                }
                Rows::Table { rows, at, delta } => {
                    let x = self.next_phase * *rows as u64;
                    let i = (x / self.den) as usize * self.taps;
                    let frac = (x % self.den) as f64 / self.den as f64;
                    dot(&at[i..i + self.taps], w) + frac as f32 * dot(&delta[i..i + self.taps], w)
                }
            };
            written += 1;
            self.next_phase += self.step_num;
            self.next_pos += self.step_int;
            if self.next_phase >= self.den {
                self.next_phase -= self.den;
                self.next_pos += 1;
            }
        }
        written
    }
}
