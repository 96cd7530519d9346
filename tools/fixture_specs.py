"""The parity fixtures tools/gen_fixtures.py writes: one dict per fixture, in generation
order, each with a fixed seed. Keys: name, arch, trainer ("0.12.3" writes the legacy
0.5.4 schema, "0.13.0" the 0.7.0 one), seed, description, and what to build:

* WaveNet: `preset`, `layers` (0.12.3 layer-array configs), `layers13` (0.13.0 init
  format, any knob), `weights_from` (import a twin's weights), `packed_submodel` (a
  submodel of the trainer's default packed config), `head`, `head_scale`,
  `condition_dsp` (the trainer's internal WaveNet config), `sizes` ("slim": a slimmable
  WaveNet checked at each of its size steps);
* LSTM: `lstm` (num_layers, hidden_size) or `lstm_preset`;
* ConvNet: `convnet` (channels, dilations, batchnorm, activation); Linear: `linear`
  (receptive_field, bias);
* SlimmableContainer: `submodels` = [(max_value, stage spec)]; Sequential: `stages` =
  [stage spec]; PackedWaveNet: the trainer's default export (a container).
"""

LSTM_PREWARM = 24000  # 0.5 s at 48 kHz, the engine's LSTM prewarm

D7 = [1, 2, 4, 8, 16, 32, 64]
D8 = [1, 2, 4, 8, 16, 32, 64, 128]


def la(inp, ch, head, dil, k=3, act="Tanh", gated=False, head_bias=False):
    """A legacy (0.12.3) layer-array config."""
    return {
        "input_size": inp,
        "condition_size": 1,
        "channels": ch,
        "head_size": head,
        "kernel_size": k,
        "dilations": list(dil),
        "activation": act,
        "gated": gated,
        "head_bias": head_bias,
    }


def la13(inp, ch, head_out, dil, k=3, act="Tanh", head_bias=False, head_k=1, **extra):
    """A 0.13.0 layer-array config (init format, as LayerArray.parse_config takes it)."""
    d = {
        "input_size": inp,
        "condition_size": 1,
        "channels": ch,
        "head": {"out_channels": head_out, "kernel_size": head_k, "bias": head_bias},
        "kernel_sizes": list(k) if isinstance(k, (list, tuple)) else [k] * len(dil),
        "dilations": list(dil),
        "activation": act,
    }
    d.update(extra)
    return d


PRESETS = ["standard", "lite", "feather", "nano"]
PRESET_WEIGHTS = {"standard": 13802, "lite": 6554, "feather": 3026, "nano": 842}
LSTM_PRESETS = {  # name: (num_layers, hidden_size), trainer 0.12.3 get_lstm_config
    "nano": (1, 12),
    "feather": (1, 16),
    "lite": (2, 8),
    "standard": (1, 24),
}

GATED = {"name": "PairMultiply", "primary": "Tanh", "secondary": "Sigmoid"}


