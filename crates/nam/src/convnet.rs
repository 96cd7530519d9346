//! ConvNet (older, rare): `config = {channels, dilations[], batchnorm, activation,
//! groups}`. Each block is a kernel-2 dilated conv (bias only without batchnorm), then,
//! with batchnorm, the running mean, running variance, weight and bias (per channel) and
//! eps (one value), then the activation. The head is a 1x1 to one channel, with bias.
//!
//! Groups apply to every block's conv, the first one included (as in the reference), so
//! with a mono input they must be 1.

use serde_json::{json, Value};

use crate::activation::{Activation, ActivationMode};
use crate::conv::{run_block, Conv, ConvShape, Hist, Isa, PerIsa, Weights};
use crate::error::{Error, Result};
use crate::json::Field;
use crate::kernels::Level;
use crate::limits::*;
use crate::net::BuildCtx;

#[derive(Debug, Clone, PartialEq)]
pub struct ConvNetConfig {
    pub channels: usize,
    pub dilations: Vec<usize>,
    pub batchnorm: bool,
    pub activation: Activation,
    pub groups: usize,
}

impl ConvNetConfig {
    fn block(&self, i: usize) -> ConvShape {
        let input = if i == 0 { 1 } else { self.channels };
        ConvShape::new(input, self.channels, 2)
            .dilation(self.dilations[i])
            .groups(self.groups)
            .bias(!self.batchnorm)
    }

    fn head(&self) -> ConvShape {
        ConvShape::new(self.channels, 1, 1).bias(true)
    }

    fn batchnorm_weights(&self) -> usize {
        if self.batchnorm {
            4 * self.channels + 1
        } else {
            0
        }
    }

    pub fn weight_count(&self) -> usize {
        (0..self.dilations.len())
            .map(|i| self.block(i).weights() + self.batchnorm_weights())
            .sum::<usize>()
            + self.head().weights()
    }

    pub fn receptive_field(&self) -> usize {
        1 + self.dilations.iter().sum::<usize>()
    }

    pub fn macs(&self) -> u64 {
        let bn = if self.batchnorm { self.channels } else { 0 };
        let blocks: usize = (0..self.dilations.len())
            .map(|i| self.block(i).macs() + bn)
            .sum();
        (blocks + self.head().macs()) as u64
    }

    pub fn floats_needed(&self, max_block: usize) -> usize {
        let hists: usize = (0..self.dilations.len())
            .map(|i| Hist::floats(self.block(i).in_channels, self.dilations[i], max_block))
            .sum();
        hists + self.weight_count() + self.channels * max_block
    }

    pub fn summary(&self) -> String {
        format!(
            "ConvNet {} channels x {} blocks ({}{}{})",
            self.channels,
            self.dilations.len(),
            self.activation.label(),
            if self.batchnorm { ", batchnorm" } else { "" },
            if self.groups > 1 {
                format!(", groups {}", self.groups)
            } else {
                String::new()
            }
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "ConvNet",
            "channels": self.channels,
            "dilations": self.dilations,
            "batchnorm": self.batchnorm,
            "activation": self.activation.to_json(),
            "groups": self.groups,
        })
    }

    /// A batchnorm whose variance plus eps is not positive would divide by zero (or take
    /// the root of a negative): refused at load, naming the weight.
    pub(crate) fn check_weights(&self, weights: &[f32], path: &str) -> Result<()> {
        if !self.batchnorm {
            return Ok(());
        }
        let c = self.channels;
        let mut at = 0;
        for i in 0..self.dilations.len() {
            at += self.block(i).weights();
            let eps = weights[at + 4 * c];
            for ch in 0..c {
                let var = weights[at + c + ch];
                if !(var + eps > 0.0 && (1.0 / (var + eps).sqrt()).is_finite()) {
                    return Err(Error::Invalid {
                        path: format!("{path}[{}]", at + c + ch),
                        why: format!(
                            "block {i}'s batchnorm variance {var} plus eps {eps} is not positive"
                        ),
                    });
                }
            }
            at += self.batchnorm_weights();
        }
        Ok(())
    }
}

pub(crate) fn parse(config: &Field) -> Result<ConvNetConfig> {
    config.object()?;
    for key in ["in_channels", "out_channels"] {
        let n = config.usize_or(key, 1, 1, MAX_CHANNELS)?;
        if n != 1 {
            return Err(Error::ShapeMismatch {
                path: config.path_of(key),
                expected: 1,
                found: n,
                why: "the engine is mono",
            });
        }
    }
    let channels = config.req("channels")?.usize_in(1, MAX_CHANNELS)?;
    let dil_field = config.req("dilations")?;
    let items = dil_field.items()?;
    if items.is_empty() || items.len() > MAX_LAYERS {
        return Err(Error::CountOutOfRange {
            path: dil_field.path.clone(),
            found: items.len(),
            min: 1,
            max: MAX_LAYERS,
        });
    }
    let dilations = items
        .iter()
        .map(|d| d.usize_in(1, MAX_DILATION))
        .collect::<Result<Vec<_>>>()?;
    let batchnorm = config.bool_or("batchnorm", false)?;
    let activation = Activation::parse(&config.req("activation")?, channels)?;
    let groups = config.usize_or("groups", 1, 1, MAX_CHANNELS)?;
    for (channels, what) in [
        (1, "the first block's mono input"),
        (channels, "the channels"),
    ] {
        if channels % groups != 0 {
            return Err(Error::Groups {
                path: config.path_of("groups"),
                groups,
                channels,
                what,
            });
        }
    }
    let cfg = ConvNetConfig {
        channels,
        dilations,
        batchnorm,
        activation,
        groups,
    };
    if cfg.receptive_field() > MAX_RECEPTIVE_FIELD {
        return Err(Error::ReceptiveFieldTooLarge {
            path: config.path.clone(),
            samples: cfg.receptive_field(),
            max: MAX_RECEPTIVE_FIELD,
        });
    }
    Ok(cfg)
}

