//! One WaveNet layer at run time: dilated conv of its input's history, input mixin of
//! the condition, activation (plain, gated or blended), the skip term into the head
//! accumulator and the residual into the next layer's history, with each FiLM where the
//! file puts it.

use super::config::*;
use super::film::Film;
use crate::activation::{Activation, ActivationMode};
use crate::conv::{Conv, Hist, Isa};
use crate::floats::Floats;
use crate::kernels::add;

pub(super) struct Layer {
    /// This layer's input (FiLMed, when `conv_pre_film` is on), `channels` rows.
    pub hist: Hist,
    pub conv: Conv,
    pub mixin: Conv,
    pub layer1x1: Option<Conv>,
    pub head1x1: Option<Conv>,
    /// Indexed by [`FilmSlot`]; `None` when no slot is active (boxed: most layers have
    /// none, and the layer loop should not walk eight empty slots each block).
    pub film: Option<Box<[Option<Film>; 8]>>,
    pub activation: Activation,
    pub gating: Gating,
    pub channels: usize,
    pub bottleneck: usize,
    pub mid: usize,
    pub head_in: usize,
}

/// Per-layer scratch, shared by all layers.
pub(super) struct Scratch {
    pub mb: usize,
    /// The dilated conv's output, then the activation in its top rows.
    pub z: Floats,
    /// A layer's raw input when `conv_pre_film` replaces its history with the FiLMed one.
    pub raw: Floats,
    /// A conv's output waiting for its post-FiLM (mixin, layer 1x1, head 1x1).
    pub tmp: Floats,
    /// FiLM projections.
    pub proj: Floats,
    /// The condition after `input_mixin_pre_film`.
    pub cond2: Floats,
    /// Blended gating's pre-activation, one row.
    pub row: Floats,
}

