//! The two building blocks of every convolutional network here: [`Hist`], a planar buffer
//! that keeps the recent past of a group of channels, and [`Conv`], a causal 1-D
//! convolution in the file's (PyTorch) layout with kernel, dilation, groups and an
//! optional bias, computed a block at a time by [`mac_rows`].
//!
//! Layout: one contiguous row of samples per channel. A `Hist` keeps `history` samples
//! before its write position and slack after it; the write position advances through the
//! slack and jumps back (copying only the history) when the slack is used up, so the copy
//! costs well under one float per sample and channel.

use crate::floats::{Floats, GAP};
#[cfg(target_arch = "x86_64")]
use crate::kernels::x86;
use crate::kernels::{
    axpy, fill_rows, mac_rows, tile_weights, Arith, Epi, Fused, Level, Plain, Wide,
};

/// Slack after a history: at least a block (what `make_room` needs), at least the
/// history itself (so a rewind copies at most one float per row and sample), at least
/// 256 (so short histories at small blocks do not rewind every block). Memory is what
/// a longer slack would cost: every row of every layer carries one.
fn slack(history: usize, max_block: usize) -> usize {
    max_block.max(history).max(256)
}

/// A row stride of at least `len` floats that is an odd number of 64-byte cache lines:
/// rows a power of two apart (a history of 1024 plus its slack is 2048) all fall in the
/// same few sets of the L1 cache, and a convolution reading 48 of them at once evicts its
/// own operands (measured: the AVX-512 kernel ran at 45 % of the FMA peak instead of
/// 70 %). With an odd number of lines, consecutive rows start in different sets.
pub(crate) fn spread(len: usize) -> usize {
    let lines = len.div_ceil(16);
    16 * (lines | 1)
}

/// `rows` channels with `history` samples of past kept before the write position.
pub(crate) struct Hist {
    pub buf: Floats,
    pub rows: usize,
    /// Distance between rows.
    pub cap: usize,
    /// Where the next block is written.
    pub pos: usize,
    pub history: usize,
}

impl Hist {
    /// Floats a `Hist` of this shape allocates (for the memory limit, before building).
    pub fn floats(rows: usize, history: usize, max_block: usize) -> usize {
        rows.saturating_mul(Self::capacity(history, max_block))
            .saturating_add(GAP)
    }

    fn capacity(history: usize, max_block: usize) -> usize {
        let len = if history == 0 {
            // No past to keep: the write position never moves.
            max_block
        } else {
            history.saturating_add(slack(history, max_block))
        };
        spread(len)
    }

    pub fn new(rows: usize, history: usize, max_block: usize) -> Self {
        let cap = Self::capacity(history, max_block);
        Hist {
            buf: Floats::zeroed(rows * cap),
            rows,
            cap,
            pos: history,
            history,
        }
    }

    /// Guarantees `n` samples can be written at `pos` keeping `history` samples before it.
    #[inline]
    pub fn make_room(&mut self, n: usize) {
        if self.pos + n > self.cap {
            let (from, h) = (self.pos - self.history, self.history);
            for r in 0..self.rows {
                self.buf[r * self.cap..(r + 1) * self.cap].copy_within(from..from + h, 0);
            }
            self.pos = h;
        }
    }

    /// The `n` samples just written become history.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        if self.history > 0 {
            self.pos += n;
        }
    }

    pub fn clear(&mut self) {
        self.buf.fill(0.0);
        self.pos = self.history;
    }

    /// Each row's value, if every row of the kept history is one value repeated (bit
    /// for bit): the state of a time-invariant network after a long constant input.
    pub fn constant_rows(&self) -> Option<Vec<f32>> {
        (0..self.rows)
            .map(|r| {
                let row = &self.buf[r * self.cap + self.pos - self.history..][..self.history];
                let v = row.last().copied().unwrap_or(0.0);
                row.iter().all(|x| x.to_bits() == v.to_bits()).then_some(v)
            })
            .collect()
    }

    /// The history as [`Hist::constant_rows`] found it, without computing it: the same
    /// bits in every sample a convolution will read.
    pub fn set_constant_rows(&mut self, values: &[f32]) {
        self.pos = self.history;
        for (r, &v) in values.iter().enumerate().take(self.rows) {
            self.buf[r * self.cap..][..self.history].fill(v);
        }
    }

    /// What a convolution reads: the rows starting `history` samples before `pos`.
    #[inline]
    pub fn window(&self) -> &[f32] {
        &self.buf[self.pos - self.history..]
    }
}

