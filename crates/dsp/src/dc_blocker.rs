//! The 5 Hz high-pass after the model, as the reference plugin has: models trained on
//! DC-coupled captures can emit a small offset, which costs headroom downstream.

use crate::simd::Simd;

/// One-pole/one-zero DC blocker, `y[n] = x[n] - x[n-1] + r y[n-1]`. Real-time safe:
/// `process` neither allocates nor panics.
///
/// The recursion is serial, and one sample at a time it runs at the latency of a
/// multiply, an add and the denormal guard (about a nanosecond a sample, once the
/// costliest stage of the plugin's own work). Here it runs sixteen samples a step on a
/// grid fixed to the stream: inside a step `y[k] = s[k] + r^(k+1) y[-1]`, with s the
/// recursion from rest, computed per half of eight as a prefix scan (three shifted
/// multiply-adds) plus the first half's last value; only y[-1] waits on the previous
/// step. Each sample of a step depends on that step's earlier samples alone, so a call
/// that starts or ends mid-step recomputes the step with what it has (the rest zero) and
/// keeps its own samples: any split of the stream gives the same samples. With AVX2 and
/// FMA every step (whole or split) runs the fused build, a few ulp from the portable one
/// and as close to the exact recursion; with AVX-512 too, whole steps run a step per
/// vector, with the fused build's bits.
#[derive(Debug, Clone)]
pub struct DcBlocker {
    /// r^(k+1) for k in 0..STEP, rounded once each from f64 (products of rounded powers
    /// would shift the pole).
    rp: [f32; STEP],
    /// The scan's weights, per lane of a half, for the lane 1, 2 and 4 earlier: r, r^2,
    /// r^4, and 0 for the lanes with none that far back (they add 0 times lane 0).
    scan: [[f32; HALF]; 3],
    /// The input before the current step.
    x1: f32,
    /// The output before the current step.
    y0: f32,
    /// The current step's input so far (zero after it).
    pending: [f32; STEP],
    /// Samples of the current step done.
    phase: usize,
    simd: Simd,
}

const STEP: usize = 16;
const HALF: usize = STEP / 2;
/// The scan's lane shifts, in the order of their weights in `scan`.
const SHIFTS: [usize; 3] = [1, 2, 4];

/// The lane a lane of the scan takes, `shift` earlier (lane 0 where there is none).
const fn source(k: usize, shift: usize) -> usize {
    k.saturating_sub(shift)
}

/// The reference plugin's corner frequency.
pub const DC_BLOCKER_HZ: f64 = 5.0;

impl DcBlocker {
    pub fn new(sample_rate: f64) -> Self {
        let mut d = DcBlocker {
            rp: [0.0; STEP],
            scan: [[0.0; HALF]; 3],
            x1: 0.0,
            y0: 0.0,
            pending: [0.0; STEP],
            phase: 0,
            simd: Simd::detect(),
        };
        d.reset(sample_rate);
        d
    }

    /// Clears the state (and follows a new rate).
    pub fn reset(&mut self, sample_rate: f64) {
        let rate = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32 as f64;
        self.rp = std::array::from_fn(|k| r.powi(k as i32 + 1) as f32);
        self.scan = SHIFTS.map(|s| {
            let c = r.powi(s as i32) as f32;
            std::array::from_fn(|k| if k >= s { c } else { 0.0 })
        });
        self.x1 = 0.0;
        self.y0 = 0.0;
        self.pending = [0.0; STEP];
        self.phase = 0;
    }

    #[inline(always)]
    pub fn process(&mut self, buf: &mut [f32]) {
        let mut at = 0;
        if self.phase > 0 {
            let take = (STEP - self.phase).min(buf.len());
            let (p, k) = (self.phase, take);
            self.pending[p..p + k].copy_from_slice(&buf[..k]);
            let y = self.step(&self.pending);
            buf[..k].copy_from_slice(&y[p..p + k]);
            self.phase += k;
            at = k;
            if self.phase == STEP {
                self.finish(self.pending[STEP - 1], &y);
            }
        }
        let whole = (buf.len() - at) / STEP * STEP;
        self.whole_steps(&mut buf[at..at + whole]);
        let rest = &mut buf[at + whole..];
        if !rest.is_empty() {
            let k = rest.len();
            self.pending[..k].copy_from_slice(rest);
            self.pending[k..].fill(0.0);
            let y = self.step(&self.pending);
            rest.copy_from_slice(&y[..k]);
            self.phase = k;
        }
    }

