//! The WaveNet at run time: layer arrays of dilated causal convolutions, run a block at a
//! time. Every signal is planar (one contiguous row per channel; scratch rows are
//! `max_block` apart), so each convolution is a handful of long, vectorisable row updates
//! (see `kernels`). Each layer keeps the history of its own input in a [`Hist`]; the
//! previous layer writes its output straight into it.

use super::config::*;
use super::film::Film;
use super::layer::{Layer, Scratch};
use crate::activation::{Activation, ActivationMode};
use crate::conv::{Conv, Hist, Isa, Weights};
use crate::file::NamFile;
use crate::floats::{Floats, GAP};
use crate::kernels::{fill_rows, Fused, Level, Plain, Wide};
use crate::net::{BuildCtx, Net};

struct Array {
    rechannel: Conv,
    layers: Vec<Layer>,
    /// The head accumulator, `head_in` rows, with the head rechannel's history.
    acc: Hist,
    head: Conv,
    head_in: usize,
    head_size: usize,
}

/// One block of the post-stack head: activation, then conv (which needs the activated
/// input's history).
struct PostConv {
    activation: Activation,
    hist: Hist,
    conv: Conv,
}

/// Rows of every scratch buffer, from the config alone (also for the memory limit).
struct Dims {
    width: usize,
    z: usize,
    raw: usize,
    tmp: usize,
    proj: usize,
    cond: usize,
    cond2: usize,
    row: usize,
    head: usize,
    post: usize,
}

impl Dims {
    fn of(cfg: &WaveNetConfig) -> Dims {
        let mut d = Dims {
            width: 1,
            z: 1,
            raw: 0,
            tmp: 0,
            proj: 0,
            cond: 0,
            cond2: 0,
            row: 0,
            head: 1,
            post: 0,
        };
        for a in &cfg.arrays {
            d.width = d.width.max(a.channels).max(a.input_size);
            d.head = d.head.max(a.head_size);
            let on = |s| a.film(s).is_some();
            if on(FilmSlot::ConvPre) {
                d.raw = d.raw.max(a.channels);
            }
            if on(FilmSlot::InputMixinPre) {
                d.cond2 = d.cond2.max(a.condition_size);
            }
            if on(FilmSlot::Layer1x1Post) {
                d.tmp = d.tmp.max(a.channels);
            }
            if a.head1x1.is_some() {
                d.tmp = d.tmp.max(a.head_in());
            }
            for l in &a.layers {
                let mid = l.mid(a.bottleneck);
                d.z = d.z.max(mid);
                if on(FilmSlot::InputMixinPost) {
                    d.tmp = d.tmp.max(mid);
                }
                if matches!(l.gating, Gating::Blended(_)) {
                    d.row = 1;
                }
                for s in FilmSlot::ALL {
                    if let Some(f) = a.film_conv(s, l) {
                        d.proj = d.proj.max(f.out_channels);
                    }
                }
            }
        }
        if let Some(c) = &cfg.condition_dsp {
            d.cond = c.model.out_channels();
        }
        if let Some(h) = &cfg.post_head {
            d.post = h.in_channels.max(h.channels).max(h.out_channels);
        }
        d
    }

    fn floats(&self, mb: usize) -> usize {
        let rows = 1
            + 2 * self.width
            + self.z
            + self.raw
            + self.tmp
            + self.proj
            + self.cond
            + self.cond2
            + self.row
            + self.head
            + 2 * self.post;
        // Each of the 13 buffers may cost a gap in the layout.
        rows.saturating_mul(mb).saturating_add(13 * GAP)
    }
}

/// A built, runnable WaveNet. Owns every buffer it will ever touch.
pub struct WaveNet {
    /// The instruction set (checked once, at build).
    level: Level,
    mode: ActivationMode,
    max_block: usize,
    condition_dsp: Option<Box<Net>>,
    arrays: Vec<Array>,
    head_scale: f32,
    post: Vec<PostConv>,
    /// Channels of the output (more than 1 only for a condition DSP).
    out_channels: usize,
    /// Silence run after the condition DSP's own prewarm (the network's history).
    main_warm: usize,
    /// The model input (one row); the condition too, without a condition DSP.
    input: Floats,
    /// The condition DSP's output.
    cond: Floats,
    /// An array's input and output residual streams.
    x_in: Floats,
    x_out: Floats,
    /// A head's output: the next array's initial accumulator; the last one's is the output.
    head_io: Floats,
    post_io: [Floats; 2],
    s: Scratch,
    /// The state and output after a long silence, taken at the first prewarm (see
    /// [`Silence`]); `None` until then, and for a net whose state is not a function of
    /// its recent input alone (one with a condition DSP).
    silence: Option<Box<Silence>>,
    /// Whether a prewarm has run (the first, at build, is the only one that allocates).
    warmed: bool,
    /// Whether the last block was silence returned without computing.
    pub idle: bool,
    /// Samples of silence in a row at the end of the input so far (saturating).
    silent_run: usize,
    /// Input samples after which the state no longer depends on anything older.
    settle: usize,
}

