"""Trainer-side helpers (run inside the neural-amp-modeler 0.13.0 interpreter) for
tools/gen_fixtures.py and tools/gen_core_refs.py.

* `load_export(nam)`: any exported .nam dict (legacy or 0.7.0 keys, condition DSP,
  parametric and paired activations, slimmable arrays) -> the trainer's own modules with
  the file's weights. The trainer's `init_from_nam` covers only part of that (no
  condition DSP, no legacy keys, no parametric primary of a paired activation), so this
  converts the config to the trainer's init format, builds the modules, swaps in the
  activations the file names and imports the weights with the trainer's importers.
* `contract_output(model, nam, x)`: what the engine must output for input `x` from a
  prewarmed state (see nam_numpy.py for the contracts).
"""

import copy

import numpy as np
import torch

from nam_numpy import FILM_SLOTS, LSTM_PREWARM

# The trainer's activation modules (NAM-specific ones are private to it).
from nam.models import _activations as A  # noqa: E402
from nam.models._from_nam import init_from_nam  # noqa: E402
from nam.models.recurrent import LSTM  # noqa: E402
from nam.models.wavenet import WaveNet  # noqa: E402


def _per_layer(v, n):
    return list(v) if isinstance(v, list) else [v] * n


class FastTanh(torch.nn.Module):
    """The official plugin's rational tanh (a file may name it: "Fasttanh")."""

    def forward(self, x):
        ax = x.abs()
        x2 = x * x
        return (x * (2.45550750702956 + 2.45550750702956 * ax + (0.893229853513558 + 0.821226666969744 * ax) * x2)
                / (2.44506634652299 + (2.44506634652299 + x2) * (x + 0.814642734961073 * x * ax).abs()))


def act_module(obj) -> torch.nn.Module:
    """An activation as a .nam file writes it (a name or {"type": ..., params})."""
    if isinstance(obj, str):
        obj = {"type": obj}
    t = obj["type"]
    nn = torch.nn
    if t == "PReLU":
        slopes = obj.get("negative_slopes", [obj.get("negative_slope", 0.01)])
        m = nn.PReLU(num_parameters=len(slopes))
        m.weight.data = torch.tensor(slopes, dtype=torch.float32)
        return m
    simple = {
        "Tanh": lambda: nn.Tanh(),
        "Fasttanh": lambda: FastTanh(),
        "Hardtanh": lambda: nn.Hardtanh(obj.get("min_val", -1.0), obj.get("max_val", 1.0)),
        "ReLU": lambda: nn.ReLU(),
        "LeakyReLU": lambda: nn.LeakyReLU(obj.get("negative_slope", 0.01)),
        "Sigmoid": lambda: nn.Sigmoid(),
        "SiLU": lambda: nn.SiLU(),
        "Hardswish": lambda: nn.Hardswish(),
        "Softsign": lambda: A._Softsign(),
        "Softsigmoid": lambda: A._Softsigmoid(),
        "LeakyHardtanh": lambda: A._LeakyHardtanh(
            obj.get("min_val", -1.0), obj.get("max_val", 1.0),
            obj.get("min_slope", 0.01), obj.get("max_slope", 0.01)),
    }
    simple["LeakyHardTanh"] = simple["LeakyHardtanh"]
    return simple[t]()


def _layer_activations(lc):
    """Per layer: (placeholder for the trainer's init, the module the file means)."""
    n = len(lc["dilations"])
    prims = _per_layer(lc["activation"], n)
    if "gating_mode" in lc:
        modes = _per_layer(lc["gating_mode"], n)
        secs = _per_layer(lc.get("secondary_activation"), n)
    else:
        modes = ["gated" if lc.get("gated", False) else "none"] * n
        secs = [None] * n
    out = []
    for p, m, s in zip(prims, modes, secs):
        s = s if s not in (None, "") else "Sigmoid"
        if m == "none":
            out.append(("Tanh", act_module(p)))
        else:
            pair = {"gated": A.PairMultiply, "blended": A.PairBlend}[m]
            name = {"gated": "PairMultiply", "blended": "PairBlend"}[m]
            out.append(({"name": name, "primary": "Tanh", "secondary": "Sigmoid"},
                        pair(primary=act_module(p), secondary=act_module(s))))
    return out