    /// `buf` times `pre`, `process`, then each output times `gain` into `out0` and
    /// `out1` (`None`: only `out0`); returns the largest |output * gain|, NaN passed
    /// over. On the step grid (with AVX2 and FMA) it is one pass that never stores the
    /// output in `buf`, which is left as scratch: the chain's last stages in its usual
    /// configuration. The same bits as the multiplies and `process` one by one.
    #[inline(always)]
    pub fn process_out(
        &mut self,
        buf: &mut [f32],
        pre: f32,
        gain: f32,
        out0: &mut [f32],
        out1: Option<&mut [f32]>,
    ) -> f32 {
        let n = buf
            .len()
            .min(out0.len())
            .min(out1.as_ref().map_or(usize::MAX, |o| o.len()));
        let (buf, out0) = (&mut buf[..n], &mut out0[..n]);
        #[cfg(target_arch = "x86_64")]
        if self.simd.fma() && self.phase == 0 && n.is_multiple_of(STEP) {
            let out1 = match out1 {
                Some(o) => &mut o[..n],
                None => &mut [],
            };
            if self.simd.avx512() {
                // SAFETY: `avx512` is set only where the CPU has AVX-512F, AVX2 and FMA;
                // the outputs as below.
                let peak;
                (self.x1, self.y0, peak) = unsafe {
                    steps_avx512::<true>(self, self.x1, self.y0, buf, [pre, gain], [out0, out1])
                };
                return peak;
            }
            // SAFETY: `fma` is set only where the CPU has AVX2 and FMA; both outputs are
            // `n` long or the second is empty.
            let peak;
            (self.x1, self.y0, peak) = unsafe {
                steps_fma::<true>(self, self.x1, self.y0, buf, [pre, gain], [out0, out1])
            };
            return peak;
        }
        if pre != 1.0 {
            buf.iter_mut().for_each(|x| *x *= pre);
        }
        self.process(buf);
        if gain != 1.0 {
            buf.iter_mut().for_each(|x| *x *= gain);
        }
        if let Some(o) = out1 {
            o[..n].copy_from_slice(buf);
        }
        self.simd.copy_peak(out0, buf)
    }

