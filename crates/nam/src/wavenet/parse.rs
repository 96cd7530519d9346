//! `config` of a WaveNet -> [`WaveNetConfig`]: both schemas, every 0.7.0 knob, and every
//! check that the pieces fit together (widths chain from array to array, groups divide
//! what they split, the condition has the width the layers expect).
//!
//! Defaults for absent keys follow NeuralAmpModelerCore (the reader files are written
//! for); the trainer always writes every key.

use serde_json::Value;

use super::config::*;
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::file::ParseCtx;
use crate::json::Field;
use crate::limits::*;

/// Parses a WaveNet `config`. `mono`: its output is the audio (one channel), not a
/// condition for another model.
pub(crate) fn parse(config: &Field, ctx: &mut ParseCtx, mono: bool) -> Result<WaveNetConfig> {
    config.object()?;
    let in_channels = config.usize_or("in_channels", 1, 1, MAX_CHANNELS)?;
    if in_channels != 1 {
        return Err(Error::ShapeMismatch {
            path: config.path_of("in_channels"),
            expected: 1,
            found: in_channels,
            why: "the input is mono",
        });
    }
    // Its output becomes the condition, whatever its width: not mono.
    let condition_dsp = match config.opt("condition_dsp")? {
        Some(f) => Some(Box::new(ctx.nested(&f, false)?)),
        None => None,
    };
    let cond_width = condition_dsp
        .as_ref()
        .map_or(in_channels, |c| c.model.out_channels());
    let head_scale = config.req("head_scale")?.f32_in(-1e30, 1e30)?;

    let layers = config.req("layers")?;
    let items = layers.items()?;
    if items.is_empty() || items.len() > MAX_ARRAYS {
        return Err(Error::CountOutOfRange {
            path: layers.path.clone(),
            found: items.len(),
            min: 1,
            max: MAX_ARRAYS,
        });
    }
    let mut arrays = Vec::with_capacity(items.len());
    let mut total_layers = 0usize;
    for item in &items {
        let a = parse_layer_array(item, ctx)?;
        total_layers += a.layers.len();
        if total_layers > MAX_LAYERS {
            return Err(Error::CountOutOfRange {
                path: format!("{} (layers in all arrays)", layers.path),
                found: total_layers,
                min: 1,
                max: MAX_LAYERS,
            });
        }
        arrays.push(a);
    }
    let why_cond = if condition_dsp.is_some() {
        "the condition is the condition DSP's output"
    } else {
        "the condition is the mono input"
    };
    let path = |i: usize, key: &str| format!("{}.{key}", items[i].path);
    check_chain(
        &arrays,
        in_channels,
        cond_width,
        why_cond,
        &path,
        &head_key(&items),
    )?;

    let post_head = match config.opt("head")? {
        Some(h) => Some(parse_post_head(&h, arrays[arrays.len() - 1].head_size)?),
        None => None,
    };
    let cfg = WaveNetConfig {
        arrays,
        head_scale,
        in_channels,
        post_head,
        condition_dsp,
    };
    if mono && cfg.out_channels() != 1 {
        let (path, found) = match &cfg.post_head {
            Some(h) => (config.path_of("head.out_channels"), h.out_channels),
            None => (
                path(items.len() - 1, &head_key(&items)[items.len() - 1]),
                cfg.out_channels(),
            ),
        };
        return Err(Error::ShapeMismatch {
            path,
            expected: 1,
            found,
            why: "the last head is the mono output",
        });
    }
    let rf = cfg.receptive_field();
    if rf > MAX_RECEPTIVE_FIELD {
        return Err(Error::ReceptiveFieldTooLarge {
            path: config.path.clone(),
            samples: rf,
            max: MAX_RECEPTIVE_FIELD,
        });
    }
    super::slim::check(&cfg, &items)?;
    Ok(cfg)
}

/// Which key names each array's head width: `head.out_channels` (0.7.0) or `head_size`.
fn head_key(items: &[Field]) -> Vec<String> {
    items
        .iter()
        .map(|f| match f.opt("head") {
            Ok(Some(_)) => "head.out_channels".to_string(),
            _ => "head_size".to_string(),
        })
        .collect()
}

