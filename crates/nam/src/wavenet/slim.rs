//! Slimmable WaveNets (`"slimmable": {"method": "slice_channels_uniform"}` on a layer
//! array): a size in 0..1 cuts each slimmable array to one of its allowed channel counts
//! by keeping the first channels of every convolution (the trainer's channel slicing).
//! Each size is a whole, smaller WaveNet; the engine builds them all up front.
//!
//! Size -> channels, as the trainer and the reference compute it: array `a` with allowed
//! counts `c[0..L]` runs `c[min(floor(size * L), L - 1)]` channels. The sizes at which
//! some array changes, `i / L`, are the breakpoints between the engine's size steps.

use super::config::*;
use super::parse::check_chain;
use crate::error::{Error, Result};
use crate::json::Field;

/// Refuses what channel slicing does not define (grouped convolutions, FiLM, a head
/// kernel, a post-stack head: the trainer refuses to train those slimmable), and checks
/// that every size's widths still chain.
pub(super) fn check(cfg: &WaveNetConfig, items: &[Field]) -> Result<()> {
    if !cfg.is_slimmable() {
        return Ok(());
    }
    for (a, item) in cfg.arrays.iter().zip(items) {
        if a.slimmable.is_none() {
            continue;
        }
        let path = item.path_of("slimmable");
        let refuse = |what: String| Error::Invalid {
            path: path.clone(),
            why: format!("channel slicing is not defined for {what}"),
        };
        let grouped = a.groups_input > 1
            || a.groups_input_mixin > 1
            || a.layer1x1.is_some_and(|g| g > 1)
            || a.head1x1.is_some_and(|h| h.groups > 1);
        if grouped {
            return Err(refuse("grouped convolutions".into()));
        }
        if let Some(slot) = FilmSlot::ALL.iter().find(|&&s| a.film(s).is_some()) {
            return Err(refuse(format!("a FiLM ({})", slot.key())));
        }
        if a.head_kernel_size > 1 {
            return Err(refuse(format!("a head kernel of {}", a.head_kernel_size)));
        }
        if cfg.post_head.is_some() {
            return Err(refuse("a model with a post-stack head".into()));
        }
    }
    let (_, steps) = steps(cfg);
    for channels in &steps {
        let sliced = slice_config(cfg, channels);
        let path = |i: usize, key: &str| {
            format!(
                "{}.slimmable (at {} channels: {key})",
                items[i].path, channels[i]
            )
        };
        let keys = vec!["head_size".to_string(); items.len()];
        let cond = cfg.arrays[0].condition_size;
        check_chain(
            &sliced.arrays,
            cfg.in_channels,
            cond,
            "the condition",
            &path,
            &keys,
        )?;
    }
    Ok(())
}

/// The breakpoints (ascending, inside 0..1) and, for each of the `breakpoints + 1` size
/// steps, the channels of every array.
pub(crate) fn steps(cfg: &WaveNetConfig) -> (Vec<f64>, Vec<Vec<usize>>) {
    let mut breaks: Vec<f64> = cfg
        .arrays
        .iter()
        .filter_map(|a| a.slimmable.as_ref())
        .flat_map(|allowed| {
            let l = allowed.len();
            (1..l).map(move |i| i as f64 / l as f64)
        })
        .collect();
    breaks.sort_by(f64::total_cmp);
    breaks.dedup();
    let lows = std::iter::once(0.0).chain(breaks.iter().copied());
    let steps = lows.map(|size| channels_at(cfg, size)).collect();
    (breaks, steps)
}

/// Channels of every array at `size`, by the reference's formula.
pub(crate) fn channels_at(cfg: &WaveNetConfig, size: f64) -> Vec<usize> {
    cfg.arrays
        .iter()
        .map(|a| match &a.slimmable {
            Some(allowed) => {
                let l = allowed.len();
                allowed[((size * l as f64).floor().max(0.0) as usize).min(l - 1)]
            }
            None => a.channels,
        })
        .collect()
}