/// Reads consecutive weights, in the file's order. Lengths were checked at load.
pub(crate) struct Weights<'a> {
    w: &'a [f32],
    at: usize,
}

impl<'a> Weights<'a> {
    pub fn new(w: &'a [f32]) -> Self {
        Weights { w, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> &'a [f32] {
        let s = &self.w[self.at..self.at + n];
        self.at += n;
        s
    }

    pub fn read(&self) -> usize {
        self.at
    }
}

/// The shape of a convolution as the file describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub dilation: usize,
    pub groups: usize,
    pub bias: bool,
}

impl ConvShape {
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        ConvShape {
            in_channels,
            out_channels,
            kernel,
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }

    pub fn dilation(self, dilation: usize) -> Self {
        ConvShape { dilation, ..self }
    }

    pub fn groups(self, groups: usize) -> Self {
        ConvShape { groups, ..self }
    }

    pub fn bias(self, bias: bool) -> Self {
        ConvShape { bias, ..self }
    }

    /// Weights in the file: `out * (in / groups) * kernel`, then `out` biases.
    pub fn weights(&self) -> usize {
        self.macs() + if self.bias { self.out_channels } else { 0 }
    }

    /// Multiply-adds per output sample.
    pub fn macs(&self) -> usize {
        self.out_channels * (self.in_channels / self.groups) * self.kernel
    }

    /// Samples of past input it reads.
    pub fn history(&self) -> usize {
        (self.kernel - 1) * self.dilation
    }
}

/// A causal convolution ready to run: `y[o][t] = b[o] + sum W[o][i][k] x[i][t - d*(K-1-k)]`
/// over the input channels `i` of `o`'s group.
pub(crate) struct Conv {
    groups: usize,
    out_per_group: usize,
    /// Per group, `[out_per_group][in_per_group * kernel]` as laid out by `tile_weights`.
    w: Vec<f32>,
    w_per_group: usize,
    /// Per group, where each (input channel, tap) row starts in the source window.
    taps: Vec<usize>,
    taps_per_group: usize,
    /// The largest tap of any group: the x86 kernels' bounds check needs it on every call
    /// (every group reads the same source), and finding it there cost a narrow model 5 %
    /// of its time at block 16.
    taps_max: usize,
    bias: Option<Vec<f32>>,
    /// One input channel and one tap per group (a mono input mixin): each output row is
    /// a scaled copy of one source row, cheaper as an axpy than through the tiled kernel.
    single: bool,
}

impl Conv {
    /// Reads the weights of `shape` from `w`; the source it will read has rows
    /// `src_stride` apart.
    pub fn new(shape: ConvShape, w: &mut Weights, src_stride: usize) -> Self {
        let g = shape.groups;
        let (ig, og, k) = (shape.in_channels / g, shape.out_channels / g, shape.kernel);
        let cols = ig * k;
        let mut tiled = Vec::with_capacity(shape.macs());
        let mut taps = Vec::with_capacity(g * cols);
        for group in 0..g {
            // File order per output channel: input channel, then tap: already the
            // `[og][ig * k]` layout with column `i * k + tap`.
            tiled.extend(tile_weights(w.take(og * cols), og, cols));
            // Tap t of input channel i reads x[now - d*(K-1-t)]: from the start of the
            // window, that is row i plus t*d.
            taps.extend(
                (0..cols).map(|j| (group * ig + j / k) * src_stride + (j % k) * shape.dilation),
            );
        }
        let bias = shape.bias.then(|| w.take(shape.out_channels).to_vec());
        let taps_max = taps.iter().copied().max().unwrap_or(0);
        Conv {
            groups: g,
            out_per_group: og,
            w: tiled,
            w_per_group: og * cols,
            taps,
            taps_per_group: cols,
            taps_max,
            bias,
            single: cols == 1,
        }
    }