    /// Whole steps in place (`buf.len()` a multiple of STEP, the grid at its start).
    #[inline(always)]
    fn whole_steps(&mut self, buf: &mut [f32]) {
        if buf.is_empty() {
            // Possibly mid-step: nothing to finish.
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.simd.avx512() {
            // SAFETY: as below, and the CPU has AVX-512F.
            (self.x1, self.y0, _) = unsafe {
                steps_avx512::<false>(self, self.x1, self.y0, buf, [1.0; 2], [&mut [], &mut []])
            };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.simd.fma() {
            // SAFETY: `fma` is set only where the CPU has AVX2 and FMA. (`phase` is 0 and
            // `pending` clear already: the buffer starts on the grid.)
            (self.x1, self.y0, _) = unsafe {
                steps_fma::<false>(self, self.x1, self.y0, buf, [1.0; 2], [&mut [], &mut []])
            };
            return;
        }
        for c in buf.chunks_exact_mut(STEP) {
            let x: &mut [f32; STEP] = c.try_into().expect("chunks of STEP");
            let y = self.step_portable(x);
            self.finish(x[STEP - 1], &y);
            *x = y;
        }
    }

    #[inline(always)]
    fn finish(&mut self, x_last: f32, y: &[f32; STEP]) {
        self.x1 = x_last;
        self.y0 = flush(y[STEP - 1]);
        self.phase = 0;
        self.pending = [0.0; STEP];
    }

    /// One step from the state before it, in the build that runs the whole steps (so
    /// that a step computes the same bits whether or not it was split).
    #[inline(always)]
    fn step(&self, x: &[f32; STEP]) -> [f32; STEP] {
        #[cfg(target_arch = "x86_64")]
        if self.simd.fma() {
            let mut y = *x;
            // SAFETY: `fma` is set only where the CPU has AVX2 and FMA. (The state it
            // returns is dropped: `finish` sets it when the step is complete.)
            unsafe {
                steps_fma::<false>(self, self.x1, self.y0, &mut y, [1.0; 2], [&mut [], &mut []])
            };
            return y;
        }
        self.step_portable(x)
    }

    #[inline(always)]
    fn step_portable(&self, x: &[f32; STEP]) -> [f32; STEP] {
        let rp = &self.rp;
        let d: [f32; STEP] = std::array::from_fn(|k| {
            let before = if k == 0 { self.x1 } else { x[k - 1] };
            x[k] - before
        });
        let mut s = [0.0f32; STEP];
        for h in 0..2 {
            let mut t: [f32; HALF] = std::array::from_fn(|k| d[h * HALF + k]);
            for (shift, w) in SHIFTS.into_iter().zip(&self.scan) {
                t = std::array::from_fn(|k| t[k] + w[k] * t[source(k, shift)]);
            }
            s[h * HALF..(h + 1) * HALF].copy_from_slice(&t);
        }
        let carry = s[HALF - 1];
        for k in 0..HALF {
            s[HALF + k] += rp[k] * carry;
        }
        let y0 = self.y0;
        std::array::from_fn(|k| s[k] + rp[k] * y0)
    }
}

/// Whole steps of `buf` in place from the state (x[-1], y[-1]), returning the state after
/// them: `step_portable` and `finish` with each multiply and add fused, the state in
/// registers. (Fused, the sums round once where the portable build rounds twice: the
/// builds differ in the last bits, each is split-invariant on its own.) With `OUT` the
/// input is taken times `gains[0]`, the output times `gains[1]` goes to `out[0]` and
/// `out[1]` instead (the second may be empty), and the third value returned is its
/// largest magnitude, NaN passed over.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn steps_fma<const OUT: bool>(
    d: &DcBlocker,
    x1: f32,
    y0: f32,
    buf: &mut [f32],
    gains: [f32; 2],
    out: [&mut [f32]; 2],
) -> (f32, f32, f32) {
    use std::arch::x86_64::*;
    let lanes = |shift: usize| {
        let i = |k: usize| source(k, shift) as i32;
        _mm256_setr_epi32(i(0), i(1), i(2), i(3), i(4), i(5), i(6), i(7))
    };
    let up_idx = SHIFTS.map(lanes);
    let last = _mm256_set1_epi32(7);
    // Lane 7 first, then lanes 0-6: the step before's last input ahead of this one's.
    let rotate = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
    // SAFETY: `scan` rows and halves of `rp` hold HALF = 8 f32.
    let (scan, rp_lo, rp_hi) = unsafe {
        (
            d.scan.map(|w| _mm256_loadu_ps(w.as_ptr())),
            _mm256_loadu_ps(d.rp.as_ptr()),
            _mm256_loadu_ps(d.rp.as_ptr().add(HALF)),
        )
    };
    let abs_mask = _mm256_set1_epi32(0x7fff_ffff);
    let flush_bits = _mm256_set1_epi32(FEEDBACK_FLUSH.to_bits() as i32);
    let (pre, g) = (_mm256_set1_ps(gains[0]), _mm256_set1_ps(gains[1]));
    let (p0, p1) = out_pointers(out, buf.len());
    let mut top = [_mm256_setzero_ps(); 2];
    // The step before's upper half (only its lane 7, x[-1], is read).
    let mut x_before = _mm256_set1_ps(x1);
    let mut y0 = _mm256_set1_ps(y0);
    for (j, c) in buf.chunks_exact_mut(STEP).enumerate() {
        let p = c.as_mut_ptr();
        // SAFETY: `c` holds STEP floats; `p + 7 .. p + 15` is inside it.
        let (x_lo, x_hi, before_hi) = unsafe {
            (
                _mm256_loadu_ps(p),
                _mm256_loadu_ps(p.add(HALF)),
                _mm256_loadu_ps(p.add(HALF - 1)),
            )
        };
        let (x_lo, x_hi, before_hi) = if OUT {
            (
                _mm256_mul_ps(x_lo, pre),
                _mm256_mul_ps(x_hi, pre),
                _mm256_mul_ps(before_hi, pre),
            )
        } else {
            (x_lo, x_hi, before_hi)
        };
        // [x[-1], x[0], ..., x[6]]: one blend and one permute.
        let before_lo =
            _mm256_permutevar8x32_ps(_mm256_blend_ps::<0b1000_0000>(x_lo, x_before), rotate);
        let s_lo = half_scan(_mm256_sub_ps(x_lo, before_lo), &scan, &up_idx);
        let s_hi = half_scan(_mm256_sub_ps(x_hi, before_hi), &scan, &up_idx);
        let carry = _mm256_permutevar8x32_ps(s_lo, last);
        let s_hi = _mm256_fmadd_ps(rp_lo, carry, s_hi);
        let y_lo = _mm256_fmadd_ps(rp_lo, y0, s_lo);
        let y_hi = _mm256_fmadd_ps(rp_hi, y0, s_hi);
        if OUT {
            let (v_lo, v_hi) = (_mm256_mul_ps(y_lo, g), _mm256_mul_ps(y_hi, g));
            // SAFETY: each output holds `buf.len()` floats (`p1` is `p0` without a
            // second one).
            unsafe {
                for q in [p0, p1] {
                    _mm256_storeu_ps(q.add(j * STEP), v_lo);
                    _mm256_storeu_ps(q.add(j * STEP + HALF), v_hi);
                }
            }
            // max(a, m) returns m when a is NaN: NaN passed over, as `peak` does.
            let abs = _mm256_castsi256_ps(abs_mask);
            top[0] = _mm256_max_ps(_mm256_and_ps(v_lo, abs), top[0]);
            top[1] = _mm256_max_ps(_mm256_and_ps(v_hi, abs), top[1]);
        } else {
            // SAFETY: as for the loads.
            unsafe {
                _mm256_storeu_ps(p, y_lo);
                _mm256_storeu_ps(p.add(HALF), y_hi);
            }
        }
        x_before = x_hi;
        // The next step's y[-1]: y_hi's last lane in every lane. (Taken from y_hi, not
        // computed again from s: one multiply-add and a register fewer, for a shuffle's
        // longer wait on y0; timed at block 64, no slower.)
        let y_last = _mm256_castps_si256(_mm256_permutevar8x32_ps(y_hi, last));
        // `flush`: below FEEDBACK_FLUSH in magnitude (as bits: both non-negative) is 0;
        // NaN, whose bits are above infinity's, passes as it does there.
        let tiny = _mm256_cmpgt_epi32(flush_bits, _mm256_and_si256(y_last, abs_mask));
        y0 = _mm256_castsi256_ps(_mm256_andnot_si256(tiny, y_last));
    }
    let peak = crate::simd::max_lane(_mm256_max_ps(top[0], top[1]));
    let x1 = _mm256_cvtss_f32(_mm256_permutevar8x32_ps(x_before, last));
    (x1, _mm256_cvtss_f32(y0), peak)
}

/// `steps_fma` with a whole step in one 512-bit vector: the same operations on each lane
/// (so the same bits), the two halves' scans side by side, the carry into the upper half
/// under a mask: about half the instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn steps_avx512<const OUT: bool>(
    d: &DcBlocker,
    x1: f32,
    y0: f32,
    buf: &mut [f32],
    gains: [f32; 2],
    out: [&mut [f32]; 2],
) -> (f32, f32, f32) {
    use std::arch::x86_64::*;
    // Lane k of a step takes lane `source` of its own half.
    let lanes = |shift: usize| {
        let i: [i32; STEP] =
            std::array::from_fn(|k| (k / HALF * HALF + source(k % HALF, shift)) as i32);
        // SAFETY: sixteen i32.
        unsafe { _mm512_loadu_si512(i.as_ptr().cast()) }
    };
    let up_idx = SHIFTS.map(lanes);
    let (last_lo, last) = (
        _mm512_set1_epi32(HALF as i32 - 1),
        _mm512_set1_epi32(STEP as i32 - 1),
    );
    let twice = |h: &[f32; HALF]| {
        let w: [f32; STEP] = std::array::from_fn(|k| h[k % HALF]);
        // SAFETY: sixteen f32.
        unsafe { _mm512_loadu_ps(w.as_ptr()) }
    };
    let scan = d.scan.each_ref().map(twice);
    // rp[k % 8] on each lane: the carry's weights (the upper half takes them).
    let rp_half = twice(d.rp[..HALF].try_into().expect("HALF of STEP"));
    // SAFETY: `rp` holds STEP f32.
    let rp = unsafe { _mm512_loadu_ps(d.rp.as_ptr()) };
    let rp_last = _mm512_set1_ps(d.rp[STEP - 1]);
    let flush_bits = _mm512_set1_epi32(FEEDBACK_FLUSH.to_bits() as i32);
    let (pre, g) = (_mm512_set1_ps(gains[0]), _mm512_set1_ps(gains[1]));
    let (p0, p1) = out_pointers(out, buf.len());
    let mut top = _mm512_setzero_ps();
    // The step before's input: only its last lane (x[-1]) is read.
    let mut before = _mm512_set1_ps(x1);
    let mut y0 = _mm512_set1_ps(y0);
    for (j, c) in buf.chunks_exact_mut(STEP).enumerate() {
        let p = c.as_mut_ptr();
        // SAFETY: `c` holds STEP floats.
        let x = unsafe { _mm512_loadu_ps(p) };
        let x = if OUT { _mm512_mul_ps(x, pre) } else { x };
        // [x[-1], x[0], ..., x[14]].
        let shifted = _mm512_castsi512_ps(_mm512_alignr_epi32::<15>(
            _mm512_castps_si512(x),
            _mm512_castps_si512(before),
        ));
        let mut s = _mm512_sub_ps(x, shifted);
        for i in 0..3 {
            s = _mm512_fmadd_ps(scan[i], _mm512_permutexvar_ps(up_idx[i], s), s);
        }
        let carry = _mm512_permutexvar_ps(last_lo, s);
        let s = _mm512_mask3_fmadd_ps(rp_half, carry, s, 0xff00);
        let y = _mm512_fmadd_ps(rp, y0, s);
        if OUT {
            let v = _mm512_mul_ps(y, g);
            // SAFETY: each output holds `buf.len()` floats (`p1` is `p0` without a
            // second one).
            unsafe {
                for q in [p0, p1] {
                    _mm512_storeu_ps(q.add(j * STEP), v);
                }
            }
            // max(a, m) returns m when a is NaN: NaN passed over, as `peak` does.
            top = _mm512_max_ps(_mm512_abs_ps(v), top);
        } else {
            // SAFETY: as for the load.
            unsafe { _mm512_storeu_ps(p, y) };
        }
        before = x;
        // The next step's y[-1]: y's last lane, the same multiply-add again from s (which
        // does not wait on y0) in every lane, so that only it and the guard stand between
        // one step's y0 and the next's.
        let s_last = _mm512_permutexvar_ps(last, s);
        let y_last = _mm512_fmadd_ps(rp_last, y0, s_last);
        // `flush`, as bits: NaN, above infinity's, passes.
        let big = _mm512_cmpge_epi32_mask(_mm512_castps_si512(_mm512_abs_ps(y_last)), flush_bits);
        y0 = _mm512_maskz_mov_ps(big, y_last);
    }
    let top = crate::simd::max_halves(top);
    let x1 = _mm512_cvtss_f32(_mm512_permutexvar_ps(last, before));
    (x1, _mm512_cvtss_f32(y0), crate::simd::max_lane(top))
}