/// A WaveNet is time-invariant and sees nothing but its last `receptive_field` inputs,
/// so once the input has been silent that long every history row holds one value
/// repeated, and every output sample is the same number until the input changes. Those
/// values, taken from a real prewarm, let silence be returned without computing it and
/// a reset restore the prewarmed state without recomputing it, bit-identical to both.
struct Silence {
    /// Per history, in [`WaveNet::hists`] order: each row's value.
    rows: Vec<Vec<f32>>,
    /// Each output channel's value.
    out: Vec<f32>,
}

impl WaveNet {
    /// Floats the engine will allocate for `cfg` at `max_block` (a condition DSP's
    /// included): checked against the memory limit before anything is allocated.
    pub fn floats_needed(cfg: &WaveNetConfig, max_block: usize) -> usize {
        let mut n = Dims::of(cfg).floats(max_block);
        for a in &cfg.arrays {
            for l in &a.layers {
                let h = a.layer_conv(l).history();
                n = n.saturating_add(Hist::floats(a.channels, h, max_block));
            }
            let h = a.head_conv().history();
            n = n.saturating_add(Hist::floats(a.head_in(), h, max_block));
        }
        if let Some(h) = &cfg.post_head {
            for c in h.convs() {
                n = n.saturating_add(Hist::floats(c.in_channels, c.history(), max_block));
            }
        }
        n = n.saturating_add(cfg.weight_count());
        if let Some(c) = &cfg.condition_dsp {
            n = n.saturating_add(crate::net::floats_needed(c, max_block));
        }
        n
    }

    /// The widest signal between `cfg`'s layers, in rows (its scratch's width, or a
    /// condition DSP's, if wider): see `net::rows_for`.
    pub fn rows(cfg: &WaveNetConfig) -> usize {
        let own = Dims::of(cfg).width;
        cfg.condition_dsp
            .as_ref()
            .map_or(own, |c| own.max(crate::net::rows_for(&c.model)))
    }

    /// Builds the network from the file's weights (length-checked at load).
    pub fn build(cfg: &WaveNetConfig, weights: &[f32], ctx: &BuildCtx) -> Self {
        let mb = ctx.max_block;
        let mut w = Weights::new(weights);
        let condition_dsp = cfg
            .condition_dsp
            .as_deref()
            .map(|f: &NamFile| Box::new(Net::build(f, ctx)));
        let arrays: Vec<Array> = cfg
            .arrays
            .iter()
            .map(|a| Self::build_array(a, &mut w, mb))
            .collect();
        let post = cfg.post_head.as_ref().map_or(Vec::new(), |h| {
            h.convs()
                .into_iter()
                .map(|shape| {
                    let hist = Hist::new(shape.in_channels, shape.history(), mb);
                    let conv = Conv::new(shape, &mut w, hist.cap);
                    PostConv {
                        activation: h.activation.clone(),
                        hist,
                        conv,
                    }
                })
                .collect()
        });
        let head_scale = w.take(1)[0];
        debug_assert_eq!(w.read(), weights.len());
        let d = Dims::of(cfg);
        let buf = |rows: usize| Floats::zeroed(rows * mb);
        WaveNet {
            level: ctx.level,
            mode: ctx.mode,
            max_block: mb,
            condition_dsp,
            arrays,
            head_scale,
            post,
            out_channels: cfg.out_channels(),
            main_warm: match &cfg.condition_dsp {
                Some(_) => cfg.main_receptive_field() - 1,
                None => cfg.main_receptive_field(),
            },
            input: buf(1),
            cond: buf(d.cond),
            x_in: buf(d.width),
            x_out: buf(d.width),
            head_io: buf(d.head),
            post_io: [buf(d.post), buf(d.post)],
            silence: None,
            warmed: false,
            idle: false,
            silent_run: 0,
            settle: cfg.main_receptive_field(),
            s: Scratch {
                mb,
                z: buf(d.z),
                raw: buf(d.raw),
                tmp: buf(d.tmp),
                proj: buf(d.proj),
                cond2: buf(d.cond2),
                row: buf(d.row),
            },
        }
    }