impl Layer {
    /// One layer on `n` samples: reads its history, adds its skip term to `acc` and writes
    /// the residual to `dst`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn run<A: Isa>(
        &mut self,
        s: &mut Scratch,
        cond: &[f32],
        acc: &mut [f32],
        acc_stride: usize,
        dst: &mut [f32],
        dst_stride: usize,
        mode: ActivationMode,
        n: usize,
    ) {
        let Scratch {
            mb,
            z,
            raw,
            tmp,
            proj,
            cond2,
            row,
        } = s;
        let mb = *mb;
        let Layer {
            hist,
            conv,
            mixin,
            layer1x1,
            head1x1,
            film,
            activation,
            gating,
            channels,
            bottleneck,
            mid,
            head_in,
        } = self;
        let (c, bn) = (*channels, *bottleneck);
        let film: Option<&[Option<Film>; 8]> = film.as_deref();
        let f = |slot: FilmSlot| film.and_then(|f| f[slot as usize].as_ref());
        let (cap, pos) = (hist.cap, hist.pos);

        // The conv reads the FiLMed input's history; the residual keeps the raw input.
        let pre = f(FilmSlot::ConvPre);
        if let Some(fm) = pre {
            for r in 0..c {
                raw[r * mb..][..n].copy_from_slice(&hist.buf[r * cap + pos..][..n]);
            }
            fm.apply::<A>(&mut hist.buf[pos..], cap, cond, proj, mb, n);
        }

        // The common layer (tanh, no gate, no FiLM, a mono condition) in one pass where
        // the build has a kernel for it; otherwise pass by pass, to the same bits.
        let fused = mode == ActivationMode::Accurate
            && film.is_none()
            && matches!(gating, Gating::None)
            && matches!(activation, Activation::Tanh)
            && head1x1.is_none()
            && conv.tanh_layer::<A>(z, mb, hist.window(), n, mixin, cond, acc, acc_stride);
        if !fused {
            // z = conv(history) [post-FiLM] + mixin(condition [pre-FiLM]) [post-FiLM]
            let mix_src: &[f32] = match f(FilmSlot::InputMixinPre) {
                Some(fm) => {
                    fm.apply_into::<A>(cond, cond2, cond, proj, mb, n);
                    cond2
                }
                None => cond,
            };
            match (f(FilmSlot::ConvPost), f(FilmSlot::InputMixinPost)) {
                (None, None) => {
                    // The small terms first (bias, then the mixin), the conv's long sum on
                    // its own from zero, then the two added: closer to the exact network than
                    // one chain starting from the bias (see `kernels::Epi`).
                    conv.start(z, mb, n);
                    mixin.accumulate::<A>(z, mb, mix_src, n);
                    conv.accumulate::<A>(z, mb, hist.window(), n);
                }
                (post, mixin_post) => {
                    conv.run::<A>(z, mb, hist.window(), n);
                    if let Some(fm) = post {
                        fm.apply::<A>(z, mb, cond, proj, mb, n);
                    }
                    match mixin_post {
                        Some(fm) => {
                            mixin.run::<A>(tmp, mb, mix_src, n);
                            fm.apply::<A>(tmp, mb, cond, proj, mb, n);
                            for r in 0..*mid {
                                add(&mut z[r * mb..], &tmp[r * mb..], n);
                            }
                        }
                        None => mixin.accumulate::<A>(z, mb, mix_src, n),
                    }
                }
            }
            if let Some(fm) = f(FilmSlot::ActivationPre) {
                fm.apply::<A>(z, mb, cond, proj, mb, n);
            }

            // The activation, written over z's top `bn` rows.
            match gating {
                Gating::None => {
                    for r in 0..bn {
                        activation.apply::<A>(mode, r, &mut z[r * mb..][..n]);
                    }
                }
                Gating::Gated(g) => {
                    let (top, bottom) = z.split_at_mut(bn * mb);
                    for r in 0..bn {
                        let a = &mut top[r * mb..][..n];
                        activation.apply::<A>(mode, r, a);
                        let b = &mut bottom[r * mb..][..n];
                        g.apply::<A>(mode, r, b);
                        for (a, b) in a.iter_mut().zip(b.iter()) {
                            *a *= *b;
                        }
                    }
                }
                Gating::Blended(g) => {
                    let (top, bottom) = z.split_at_mut(bn * mb);
                    let x = &mut row[..n];
                    for r in 0..bn {
                        let a = &mut top[r * mb..][..n];
                        x.copy_from_slice(a);
                        activation.apply::<A>(mode, r, a);
                        let alpha = &mut bottom[r * mb..][..n];
                        g.apply::<A>(mode, r, alpha);
                        // alpha * act(x) + (1 - alpha) * x
                        for t in 0..n {
                            a[t] = A::madd(x[t], alpha[t], a[t] - x[t]);
                        }
                    }
                }
            }
            if let Some(fm) = f(FilmSlot::ActivationPost) {
                fm.apply::<A>(z, mb, cond, proj, mb, n);
            }

            // Skip path: the head accumulates the activation (or its head 1x1).
            match head1x1 {
                Some(h) => {
                    h.run::<A>(tmp, mb, z, n);
                    if let Some(fm) = f(FilmSlot::Head1x1Post) {
                        fm.apply::<A>(tmp, mb, cond, proj, mb, n);
                    }
                    for r in 0..*head_in {
                        add(&mut acc[r * acc_stride..], &tmp[r * mb..], n);
                    }
                }
                None => {
                    for r in 0..bn {
                        add(&mut acc[r * acc_stride..], &z[r * mb..], n);
                    }
                }
            }
        }

        // Residual: next = input + layer1x1(a) [post-FiLM], or input + a.
        let (x, x_stride): (&[f32], usize) = match pre {
            Some(_) => (raw, mb),
            None => (&hist.buf[pos..], cap),
        };
        let sum_into = |dst: &mut [f32], other: &[f32]| {
            for r in 0..c {
                let d = &mut dst[r * dst_stride..][..n];
                for ((y, a), b) in d
                    .iter_mut()
                    .zip(&x[r * x_stride..][..n])
                    .zip(&other[r * mb..][..n])
                {
                    *y = a + b;
                }
            }
        };
        match layer1x1 {
            Some(l) => match f(FilmSlot::Layer1x1Post) {
                Some(fm) => {
                    l.run::<A>(tmp, mb, z, n);
                    fm.apply::<A>(tmp, mb, cond, proj, mb, n);
                    sum_into(dst, tmp);
                }
                None => {
                    // input + (1x1 sum + bias): the sum and its bias first, as
                    // NeuralAmpModelerCore adds them; then the residual.
                    l.residual_biased::<A>(dst, dst_stride, z, n, x, x_stride);
                }
            },
            None => sum_into(dst, z),
        }
        hist.advance(n);
    }
}