/// The arrays chain: each takes the previous one's residual stream as its input and its
/// head output as its head accumulator. `path(i, key)` names array `i`'s field.
pub(super) fn check_chain(
    arrays: &[LayerArrayConfig],
    in_channels: usize,
    cond_width: usize,
    why_cond: &'static str,
    path: &dyn Fn(usize, &str) -> String,
    head_key: &[String],
) -> Result<()> {
    for (i, a) in arrays.iter().enumerate() {
        if i == 0 {
            if a.input_size != in_channels {
                return Err(Error::ShapeMismatch {
                    path: path(i, "input_size"),
                    expected: in_channels,
                    found: a.input_size,
                    why: "the first layer array takes the mono input",
                });
            }
        } else {
            let prev = &arrays[i - 1];
            if a.input_size != prev.channels {
                return Err(Error::ShapeMismatch {
                    path: path(i, "input_size"),
                    expected: prev.channels,
                    found: a.input_size,
                    why: "a layer array takes the previous array's channels",
                });
            }
            if prev.head_size != a.head_in() {
                return Err(Error::ShapeMismatch {
                    path: path(i - 1, &head_key[i - 1]),
                    expected: a.head_in(),
                    found: prev.head_size,
                    why: "a head feeds the next array's head accumulator (its bottleneck, \
                          or its head 1x1's outputs)",
                });
            }
        }
        if a.condition_size != cond_width {
            return Err(Error::ShapeMismatch {
                path: path(i, "condition_size"),
                expected: cond_width,
                found: a.condition_size,
                why: why_cond,
            });
        }
    }
    Ok(())
}

/// A per-layer setting written either once for the whole array or as an array of one
/// value per layer (the 0.7.0 trainer writes arrays, hand-made files often a scalar).
fn per_layer<'a>(field: &Field<'a>, n: usize) -> Result<Vec<Field<'a>>> {
    match field.value {
        Value::Array(items) => {
            if items.len() != n {
                return Err(Error::LengthMismatch {
                    path: field.path.clone(),
                    expected: n,
                    found: items.len(),
                });
            }
            field.items()
        }
        _ => Ok(vec![field.clone(); n]),
    }
}

fn parse_layer_array(a: &Field, ctx: &mut ParseCtx) -> Result<LayerArrayConfig> {
    a.object()?;
    let channels = a.req("channels")?.usize_in(1, MAX_CHANNELS)?;
    let input_size = a.req("input_size")?.usize_in(1, MAX_CHANNELS)?;
    let condition_size = a.usize_or("condition_size", 1, 1, MAX_CHANNELS)?;
    let bottleneck = a.usize_or("bottleneck", channels, 1, MAX_CHANNELS)?;

    let dil_field = a.req("dilations")?;
    let dil_items = dil_field.items()?;
    if dil_items.is_empty() || dil_items.len() > MAX_LAYERS {
        return Err(Error::CountOutOfRange {
            path: dil_field.path.clone(),
            found: dil_items.len(),
            min: 1,
            max: MAX_LAYERS,
        });
    }
    let n = dil_items.len();
    let dilations = dil_items
        .iter()
        .map(|d| d.usize_in(1, MAX_DILATION))
        .collect::<Result<Vec<_>>>()?;

    let kernel_sizes = match (a.opt("kernel_sizes")?, a.opt("kernel_size")?) {
        (Some(ks), _) => per_layer(&ks, n)?,
        (None, Some(k)) => per_layer(&k, n)?,
        (None, None) => {
            return Err(Error::MissingField {
                path: a.path_of("kernel_size"),
            })
        }
    }
    .iter()
    .map(|k| k.usize_in(1, MAX_KERNEL_SIZE))
    .collect::<Result<Vec<_>>>()?;

    // The primary activation acts on the bottleneck's width (the top half when paired).
    let activations = per_layer(&a.req("activation")?, n)?
        .iter()
        .map(|f| Activation::parse(f, bottleneck))
        .collect::<Result<Vec<_>>>()?;
    let gatings = parse_gating(a, n, bottleneck)?;

    let (head_size, head_bias, head_kernel_size, head_dilation) = match a.opt("head")? {
        Some(head) => {
            head.object()?;
            (
                head.req("out_channels")?.usize_in(1, MAX_CHANNELS)?,
                head.bool_or("bias", false)?,
                head.usize_or("kernel_size", 1, 1, MAX_KERNEL_SIZE)?,
                head.usize_or("head_dilation", 1, 1, MAX_DILATION)?,
            )
        }
        None => (
            a.req("head_size")?.usize_in(1, MAX_CHANNELS)?,
            a.bool_or("head_bias", false)?,
            1,
            1,
        ),
    };

    let layer1x1 = match a.opt("layer1x1")? {
        Some(l) => l
            .bool_or("active", true)?
            .then(|| l.usize_or("groups", 1, 1, MAX_CHANNELS))
            .transpose()?,
        None => Some(1),
    };
    let head1x1 = match a.opt("head1x1")? {
        Some(h) if h.bool_or("active", false)? => Some(Head1x1Config {
            out_channels: h.req("out_channels")?.usize_in(1, MAX_CHANNELS)?,
            groups: h.usize_or("groups", 1, 1, MAX_CHANNELS)?,
        }),
        _ => None,
    };
    let groups_input = a.usize_or("groups_input", 1, 1, MAX_CHANNELS)?;
    let groups_input_mixin = a.usize_or("groups_input_mixin", 1, 1, MAX_CHANNELS)?;
    let mut film = [None; 8];
    for slot in FilmSlot::ALL {
        film[slot as usize] = parse_film(a, slot)?;
    }
    let slimmable = parse_slimmable(a, channels, ctx)?;

    let layers: Vec<LayerConfig> = (0..n)
        .map(|i| LayerConfig {
            kernel_size: kernel_sizes[i],
            dilation: dilations[i],
            activation: activations[i].clone(),
            gating: gatings[i].clone(),
        })
        .collect();
    let cfg = LayerArrayConfig {
        input_size,
        condition_size,
        channels,
        bottleneck,
        head_size,
        head_bias,
        head_kernel_size,
        head_dilation,
        layers,
        layer1x1,
        head1x1,
        groups_input,
        groups_input_mixin,
        film,
        slimmable,
    };
    check_array(a, &cfg)?;
    Ok(cfg)
}

