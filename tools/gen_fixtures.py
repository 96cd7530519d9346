#!/usr/bin/env python3
"""Generate Tubeless' parity fixtures with the official NAM trainer.

Writes into crates/nam/tests/fixtures/ (or --out):

* ``input.f32``          8192 samples of raw little-endian float32, deterministic.
* ``NAME.nam``           the model file exactly as the trainer's exporter writes it
                         (``Exportable.export``), seeded random weights.
* ``NAME.out.f32``       the trainer's own PyTorch forward pass on input.f32 (float32).
                         WaveNet: ``model(x)`` with its default start padding (RF-1
                         zeros in front).  LSTM: see the "LSTM contract" below.
* ``NAME.fast.f32``      an independent NumPy re-implementation read from the .nam JSON
                         only, with every tanh replaced by the plugin's fast_tanh (and,
                         for LSTM, every sigmoid by 0.5*(fast_tanh(x/2)+1)).
* ``manifest.json``      one object per fixture (A2 files go to a2/ and a2/manifest.json).

The NumPy reference works in float64 on the float32 weights and the float32 input and
its result is rounded to float32 once at the end.  Before a fast reference is trusted,
the same code with the exact tanh/sigmoid is compared with NAME.out.f32 (printed).

LSTM contract: the engine loads h/c from the file, runs 24000 samples (0.5 s at 48 kHz)
of zeros, then the input.  NAME.out.f32 is made by loading the .nam with the trainer's
own loader (``import_weights``: the file's initial h/c become the module's initial
state, the summed bias goes to ``bias_ih``), running the trainer's forward on
``zeros(24000) ++ input`` and keeping the last 8192 samples.

Two trainer versions cannot live in one interpreter (both are the package ``nam``), so
this script runs itself as a worker subprocess once per trainer version:

* 0.12.3 (legacy writer, schema "0.5.4"): ``pip install --no-deps
  neural-amp-modeler==0.12.3 --target DIR`` and pass ``--nam-0123 DIR``.
* 0.13.0 (schema "0.7.0"): the normal installation in the running interpreter.

Usage:  python tools/gen_fixtures.py [--out crates/nam/tests/fixtures] [--nam-0123 /work/nam-0.12.3]
"""

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

N_SAMPLES = 8192
LSTM_PREWARM = 24000  # 0.5 s at 48 kHz, the engine's LSTM prewarm
# Applied to every LSTM fixture after the trainer's seeded init (see worker()).
LSTM_TWEAK = {
    "weight_ih_l0_scale": 6.0,
    "input_gate_bias_add": 2.0,  # on each of bias_ih and bias_hh
    "forget_gate_bias_add": -1.0,  # on each of bias_ih and bias_hh
    "head_weight_scale": 2.0,
}
INPUT_SEED = 20250601
FIXED_DATE = {"year": 2025, "month": 6, "day": 1, "hour": 12, "minute": 0, "second": 0}
MODELED_BY = "tubeless tools/gen_fixtures.py (seeded random weights, not a capture)"

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------
# The shared input signal
# ---------------------------------------------------------------------------------------


def make_input(n: int = N_SAMPLES, sr: float = 48000.0) -> np.ndarray:
    """Silence, an impulse, a plucked tone, a loud chirp to +-1.0, a noise burst at
    +-0.3, a quiet passage, a DC step and a silent tail."""
    rng = np.random.default_rng(INPUT_SEED)
    x = np.zeros(n, dtype=np.float64)
    # [0, 256): silence.  256: unit impulse, then its ring-out.
    x[256] = 1.0
    # [768, 2560): plucked-like tone, G3 with 8 decaying harmonics + a short noisy attack.
    s, e = 768, 2560
    t = np.arange(e - s) / sr
    tone = np.zeros(e - s)
    for k in range(1, 9):
        phase = rng.uniform(0.0, 2.0 * np.pi)
        tone += (0.7 ** (k - 1)) * np.sin(2 * np.pi * 196.0 * k * t + phase) * np.exp(
            -t * (6.0 + 5.0 * k)
        )
    tone[:48] += rng.uniform(-0.5, 0.5, 48) * np.linspace(1.0, 0.0, 48)
    x[s:e] = 0.8 * tone / np.max(np.abs(tone))
    # [2560, 4608): exponential chirp 40 Hz -> 12 kHz, rising envelope, peak exactly 1.0.
    s, e = 2560, 4608
    t = np.arange(e - s) / sr
    dur = (e - s) / sr
    f0, f1 = 40.0, 12000.0
    k = np.log(f1 / f0) / dur
    chirp = np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1.0) / k)
    chirp *= np.linspace(0.2, 1.0, e - s)
    x[s:e] = chirp / np.max(np.abs(chirp))
    # [4608, 5888): white noise burst, uniform in +-0.3.
    x[4608:5888] = rng.uniform(-0.3, 0.3, 5888 - 4608)
    # [5888, 7424): quiet passage: 0.01 sine at 440 Hz plus faint noise.
    s, e = 5888, 7424
    t = np.arange(e - s) / sr
    x[s:e] = 0.01 * np.sin(2 * np.pi * 440.0 * t) + 0.002 * rng.standard_normal(e - s)
    # [7424, 7680): DC step of 0.5.  [7680, 8192): silence.
    x[7424:7680] = 0.5
    return x.astype("<f4")


