"""The half of tools/gen_fixtures.py that runs inside one trainer version (a subprocess
per version: 0.12.3 and 0.13.0 are both the package `nam`). For each spec of
fixture_specs.py it builds the trainer's model with seeded weights, exports it with the
trainer's exporter, and writes the trainer's own output for input.f32 under the engine's
contracts (see nam_numpy.py): NAME.nam, and NAME.out.f32 or, for a model with sizes,
NAME.sK.out.f32 per size step.

Composite files (SlimmableContainer, Sequential) are assembled from trainer exports of
their parts: the trainer writes a container itself only for its PackedWaveNet, which has
a spec of its own.
"""

import copy
import json
import math
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

N_SAMPLES = 8192
LSTM_PREWARM = 24000  # 0.5 s at 48 kHz, the engine's LSTM prewarm
# Applied to every LSTM after the trainer's seeded init (see make_lstm()).
LSTM_TWEAK = {
    "weight_ih_l0_scale": 6.0,
    "input_gate_bias_add": 2.0,  # on each of bias_ih and bias_hh
    "forget_gate_bias_add": -1.0,  # on each of bias_ih and bias_hh
    "head_weight_scale": 2.0,
}
FIXED_DATE = {"year": 2025, "month": 6, "day": 1, "hour": 12, "minute": 0, "second": 0}
MODELED_BY = "tubeless tools/gen_fixtures.py (seeded random weights, not a capture)"


def _dyadic(v: float, bits: int = 8) -> float:
    """Round to `bits` significant bits: exactly representable in float32."""
    m, e = math.frexp(v)
    return math.ldexp(round(m * (1 << bits)) / (1 << bits), e)


def _legacy_to_v013(lc: dict) -> dict:
    """A legacy (0.12.3) layer-array config -> the 0.13.0 init format, same weights."""
    from fixture_specs import la13

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


def _fix_dates(d: dict) -> dict:
    """The exporter stamps nested models with the time of export: pin every date."""
    if isinstance(d, dict):
        if isinstance(d.get("metadata"), dict) and "date" in d["metadata"]:
            d["metadata"]["date"] = dict(FIXED_DATE)
        for v in d.values():
            _fix_dates(v)
    elif isinstance(d, list):
        for v in d:
            _fix_dates(v)
    return d


def _autoscale(y, spec):
    """A factor that brings the output peak into 0.1 .. 1.5 (dyadic), or None."""
    peak = float(y.abs().max())
    if spec.get("autoscale", True) and "weights_from" not in spec and not (0.1 <= peak <= 1.5):
        return _dyadic(0.6 / peak)
    return None