def fixture_specs():
    """Every fixture, in generation order.  Seeds are fixed per fixture."""
    specs = []

    def add(**kw):
        kw.setdefault("autoscale", True)
        kw.setdefault("sample_rate", 48000)
        kw.setdefault("group", "main")
        specs.append(kw)

    # 1. WaveNet presets, both schemas, same weights.
    for i, p in enumerate(PRESETS):
        add(
            name=f"wavenet_{p}_v054",
            arch="WaveNet",
            trainer="0.12.3",
            seed=1000 + i,
            preset=p,
            description=f"WaveNet '{p}' preset (trainer 0.12.3 get_wavenet_config), "
            "legacy 0.5.4 schema.",
        )
    for i, p in enumerate(PRESETS):
        add(
            name=f"wavenet_{p}_v070",
            arch="WaveNet",
            trainer="0.13.0",
            seed=1000 + i,
            weights_from=f"wavenet_{p}_v054",
            description=f"WaveNet '{p}' preset written by trainer 0.13.0 (0.7.0 schema, "
            f"every A2 knob off); same weights as wavenet_{p}_v054, so same output.",
        )
    # 2. LSTM presets.
    lstm_desc = (
        " Weights: the trainer's seeded init, then weight_ih_l0 x6, input-gate bias +2 "
        "and forget-gate bias -1 on each of bias_ih/bias_hh, head weight x2 (so the "
        "output moves). Output contract: start from the file's initial h/c, run {pw} "
        "zeros, then input.f32; the last 8192 outputs are stored (trainer's torch "
        "LSTM loaded from the file with the trainer's import_weights)."
    ).format(pw=LSTM_PREWARM)
    for i, (p, (nl, hs)) in enumerate(LSTM_PRESETS.items()):
        add(
            name=f"lstm_{p}_v070",
            arch="LSTM",
            trainer="0.13.0",
            seed=2000 + i,
            lstm={"num_layers": nl, "hidden_size": hs},
            autoscale=False,
            description=f"LSTM '{p}' preset {nl}x{hs}, 0.7.0 schema (trainer 0.13.0)."
            + lstm_desc,
        )
    for i, (p, (nl, hs)) in enumerate(LSTM_PRESETS.items()):
        if p != "lite":
            continue
        add(
            name=f"lstm_{p}_v054",
            arch="LSTM",
            trainer="0.12.3",
            seed=2000 + i,
            lstm_preset=p,
            autoscale=False,
            description=f"LSTM '{p}' preset {nl}x{hs}, 0.5.4 schema (trainer 0.12.3); "
            f"same seed and weights as lstm_{p}_v070." + lstm_desc,
        )
    # 3. WaveNet variants, legacy schema.
    add(
        name="wavenet_gated_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3000,
        layers=[
            la(1, 6, 3, D7, gated=True),
            la(6, 3, 1, D8, gated=True, head_bias=True),
        ],
        description="gated=true (Tanh * Sigmoid), 6->3 / 3->1 channels, 0.5.4.",
    )
    add(
        name="wavenet_k2_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3001,
        sample_rate=48000.0,
        layers=[la(1, 5, 3, D8 + [256, 512], k=2), la(5, 3, 1, D8, k=2, head_bias=True)],
        description="kernel_size 2; sample_rate written as the float 48000.0, 0.5.4.",
    )
    add(
        name="wavenet_k5_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3002,
        layers=[la(1, 4, 2, D7, k=5), la(4, 2, 1, [1, 3, 9, 27, 81], k=5, head_bias=True)],
        description="kernel_size 5, 0.5.4.",
    )
    # One activation per layer array (the legacy schema allows one per array).
    act_pairs = [
        ("ReLU", False, "LeakyReLU", False),
        ("Sigmoid", False, "Hardtanh", False),
        ("SiLU", False, "Softsign", False),
        ("Hardswish", False, "ReLU", True),
    ]
    for j, (a1, g1, a2, g2) in enumerate(act_pairs):
        n2 = ("gated" if g2 else "") + a2.lower()
        add(
            name=f"wavenet_{a1.lower()}_{n2}_v054",
            arch="WaveNet",
            trainer="0.12.3",
            seed=3010 + j,
            layers=[
                la(1, 4, 2, D7, act=a1, gated=g1),
                la(4, 2, 1, D7, act=a2, gated=g2, head_bias=True),
            ],
            description=f"array 1 activation {a1}, array 2 activation {a2}"
            + (" gated (ReLU(top) * Sigmoid(bottom))" if g2 else "")
            + " (torch.nn defaults: LeakyReLU slope 0.01, Hardtanh -1..1), 0.5.4.",
        )
    add(
        name="wavenet_custom_20x8_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3020,
        layers=[la(1, 20, 8, [1, 32]), la(20, 8, 1, [1, 2, 4, 8, 16, 32], head_bias=True)],
        description="custom widths: array 1 has 20 channels, head 8; array 2 has 8 "
        "channels, head 1 (as in real captures), 0.5.4.",
    )
    add(
        name="wavenet_three_arrays_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3021,
        sample_rate=None,
        layers=[
            la(1, 6, 4, [1, 2, 4, 8, 16], head_bias=True),
            la(6, 4, 3, [32, 64, 128, 256]),
            la(4, 3, 1, [1, 3, 9, 27, 81], head_bias=True),
        ],
        description="three layer arrays (6->4, 4->3, 3->1; head_bias true/false/true); "
        "sample_rate written as null (means 48000), 0.5.4.",
    )
    add(
        name="wavenet_sr44100_v054",
        arch="WaveNet",
        trainer="0.12.3",
        seed=3022,
        sample_rate=44100,
        layers=[la(1, 4, 2, D7), la(4, 2, 1, [128, 256, 512] + D7, head_bias=True)],
        description="sample_rate 44100 (nano-like widths), 0.5.4.",
    )
    # WaveNet variants, 0.7.0 schema (trainer 0.13.0).
    add(
        name="wavenet_gated_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=3000,
        weights_from="wavenet_gated_v054",
        description="gating_mode 'gated' (Tanh primary, Sigmoid secondary) in the 0.7.0 "
        "schema; same weights as wavenet_gated_v054, so same output.",
    )
    add(
        name="wavenet_leakyrelu02_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=3100,
        layers13=[
            la13(1, 4, 2, D7, act={"name": "LeakyReLU", "negative_slope": 0.2}),
            la13(4, 2, 1, D7, act={"name": "LeakyReLU", "negative_slope": 0.2}, head_bias=True),
        ],
        description="LeakyReLU with negative_slope 0.2 written as an activation object, "
        "0.7.0.",
    )
    add(
        name="wavenet_kernels_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=3101,
        layers13=[
            la13(1, 4, 3, D7, k=[3, 2, 5, 1, 4, 3, 2]),
            la13(4, 3, 1, [1, 3, 9, 27, 81, 2], k=[2, 6, 3, 4, 2, 7], head_bias=True),
        ],
        description="per-layer kernel_sizes (1..7, one layer with K=1), 0.7.0.",
    )
    mixed = [
        "Tanh",
        "ReLU",
        {"name": "LeakyReLU", "negative_slope": 0.05},
        "PReLU",  # one slope, set below
        {"name": "PReLU", "num_parameters": 4},  # per-channel slopes, set below
        "Sigmoid",
        "SiLU",
        "Hardswish",
        "Softsign",
        {
            "name": "LeakyHardtanh",
            "min_val": -0.75,
            "max_val": 0.5,
            "min_slope": 0.0625,
            "max_slope": 0.125,
        },
        "Hardtanh",
    ]
    add(
        name="wavenet_mixed_act_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=3102,
        layers13=[
            la13(1, 4, 2, [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4], act=mixed),
            la13(4, 2, 1, D7, act="Softsign", head_bias=True),
        ],
        prelu={"0": {"3": [0.3], "4": [0.05, 0.15, 0.35, 0.6]}},
        description="one activation per layer: Tanh, ReLU, LeakyReLU(0.05), PReLU (one "
        "'negative_slope' 0.3), PReLU ('negative_slopes' per channel), Sigmoid, SiLU, "
        "Hardswish, Softsign, LeakyHardtanh(-0.75, 0.5, 0.0625, 0.125), Hardtanh "
        "(written with min_val/max_val); second array Softsign, 0.7.0.",
    )
    add(
        name="wavenet_mixed_gating_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=3103,
        layers13=[
            la13(
                1,
                4,
                3,
                D7,
                act=[
                    "Tanh",
                    GATED,
                    {"name": "PairMultiply", "primary": "ReLU", "secondary": "Sigmoid"},
                    "Softsign",
                    {"name": "PairMultiply", "primary": "Tanh", "secondary": "Hardtanh"},
                    GATED,
                    "Tanh",
                ],
            ),
            la13(4, 3, 1, D7, act=GATED, head_bias=True),
        ],
        description="gating_mode per layer: none/gated mixed within an array (gated "
        "Tanh*Sigmoid, ReLU*Sigmoid, Tanh*Hardtanh), 0.7.0.",
    )
    # A2 knobs (trainer 0.13.0) -> a2/, kept out of the main manifest.
    add(
        group="a2",
        name="a2_blended_head1x1_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=4000,
        layers13=[
            la13(
                1,
                4,
                2,
                D7,
                act={"name": "PairBlend", "primary": "Tanh", "secondary": "Sigmoid"},
            ),
            la13(
                4,
                2,
                1,
                D7,
                head_bias=True,
                layer_1x1_config={"active": False, "groups": 1},
                head_1x1_config={"active": True, "out_channels": 2, "groups": 2},
            ),
        ],
        description="array 1: gating_mode 'blended' (a=sigmoid(bottom); "
        "out=a*tanh(top)+(1-a)*top); array 2: layer1x1 inactive (the residual adds the "
        "activation itself) and head1x1 active 2->2 with groups 2.",
    )
    add(
        group="a2",
        name="a2_bottleneck_headk_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=4001,
        layers13=[
            la13(1, 6, 3, D7, bottleneck=3, head_k=4),
            la13(6, 4, 1, D7, bottleneck=3, head_k=3, head_bias=True),
        ],
        description="bottleneck (6 ch -> 3, 4 ch -> 3) and head rechannel kernel sizes "
        "4 and 3 (real convs over the head accumulator).",
    )
    film_on = {"active": True, "shift": True, "groups": 1}
    add(
        group="a2",
        name="a2_film_groups_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=4003,
        layers13=[
            la13(
                1,
                4,
                2,
                [1, 2, 4, 8, 16],
                groups_input=2,
                layer_1x1_config={"active": True, "groups": 2},
                head_1x1_config={"active": True, "out_channels": 2, "groups": 1},
                film_params={
                    "conv_pre_film": film_on,
                    "conv_post_film": {"active": True, "shift": False, "groups": 1},
                    "input_mixin_pre_film": film_on,
                    "input_mixin_post_film": film_on,
                    "activation_pre_film": {"active": True, "shift": False, "groups": 1},
                    "activation_post_film": film_on,
                    "layer1x1_post_film": film_on,
                    "head1x1_post_film": film_on,
                },
            ),
            la13(4, 2, 1, [1, 3, 9], head_bias=True),
        ],
        description="all eight FiLM slots active (shift true, and false on conv_post / "
        "activation_pre), groups_input 2, layer1x1 groups 2, head1x1 active.",
    )
    add(
        group="a2",
        name="a2_post_head_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=4004,
        autoscale=False,
        head_scale=0.5,
        layers13=[la13(1, 4, 2, D7), la13(4, 2, 2, D7, head_bias=True)],
        head={"channels": 3, "activation": "Tanh", "out_channels": 1, "kernel_sizes": [3, 2]},
        description="top-level post-stack head: head_scale first, then [Tanh, conv 2->3 "
        "K=3], [Tanh, conv 3->1 K=2].",
    )
    add(
        group="a2",
        name="a2_default_c3_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=4005,
        packed_submodel=0,
        description="the 0.13.0 trainer's default architecture (config_model_packed.json, "
        "submodel channels_3) as a standalone WaveNet: LeakyReLU, kernel sizes 6/15, "
        "dilations to 239, head kernel 16.",
    )
    # 0.7.0 features, one fixture per feature the engine runs since issue 12.
    blend = {"name": "PairBlend", "primary": "Tanh", "secondary": "Sigmoid"}
    film = lambda shift, groups=1: {"active": True, "shift": shift, "groups": groups}  # noqa: E731
    add(
        name="a2_everything_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=5000,
        layers13=[
            la13(
                1,
                6,
                4,
                [1, 2, 4, 8, 16],
                k=[3, 2, 4, 3, 2],
                act=[blend, GATED, {"name": "LeakyReLU", "negative_slope": 0.1},
                     {"name": "PairBlend", "primary": "ReLU", "secondary": "Hardswish"}, "SiLU"],
                bottleneck=4,
                head_k=3,
                head_bias=True,
                groups_input=2,
                layer_1x1_config={"active": True, "groups": 2},
                head_1x1_config={"active": True, "out_channels": 4, "groups": 2},
                film_params={
                    "conv_pre_film": film(True),
                    "conv_post_film": film(False),
                    "input_mixin_pre_film": film(True),
                    "input_mixin_post_film": film(True),
                    "activation_pre_film": film(False),
                    "activation_post_film": film(True),
                    "layer1x1_post_film": film(True),
                    "head1x1_post_film": film(False),
                },
            ),
            la13(
                6,
                4,
                2,
                [32, 1, 3],
                k=[2, 3, 2],
                act=["Softsign", blend, "Tanh"],
                head_k=2,
                layer_1x1_config={"active": False, "groups": 1},
            ),
        ],
        head={"channels": 3, "activation": "Tanh", "out_channels": 1, "kernel_sizes": [2, 3]},
        description="every A2 knob in one model: blended (Tanh/Sigmoid and ReLU/Hardswish), "
        "gated and plain layers, bottleneck 4 of 6 channels, groups_input 2, grouped layer "
        "and head 1x1s, all eight FiLM slots (with and without shift), head kernels 3 and 2, "
        "a second array without layer 1x1, and a post-stack head.",
    )
    add(
        name="wavenet_condition_dsp_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=5001,
        layers13=[
            la13(
                1,
                3,
                2,
                D7,
                condition_size=3,
                groups_input_mixin=3,
                film_params={
                    "conv_pre_film": film(True, 3),
                    "input_mixin_pre_film": film(True, 3),
                    "activation_post_film": film(False, 3),
                },
            ),
            la13(3, 2, 1, [1, 3, 9], condition_size=3, head_bias=True),
        ],
        condition_dsp={
            "name": "WaveNet",
            "config": {
                "layers_configs": [
                    la13(1, 4, 4, [1, 2, 4, 8]),
                    la13(4, 4, 3, [16, 32], head_bias=True, act="SiLU"),
                ],
                "head": None,
                "head_scale": 0.5,
            },
        },
        description="a condition DSP (a WaveNet with a 3-channel output) makes the condition "
        "of every layer: condition_size 3, groups_input_mixin 3, FiLMs with groups 3.",
    )
    add(
        name="wavenet_slimmable_v070",
        arch="WaveNet",
        trainer="0.13.0",
        seed=5002,
        sizes="slim",
        layers13=[
            la13(1, 6, 1, D7 + [128, 256], head_bias=True,
                 slimmable={"method": "slice_channels_uniform",
                            "kwargs": {"allowed_channels": [2, 4, 6]}}),
        ],
        description="slimmable WaveNet (slice_channels_uniform, allowed channels 2/4/6): "
        "the trainer's slimmed network at each of the three size steps.",
    )
    add(
        name="container_lstm_wavenets_v070",
        arch="SlimmableContainer",
        trainer="0.13.0",
        seed=5003,
        max_values=[0.3, 0.7, 1.0],
        parts=[
            {"arch": "LSTM", "lstm": {"num_layers": 1, "hidden_size": 6}, "autoscale": False},
            {"arch": "WaveNet", "layers13": [la13(1, 3, 2, D7), la13(3, 2, 1, D7, head_bias=True)]},
            {"arch": "WaveNet", "layers13": [la13(1, 6, 3, D8), la13(6, 3, 1, D8, head_bias=True)]},
        ],
        description="SlimmableContainer (max_value 0.3 / 0.7 / 1.0) of an LSTM 1x6 and two "
        "WaveNets (3->2->1 and 6->3->1 channels), assembled from trainer exports; checked at "
        "each size (the submodel's own contract).",
    )
    add(
        name="container_packed_default_v070",
        arch="PackedWaveNet",
        trainer="0.13.0",
        seed=5004,
        description="the 0.13.0 trainer's default export: its PackedWaveNet "
        "(config_model_packed.json, 3 and 8 channels) written by the trainer as a "
        "SlimmableContainer; checked at each size.",
    )
    add(
        name="sequential_wavenet_lstm_v070",
        arch="Sequential",
        trainer="0.13.0",
        seed=5005,
        parts=[
            {"arch": "WaveNet", "layers13": [la13(1, 4, 2, D7), la13(4, 2, 1, [1, 3, 9], head_bias=True)]},
            {"arch": "LSTM", "lstm": {"num_layers": 1, "hidden_size": 5}, "autoscale": False},
        ],
        description="Sequential (weights_version 2, no top-level sample_rate) of a WaveNet "
        "and an LSTM; the trainer's Sequential on zeros(24000) ++ input (its stages loaded "
        "from their exports).",
    )
    add(
        name="convnet_batchnorm_v070",
        arch="ConvNet",
        trainer="0.13.0",
        seed=5006,
        convnet={"channels": 6, "dilations": [1, 2, 4, 8, 16, 32, 64, 128], "batchnorm": True,
                 "activation": "Tanh"},
        description="ConvNet, 6 channels, 8 blocks, batchnorm with seeded running statistics, "
        "Tanh.",
    )
    add(
        name="convnet_plain_v070",
        arch="ConvNet",
        trainer="0.13.0",
        seed=5007,
        convnet={"channels": 4, "dilations": [1, 2, 4, 8, 16, 32], "batchnorm": False,
                 "activation": "LeakyReLU"},
        description="ConvNet without batchnorm (conv biases), 4 channels, LeakyReLU.",
    )
    add(
        name="linear_v070",
        arch="Linear",
        trainer="0.13.0",
        seed=5008,
        linear={"receptive_field": 96, "bias": True},
        description="Linear: a 96-tap FIR with bias (the last tap on the current sample).",
    )
    return specs


