//! FiLM at run time: a 1x1 of the condition gives, per channel and sample, a scale (and a
//! shift) for the signal it modulates: `x * scale + shift`.

use crate::conv::{Conv, ConvShape, Isa, Weights};

pub(super) struct Film {
    proj: Conv,
    shift: bool,
    width: usize,
}

impl Film {
    /// `shape` is the projection (condition -> scale [+ shift]); the condition's rows are
    /// `max_block` apart.
    pub fn new(shape: ConvShape, shift: bool, w: &mut Weights, max_block: usize) -> Self {
        let width = shape.out_channels / if shift { 2 } else { 1 };
        Film {
            proj: Conv::new(shape, w, max_block),
            shift,
            width,
        }
    }

    /// Modulates `width` rows of `x` in place. `proj` is scratch for the projection.
    #[inline(always)]
    pub fn apply<A: Isa>(
        &self,
        x: &mut [f32],
        x_stride: usize,
        cond: &[f32],
        proj: &mut [f32],
        mb: usize,
        n: usize,
    ) {
        self.proj.run::<A>(proj, mb, cond, n);
        let (scale, shift) = proj.split_at(self.width * mb);
        for r in 0..self.width {
            let x = &mut x[r * x_stride..][..n];
            let s = &scale[r * mb..][..n];
            if self.shift {
                let b = &shift[r * mb..][..n];
                for t in 0..n {
                    x[t] = A::madd(b[t], x[t], s[t]);
                }
            } else {
                for t in 0..n {
                    x[t] *= s[t];
                }
            }
        }
    }

    /// `out = film(x)`, leaving `x` as it is (for the condition itself).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn apply_into<A: Isa>(
        &self,
        x: &[f32],
        out: &mut [f32],
        cond: &[f32],
        proj: &mut [f32],
        mb: usize,
        n: usize,
    ) {
        for r in 0..self.width {
            out[r * mb..][..n].copy_from_slice(&x[r * mb..][..n]);
        }
        self.apply::<A>(out, mb, cond, proj, mb, n);
    }
}