def make_wavenet(spec, version, out_dir, x, info):
    import torch
    from nam.models.wavenet import WaveNet

    hs = spec.get("head_scale", 0.02)
    sr = spec.get("sample_rate", 48000)
    if version == "0.12.3":
        if "preset" in spec:
            from nam.train.core import Architecture, get_wavenet_config

            cfg = get_wavenet_config(Architecture(spec["preset"]))
            lcs, hs = cfg["layers_configs"], cfg["head_scale"]
        else:
            lcs = spec["layers"]
        model = WaveNet(layers_configs=copy.deepcopy(lcs), head_config=None, head_scale=hs, sample_rate=sr)
    else:
        if "weights_from" in spec:
            with open(out_dir / spec["subdir"] / (spec["weights_from"] + ".nam")) as fp:
                src = json.load(fp)
            lcs = [_legacy_to_v013(lc) for lc in src["config"]["layers"]]
            hs = src["config"]["head_scale"]
            sr = spec["sample_rate"] = src.get("sample_rate")
        elif "packed_submodel" in spec:
            p = resources.files("nam").joinpath("train/_resources/config_model_packed.json")
            sub = json.loads(p.read_text())["net"]["config"]["submodels"][spec["packed_submodel"]]["config"]
            lcs, hs = sub["layers_configs"], sub["head_scale"]
            info["packed_submodel_config"] = sub
        else:
            lcs = spec["layers13"]
        init = {"layers_configs": copy.deepcopy(lcs), "head": copy.deepcopy(spec.get("head")),
                "head_scale": hs, "sample_rate": sr}
        if spec.get("condition_dsp") is not None:
            init["condition_dsp"] = copy.deepcopy(spec["condition_dsp"])
        model = WaveNet.init_from_config(init)
        if "weights_from" in spec:
            model.import_weights(torch.Tensor(src["weights"]))
        for ai, layers in spec.get("prelu", {}).items():
            for li, slopes in layers.items():
                act = model._net._layer_arrays[int(ai)]._layers[int(li)]._activation
                assert isinstance(act, torch.nn.PReLU)
                act.weight.data = torch.tensor(slopes, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        f = _autoscale(model(x), spec)
        if f is not None:
            model._net._head_scale = _dyadic(model._net._head_scale * f)
    info["head_scale"] = model._net._head_scale
    return model


def make_lstm(spec, version):
    import torch
    from nam.models.recurrent import LSTM

    if version == "0.12.3" and "lstm_preset" in spec:
        from nam.train.core import Architecture, get_lstm_config

        lcfg = get_lstm_config(Architecture(spec["lstm_preset"]))
    else:
        lcfg = dict(spec["lstm"])
    model = LSTM(sample_rate=spec.get("sample_rate", 48000), **lcfg)
    # The trainer's init barely lets the input in (input gate bias -4, forget +4, small
    # input weights): the output would hardly move.  Make it respond.
    core, h, tw = model._core, model._core.hidden_size, LSTM_TWEAK
    with torch.no_grad():
        core.weight_ih_l0.mul_(tw["weight_ih_l0_scale"])
        for li in range(core.num_layers):
            for bn in (f"bias_ih_l{li}", f"bias_hh_l{li}"):
                b = getattr(core, bn)
                b[:h] += tw["input_gate_bias_add"]
                b[h : 2 * h] += tw["forget_gate_bias_add"]
        model._head.weight.mul_(tw["head_weight_scale"])
    model.eval()
    return model


def make_convnet(spec, x):
    import torch
    from nam.models.conv_net import ConvNet

    model = ConvNet(sample_rate=spec.get("sample_rate", 48000), **spec["convnet"])
    with torch.no_grad():
        # Fresh batchnorms are the identity (mean 0, variance 1, weight 1, bias 0): give
        # them statistics so the fixture checks how they are read.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        model.eval()
        f = _autoscale(model(x), spec)
        if f is not None:
            head = model._net._modules["head"]
            head.weight.mul_(f)
            head.bias.mul_(f)
    return model


def make_linear(spec, x):
    import torch
    from nam.models.linear import Linear

    model = Linear(sample_rate=spec.get("sample_rate", 48000), **spec["linear"])
    model.eval()
    with torch.no_grad():
        f = _autoscale(model(x), spec)
        if f is not None:
            model._net.weight.mul_(f)
    return model


def make_model(spec, version, out_dir, x, info):
    arch = spec["arch"]
    if arch == "WaveNet":
        return make_wavenet(spec, version, out_dir, x, info)
    if arch == "LSTM":
        return make_lstm(spec, version)
    if arch == "ConvNet":
        return make_convnet(spec, x)
    if arch == "Linear":
        return make_linear(spec, x)
    raise ValueError(arch)


def export_dict(model, name, spec, fdir=None):
    """The trainer's export of `model` as a dict (written to fdir/name.nam if given)."""
    from nam.models.metadata import UserMetadata

    with tempfile.TemporaryDirectory() as td:
        where = Path(td) if fdir is None else fdir
        model.export(
            where,
            basename=name,
            user_metadata=UserMetadata(name=name, modeled_by=MODELED_BY),
            other_metadata={"date": FIXED_DATE, "gen_seed": spec["seed"]},
        )
        d = _fix_dates(json.loads((where / f"{name}.nam").read_text()))
    return d


def lstm_output(model, d, x, info):
    """The LSTM contract, by the trainer's module loaded from the exported file (whose
    h/c, the state after a second of silence, become its initial state)."""
    import torch
    from nam.models._from_nam import init_from_nam

    reloaded = init_from_nam(d)
    reloaded.eval()
    w = torch.Tensor(d["weights"])
    H, I = reloaded._core.hidden_size, reloaded._core.input_size
    i = 0
    for li in range(reloaded._core.num_layers):
        i += 4 * H * ((I if li == 0 else H) + H) + 4 * H
        assert torch.equal(reloaded._initial_hidden.data[li], w[i : i + H])
        assert torch.equal(reloaded._initial_cell.data[li], w[i + H : i + 2 * H])
        i += 2 * H
    with torch.no_grad():
        # The exported h/c is the state after 48000 zeros from a ZERO state
        # (LSTM._get_initial_state), not the learned initial state:
        h, c = model._get_initial_state()
        shp = reloaded._initial_hidden.shape
        info["exported_state_minus_zero_start_burn_in"] = max(
            float((h.reshape(shp) - reloaded._initial_hidden.data).abs().max()),
            float((c.reshape(shp) - reloaded._initial_cell.data).abs().max()),
        )
        return reloaded(torch.cat([torch.zeros(LSTM_PREWARM), x]))[-len(x):]


def reloaded_output(d, x, y, info):
    """Reload the export with our converter (the trainer's own `init_from_nam` reads
    neither legacy keys nor condition DSPs) and check it computes what the model did."""
    import torch

    import nam_torch

    with torch.no_grad():
        y2 = nam_torch.load_export(d)(x)
    info["reload_maxdiff"] = float((y2 - y).abs().max())
    assert info["reload_maxdiff"] <= 1e-6 * max(1.0, float(y.abs().max())), info


def single(spec, version, out_dir, x, info):
    """[(size, output)] of a model that is one trainer module."""
    import torch
    from nam.models._from_nam import init_from_nam

    fdir = out_dir / spec["subdir"]
    model = make_model(spec, version, out_dir, x, info)
    d = export_dict(model, spec["name"], spec, fdir)
    (fdir / f"{spec['name']}.nam").write_text(json.dumps(d))
    info["version"], info["sample_rate_in_file"] = d["version"], d.get("sample_rate", "<absent>")
    with torch.no_grad():
        if spec["arch"] == "LSTM":
            return [(1.0, lstm_output(model, d, x, info))]
        if spec.get("sizes") == "slim":
            import nam_torch
            from nam_numpy import size_steps

            reloaded = nam_torch.load_export(d)
            out, lo = [], 0.0
            for up, _ in size_steps(d):
                size = (lo + up) / 2
                nam_torch.set_size(model, size)
                nam_torch.set_size(reloaded, size)
                y = model(x)
                assert torch.equal(reloaded(x), y)
                out.append((size, y))
                lo = up
            return out
        y = model(x)
        if version == "0.13.0" and spec["arch"] == "WaveNet":
            reloaded_output(d, x, y, info)
        elif spec["arch"] == "Linear":
            info["reload_maxdiff"] = float((init_from_nam(d)(x) - y).abs().max())
        return [(1.0, y)]


def part(spec, i, version, out_dir, x, info):
    """A seeded part of a composite: (its export, its output under its contract)."""
    import torch

    import nam_torch

    sub = dict(spec["parts"][i], seed=spec["seed"] + 1 + i)
    torch.manual_seed(sub["seed"])
    model = make_model(sub, version, out_dir, x, {})
    d = export_dict(model, f"{spec['name']}_part{i}", sub)
    with torch.no_grad():
        if sub["arch"] == "LSTM":
            y = lstm_output(model, d, x, {})
        else:
            y = nam_torch.load_export(d)(x)
    return d, y, nam_torch.load_export(d) if sub["arch"] != "LSTM" else None


def composite(spec, version, out_dir, x, info):
    """[(size, output)] of a container or a sequential model, written to NAME.nam."""
    import torch
    from nam.models._from_nam import init_from_nam
    from nam.models.sequential import Sequential

    assert version == "0.13.0"
    name, fdir = spec["name"], out_dir / spec["subdir"]
    meta = {"date": dict(FIXED_DATE), "name": name, "modeled_by": MODELED_BY, "gen_seed": spec["seed"]}
    if spec["arch"] == "SlimmableContainer":
        parts = [part(spec, i, version, out_dir, x, info) for i in range(len(spec["parts"]))]
        d = {"version": "0.7.0", "metadata": meta, "architecture": "SlimmableContainer",
             "config": {"submodels": [{"max_value": mv, "model": p[0]}
                                      for mv, p in zip(spec["max_values"], parts)]},
             "weights": [], "sample_rate": 48000}
        out, lo = [], 0.0
        for mv, p in zip(spec["max_values"], parts):
            out.append(((lo + min(mv, 1.0)) / 2, p[1]))
            lo = mv
    elif spec["arch"] == "Sequential":
        parts = [part(spec, i, version, out_dir, x, info) for i in range(len(spec["parts"]))]
        # Each stage as the engine loads it: an LSTM from its file (its h/c), the others
        # through the converter (same weights as exported).
        stages = [p[2] if p[2] is not None else init_from_nam(p[0]) for p in parts]
        for s in stages:
            s.eval()
        seq = Sequential(models=stages)
        pre = LSTM_PREWARM if any(q["arch"] == "LSTM" for q in spec["parts"]) else 0
        with torch.no_grad():
            y = seq(torch.cat([torch.zeros(pre), x]))[-len(x):]
        # Both ways of writing a stage: the model itself, or wrapped in {"model": ...}.
        models = [p[0] if i % 2 == 0 else {"model": p[0]} for i, p in enumerate(parts)]
        d = {"version": "0.6.0", "metadata": meta, "architecture": "Sequential",
             "config": {"weights_version": 2, "models": models}}
        out = [(1.0, y)]
    elif spec["arch"] == "PackedWaveNet":
        from nam.models.wavenet import PackedWaveNet

        p = resources.files("nam").joinpath("train/_resources/config_model_packed.json")
        cfg = json.loads(p.read_text())["net"]["config"]
        model = PackedWaveNet.init_from_config(dict(copy.deepcopy(cfg), sample_rate=48000))
        model.eval()
        with torch.no_grad():
            f = _autoscale(model.extract_submodel(model.num_submodels - 1)(x), spec)
        if f is not None:
            # Each exported submodel takes its head scale from its own config.
            for sub in model._spec.submodels:
                sub.config["head_scale"] = _dyadic(sub.config["head_scale"] * f)
            model._net._head_scale = model._spec.submodels[0].config["head_scale"]
        d = export_dict(model, name, spec)
        out, lo = [], 0.0
        for s in d["config"]["submodels"]:
            with torch.no_grad():
                y = init_from_nam(s["model"])(x)
            out.append(((lo + min(s["max_value"], 1.0)) / 2, y))
            lo = s["max_value"]
    else:
        raise ValueError(spec["arch"])
    (fdir / f"{name}.nam").write_text(json.dumps(d))
    info["version"], info["sample_rate_in_file"] = d["version"], d.get("sample_rate", "<absent>")
    return out


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

    results = {}
    for spec in job["specs"]:
        name = spec["name"]
        fdir = out_dir / spec["subdir"]
        fdir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(spec["seed"])
        info = {}
        if spec["arch"] in ("SlimmableContainer", "Sequential", "PackedWaveNet"):
            outs = composite(spec, version, out_dir, x, info)
        else:
            outs = single(spec, version, out_dir, x, info)
        info["cases"] = []
        for k, (size, y) in enumerate(outs):
            y_np = y.detach().cpu().numpy().astype("<f4")
            assert y_np.shape == (len(x_np),), y_np.shape
            fname = f"{name}.out.f32" if len(outs) == 1 else f"{name}.s{k}.out.f32"
            y_np.tofile(fdir / fname)
            info["cases"].append({"size": size, "output": fname, "peak": float(np.abs(y_np).max())})
        info["peak"] = max(c["peak"] for c in info["cases"])
        info["torch"] = torch.__version__
        results[name] = info
        print(f"  [{version}] {name}: peak {info['peak']:.4f}", flush=True)
    with open(job["result"], "w") as fp:
        json.dump(results, fp, indent=1)