/// Legacy `gated: bool`, or 0.7.0 `gating_mode` (+ `secondary_activation`), each a scalar
/// for all layers or one entry per layer. A missing secondary is a Sigmoid.
fn parse_gating(a: &Field, n: usize, width: usize) -> Result<Vec<Gating>> {
    let Some(modes) = a.opt("gating_mode")? else {
        let gated = a.bool_or("gated", false)?;
        return Ok(vec![
            if gated {
                Gating::Gated(Activation::Sigmoid)
            } else {
                Gating::None
            };
            n
        ]);
    };
    let modes = per_layer(&modes, n)?;
    let secondaries = match a.opt("secondary_activation")? {
        Some(s) => per_layer(&s, n)?.into_iter().map(Some).collect(),
        None => vec![None; n],
    };
    modes
        .iter()
        .zip(secondaries)
        .map(|(m, sec)| {
            let secondary = || -> Result<Activation> {
                match &sec {
                    // Files write `null` (and hand-made ones "") for "the default".
                    Some(s) if !s.value.is_null() && s.value.as_str() != Some("") => {
                        Activation::parse(s, width)
                    }
                    _ => Ok(Activation::Sigmoid),
                }
            };
            match m.str()? {
                "none" => Ok(Gating::None),
                "gated" => Ok(Gating::Gated(secondary()?)),
                "blended" => Ok(Gating::Blended(secondary()?)),
                other => Err(Error::UnknownValue {
                    path: m.path.clone(),
                    value: other.to_string(),
                    expected: "none, gated, blended",
                }),
            }
        })
        .collect()
}

/// A FiLM slot: absent, `null` or `false` is off; an object is on unless it says
/// `"active": false` (NeuralAmpModelerCore's reading; the trainer always writes `active`).
fn parse_film(a: &Field, slot: FilmSlot) -> Result<Option<FilmConfig>> {
    let Some(f) = a.opt(slot.key())? else {
        return Ok(None);
    };
    match f.value {
        Value::Bool(false) => Ok(None),
        Value::Object(_) if !f.bool_or("active", true)? => Ok(None),
        Value::Object(_) => Ok(Some(FilmConfig {
            shift: f.bool_or("shift", true)?,
            groups: f.usize_or("groups", 1, 1, MAX_CHANNELS)?,
        })),
        _ => Err(f.wrong_type("a FiLM object {active, shift, groups}")),
    }
}

fn parse_slimmable(a: &Field, channels: usize, ctx: &mut ParseCtx) -> Result<Option<Vec<usize>>> {
    let Some(s) = a.opt("slimmable")? else {
        return Ok(None);
    };
    s.object()?;
    let method = s.req("method")?;
    if method.str()? != "slice_channels_uniform" {
        return Err(Error::UnknownValue {
            path: method.path.clone(),
            value: method.str()?.to_string(),
            expected: "slice_channels_uniform",
        });
    }
    let allowed = match s
        .opt("kwargs")?
        .map(|k| k.opt("allowed_channels"))
        .transpose()?
    {
        Some(Some(list)) => {
            let items = list.items()?;
            if items.is_empty() || items.len() > MAX_CHANNELS {
                return Err(Error::CountOutOfRange {
                    path: list.path.clone(),
                    found: items.len(),
                    min: 1,
                    max: MAX_CHANNELS,
                });
            }
            let v = items
                .iter()
                .map(|c| c.usize_in(1, channels))
                .collect::<Result<Vec<_>>>()?;
            if v.windows(2).any(|w| w[1] <= w[0]) || v[v.len() - 1] != channels {
                return Err(Error::Invalid {
                    path: list.path.clone(),
                    why: format!(
                        "allowed channel counts must be strictly ascending and end at the \
                         array's {channels} channels"
                    ),
                });
            }
            v
        }
        // The reference's default: every count from 1 to `channels`.
        _ => (1..=channels).collect(),
    };
    if ctx.depth > 0 {
        ctx.warnings.push(format!(
            "`{}`: a nested slimmable model runs at its full width",
            s.path
        ));
    }
    Ok(Some(allowed))
}

