//! What a WaveNet file describes, in both schemas (0.5.x legacy keys and the 0.7.0 "A2"
//! knobs), and what follows from it: weight layout, receptive field, prewarm, cost.
//!
//! Per layer, in weight order: the dilated conv (`channels -> mid`, bias), the input
//! mixin (`condition -> mid`, no bias), the layer 1x1 (`bottleneck -> channels`, bias) if
//! active, the head 1x1 (`bottleneck -> head1x1.out_channels`, bias) if active, then each
//! active FiLM in [`FilmSlot`] order. Per array: the rechannel (`input -> channels`, no
//! bias) first, the head rechannel (`head_in -> head_size`, kernel `head_kernel_size`)
//! last. After the arrays: the post-stack head's convs, then `head_scale`.

use serde_json::{json, Value};

use crate::activation::Activation;
use crate::conv::ConvShape;
use crate::file::NamFile;

#[derive(Debug, Clone, PartialEq)]
pub struct WaveNetConfig {
    pub arrays: Vec<LayerArrayConfig>,
    /// As written in `config`; the engine uses the trailing weight, as the reference does.
    pub head_scale: f32,
    /// Input channels (the engine is mono: always 1).
    pub in_channels: usize,
    /// The 0.7.0 post-stack head, run on `head_scale` times the last array's head output.
    pub post_head: Option<PostHeadConfig>,
    /// A nested model whose output is the condition every layer sees (instead of the raw
    /// input). Its weights are its own.
    pub condition_dsp: Option<Box<NamFile>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerArrayConfig {
    pub input_size: usize,
    pub condition_size: usize,
    pub channels: usize,
    /// Width of the activation (`channels` unless the 0.7.0 `bottleneck` says otherwise).
    pub bottleneck: usize,
    /// The head rechannel: `head_in() -> head_size`, kernel and dilation, bias or not.
    pub head_size: usize,
    pub head_bias: bool,
    pub head_kernel_size: usize,
    pub head_dilation: usize,
    pub layers: Vec<LayerConfig>,
    /// `Some(groups)` when the layer 1x1 is active (always, in the legacy schema). Off, the
    /// activation itself is added to the residual.
    pub layer1x1: Option<usize>,
    /// When active, the head sees this 1x1 of the activation instead of the activation.
    pub head1x1: Option<Head1x1Config>,
    pub groups_input: usize,
    pub groups_input_mixin: usize,
    /// Indexed by [`FilmSlot`]; `None` = inactive.
    pub film: [Option<FilmConfig>; 8],
    /// `slice_channels_uniform`: the channel counts the array may be cut to, ascending,
    /// ending at `channels`.
    pub slimmable: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head1x1Config {
    pub out_channels: usize,
    pub groups: usize,
}

/// Feature-wise modulation: a 1x1 of the condition gives a scale (and a shift) per
/// channel: `x * scale + shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilmConfig {
    pub shift: bool,
    pub groups: usize,
}

/// The eight places a FiLM can sit in a layer, in weight order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilmSlot {
    ConvPre,
    ConvPost,
    InputMixinPre,
    InputMixinPost,
    ActivationPre,
    ActivationPost,
    Layer1x1Post,
    Head1x1Post,
}

impl FilmSlot {
    pub const ALL: [FilmSlot; 8] = [
        FilmSlot::ConvPre,
        FilmSlot::ConvPost,
        FilmSlot::InputMixinPre,
        FilmSlot::InputMixinPost,
        FilmSlot::ActivationPre,
        FilmSlot::ActivationPost,
        FilmSlot::Layer1x1Post,
        FilmSlot::Head1x1Post,
    ];