def _init_layer_array(lc):
    """A layer-array config in any .nam schema -> the trainer's init format (with
    placeholder activations, swapped afterwards)."""
    n = len(lc["dilations"])
    ch = lc["channels"]
    if lc.get("head") is not None:
        h = lc["head"]
        head = {"out_channels": h["out_channels"], "kernel_size": h.get("kernel_size", 1),
                "bias": h.get("bias", False)}
        assert h.get("head_dilation", 1) == 1, "the trainer has no head dilation"
    else:
        head = {"out_channels": lc["head_size"], "kernel_size": 1, "bias": lc.get("head_bias", False)}
    films = {}
    for s in FILM_SLOTS:
        f = lc.get(s)
        if f is None or f is False:
            continue
        films[s] = {"active": f.get("active", True), "shift": f.get("shift", True),
                    "groups": f.get("groups", 1)}
    h1 = lc.get("head1x1") or {}
    return {
        "input_size": lc["input_size"],
        "condition_size": lc.get("condition_size", 1),
        "channels": ch,
        "bottleneck": lc.get("bottleneck", ch),
        "head": head,
        "kernel_sizes": _per_layer(lc.get("kernel_sizes", lc.get("kernel_size")), n),
        "dilations": lc["dilations"],
        "activation": [p for p, _ in _layer_activations(lc)],
        "layer_1x1_config": dict({"active": True, "groups": 1}, **(lc.get("layer1x1") or {})),
        "head_1x1_config": {"active": h1.get("active", False),
                            "out_channels": h1.get("out_channels", ch), "groups": h1.get("groups", 1)},
        "groups_input": lc.get("groups_input", 1),
        "groups_input_mixin": lc.get("groups_input_mixin", 1),
        "film_params": films,
        "slimmable": lc.get("slimmable"),
    }


def _internal_config(cfg):
    """A .nam WaveNet config -> the trainer's internal `_WaveNet` init config."""
    out = {
        "layers_configs": [_init_layer_array(lc) for lc in cfg["layers"]],
        "head": copy.deepcopy(cfg.get("head")),
        "head_scale": cfg["head_scale"],
    }
    if out["head"] is not None:
        out["head"].pop("in_channels", None)
    if cfg.get("condition_dsp") is not None:
        cond = cfg["condition_dsp"]
        assert cond["architecture"] == "WaveNet", "the trainer's condition DSPs are WaveNets"
        out["condition_dsp"] = {"name": "WaveNet", "config": _internal_config(cond["config"])}
    return out


def _swap_activations(net, cfg):
    """`net`: the trainer's internal `_WaveNet`; `cfg`: the .nam config it came from."""
    for la, lc in zip(net._layer_arrays, cfg["layers"]):
        for layer, (_, module) in zip(la._layers, _layer_activations(lc)):
            layer._activation = module
    if cfg.get("head") is not None:
        for block in net._head._layers:
            block[0] = act_module(cfg["head"]["activation"])
    if cfg.get("condition_dsp") is not None:
        _swap_activations(net._condition_dsp, cfg["condition_dsp"]["config"])


def _import_condition_weights(net, cfg):
    if cfg.get("condition_dsp") is not None:
        cond = cfg["condition_dsp"]
        net._condition_dsp.import_weights(torch.Tensor(cond["weights"]), 0)
        _import_condition_weights(net._condition_dsp, cond["config"])


def load_export(nam):
    """The trainer's modules for an exported .nam dict (WaveNet or LSTM)."""
    arch = nam["architecture"]
    if arch == "LSTM":
        m = init_from_nam(nam)
    elif arch == "WaveNet":
        init = _internal_config(nam["config"])
        init["sample_rate"] = nam.get("sample_rate")
        m = WaveNet.init_from_config(init)
        _swap_activations(m._net, nam["config"])
        m.import_weights(torch.Tensor(nam["weights"]))
        _import_condition_weights(m._net, nam["config"])
    else:
        raise NotImplementedError(arch)
    m.eval()
    return m


def contract_output(model, nam, x: torch.Tensor) -> np.ndarray:
    """The engine's output for `x` from a prewarmed state, by the trainer's modules."""
    with torch.no_grad():
        if isinstance(model, LSTM):
            pre = round(0.5 * (nam.get("sample_rate") or 48000))
            y = model(torch.cat([torch.zeros(pre), x]))[-len(x):]
        else:
            y = model(x)
    y = y.detach().cpu().numpy().astype("<f4")
    assert y.shape == (len(x),), y.shape
    return y


def set_size(model, size):
    """Slims a trainer WaveNet as the reference maps a size (0..1)."""
    model._net.set_slimming(float(size))