/// Every group count divides what it splits; FiLMs sit on parts that exist; the residual
/// can take the activation when the layer 1x1 is off; slopes match their channels.
fn check_array(a: &Field, c: &LayerArrayConfig) -> Result<()> {
    let groups = |key: &str, g: usize, channels: usize, what: &'static str| -> Result<()> {
        if !channels.is_multiple_of(g) {
            return Err(Error::Groups {
                path: a.path_of(key),
                groups: g,
                channels,
                what,
            });
        }
        Ok(())
    };
    groups(
        "groups_input",
        c.groups_input,
        c.channels,
        "the layer input's channels",
    )?;
    groups(
        "groups_input_mixin",
        c.groups_input_mixin,
        c.condition_size,
        "the condition's channels",
    )?;
    for l in &c.layers {
        let mid = l.mid(c.bottleneck);
        groups(
            "groups_input",
            c.groups_input,
            mid,
            "the dilated convolution's outputs",
        )?;
        groups(
            "groups_input_mixin",
            c.groups_input_mixin,
            mid,
            "the dilated convolution's outputs",
        )?;
    }
    match c.layer1x1 {
        Some(g) => {
            groups("layer1x1.groups", g, c.bottleneck, "the bottleneck")?;
            groups("layer1x1.groups", g, c.channels, "the channels")?;
        }
        None if c.bottleneck != c.channels => {
            return Err(Error::ShapeMismatch {
                path: a.path_of("bottleneck"),
                expected: c.channels,
                found: c.bottleneck,
                why: "with the layer 1x1 off, the activation itself joins the residual",
            })
        }
        None => {}
    }
    if let Some(h) = c.head1x1 {
        groups("head1x1.groups", h.groups, c.bottleneck, "the bottleneck")?;
        groups(
            "head1x1.groups",
            h.groups,
            h.out_channels,
            "the head 1x1's outputs",
        )?;
    }
    for slot in FilmSlot::ALL {
        let Some(f) = c.film(slot) else { continue };
        let needs = match slot {
            FilmSlot::Layer1x1Post => c.layer1x1.is_none().then_some("the layer 1x1"),
            FilmSlot::Head1x1Post => c.head1x1.is_none().then_some("the head 1x1"),
            _ => None,
        };
        if let Some(part) = needs {
            return Err(Error::Invalid {
                path: a.path_of(slot.key()),
                why: format!("this FiLM modulates {part}, which is off"),
            });
        }
        let key = format!("{}.groups", slot.key());
        groups(&key, f.groups, c.condition_size, "the condition's channels")?;
        for l in &c.layers {
            let out = if f.shift { 2 } else { 1 } * c.film_width(slot, l);
            groups(&key, f.groups, out, "the FiLM's scale and shift outputs")?;
        }
    }
    Ok(())
}

fn parse_post_head(h: &Field, in_channels: usize) -> Result<PostHeadConfig> {
    h.object()?;
    if let Some(f) = h.opt("in_channels")? {
        let stated = f.usize_in(1, MAX_CHANNELS)?;
        if stated != in_channels {
            return Err(Error::ShapeMismatch {
                path: f.path.clone(),
                expected: in_channels,
                found: stated,
                why: "the post-stack head takes the last array's head output",
            });
        }
    }
    let channels = h.req("channels")?.usize_in(1, MAX_CHANNELS)?;
    let out_channels = h.req("out_channels")?.usize_in(1, MAX_CHANNELS)?;
    let ks_field = h.req("kernel_sizes")?;
    let ks = ks_field.items()?;
    if ks.is_empty() || ks.len() > MAX_LAYERS {
        return Err(Error::CountOutOfRange {
            path: ks_field.path.clone(),
            found: ks.len(),
            min: 1,
            max: MAX_LAYERS,
        });
    }
    let kernel_sizes = ks
        .iter()
        .map(|k| k.usize_in(1, MAX_KERNEL_SIZE))
        .collect::<Result<Vec<_>>>()?;
    // The activation runs before every conv: on the head's input, then on `channels`.
    let act_field = h.req("activation")?;
    let activation = Activation::parse(&act_field, in_channels)?;
    if let Activation::PReLU { negative_slopes } = &activation {
        if negative_slopes.len() > 1 && kernel_sizes.len() > 1 && channels != in_channels {
            return Err(Error::Invalid {
                path: act_field.path.clone(),
                why: format!(
                    "per-channel slopes cannot fit both the head's {in_channels} input \
                     channels and its {channels} inner channels"
                ),
            });
        }
    }
    Ok(PostHeadConfig {
        in_channels,
        channels,
        out_channels,
        kernel_sizes,
        activation,
    })
}