/// Widths of array `i` cut to `channels`: (input, channels, bottleneck, head size).
fn widths(cfg: &WaveNetConfig, channels: &[usize], i: usize) -> (usize, usize, usize, usize) {
    let a = &cfg.arrays[i];
    let ch = channels[i];
    let bn = match a.layer1x1 {
        // Off: the activation is the residual, so it keeps the channels' width.
        None => ch,
        Some(_) => (a.bottleneck * ch / a.channels).max(1),
    };
    let input = if i == 0 {
        a.input_size
    } else {
        channels[i - 1]
    };
    let head = if i + 1 < cfg.arrays.len() {
        channels[i + 1]
    } else {
        a.head_size
    };
    (input, ch, bn, head)
}

/// The config of the model at `channels`.
pub(crate) fn slice_config(cfg: &WaveNetConfig, channels: &[usize]) -> WaveNetConfig {
    let arrays = cfg
        .arrays
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (input_size, ch, bn, head_size) = widths(cfg, channels, i);
            let layers = a
                .layers
                .iter()
                .map(|l| {
                    let mut l = l.clone();
                    for act in [Some(&mut l.activation), slopes_of(&mut l.gating)]
                        .into_iter()
                        .flatten()
                    {
                        if let crate::Activation::PReLU { negative_slopes } = act {
                            if negative_slopes.len() > 1 {
                                negative_slopes.truncate(bn);
                            }
                        }
                    }
                    l
                })
                .collect();
            LayerArrayConfig {
                input_size,
                channels: ch,
                bottleneck: bn,
                head_size,
                layers,
                slimmable: None,
                ..a.clone()
            }
        })
        .collect();
    WaveNetConfig {
        arrays,
        ..cfg.clone()
    }
}

fn slopes_of(g: &mut Gating) -> Option<&mut crate::Activation> {
    match g {
        Gating::None => None,
        Gating::Gated(a) | Gating::Blended(a) => Some(a),
    }
}

/// The weights of the model at `channels`: the first rows and columns of every conv.
pub(crate) fn slice_weights(cfg: &WaveNetConfig, weights: &[f32], channels: &[usize]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut at = 0;
    // A conv `(out, in, k)` (+ bias) cut to its first `so` outputs and `si` inputs.
    let mut cut =
        |full: (usize, usize, usize), slim: (usize, usize), bias: bool, out: &mut Vec<f32>| {
            let (fo, fi, k) = full;
            let (so, si) = slim;
            for o in 0..fo {
                for i in 0..fi {
                    if o < so && i < si {
                        out.extend_from_slice(&weights[at..at + k]);
                    }
                    at += k;
                }
            }
            if bias {
                out.extend_from_slice(&weights[at..at + so]);
                at += fo;
            }
        };
    for (i, a) in cfg.arrays.iter().enumerate() {
        let (input, ch, bn, head) = widths(cfg, channels, i);
        cut((a.channels, a.input_size, 1), (ch, input), false, &mut out);
        for l in &a.layers {
            let (fm, sm) = (l.mid(a.bottleneck), l.mid(bn));
            cut((fm, a.channels, l.kernel_size), (sm, ch), true, &mut out);
            let c = a.condition_size;
            cut((fm, c, 1), (sm, c), false, &mut out);
            if a.layer1x1.is_some() {
                cut((a.channels, a.bottleneck, 1), (ch, bn), true, &mut out);
            }
            if let Some(h) = a.head1x1 {
                cut(
                    (h.out_channels, a.bottleneck, 1),
                    (h.out_channels, bn),
                    true,
                    &mut out,
                );
            }
        }
        let (full_in, slim_in) = match a.head1x1 {
            Some(h) => (h.out_channels, h.out_channels),
            None => (a.bottleneck, bn),
        };
        cut(
            (a.head_size, full_in, 1),
            (head, slim_in),
            a.head_bias,
            &mut out,
        );
    }
    out.push(weights[at]);
    out
}