    fn out_channels(&self) -> usize {
        self.groups * self.out_per_group
    }

    /// Sets `dst` rows to the bias (or zero).
    #[inline(always)]
    pub fn start(&self, dst: &mut [f32], dst_stride: usize, n: usize) {
        fill_rows(
            dst,
            dst_stride,
            self.bias.as_deref(),
            self.out_channels(),
            n,
        );
    }

    /// `dst += W * src` (no bias), `src` being the start of the window the taps index.
    #[inline(always)]
    pub fn accumulate<A: Isa>(&self, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize) {
        if self.single {
            self.axpy_rows::<A>(dst, dst_stride, src, n);
        } else {
            A::conv(self, dst, dst_stride, src, n, Start::Add);
        }
    }

    /// `dst += (W * src + b)`: the bias joins the sum before what `dst` holds.
    #[inline(always)]
    pub fn accumulate_biased<A: Isa>(
        &self,
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        n: usize,
    ) {
        match &self.bias {
            Some(_) if !self.single => A::conv(self, dst, dst_stride, src, n, Start::AddBiased),
            _ => {
                // No bias, or one tap of one channel: the plain accumulate (plus bias).
                if let Some(b) = &self.bias {
                    for (r, &b) in b.iter().enumerate() {
                        for y in &mut dst[r * dst_stride..][..n] {
                            *y += b;
                        }
                    }
                }
                self.accumulate::<A>(dst, dst_stride, src, n);
            }
        }
    }