    /// The key in the file.
    pub fn key(self) -> &'static str {
        match self {
            FilmSlot::ConvPre => "conv_pre_film",
            FilmSlot::ConvPost => "conv_post_film",
            FilmSlot::InputMixinPre => "input_mixin_pre_film",
            FilmSlot::InputMixinPost => "input_mixin_post_film",
            FilmSlot::ActivationPre => "activation_pre_film",
            FilmSlot::ActivationPost => "activation_post_film",
            FilmSlot::Layer1x1Post => "layer1x1_post_film",
            FilmSlot::Head1x1Post => "head1x1_post_film",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerConfig {
    pub kernel_size: usize,
    pub dilation: usize,
    pub activation: Activation,
    pub gating: Gating,
}

/// How the dilated conv's output becomes the activation.
#[derive(Debug, Clone, PartialEq)]
pub enum Gating {
    /// `act(z)`.
    None,
    /// `act(top) * secondary(bottom)`: z is twice the bottleneck wide.
    Gated(Activation),
    /// `a = secondary(bottom); a * act(top) + (1 - a) * top`.
    Blended(Activation),
}

impl Gating {
    pub fn name(&self) -> &'static str {
        match self {
            Gating::None => "none",
            Gating::Gated(_) => "gated",
            Gating::Blended(_) => "blended",
        }
    }

    pub fn secondary(&self) -> Option<&Activation> {
        match self {
            Gating::None => None,
            Gating::Gated(a) | Gating::Blended(a) => Some(a),
        }
    }
}

impl LayerConfig {
    /// Width of the dilated conv's output (`z`).
    pub fn mid(&self, bottleneck: usize) -> usize {
        match self.gating {
            Gating::None => bottleneck,
            _ => 2 * bottleneck,
        }
    }
}

/// The post-stack head: blocks of (activation, conv), the first on the last array's
/// (scaled) head output.
#[derive(Debug, Clone, PartialEq)]
pub struct PostHeadConfig {
    pub in_channels: usize,
    pub channels: usize,
    pub out_channels: usize,
    pub kernel_sizes: Vec<usize>,
    pub activation: Activation,
}

impl PostHeadConfig {
    pub fn convs(&self) -> Vec<ConvShape> {
        let n = self.kernel_sizes.len();
        self.kernel_sizes
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let cin = if i == 0 {
                    self.in_channels
                } else {
                    self.channels
                };
                let cout = if i + 1 == n {
                    self.out_channels
                } else {
                    self.channels
                };
                ConvShape::new(cin, cout, k).bias(true)
            })
            .collect()
    }
}

impl LayerArrayConfig {
    /// What the head accumulator holds: the head 1x1's outputs, or the activation.
    pub fn head_in(&self) -> usize {
        self.head1x1.map_or(self.bottleneck, |h| h.out_channels)
    }

    pub fn film(&self, slot: FilmSlot) -> Option<FilmConfig> {
        self.film[slot as usize]
    }

    /// Channels a FiLM in `slot` of `layer` modulates.
    pub fn film_width(&self, slot: FilmSlot, layer: &LayerConfig) -> usize {
        let mid = layer.mid(self.bottleneck);
        match slot {
            FilmSlot::ConvPre | FilmSlot::Layer1x1Post => self.channels,
            FilmSlot::InputMixinPre => self.condition_size,
            FilmSlot::ConvPost | FilmSlot::InputMixinPost | FilmSlot::ActivationPre => mid,
            FilmSlot::ActivationPost => self.bottleneck,
            FilmSlot::Head1x1Post => self.head_in(),
        }
    }

    pub fn rechannel(&self) -> ConvShape {
        ConvShape::new(self.input_size, self.channels, 1)
    }

    pub fn layer_conv(&self, l: &LayerConfig) -> ConvShape {
        ConvShape::new(self.channels, l.mid(self.bottleneck), l.kernel_size)
            .dilation(l.dilation)
            .groups(self.groups_input)
            .bias(true)
    }

    pub fn mixin(&self, l: &LayerConfig) -> ConvShape {
        ConvShape::new(self.condition_size, l.mid(self.bottleneck), 1)
            .groups(self.groups_input_mixin)
    }

    pub fn layer1x1_conv(&self) -> Option<ConvShape> {
        self.layer1x1.map(|g| {
            ConvShape::new(self.bottleneck, self.channels, 1)
                .groups(g)
                .bias(true)
        })
    }

    pub fn head1x1_conv(&self) -> Option<ConvShape> {
        self.head1x1.map(|h| {
            ConvShape::new(self.bottleneck, h.out_channels, 1)
                .groups(h.groups)
                .bias(true)
        })
    }

    /// The FiLM's projection of the condition: `(shift ? 2 : 1) * width` outputs.
    pub fn film_conv(&self, slot: FilmSlot, l: &LayerConfig) -> Option<ConvShape> {
        self.film(slot).map(|f| {
            let width = self.film_width(slot, l);
            ConvShape::new(self.condition_size, if f.shift { 2 } else { 1 } * width, 1)
                .groups(f.groups)
                .bias(true)
        })
    }

    pub fn head_conv(&self) -> ConvShape {
        ConvShape::new(self.head_in(), self.head_size, self.head_kernel_size)
            .dilation(self.head_dilation)
            .bias(self.head_bias)
    }