struct Block {
    /// The block's input, with the dilation's history.
    hist: Hist,
    conv: Conv,
    /// Batchnorm folded to `x * scale + loc`.
    norm: Option<(Vec<f32>, Vec<f32>)>,
}

/// A built, runnable ConvNet.
pub struct ConvNet {
    level: Level,
    mode: ActivationMode,
    max_block: usize,
    blocks: Vec<Block>,
    activation: Activation,
    head: Conv,
    /// The last block's output.
    out: Vec<f32>,
    channels: usize,
    prewarm: usize,
}

impl PerIsa for ConvNet {
    #[inline(always)]
    fn block_with<A: Isa>(&mut self, io: &mut [f32]) {
        self.process_with::<A>(io);
    }
}

impl ConvNet {
    pub fn build(cfg: &ConvNetConfig, weights: &[f32], ctx: &BuildCtx) -> Self {
        let mb = ctx.max_block;
        let c = cfg.channels;
        let mut w = Weights::new(weights);
        let blocks = (0..cfg.dilations.len())
            .map(|i| {
                let shape = cfg.block(i);
                let hist = Hist::new(shape.in_channels, shape.history(), mb);
                let conv = Conv::new(shape, &mut w, hist.cap);
                let norm = cfg.batchnorm.then(|| {
                    let p = w.take(4 * c);
                    let eps = w.take(1)[0];
                    let (mean, var, weight, bias) =
                        (&p[..c], &p[c..2 * c], &p[2 * c..3 * c], &p[3 * c..]);
                    let scale: Vec<f32> =
                        (0..c).map(|k| weight[k] / (var[k] + eps).sqrt()).collect();
                    let loc = (0..c).map(|k| bias[k] - scale[k] * mean[k]).collect();
                    (scale, loc)
                });
                Block { hist, conv, norm }
            })
            .collect();
        let head = Conv::new(cfg.head(), &mut w, mb);
        debug_assert_eq!(w.read(), weights.len());
        ConvNet {
            level: ctx.level,
            mode: ctx.mode,
            max_block: mb,
            blocks,
            activation: cfg.activation.clone(),
            head,
            out: vec![0.0; c * mb],
            channels: c,
            prewarm: cfg.receptive_field(),
        }
    }

    pub fn clear(&mut self) {
        for b in &mut self.blocks {
            b.hist.clear();
        }
    }

    pub fn prewarm(&mut self) {
        self.clear();
        let mut left = self.prewarm;
        let mut block = [0.0f32; 64];
        while left > 0 {
            let m = left.min(block.len()).min(self.max_block);
            block[..m].fill(0.0);
            self.process_block(&mut block[..m]);
            left -= m;
        }
    }

    pub fn process_block(&mut self, io: &mut [f32]) {
        run_block(self.level, self, io);
    }

    #[inline(always)]
    fn process_with<A: Isa>(&mut self, io: &mut [f32]) {
        let n = io.len();
        let mb = self.max_block;
        let mode = self.mode;
        let first = &mut self.blocks[0].hist;
        first.make_room(n);
        let pos = first.pos;
        first.buf[pos..pos + n].copy_from_slice(io);
        for i in 0..self.blocks.len() {
            let (done, rest) = self.blocks.split_at_mut(i + 1);
            let b = &mut done[i];
            let (dst, stride): (&mut [f32], usize) = match rest.first_mut() {
                Some(next) => {
                    next.hist.make_room(n);
                    let (p, c) = (next.hist.pos, next.hist.cap);
                    (&mut next.hist.buf[p..], c)
                }
                None => (&mut self.out[..], mb),
            };
            b.conv.run::<A>(dst, stride, b.hist.window(), n);
            for r in 0..self.channels {
                let row = &mut dst[r * stride..][..n];
                if let Some((scale, loc)) = &b.norm {
                    for y in row.iter_mut() {
                        *y = A::madd(loc[r], *y, scale[r]);
                    }
                }
                self.activation.apply::<A>(mode, r, row);
            }
            b.hist.advance(n);
        }
        self.head.run::<A>(io, mb, &self.out, n);
    }
}