    fn build_array(a: &LayerArrayConfig, w: &mut Weights, mb: usize) -> Array {
        let rechannel = Conv::new(a.rechannel(), w, mb);
        let layers = a
            .layers
            .iter()
            .map(|l| {
                let shape = a.layer_conv(l);
                let hist = Hist::new(a.channels, shape.history(), mb);
                let conv = Conv::new(shape, w, hist.cap);
                let mixin = Conv::new(a.mixin(l), w, mb);
                let layer1x1 = a.layer1x1_conv().map(|s| Conv::new(s, w, mb));
                let head1x1 = a.head1x1_conv().map(|s| Conv::new(s, w, mb));
                // In slot order, which is the weight order.
                let film = FilmSlot::ALL.map(|slot| {
                    let (shape, f) = (a.film_conv(slot, l)?, a.film(slot)?);
                    Some(Film::new(shape, f.shift, w, mb))
                });
                let film = film.iter().any(Option::is_some).then(|| Box::new(film));
                Layer {
                    hist,
                    conv,
                    mixin,
                    layer1x1,
                    head1x1,
                    film,
                    activation: l.activation.clone(),
                    gating: l.gating.clone(),
                    channels: a.channels,
                    bottleneck: a.bottleneck,
                    mid: l.mid(a.bottleneck),
                    head_in: a.head_in(),
                }
            })
            .collect();
        let head_shape = a.head_conv();
        let acc = Hist::new(a.head_in(), head_shape.history(), mb);
        let head = Conv::new(head_shape, w, acc.cap);
        Array {
            rechannel,
            layers,
            acc,
            head,
            head_in: a.head_in(),
            head_size: a.head_size,
        }
    }

    /// Zeroes every history (the state of a net that has never seen a sample).
    pub fn clear(&mut self) {
        for h in self.hists() {
            h.clear();
        }
        if let Some(c) = &mut self.condition_dsp {
            c.clear();
        }
        self.silent_run = 0;
    }

    /// Every history buffer, in a fixed order.
    fn hists(&mut self) -> impl Iterator<Item = &mut Hist> {
        self.arrays
            .iter_mut()
            .flat_map(|a| a.layers.iter_mut().map(|l| &mut l.hist).chain([&mut a.acc]))
            .chain(self.post.iter_mut().map(|p| &mut p.hist))
    }

    /// The reference's prewarm: the condition DSP's own, then silence for the network's
    /// history. The first one computes it and keeps the result ([`Silence`]); later ones
    /// (a reset on the audio thread) restore that: a copy, no compute.
    pub fn prewarm(&mut self) {
        if let Some(s) = self.silence.take() {
            for (h, rows) in self.hists().zip(&s.rows) {
                h.set_constant_rows(rows);
            }
            self.silent_run = usize::MAX;
            self.silence = Some(s);
            return;
        }
        self.clear();
        if let Some(c) = &mut self.condition_dsp {
            c.prewarm();
        }
        self.process_silence(self.main_warm);
        if !self.warmed && self.condition_dsp.is_none() {
            self.take_silence();
        }
        self.warmed = true;
    }

    /// Keeps the state and output of silence, if the state is what `Silence` says it is
    /// (it always should be; if not, silence and resets are simply computed).
    fn take_silence(&mut self) {
        let rows: Option<Vec<Vec<f32>>> = self.hists().map(|h| h.constant_rows()).collect();
        let Some(rows) = rows else { return };
        // One more sample of silence gives the output (and leaves the state as it was).
        self.input[0] = 0.0;
        self.run(1);
        let mb = self.max_block;
        let (o, scale) = self.output();
        let out = (0..self.out_channels).map(|r| scale * o[r * mb]).collect();
        self.silence = Some(Box::new(Silence { rows, out }));
    }

    /// Runs `n` samples of silence.
    pub fn process_silence(&mut self, mut n: usize) {
        while n > 0 {
            let m = n.min(self.max_block);
            self.input[..m].fill(0.0);
            self.run(m);
            n -= m;
        }
    }

    /// Runs `io` (at most `max_block` samples) through the net in place. Mono output.
    /// A block of silence after at least a receptive field of it costs a comparison per
    /// sample: its output is known (see [`Silence`]).
    pub fn process_block(&mut self, io: &mut [f32]) {
        let n = io.len();
        debug_assert!(n <= self.max_block);
        if self.silent_run >= self.settle && io.iter().all(|x| x.to_bits() == 0) {
            if let Some(s) = &self.silence {
                io.fill(s.out[0]);
                self.idle = true;
                return;
            }
        }
        self.idle = false;
        self.input[..n].copy_from_slice(io);
        self.run(n);
        let (rows, scale) = self.output();
        for (y, h) in io.iter_mut().zip(&rows[..n]) {
            *y = scale * h;
        }
    }

    /// Runs `input` and writes every output channel to `out`, rows `stride` apart (a
    /// condition DSP's output).
    pub fn process_into(&mut self, input: &[f32], out: &mut [f32], stride: usize) {
        let n = input.len();
        self.input[..n].copy_from_slice(input);
        self.run(n);
        let mb = self.max_block;
        let (rows, scale) = self.output();
        for r in 0..self.out_channels {
            for (y, h) in out[r * stride..][..n].iter_mut().zip(&rows[r * mb..][..n]) {
                *y = scale * h;
            }
        }
    }