    /// Every conv of a layer, in weight order, with the FiLM slot it belongs to, if any.
    pub fn layer_convs(&self, l: &LayerConfig) -> Vec<ConvShape> {
        let mut v = vec![self.layer_conv(l), self.mixin(l)];
        v.extend(self.layer1x1_conv());
        v.extend(self.head1x1_conv());
        v.extend(FilmSlot::ALL.iter().filter_map(|&s| self.film_conv(s, l)));
        v
    }

    pub fn weight_count(&self) -> usize {
        self.rechannel().weights()
            + self
                .layers
                .iter()
                .flat_map(|l| self.layer_convs(l))
                .map(|c| c.weights())
                .sum::<usize>()
            + self.head_conv().weights()
    }

    /// Multiply-adds per sample: every conv, plus one per FiLM-modulated channel.
    pub fn macs(&self) -> usize {
        let films: usize = self
            .layers
            .iter()
            .map(|l| {
                FilmSlot::ALL
                    .iter()
                    .filter(|&&s| self.film(s).is_some())
                    .map(|&s| self.film_width(s, l))
                    .sum::<usize>()
            })
            .sum();
        self.rechannel().macs()
            + self
                .layers
                .iter()
                .flat_map(|l| self.layer_convs(l))
                .map(|c| c.macs())
                .sum::<usize>()
            + films
            + self.head_conv().macs()
    }

    /// Samples of history this array adds: its layers' and its head rechannel's.
    pub fn history(&self) -> usize {
        self.layers
            .iter()
            .map(|l| (l.kernel_size - 1) * l.dilation)
            .sum::<usize>()
            + self.head_conv().history()
    }

    fn summary(&self) -> String {
        let mut kernels: Vec<String> = Vec::new();
        let mut acts: Vec<String> = Vec::new();
        for l in &self.layers {
            let k = l.kernel_size.to_string();
            if !kernels.contains(&k) {
                kernels.push(k);
            }
            let a = l.activation.label();
            if !acts.contains(&a) {
                acts.push(a);
            }
        }
        let mut extra = String::new();
        for mode in ["gated", "blended"] {
            if self.layers.iter().any(|l| l.gating.name() == mode) {
                extra += &format!(", {mode}");
            }
        }
        if self.bottleneck != self.channels {
            extra += &format!(", bottleneck {}", self.bottleneck);
        }
        if self.layer1x1.is_none() {
            extra += ", no layer 1x1";
        }
        if let Some(h) = self.head1x1 {
            extra += &format!(", head 1x1 to {}", h.out_channels);
        }
        let grouped = self.groups_input > 1
            || self.groups_input_mixin > 1
            || self.layer1x1.is_some_and(|g| g > 1)
            || self.head1x1.is_some_and(|h| h.groups > 1)
            || self.film.iter().flatten().any(|f| f.groups > 1);
        if grouped {
            extra += ", grouped";
        }
        let films = self.film.iter().filter(|f| f.is_some()).count();
        if films > 0 {
            extra += &format!(", FiLM x{films}");
        }
        if self.head_kernel_size > 1 {
            extra += &format!(", head kernel {}", self.head_kernel_size);
        }
        if let Some(allowed) = &self.slimmable {
            let a: Vec<String> = allowed.iter().map(|c| c.to_string()).collect();
            extra += &format!(", slimmable to {} channels", a.join("/"));
        }
        format!(
            "{}->{} ({} layers, kernel {}, {}{extra})",
            self.channels,
            self.head_size,
            self.layers.len(),
            kernels.join("/"),
            acts.join("/"),
        )
    }