    /// `dst = x + (W * src + b)` for the rows of `x` (`x_stride` apart): a residual
    /// connection, the same bits as copying `x` into `dst` and [`Conv::accumulate_biased`],
    /// with the kernel reading `x` where it lies.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn residual_biased<A: Isa>(
        &self,
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        n: usize,
        x: &[f32],
        x_stride: usize,
    ) {
        if self.bias.is_some() && !self.single {
            A::conv(
                self,
                dst,
                dst_stride,
                src,
                n,
                Start::AddBiasedFrom(x, x_stride),
            );
            return;
        }
        for r in 0..self.out_channels() {
            dst[r * dst_stride..][..n].copy_from_slice(&x[r * x_stride..][..n]);
        }
        self.accumulate_biased::<A>(dst, dst_stride, src, n);
    }

    /// A plain WaveNet layer's front half in one pass, where the build has a kernel for
    /// it (AVX-512, AVX2): `z = tanh(W * src + b + mix * cond)`, `acc += z` (`z` and `acc` rows
    /// `mb` and `acc_stride` apart). `mix` must be a one-row, one-tap convolution (a mono
    /// condition's mixin). Returns false, having done nothing, where there is no such
    /// kernel; the caller then runs the passes one by one (the same bits).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn tanh_layer<A: Isa>(
        &self,
        z: &mut [f32],
        mb: usize,
        src: &[f32],
        n: usize,
        mix: &Conv,
        cond: &[f32],
        acc: &mut [f32],
        acc_stride: usize,
    ) -> bool {
        if !(A::WIDE || A::AVX2)
            || self.groups != 1
            || self.single
            || !mix.single
            || mix.groups != 1
        {
            return false;
        }
        if mix.out_channels() != self.out_channels() || mix.bias.is_some() {
            return false;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let rows = self.out_channels();
            // SAFETY: `A::WIDE` only in the AVX-512 builds, `A::AVX2` only in the AVX2 ones
            // (checked at `Engine::build`); `taps_max` is the largest of the taps.
            unsafe {
                x86::tanh_layer_x86(
                    A::WIDE,
                    z,
                    mb,
                    rows,
                    src,
                    &self.taps,
                    self.taps_max,
                    &self.w,
                    n,
                    self.bias.as_deref(),
                    &mix.w,
                    &cond[mix.taps[0]..],
                    acc,
                    acc_stride,
                )
            };
            true
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (z, mb, src, n, cond, acc, acc_stride);
            false
        }
    }

    /// `dst = b + W * src`.
    #[inline(always)]
    pub fn run<A: Isa>(&self, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize) {
        if self.single {
            self.start(dst, dst_stride, n);
            self.axpy_rows::<A>(dst, dst_stride, src, n);
        } else {
            A::conv(self, dst, dst_stride, src, n, Start::Set);
        }
    }

    /// One input channel and one tap per group (a mono input mixin): each output row is a
    /// scaled copy of one source row. (With one column, the tiled layout is the plain
    /// one: row `o`'s weight at `o`.)
    #[inline(always)]
    fn axpy_rows<A: Arith>(&self, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize) {
        for g in 0..self.groups {
            let src = &src[self.taps[g]..];
            for o in 0..self.out_per_group {
                let (row, w) = (g * self.out_per_group + o, self.w[g * self.w_per_group + o]);
                axpy::<A>(&mut dst[row * dst_stride..], w, src, n);
            }
        }
    }

    /// The whole convolution, every group, through `kernel` (one of the tiled kernels),
    /// each sum from zero: `dst = W * src + b` (`Start::Set`), `dst += W * src`
    /// (`Start::Add`) or `dst += (W * src + b)` (`Start::AddBiased`).
    #[inline(always)]
    fn compute(
        &self,
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        n: usize,
        start: Start,
        kernel: impl Fn(&mut [f32], usize, usize, &[f32], &[usize], usize, &[f32], usize, Epi),
    ) {
        let og = self.out_per_group;
        for g in 0..self.groups {
            let bias = self.bias.as_deref().map(|b| &b[g * og..][..og]);
            let epi = match (start, bias) {
                (Start::Set, b) => Epi::Set(b),
                (Start::AddBiased, Some(b)) => Epi::AddBias(b),
                (Start::AddBiasedFrom(x, stride), Some(b)) => Epi::AddBiasFrom {
                    bias: b,
                    from: &x[g * og * stride..],
                    stride,
                },
                (start, _) => {
                    // `residual_biased` only asks for a residual with a bias.
                    debug_assert!(!matches!(start, Start::AddBiasedFrom(..)));
                    Epi::Add
                }
            };
            kernel(
                &mut dst[g * og * dst_stride..],
                dst_stride,
                og,
                src,
                &self.taps[g * self.taps_per_group..][..self.taps_per_group],
                self.taps_max,
                &self.w[g * self.w_per_group..][..self.w_per_group],
                n,
                epi,
            );
        }
    }
}

/// What a convolution does with its destination (see `Conv::compute`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    Set,
    Add,
    AddBiased,
    /// `dst = x + (W * src + b)`, `x`'s rows this far apart.
    AddBiasedFrom(&'a [f32], usize),
}

/// The instruction set a network runs in. Each convolution is one out-of-line call into
/// a copy of the kernel for it (`Plain`: baseline, 8 samples a tile; `Fused`: AVX2 + FMA;
/// `Wide`: AVX-512): inlined into the loop over layers instead, the many copies left
/// their own loops too few registers, and a call per convolution and block costs less.
pub(crate) trait Isa: Arith {
    fn conv(conv: &Conv, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize, start: Start);
}

impl Isa for Plain {
    #[inline(never)]
    fn conv(conv: &Conv, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize, start: Start) {
        conv.compute_portable::<Plain, 8>(dst, dst_stride, src, n, start);
    }
}

impl Isa for Fused {
    #[inline(never)]
    fn conv(conv: &Conv, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize, start: Start) {
        // SAFETY: `Fused` only runs in the networks' AVX2 + FMA builds, which are only
        // chosen when the CPU reports both (`Engine::build`).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            conv.compute_x86(false, dst, dst_stride, src, n, start)
        };
        #[cfg(not(target_arch = "x86_64"))]
        conv.compute_portable::<Fused, 16>(dst, dst_stride, src, n, start);
    }
}