    /// Where the last block's output is, and the scale still to apply to it.
    fn output(&self) -> (&[f32], f32) {
        if self.post.is_empty() {
            (&self.head_io, self.head_scale)
        } else {
            (&self.post_io[self.post.len() % 2], 1.0)
        }
    }

    fn run(&mut self, n: usize) {
        // Silence is +0.0 exactly: the engine turns -0.0, denormals and NaN into it.
        let zeros = self.input[..n]
            .iter()
            .rev()
            .take_while(|x| x.to_bits() == 0)
            .count();
        self.silent_run = if zeros == n {
            self.silent_run.saturating_add(n)
        } else {
            zeros
        };
        if let Some(c) = &mut self.condition_dsp {
            c.process_into(&self.input[..n], &mut self.cond, self.max_block);
        }
        match self.level {
            // SAFETY: `level` is only above Portable when the CPU has that instruction
            // set (checked at Engine::build).
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.run_avx512(n) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { self.run_fma(n) },
            _ => self.run_with::<Plain>(n),
        }
    }

    /// The same code compiled for AVX2 + FMA: twice the vector width, fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_fma(&mut self, n: usize) {
        self.run_with::<Fused>(n);
    }

    /// The same code compiled for AVX-512: the AVX-512 kernels, 16 samples a vector.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn run_avx512(&mut self, n: usize) {
        self.run_with::<Wide>(n);
    }

    #[inline(always)]
    fn run_with<A: Isa>(&mut self, n: usize) {
        let mb = self.max_block;
        let mode = self.mode;
        let WaveNet {
            arrays,
            input,
            cond,
            x_in,
            x_out,
            head_io,
            s,
            condition_dsp,
            post,
            post_io,
            head_scale,
            ..
        } = self;
        let cond: &[f32] = if condition_dsp.is_some() { cond } else { input };
        for (ai, array) in arrays.iter_mut().enumerate() {
            let Array {
                rechannel,
                layers,
                acc,
                head,
                head_in,
                ..
            } = array;
            // The head accumulator starts at zero for the first array, else at the
            // previous array's head output (same width, checked at load).
            acc.make_room(n);
            let (acc_cap, acc_pos) = (acc.cap, acc.pos);
            let a0 = &mut acc.buf[acc_pos..];
            if ai == 0 {
                fill_rows(a0, acc_cap, None, *head_in, n);
            } else {
                for r in 0..*head_in {
                    a0[r * acc_cap..][..n].copy_from_slice(&head_io[r * mb..][..n]);
                }
            }

            // Rechannel the array's input into the first layer's history.
            {
                let h0 = &mut layers[0].hist;
                h0.make_room(n);
                let (cap, pos) = (h0.cap, h0.pos);
                let src: &[f32] = if ai == 0 { input } else { x_in };
                rechannel.run::<A>(&mut h0.buf[pos..], cap, src, n);
            }

            for li in 0..layers.len() {
                let (done, rest) = layers.split_at_mut(li + 1);
                // The residual goes into the next layer's history or, after the last
                // layer, the array's output.
                let (dst, dst_stride): (&mut [f32], usize) = match rest.first_mut() {
                    Some(next) => {
                        next.hist.make_room(n);
                        let (p, c) = (next.hist.pos, next.hist.cap);
                        (&mut next.hist.buf[p..], c)
                    }
                    None => (&mut x_out[..], mb),
                };
                let acc_now = &mut acc.buf[acc_pos..];
                done[li].run::<A>(s, cond, acc_now, acc_cap, dst, dst_stride, mode, n);
            }

            head.run::<A>(head_io, mb, acc.window(), n);
            acc.advance(n);
            std::mem::swap(x_in, x_out);
        }

        if !post.is_empty() {
            let rows = arrays[arrays.len() - 1].head_size;
            let [pa, pb] = post_io;
            for r in 0..rows {
                for (y, h) in pa[r * mb..][..n].iter_mut().zip(&head_io[r * mb..][..n]) {
                    *y = *head_scale * h;
                }
            }
            let (mut src, mut dst) = (pa, pb);
            for p in post.iter_mut() {
                p.hist.make_room(n);
                let (cap, pos) = (p.hist.cap, p.hist.pos);
                for r in 0..p.hist.rows {
                    let row = &mut p.hist.buf[r * cap + pos..][..n];
                    row.copy_from_slice(&src[r * mb..][..n]);
                    p.activation.apply::<A>(mode, r, row);
                }
                p.conv.run::<A>(dst, mb, p.hist.window(), n);
                p.hist.advance(n);
                std::mem::swap(&mut src, &mut dst);
            }
        }
    }
}