/// Where the fused steps write: both outputs, or the first twice when the second is
/// shorter than `n` (empty: none).
#[cfg(target_arch = "x86_64")]
fn out_pointers(out: [&mut [f32]; 2], n: usize) -> (*mut f32, *mut f32) {
    let [o0, o1] = out;
    let p0 = o0.as_mut_ptr();
    (p0, if o1.len() >= n { o1.as_mut_ptr() } else { p0 })
}

/// The recursion from rest over a half (eight lanes): three shifted multiply-adds. (A
/// function, not a closure: a closure would not get the target features.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn half_scan(
    mut t: std::arch::x86_64::__m256,
    scan: &[std::arch::x86_64::__m256; 3],
    up_idx: &[std::arch::x86_64::__m256i; 3],
) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    for i in 0..3 {
        t = _mm256_fmadd_ps(scan[i], _mm256_permutevar8x32_ps(t, up_idx[i]), t);
    }
    t
}

/// Keeps the feedback path out of denormals on silence.
const FEEDBACK_FLUSH: f32 = 1e-20;

#[inline(always)]
fn flush(y: f32) -> f32 {
    if y.abs() < FEEDBACK_FLUSH {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursion it computes, one sample at a time in f64.
    fn reference(x: &[f32], rate: f64) -> Vec<f64> {
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32 as f64;
        let (mut x1, mut y1) = (0.0f64, 0.0f64);
        x.iter()
            .map(|&v| {
                y1 = v as f64 - x1 + r * y1;
                x1 = v as f64;
                y1
            })
            .collect()
    }

    #[test]
    fn is_the_recursion_for_any_split() {
        let rate = 44_100.0;
        let x: Vec<f32> = (0..20_000)
            .map(|i| ((i as f32 * 0.0137).sin() + 0.3) * if i % 5000 < 2500 { 1.0 } else { 0.1 })
            .collect();
        let want = reference(&x, rate);
        let mut whole = x.clone();
        DcBlocker::new(rate).process(&mut whole);
        let err = |y: &[f32]| {
            y.iter()
                .zip(&want)
                .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - b).abs()))
        };
        // The plain f32 recursion, sample by sample, for scale: rounding inside a pole
        // this close to 1 piles up (~1/(1 - r)), in either form.
        let r = (-2.0 * std::f64::consts::PI * DC_BLOCKER_HZ / rate).exp() as f32;
        let (mut x1, mut y1) = (0.0f32, 0.0f32);
        let serial: Vec<f32> = x
            .iter()
            .map(|&v| {
                y1 = v - x1 + r * y1;
                x1 = v;
                y1
            })
            .collect();
        let (e, e_serial) = (err(&whole), err(&serial));
        println!("max error vs f64: sixteen-sample steps {e:.2e}, plain recursion {e_serial:.2e}");
        assert!(e <= 1.5 * e_serial && e < 1e-5, "{e} vs {e_serial}");
        for simd in Simd::builds() {
            let mut whole = x.clone();
            let mut d = DcBlocker::new(rate);
            d.simd = simd;
            d.process(&mut whole);
            for pattern in [
                &[1usize][..],
                &[3],
                &[7, 1, 2],
                &[15, 17],
                &[64],
                &[5, 511, 4],
            ] {
                let mut d = DcBlocker::new(rate);
                d.simd = simd;
                let mut y = x.clone();
                let (mut at, mut k) = (0, 0);
                while at < y.len() {
                    let n = pattern[k % pattern.len()].min(y.len() - at);
                    d.process(&mut y[at..at + n]);
                    at += n;
                    k += 1;
                }
                assert!(
                    y == whole,
                    "split {pattern:?} changed the output ({simd:?})"
                );
            }
        }
    }

    #[test]
    fn every_build_is_the_recursion_within_rounding() {
        let x: Vec<f32> = (0..4_000)
            .map(|i| ((i as f32 * 0.031).sin() + 0.2) * if i % 1000 < 500 { 1.0 } else { 1e-22 })
            .collect();
        let detected = DcBlocker::new(48_000.0);
        if !detected.simd.fma() {
            println!("skipped: this CPU has no AVX2 and FMA");
        }
        let mut portable = detected.clone();
        portable.simd = Simd::portable();
        let (mut a, mut b) = (x.clone(), x);
        let (mut da, mut db) = (detected, portable);
        da.process(&mut a);
        db.process(&mut b);
        // The builds round differently (fused or not) and the pole keeps each rounding for
        // ~1/(1 - r) samples: a few ulp of the signal apart (5e-7 measured), the f32
        // recursion's own error against f64 (8e-7 in the test above).
        let worst = a
            .iter()
            .zip(&b)
            .fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(worst < 1e-6, "{worst}");
    }

    #[test]
    fn the_avx512_build_gives_the_avx2_bits() {
        let simd = Simd::detect();
        if !simd.avx512() {
            println!("skipped: this CPU has no AVX-512F");
            return;
        }
        let mut x: Vec<f32> = (0..5_000)
            .map(|i| ((i as f32 * 0.047).cos() - 0.2) * if i % 900 < 450 { 1.0 } else { 1e-21 })
            .collect();
        x[777] = f32::INFINITY;
        x[2222] = f32::NAN;
        x[4000..4100].fill(0.0);
        let run = |simd: Simd, out: bool| {
            let mut d = DcBlocker::new(44_100.0);
            d.simd = simd;
            let (mut y, mut o0, mut o1) = (x.clone(), vec![0.0; x.len()], vec![0.0; x.len()]);
            let mut peaks = Vec::new();
            let (mut at, mut k) = (0, 0);
            while at < x.len() {
                let n = [64usize, 16, 7, 9, 512][k % 5].min(x.len() - at);
                if out {
                    let o1 = (k % 3 > 0).then(|| &mut o1[at..at + n]);
                    peaks.push(d.process_out(
                        &mut y[at..at + n],
                        0.8,
                        -1.7,
                        &mut o0[at..at + n],
                        o1,
                    ));
                } else {
                    d.process(&mut y[at..at + n]);
                }
                at += n;
                k += 1;
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            (
                bits(if out { &o0 } else { &y }),
                bits(&o1),
                bits(&peaks),
                d.x1.to_bits(),
                d.y0.to_bits(),
            )
        };
        for out in [false, true] {
            assert!(
                run(simd, out) == run(simd.without_avx512(), out),
                "writing out: {out}"
            );
        }
    }

    #[test]
    fn writing_out_is_process_then_the_gain() {
        let mut x: Vec<f32> = (0..3_000)
            .map(|i| ((i as f32 * 0.029).sin() + 0.1) * if i % 700 < 350 { 1.0 } else { 1e-22 })
            .collect();
        x[1234] = f32::NAN;
        if !Simd::detect().fma() {
            println!("skipped the fused build: this CPU has no AVX2 and FMA");
        }
        for simd in Simd::builds() {
            let mut build = DcBlocker::new(48_000.0);
            build.simd = simd;
            for (pre, gain) in [(1.0f32, 1.0f32), (1.0, 0.5), (0.7, -3.7), (1.9, 1.0)] {
                // On the grid (64, 48), off it (7), and a split that leaves it and
                // comes back (5 then 11).
                for blocks in [&[64usize][..], &[48], &[7], &[5, 11]] {
                    let (mut inplace, mut out) = (build.clone(), build.clone());
                    let mut want = x.clone();
                    let (mut o0, mut o1) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
                    let (mut at, mut k) = (0, 0);
                    while at < x.len() {
                        let n = blocks[k % blocks.len()].min(x.len() - at);
                        let w = &mut want[at..at + n];
                        w.iter_mut().for_each(|v| *v *= pre);
                        inplace.process(w);
                        w.iter_mut().for_each(|v| *v *= gain);
                        let mut scratch = x[at..at + n].to_vec();
                        let peak = if k % 2 == 0 {
                            out.process_out(
                                &mut scratch,
                                pre,
                                gain,
                                &mut o0[at..at + n],
                                Some(&mut o1[at..at + n]),
                            )
                        } else {
                            let p =
                                out.process_out(&mut scratch, pre, gain, &mut o0[at..at + n], None);
                            o1[at..at + n].copy_from_slice(&o0[at..at + n]);
                            p
                        };
                        let top = w
                            .iter()
                            .filter(|v| !v.is_nan())
                            .fold(0.0f32, |m, v| m.max(v.abs()));
                        assert_eq!(peak, top, "{blocks:?} at {at}");
                        at += n;
                        k += 1;
                    }
                    let same =
                        |o: &[f32]| o.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(
                        same(&o0) && same(&o1),
                        "gains {pre} {gain}, blocks {blocks:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn removes_dc_keeps_audio() {
        let rate = 48_000.0;
        let mut d = DcBlocker::new(rate);
        let mut dc = vec![0.5f32; 96_000];
        d.process(&mut dc);
        assert!(dc[95_999].abs() < 1e-3);
        let mut d = DcBlocker::new(rate);
        let mut tone: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
            .collect();
        d.process(&mut tone);
        let peak = tone[24_000..].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 1.0).abs() < 0.01, "{peak}");
    }
}