impl Isa for Wide {
    #[inline(never)]
    fn conv(conv: &Conv, dst: &mut [f32], dst_stride: usize, src: &[f32], n: usize, start: Start) {
        // SAFETY: `Wide` only runs in the networks' AVX-512 builds, which are only chosen
        // when the CPU reports AVX-512F, AVX2 and FMA (`Engine::build`).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            conv.compute_x86(true, dst, dst_stride, src, n, start)
        };
        #[cfg(not(target_arch = "x86_64"))]
        conv.compute_portable::<Wide, 16>(dst, dst_stride, src, n, start);
    }
}

impl Conv {
    /// [`Conv::compute`] with the portable kernel, `T` samples a tile.
    #[inline(always)]
    fn compute_portable<A: Arith, const T: usize>(
        &self,
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        n: usize,
        start: Start,
    ) {
        self.compute(
            dst,
            dst_stride,
            src,
            n,
            start,
            |d, ds, o, s, r, _, w, n, e| mac_rows::<A, T>(d, ds, o, s, r, w, n, e),
        );
    }

    /// [`Conv::compute`] with the x86 kernels: AVX-512 when `wide`, else AVX2.
    ///
    /// # Safety
    /// The CPU has AVX-512F when `wide`, AVX2 and FMA always.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn compute_x86(
        &self,
        wide: bool,
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        n: usize,
        start: Start,
    ) {
        self.compute(
            dst,
            dst_stride,
            src,
            n,
            start,
            |d, ds, o, s, r, last, w, n, e| {
                // SAFETY: the instruction sets the caller's; `last` is the largest tap of any
                // group (`Conv::new`), so no tap of `r` exceeds it.
                unsafe { x86::mac_rows_x86(wide, d, ds, o, s, r, last, w, n, e) }
            },
        );
    }
}

/// A network whose block loop has a copy compiled for each instruction set: it writes the
/// loop once, generic over `A` and `#[inline(always)]`, and [`run_block`] runs the copy
/// `Engine::build` chose.
pub(crate) trait PerIsa {
    fn block_with<A: Isa>(&mut self, io: &mut [f32]);
}

/// Runs `net`'s block, in place, in the copy compiled for `level`.
#[inline]
pub(crate) fn run_block<T: PerIsa>(level: Level, net: &mut T, io: &mut [f32]) {
    match level {
        // SAFETY: `level` is only above Portable when the CPU has that instruction set
        // (checked at Engine::build).
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { block_avx512(net, io) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { block_fma(net, io) },
        _ => net.block_with::<Plain>(io),
    }
}

/// The block compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_fma<T: PerIsa>(net: &mut T, io: &mut [f32]) {
    net.block_with::<Fused>(io);
}

/// The block compiled for AVX-512: the AVX-512 kernels, 16 samples a vector.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn block_avx512<T: PerIsa>(net: &mut T, io: &mut [f32]) {
    net.block_with::<Wide>(io);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Plain;

    /// A grouped, dilated conv against the definition, reading from a history window.
    #[test]
    fn grouped_dilated_conv_matches_the_definition() {
        let shape = ConvShape::new(4, 6, 3).dilation(2).groups(2).bias(true);
        let weights: Vec<f32> = (0..shape.weights())
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let (n, stride) = (9, 40);
        let hist = shape.history();
        let x: Vec<f32> = (0..4 * stride).map(|i| (i as f32 * 0.11).cos()).collect();
        let conv = Conv::new(shape, &mut Weights::new(&weights), stride);
        let mut y = vec![0.0f32; 6 * n];
        conv.run::<Plain>(&mut y, n, &x, n);
        for o in 0..6 {
            let g = o / 3;
            for t in 0..n {
                let mut e = weights[shape.macs() + o];
                for i in 0..2 {
                    for k in 0..3 {
                        let w = weights[(o * 2 + i) * 3 + k];
                        // The window starts `hist` samples before "now" (t = 0).
                        e += w * x[(g * 2 + i) * stride + t + hist - 2 * (2 - k)];
                    }
                }
                assert!((y[o * n + t] - e).abs() < 1e-5, "o {o} t {t}");
            }
        }
    }
}