    fn to_json(&self) -> Value {
        let film: serde_json::Map<String, Value> = FilmSlot::ALL
            .iter()
            .filter_map(|&s| {
                self.film(s).map(|f| {
                    (
                        s.key().to_string(),
                        json!({"shift": f.shift, "groups": f.groups}),
                    )
                })
            })
            .collect();
        json!({
            "input_size": self.input_size,
            "condition_size": self.condition_size,
            "channels": self.channels,
            "bottleneck": self.bottleneck,
            "head_size": self.head_size,
            "head_bias": self.head_bias,
            "head_kernel_size": self.head_kernel_size,
            "head_dilation": self.head_dilation,
            "kernel_sizes": self.layers.iter().map(|l| l.kernel_size).collect::<Vec<_>>(),
            "dilations": self.layers.iter().map(|l| l.dilation).collect::<Vec<_>>(),
            "activations": self.layers.iter().map(|l| l.activation.name()).collect::<Vec<_>>(),
            "activation_configs": self.layers.iter().map(|l| l.activation.to_json()).collect::<Vec<_>>(),
            "gating": self.layers.iter().map(|l| l.gating.name()).collect::<Vec<_>>(),
            "gated": self.layers.iter().map(|l| matches!(l.gating, Gating::Gated(_))).collect::<Vec<_>>(),
            "secondary_activations": self.layers.iter()
                .map(|l| l.gating.secondary().map_or(Value::Null, Activation::to_json))
                .collect::<Vec<_>>(),
            "layer1x1": {"active": self.layer1x1.is_some(), "groups": self.layer1x1.unwrap_or(1)},
            "head1x1": self.head1x1.map_or(json!({"active": false}),
                |h| json!({"active": true, "out_channels": h.out_channels, "groups": h.groups})),
            "groups_input": self.groups_input,
            "groups_input_mixin": self.groups_input_mixin,
            "film": film,
            "slimmable": self.slimmable.as_ref().map(|a| json!({"allowed_channels": a})),
        })
    }
}

impl WaveNetConfig {
    /// Channels of the model's output (1 for a playable model; a condition DSP may have
    /// more).
    pub fn out_channels(&self) -> usize {
        match &self.post_head {
            Some(h) => h.out_channels,
            None => self.arrays.last().map_or(1, |a| a.head_size),
        }
    }

    /// Receptive field of the network itself, without the condition DSP.
    pub fn main_receptive_field(&self) -> usize {
        1 + self
            .arrays
            .iter()
            .map(LayerArrayConfig::history)
            .sum::<usize>()
            + self
                .post_head
                .as_ref()
                .map_or(0, |h| h.kernel_sizes.iter().map(|k| k - 1).sum::<usize>())
    }

    /// `1 + sum (K - 1) * d` over every layer and head conv, plus the condition DSP's.
    pub fn receptive_field(&self) -> usize {
        self.main_receptive_field()
            + self
                .condition_dsp
                .as_ref()
                .map_or(0, |c| c.receptive_field() - 1)
    }

    /// As the reference: the condition DSP's prewarm (or 1) plus the network's history.
    pub fn prewarm_samples(&self) -> usize {
        match &self.condition_dsp {
            Some(c) => c.prewarm_samples() + self.main_receptive_field() - 1,
            None => self.main_receptive_field(),
        }
    }

    /// Weights this model itself carries (a condition DSP carries its own).
    pub fn weight_count(&self) -> usize {
        self.arrays
            .iter()
            .map(LayerArrayConfig::weight_count)
            .sum::<usize>()
            + self
                .post_head
                .as_ref()
                .map_or(0, |h| h.convs().iter().map(ConvShape::weights).sum())
            + 1
    }

    pub fn macs(&self) -> u64 {
        let own = self
            .arrays
            .iter()
            .map(LayerArrayConfig::macs)
            .sum::<usize>()
            + self
                .post_head
                .as_ref()
                .map_or(0, |h| h.convs().iter().map(ConvShape::macs).sum());
        own as u64
            + self
                .condition_dsp
                .as_ref()
                .map_or(0, |c| c.macs_per_sample())
    }

    pub fn is_slimmable(&self) -> bool {
        self.arrays.iter().any(|a| a.slimmable.is_some())
    }

    pub fn summary(&self) -> String {
        let arrays: Vec<String> = self.arrays.iter().map(LayerArrayConfig::summary).collect();
        let mut s = format!("WaveNet {}", arrays.join(", "));
        if let Some(h) = &self.post_head {
            let ks: Vec<String> = h.kernel_sizes.iter().map(|k| k.to_string()).collect();
            s += &format!(
                "; post-stack head {}->{}->{} (kernel {}, {})",
                h.in_channels,
                h.channels,
                h.out_channels,
                ks.join("/"),
                h.activation.label()
            );
        }
        if let Some(c) = &self.condition_dsp {
            s += &format!("; condition DSP: {}", c.summary());
        }
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": "WaveNet",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels(),
            "head_scale": self.head_scale,
            "arrays": self.arrays.iter().map(LayerArrayConfig::to_json).collect::<Vec<_>>(),
            "post_head": self.post_head.as_ref().map(|h| json!({
                "in_channels": h.in_channels,
                "channels": h.channels,
                "out_channels": h.out_channels,
                "kernel_sizes": h.kernel_sizes,
                "activation": h.activation.to_json(),
            })),
            "condition_dsp": self.condition_dsp.as_ref().map(|c| c.architecture_json()),
        })
    }
}