# ---------------------------------------------------------------------------------------
# Fixture specifications
# ---------------------------------------------------------------------------------------

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
    return specs


# ---------------------------------------------------------------------------------------
# Worker: runs inside one trainer version
# ---------------------------------------------------------------------------------------


def _dyadic(v: float, bits: int = 8) -> float:
    """Round to `bits` significant bits: exactly representable in float32."""
    m, e = math.frexp(v)
    return math.ldexp(round(m * (1 << bits)) / (1 << bits), e)


def _legacy_to_v013(lc: dict) -> dict:
    """A legacy (0.12.3) layer-array config -> the 0.13.0 init format, same weights."""
    act = lc["activation"]
    if lc["gated"]:
        act = {"name": "PairMultiply", "primary": act, "secondary": "Sigmoid"}
    return la13(
        lc["input_size"],
        lc["channels"],
        lc["head_size"],
        lc["dilations"],
        k=lc["kernel_size"],
        act=act,
        head_bias=lc["head_bias"],
    )


def worker(job_path: str) -> None:
    import torch

    import nam

    torch.set_num_threads(1)
    torch.manual_seed(0)
    with open(job_path) as fp:
        job = json.load(fp)
    version = nam.__version__
    assert version == job["trainer"], (version, job["trainer"])
    out_dir = Path(job["out_dir"])
    x_np = np.fromfile(job["input"], dtype="<f4")
    x = torch.from_numpy(x_np.astype(np.float32))

    from nam.models._from_nam import init_from_nam
    from nam.models.metadata import UserMetadata
    from nam.models.recurrent import LSTM
    from nam.models.wavenet import WaveNet

    results = {}
    for spec in job["specs"]:
        name = spec["name"]
        fdir = out_dir / spec["subdir"]
        fdir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(spec["seed"])
        info = {}
        if spec["arch"] == "WaveNet":
            hs = spec.get("head_scale", 0.02)
            if version == "0.12.3":
                if "preset" in spec:
                    from nam.train.core import Architecture, get_wavenet_config

                    cfg = get_wavenet_config(Architecture(spec["preset"]))
                    lcs, hs = cfg["layers_configs"], cfg["head_scale"]
                else:
                    lcs = spec["layers"]
                model = WaveNet(
                    layers_configs=copy.deepcopy(lcs),
                    head_config=None,
                    head_scale=hs,
                    sample_rate=spec["sample_rate"],
                )
            else:
                head = spec.get("head")
                if "weights_from" in spec:
                    with open(out_dir / spec["subdir"] / (spec["weights_from"] + ".nam")) as fp:
                        src = json.load(fp)
                    lcs = [_legacy_to_v013(lc) for lc in src["config"]["layers"]]
                    hs = src["config"]["head_scale"]
                    spec["sample_rate"] = src.get("sample_rate")
                elif "packed_submodel" in spec:
                    from importlib import resources

                    p = resources.files("nam").joinpath(
                        "train/_resources/config_model_packed.json"
                    )
                    sub = json.loads(p.read_text())["net"]["config"]["submodels"][
                        spec["packed_submodel"]
                    ]["config"]
                    lcs, hs = sub["layers_configs"], sub["head_scale"]
                    info["packed_submodel_config"] = sub
                else:
                    lcs = spec["layers13"]
                model = WaveNet.init_from_config(
                    {
                        "layers_configs": copy.deepcopy(lcs),
                        "head": copy.deepcopy(head),
                        "head_scale": hs,
                        "sample_rate": spec["sample_rate"],
                    }
                )
                if "weights_from" in spec:
                    model.import_weights(torch.Tensor(src["weights"]))
                for ai, layers in spec.get("prelu", {}).items():
                    for li, slopes in layers.items():
                        act = model._net._layer_arrays[int(ai)]._layers[int(li)]._activation
                        assert isinstance(act, torch.nn.PReLU)
                        act.weight.data = torch.tensor(slopes, dtype=torch.float32)
            model.eval()
            with torch.no_grad():
                y = model(x)
                peak = float(y.abs().max())
                if spec["autoscale"] and "weights_from" not in spec and not (
                    0.1 <= peak <= 1.5
                ):
                    hs = _dyadic(model._net._head_scale * 0.6 / peak)
                    model._net._head_scale = hs
                    y = model(x)
            info["head_scale"] = model._net._head_scale
            info["receptive_field"] = int(model.receptive_field)
        elif spec["arch"] == "LSTM":
            if version == "0.12.3" and "lstm_preset" in spec:
                from nam.train.core import Architecture, get_lstm_config

                lcfg = get_lstm_config(Architecture(spec["lstm_preset"]))
            else:
                lcfg = dict(spec["lstm"])
            info["lstm_kwargs"] = lcfg
            model = LSTM(sample_rate=spec["sample_rate"], **lcfg)
            # The trainer's init barely lets the input in (input gate bias -4, forget
            # +4, small input weights): the output would hardly move.  Make it respond.
            core, hs_, tw = model._core, model._core.hidden_size, LSTM_TWEAK
            with torch.no_grad():
                core.weight_ih_l0.mul_(tw["weight_ih_l0_scale"])
                for li in range(core.num_layers):
                    for bn in (f"bias_ih_l{li}", f"bias_hh_l{li}"):
                        b = getattr(core, bn)
                        b[:hs_] += tw["input_gate_bias_add"]
                        b[hs_ : 2 * hs_] += tw["forget_gate_bias_add"]
                model._head.weight.mul_(tw["head_weight_scale"])
            model.eval()
            info["receptive_field"] = int(model.receptive_field)
        else:
            raise ValueError(spec["arch"])

        model.export(
            fdir,
            basename=name,
            user_metadata=UserMetadata(name=name, modeled_by=MODELED_BY),
            other_metadata={"date": FIXED_DATE, "gen_seed": spec["seed"]},
        )
        with open(fdir / f"{name}.nam") as fp:
            d = json.load(fp)

        # Reload the written file with this trainer's own loader.
        try:
            reloaded = init_from_nam(d)
            reloaded.eval()
        except Exception as e:  # noqa: BLE001 (recorded in the report)
            reloaded = None
            info["reload_error"] = f"{type(e).__name__}: {e}"

        with torch.no_grad():
            if spec["arch"] == "LSTM":
                assert reloaded is not None
                # import_weights made the file's h/c the module's initial state:
                w = torch.Tensor(d["weights"])
                H, I = reloaded._core.hidden_size, reloaded._core.input_size
                i = 0
                for li in range(reloaded._core.num_layers):
                    i += 4 * H * ((I if li == 0 else H) + H) + 4 * H
                    assert torch.equal(reloaded._initial_hidden.data[li], w[i : i + H])
                    assert torch.equal(reloaded._initial_cell.data[li], w[i + H : i + 2 * H])
                    i += 2 * H
                # The exported h/c is the state after 48000 zeros from a ZERO state
                # (LSTM._get_initial_state), not the learned initial state:
                h, c = model._get_initial_state()
                shp = reloaded._initial_hidden.shape
                info["exported_state_minus_zero_start_burn_in"] = max(
                    float((h.reshape(shp) - reloaded._initial_hidden.data).abs().max()),
                    float((c.reshape(shp) - reloaded._initial_cell.data).abs().max()),
                )
                xl = torch.cat([torch.zeros(LSTM_PREWARM), x])
                y = reloaded(xl)[-len(x):]
            else:
                if reloaded is not None:
                    y2 = reloaded(x)
                    info["reload_maxdiff"] = float((y2 - y).abs().max())
        y_np = y.detach().cpu().numpy().astype("<f4")
        assert y_np.shape == (len(x_np),), y_np.shape
        y_np.tofile(fdir / f"{name}.out.f32")
        info["peak"] = float(np.abs(y_np).max())
        info["version"] = d["version"]
        info["sample_rate_in_file"] = d.get("sample_rate", "<absent>")
        info["torch"] = torch.__version__
        results[name] = info
        print(f"  [{version}] {name}: peak {info['peak']:.4f}", flush=True)
    with open(job["result"], "w") as fp:
        json.dump(results, fp, indent=1)


# ---------------------------------------------------------------------------------------
# Independent NumPy reference (reads the .nam JSON only)
# ---------------------------------------------------------------------------------------


def fast_tanh(x):
    ax = np.abs(x)
    x2 = x * x
    return (
        x
        * (2.45550750702956 + 2.45550750702956 * ax + (0.893229853513558 + 0.821226666969744 * ax) * x2)
        / (2.44506634652299 + (2.44506634652299 + x2) * np.abs(x + 0.814642734961073 * x * ax))
    )


def sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # exact, overflow-free


def activation_fn(a, fast: bool):
    """a: a name (legacy) or an object {"type": ..., params} (0.7.0)."""
    if isinstance(a, str):
        a = {"type": a}
    t = a["type"]
    if t == "Tanh":
        return fast_tanh if fast else np.tanh
    if t == "Fasttanh":
        return fast_tanh
    if t == "Hardtanh":
        lo, hi = a.get("min_val", -1.0), a.get("max_val", 1.0)
        return lambda x: np.clip(x, lo, hi)
    if t == "ReLU":
        return lambda x: np.maximum(x, 0.0)
    if t == "LeakyReLU":
        s = a.get("negative_slope", 0.01)
        return lambda x: np.where(x >= 0.0, x, s * x)
    if t == "PReLU":
        if "negative_slopes" in a:
            s = np.asarray(a["negative_slopes"], dtype=np.float64)[:, None]
        else:
            s = a.get("negative_slope", 0.25)
        return lambda x: np.where(x >= 0.0, x, s * x)
    if t == "Sigmoid":
        return sigmoid
    if t == "SiLU":
        return lambda x: x * sigmoid(x)
    if t == "Hardswish":
        return lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if t == "Softsign":
        return lambda x: x / (1.0 + np.abs(x))
    if t == "LeakyHardtanh":
        lo, hi = a.get("min_val", -1.0), a.get("max_val", 1.0)
        sl, sh = a.get("min_slope", 0.01), a.get("max_slope", 0.01)
        return lambda x: np.where(
            x < lo, (x - lo) * sl + lo, np.where(x > hi, (x - hi) * sh + hi, x)
        )
    raise NotImplementedError(f"activation {t}")


class Reader:
    def __init__(self, weights):
        self.w = np.asarray(weights, dtype=np.float32).astype(np.float64)
        self.i = 0

    def take(self, n):
        v = self.w[self.i : self.i + n]
        assert len(v) == n, "ran out of weights"
        self.i += n
        return v


class Conv:
    """Conv1d in PyTorch weight order: (out, in/groups, K) then bias (out)."""

    def __init__(self, r: Reader, cin, cout, k=1, dilation=1, groups=1, bias=True):
        assert cin % groups == 0 and cout % groups == 0
        self.cin, self.cout, self.k, self.d, self.g = cin, cout, k, dilation, groups
        self.w = r.take(cout * (cin // groups) * k).reshape(cout, cin // groups, k)
        self.b = r.take(cout) if bias else None

    def __call__(self, x):
        """Valid (no padding) causal conv; tap k multiplies x[t - d*(K-1-k)]."""
        L = x.shape[1] - (self.k - 1) * self.d
        assert L > 0
        y = np.zeros((self.cout, L))
        gi, go = self.cin // self.g, self.cout // self.g
        for g in range(self.g):
            xs = x[g * gi : (g + 1) * gi]
            for k in range(self.k):
                y[g * go : (g + 1) * go] += self.w[g * go : (g + 1) * go, :, k] @ xs[
                    :, k * self.d : k * self.d + L
                ]
        if self.b is not None:
            y += self.b[:, None]
        return y


FILM_SLOTS = (
    "conv_pre_film",
    "conv_post_film",
    "input_mixin_pre_film",
    "input_mixin_post_film",
    "activation_pre_film",
    "activation_post_film",
    "layer1x1_post_film",
    "head1x1_post_film",
)


class Film:
    def __init__(self, r, cond, dim, shift, groups):
        self.shift, self.dim = shift, dim
        self.conv = Conv(r, cond, (2 if shift else 1) * dim, 1, 1, groups, True)

    def __call__(self, x, c):
        L = min(x.shape[1], c.shape[1])
        x, c = x[:, -L:], c[:, -L:]
        f = self.conv(c)
        if self.shift:
            return x * f[: self.dim] + f[self.dim :]
        return x * f


def normalize_layer_array(lc: dict) -> dict:
    """Legacy (0.5.x) or 0.7.0 layer-array config -> one internal form."""
    n = len(lc["dilations"])
    if "head_size" in lc:  # legacy
        act = lc["activation"]
        return {
            "input_size": lc["input_size"],
            "condition_size": lc["condition_size"],
            "channels": lc["channels"],
            "bottleneck": lc["channels"],
            "kernel_sizes": [lc["kernel_size"]] * n,
            "dilations": lc["dilations"],
            "activation": [act] * n,
            "gating_mode": ["gated" if lc["gated"] else "none"] * n,
            "secondary_activation": [{"type": "Sigmoid"} if lc["gated"] else None] * n,
            "head": {"out_channels": lc["head_size"], "kernel_size": 1, "bias": lc["head_bias"]},
            "layer1x1": {"active": True, "groups": 1},
            "head1x1": {"active": False, "out_channels": 1, "groups": 1},
            "groups_input": 1,
            "groups_input_mixin": 1,
            "films": {},
        }
    ks = lc.get("kernel_sizes")
    if ks is None:
        ks = lc["kernel_size"]
    if isinstance(ks, int):
        ks = [ks] * n
    act = lc["activation"]
    if not isinstance(act, list):
        act = [act] * n
    gm = lc.get("gating_mode", ["none"] * n)
    sec = lc.get("secondary_activation", [None] * n)
    films = {}
    for s in FILM_SLOTS:
        f = lc.get(s)
        if f and f.get("active"):
            films[s] = f
    return {
        "input_size": lc["input_size"],
        "condition_size": lc["condition_size"],
        "channels": lc["channels"],
        "bottleneck": lc.get("bottleneck", lc["channels"]),
        "kernel_sizes": ks,
        "dilations": lc["dilations"],
        "activation": act,
        "gating_mode": gm,
        "secondary_activation": sec,
        "head": lc["head"],
        "layer1x1": lc.get("layer1x1", {"active": True, "groups": 1}),
        "head1x1": lc.get("head1x1", {"active": False, "out_channels": 1, "groups": 1}),
        "groups_input": lc.get("groups_input", 1),
        "groups_input_mixin": lc.get("groups_input_mixin", 1),
        "films": films,
    }


class NpWaveNet:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        assert "condition_dsp" not in cfg
        r = Reader(nam["weights"])
        self.arrays = []
        for lc0 in cfg["layers"]:
            lc = normalize_layer_array(lc0)
            ch, bn, cond = lc["channels"], lc["bottleneck"], lc["condition_size"]
            arr = {"rechannel": Conv(r, lc["input_size"], ch, bias=False), "layers": []}
            for i, (k, d) in enumerate(zip(lc["kernel_sizes"], lc["dilations"])):
                gm = lc["gating_mode"][i]
                mid = 2 * bn if gm in ("gated", "blended") else bn
                L = {
                    "gm": gm,
                    "act": lc["activation"][i],
                    "sec": lc["secondary_activation"][i],
                    "bn": bn,
                    "conv": Conv(r, ch, mid, k, d, lc["groups_input"], True),
                    "mixin": Conv(r, cond, mid, 1, 1, lc["groups_input_mixin"], False),
                }
                L["layer1x1"] = (
                    Conv(r, bn, ch, 1, 1, lc["layer1x1"]["groups"], True)
                    if lc["layer1x1"]["active"]
                    else None
                )
                h1 = lc["head1x1"]
                L["head1x1"] = (
                    Conv(r, bn, h1["out_channels"], 1, 1, h1["groups"], True)
                    if h1["active"]
                    else None
                )
                dims = {
                    "conv_pre_film": ch,
                    "conv_post_film": mid,
                    "input_mixin_pre_film": cond,
                    "input_mixin_post_film": mid,
                    "activation_pre_film": mid,
                    "activation_post_film": bn,
                    "layer1x1_post_film": ch,
                    "head1x1_post_film": h1["out_channels"],
                }
                L["films"] = {
                    s: Film(r, cond, dims[s], f.get("shift", True), f.get("groups", 1))
                    for s, f in ((s, lc["films"].get(s)) for s in FILM_SLOTS)
                    if f is not None
                }
                arr["layers"].append(L)
            hin = lc["head1x1"]["out_channels"] if lc["head1x1"]["active"] else bn
            hd = lc["head"]
            arr["head_rechannel"] = Conv(r, hin, hd["out_channels"], hd["kernel_size"], 1, 1, hd["bias"])
            arr["rf"] = 1 + sum((k - 1) * d for k, d in zip(lc["kernel_sizes"], lc["dilations"]))
            arr["rf_head"] = hd["kernel_size"] - 1
            self.arrays.append(arr)
        self.post_head = None
        self.rf = 1 + sum(a["rf"] - 1 + a["rf_head"] for a in self.arrays)
        if cfg.get("head") is not None:
            h = cfg["head"]
            cin = self.arrays[-1]["head_rechannel"].cout
            self.post_head = []
            for i, k in enumerate(h["kernel_sizes"]):
                cout = h["out_channels"] if i == len(h["kernel_sizes"]) - 1 else h["channels"]
                self.post_head.append((h["activation"], Conv(r, cin, cout, k, 1, 1, True)))
                cin = cout
                self.rf += k - 1
        self.head_scale_weight = r.take(1)[0]
        assert r.i == len(r.w), f"{len(r.w) - r.i} weights left over"
        self.head_scale_config = cfg["head_scale"]

    def _act(self, L, z, fast):
        prim = activation_fn(L["act"], fast)
        if L["gm"] == "none":
            return prim(z)
        bn = L["bn"]
        sec = activation_fn(L["sec"], fast)
        top, bottom = z[:bn], z[bn:]
        if L["gm"] == "gated":
            return prim(top) * sec(bottom)
        if L["gm"] == "blended":
            a = sec(bottom)
            return a * prim(top) + (1.0 - a) * top
        raise ValueError(L["gm"])

    def forward(self, x: np.ndarray, fast: bool) -> np.ndarray:
        """x: the input (float32 values) without padding; RF-1 zeros are prepended,
        as the trainer's forward does."""
        xp = np.concatenate([np.zeros(self.rf - 1), x.astype(np.float64)])[None, :]
        c = xp
        y, head = xp, None
        for arr in self.arrays:
            rf_nh = arr["rf"]
            out_nh = min(y.shape[1], c.shape[1]) - (rf_nh - 1)
            h = arr["rechannel"](y)
            for L in arr["layers"]:
                F = L["films"]
                ci = h
                if "conv_pre_film" in F:
                    ci = F["conv_pre_film"](h, c)
                z = L["conv"](ci)
                if "conv_post_film" in F:
                    z = F["conv_post_film"](z, c)
                mi = c
                if "input_mixin_pre_film" in F:
                    mi = F["input_mixin_pre_film"](c, c)
                m = L["mixin"](mi)[:, -z.shape[1] :]
                if "input_mixin_post_film" in F:
                    m = F["input_mixin_post_film"](m, c)
                zl = min(z.shape[1], m.shape[1])
                z = z[:, -zl:] + m[:, -zl:]
                if "activation_pre_film" in F:
                    z = F["activation_pre_film"](z, c)
                a = self._act(L, z, fast)
                if "activation_post_film" in F:
                    a = F["activation_post_film"](a, c)
                lo = a
                if L["layer1x1"] is not None:
                    lo = L["layer1x1"](a)
                    if "layer1x1_post_film" in F:
                        lo = F["layer1x1_post_film"](lo, c)
                if L["head1x1"] is not None:
                    ht = L["head1x1"](a)[:, -out_nh:]
                    if "head1x1_post_film" in F:
                        ht = F["head1x1_post_film"](ht, c)
                else:
                    ht = a[:, -out_nh:]
                h = h[:, -lo.shape[1] :] + lo
                head = ht if head is None else head[:, -out_nh:] + ht
            head = arr["head_rechannel"](head)
            y = h[:, -head.shape[1] :]
        out = self.head_scale_weight * head
        if self.post_head is not None:
            for act, conv in self.post_head:
                out = conv(activation_fn(act, fast)(out))
        assert out.shape == (1, len(x)), out.shape
        return out[0]


class NpLSTM:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        r = Reader(nam["weights"])
        I, H, NL = cfg["input_size"], cfg["hidden_size"], cfg["num_layers"]
        self.layers = []
        for li in range(NL):
            ni = I if li == 0 else H
            W = r.take(4 * H * (ni + H)).reshape(4 * H, ni + H)
            b = r.take(4 * H)
            h0 = r.take(H)
            c0 = r.take(H)
            self.layers.append((W, b, h0, c0))
        self.head_w = r.take(H)
        self.head_b = r.take(1)[0]
        assert r.i == len(r.w)
        self.H = H

    def forward(self, x: np.ndarray, fast: bool, prewarm: int = LSTM_PREWARM) -> np.ndarray:
        th = fast_tanh if fast else np.tanh
        sg = (lambda v: 0.5 * (fast_tanh(0.5 * v) + 1.0)) if fast else sigmoid
        H = self.H
        state = [(h0.copy(), c0.copy()) for (_, _, h0, c0) in self.layers]
        xs = np.concatenate([np.zeros(prewarm), x.astype(np.float64)])
        out = np.empty(len(xs))
        for t, v in enumerate(xs):
            inp = np.array([v])
            for li, (W, b, _, _) in enumerate(self.layers):
                h, c = state[li]
                z = W @ np.concatenate([inp, h]) + b
                i, f, g, o = sg(z[:H]), sg(z[H : 2 * H]), th(z[2 * H : 3 * H]), sg(z[3 * H :])
                c = f * c + i * g
                h = o * th(c)
                state[li] = (h, c)
                inp = h
            out[t] = self.head_w @ inp + self.head_b
        return out[prewarm:]


def np_model(nam: dict):
    if nam["architecture"] == "WaveNet":
        return NpWaveNet(nam)
    if nam["architecture"] == "LSTM":
        return NpLSTM(nam)
    raise NotImplementedError(nam["architecture"])


# ---------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------


def run_worker(python, trainer, specs, out_dir, input_path, nam0123):
    with tempfile.TemporaryDirectory() as td:
        job_path = Path(td, "job.json")
        result_path = Path(td, "result.json")
        with open(job_path, "w") as fp:
            json.dump(
                {
                    "trainer": trainer,
                    "out_dir": str(out_dir),
                    "input": str(input_path),
                    "result": str(result_path),
                    "specs": specs,
                },
                fp,
            )
        env = dict(os.environ)
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
        if trainer == "0.12.3":
            env["PYTHONPATH"] = os.pathsep.join([str(nam0123)] + [p for p in [env.get("PYTHONPATH")] if p])
        subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", str(job_path)],
            env=env,
            check=True,
        )
        with open(result_path) as fp:
            return json.load(fp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "crates" / "nam" / "tests" / "fixtures"))
    ap.add_argument(
        "--nam-0123",
        default=os.environ.get("NAM_0123_PATH", "/work/nam-0.12.3"),
        help="directory holding neural-amp-modeler 0.12.3 (pip install --no-deps --target)",
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch + nam 0.13.0")
    ap.add_argument("--only", nargs="*", help="generate only these fixture names")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return

    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    x = make_input()
    assert x.shape == (N_SAMPLES,)
    input_path = out_dir / "input.f32"
    x.tofile(input_path)
    print(f"input.f32: {len(x)} samples, peak {np.abs(x).max():.4f}")

    specs = fixture_specs()
    if args.only:
        specs = [s for s in specs if s["name"] in args.only]
    for s in specs:
        s["subdir"] = "." if s["group"] == "main" else s["group"]

    results = {}
    for trainer in ("0.12.3", "0.13.0"):
        todo = [s for s in specs if s["trainer"] == trainer]
        if todo:
            print(f"trainer {trainer}: {len(todo)} fixtures")
            results.update(run_worker(args.python, trainer, todo, out_dir, input_path, args.nam_0123))

    manifests = {"main": [], "a2": []}
    print()
    print(f"{'fixture':34s} {'peak|out|':>10s} {'max|out-ref_tanh|':>18s} {'max|fast-out|':>14s}")
    failures = []
    for s in specs:
        name, info = s["name"], results[s["name"]]
        fdir = out_dir / s["subdir"]
        with open(fdir / f"{name}.nam") as fp:
            nam = json.load(fp)
        out = np.fromfile(fdir / f"{name}.out.f32", dtype="<f4").astype(np.float64)
        m = np_model(nam)
        ref = m.forward(x, fast=False)
        fast = m.forward(x, fast=True)
        err = float(np.max(np.abs(out - ref)))
        dfast = float(np.max(np.abs(fast - out)))
        fast.astype("<f4").tofile(fdir / f"{name}.fast.f32")
        rf = m.rf if isinstance(m, NpWaveNet) else 1
        assert rf == info["receptive_field"], (name, rf, info["receptive_field"])
        if isinstance(m, NpWaveNet):
            assert np.float32(m.head_scale_config) == np.float32(m.head_scale_weight)
        tol = 2e-5 * max(1.0, float(np.max(np.abs(out))))
        flag = "" if err <= tol else "  <-- MISMATCH"
        if flag:
            failures.append(name)
        print(f"{name:34s} {info['peak']:10.4f} {err:18.3e} {dfast:14.3e}{flag}")
        info["max_abs_err_ref_tanh"] = err
        info["max_abs_fast_minus_out"] = dfast
        sr = nam.get("sample_rate")
        entry = {
            "name": name,
            "model": f"{name}.nam",
            "output": f"{name}.out.f32",
            "fast": f"{name}.fast.f32",
            "architecture": nam["architecture"],
            "schema": nam["version"],
            "trainer": s["trainer"],
            "samples": N_SAMPLES,
            "sample_rate": 48000 if sr is None else sr,
            "sample_rate_in_file": info["sample_rate_in_file"],
            "receptive_field": rf,
            "description": s["description"],
        }
        if "preset" in s and s["arch"] == "WaveNet":
            assert len(nam["weights"]) == PRESET_WEIGHTS[s["preset"]], name
        manifests[s["group"]].append(entry)

    # Twins must carry identical weights (and so give identical outputs).
    for s in specs:
        twin = s.get("weights_from")
        if s["arch"] == "LSTM" and s["name"].endswith("_v054"):
            twin = s["name"].replace("_v054", "_v070")
        if not twin or twin not in results:
            continue
        a = json.load(open(out_dir / s["subdir"] / f"{s['name']}.nam"))["weights"]
        b = json.load(open(out_dir / s["subdir"] / f"{twin}.nam"))["weights"]
        ya = np.fromfile(out_dir / s["subdir"] / f"{s['name']}.out.f32", dtype="<f4")
        yb = np.fromfile(out_dir / s["subdir"] / f"{twin}.out.f32", dtype="<f4")
        print(
            f"twin {s['name']} / {twin}: weights identical {a == b}, "
            f"max|out diff| {float(np.max(np.abs(ya - yb))):.3e}"
        )

    if not args.only:
        with open(out_dir / "manifest.json", "w") as fp:
            json.dump(manifests["main"], fp, indent=2)
            fp.write("\n")
        if manifests["a2"]:
            with open(out_dir / "a2" / "manifest.json", "w") as fp:
                json.dump(manifests["a2"], fp, indent=2)
                fp.write("\n")
    with open(Path(tempfile.gettempdir()) / "tubeless_fixture_report.json", "w") as fp:
        json.dump(results, fp, indent=1)
    total = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    print(f"\ntotal fixture size: {total / 1e6:.2f} MB in {out_dir}")
    if failures:
        print("MISMATCHES:", failures)
        sys.exit(1)


if __name__ == "__main__":
    main()
