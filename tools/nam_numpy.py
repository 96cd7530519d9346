"""An independent NumPy implementation of every architecture Tubeless runs, reading only
the .nam JSON (tools/gen_fixtures.py and tools/gen_core_refs.py use it).

Two jobs: with the exact tanh/sigmoid it must reproduce the trainer's output (which
validates the reading of the format: weight order, knob semantics); with every tanh
replaced by the official plugin's fast_tanh (and the LSTM's sigmoid by
0.5 * (fast_tanh(x / 2) + 1)) it gives the reference for the engine's NamCompatible
mode. Works in float64 on the float32 weights; callers round to float32 once.

Contracts (what the engine computes from a prewarmed state):
* convolutional models (WaveNet, ConvNet, Linear): the trainer's forward with
  receptive_field - 1 zeros in front;
* LSTM: the file's initial h/c, LSTM_PREWARM zeros, then the input;
* Sequential: the same, through the stages in series (zeros(LSTM_PREWARM) in front when
  a stage is an LSTM);
* a model with sizes: the model at that size (a container's submodel, a slimmable
  WaveNet sliced as the reference slices it).
"""

import copy

import numpy as np

LSTM_PREWARM = 24000  # 0.5 s at 48 kHz


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
            s = a.get("negative_slope", 0.01)
        return lambda x: np.where(x >= 0.0, x, s * x)
    if t == "Sigmoid":
        return sigmoid
    if t == "SiLU":
        return lambda x: x * sigmoid(x)
    if t == "Hardswish":
        return lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if t == "Softsign":
        return lambda x: x / (1.0 + np.abs(x))
    if t == "Softsigmoid":
        return lambda x: 0.5 * (1.0 + x / (1.0 + np.abs(x)))
    if t in ("LeakyHardtanh", "LeakyHardTanh"):
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


def _per_layer(v, n):
    return list(v) if isinstance(v, list) else [v] * n


def _film(f):
    """A FiLM slot as NeuralAmpModelerCore reads it: absent/null/false is off, an object
    is on unless it says "active": false."""
    if f is None or f is False:
        return None
    if not f.get("active", True):
        return None
    return {"shift": f.get("shift", True), "groups": f.get("groups", 1)}


def normalize_layer_array(lc: dict) -> dict:
    """A layer-array config in any schema (legacy keys, 0.7.0 keys, or a mix) -> one
    internal form, with the reference's defaults for absent keys."""
    n = len(lc["dilations"])
    ch = lc["channels"]
    ks = lc.get("kernel_sizes", lc.get("kernel_size"))
    if "head" in lc and lc["head"] is not None:
        h = lc["head"]
        head = {"out_channels": h["out_channels"], "kernel_size": h.get("kernel_size", 1),
                "bias": h.get("bias", False), "dilation": h.get("head_dilation", 1)}
    else:
        head = {"out_channels": lc["head_size"], "kernel_size": 1,
                "bias": lc.get("head_bias", False), "dilation": 1}
    if "gating_mode" in lc:
        gm = _per_layer(lc["gating_mode"], n)
        sec = _per_layer(lc.get("secondary_activation"), n)
    else:
        gm = ["gated" if lc.get("gated", False) else "none"] * n
        sec = [None] * n
    sec = [s if s not in (None, "") else {"type": "Sigmoid"} for s in sec]
    l1 = lc.get("layer1x1") or {}
    h1 = lc.get("head1x1") or {}
    return {
        "input_size": lc["input_size"],
        "condition_size": lc.get("condition_size", 1),
        "channels": ch,
        "bottleneck": lc.get("bottleneck", ch),
        "kernel_sizes": _per_layer(ks, n),
        "dilations": lc["dilations"],
        "activation": _per_layer(lc["activation"], n),
        "gating_mode": gm,
        "secondary_activation": sec,
        "head": head,
        "layer1x1": {"active": l1.get("active", True), "groups": l1.get("groups", 1)},
        "head1x1": {"active": h1.get("active", False), "out_channels": h1.get("out_channels", ch),
                    "groups": h1.get("groups", 1)},
        "groups_input": lc.get("groups_input", 1),
        "groups_input_mixin": lc.get("groups_input_mixin", 1),
        "films": {s: f for s in FILM_SLOTS if (f := _film(lc.get(s))) is not None},
        "slimmable": lc.get("slimmable"),
    }


class NpWaveNet:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        cond = cfg.get("condition_dsp")
        self.condition_dsp = np_model(cond) if cond is not None else None
        r = Reader(nam["weights"])
        self.arrays = []
        for lc0 in cfg["layers"]:
            lc = normalize_layer_array(lc0)
            ch, bn, cond_ch = lc["channels"], lc["bottleneck"], lc["condition_size"]
            arr = {"rechannel": Conv(r, lc["input_size"], ch, bias=False), "layers": []}
            h1 = lc["head1x1"]
            for i, (k, d) in enumerate(zip(lc["kernel_sizes"], lc["dilations"])):
                gm = lc["gating_mode"][i]
                mid = 2 * bn if gm in ("gated", "blended") else bn
                L = {
                    "gm": gm,
                    "act": lc["activation"][i],
                    "sec": lc["secondary_activation"][i],
                    "bn": bn,
                    "conv": Conv(r, ch, mid, k, d, lc["groups_input"], True),
                    "mixin": Conv(r, cond_ch, mid, 1, 1, lc["groups_input_mixin"], False),
                }
                L["layer1x1"] = (
                    Conv(r, bn, ch, 1, 1, lc["layer1x1"]["groups"], True)
                    if lc["layer1x1"]["active"]
                    else None
                )
                L["head1x1"] = (
                    Conv(r, bn, h1["out_channels"], 1, 1, h1["groups"], True)
                    if h1["active"]
                    else None
                )
                dims = {
                    "conv_pre_film": ch,
                    "conv_post_film": mid,
                    "input_mixin_pre_film": cond_ch,
                    "input_mixin_post_film": mid,
                    "activation_pre_film": mid,
                    "activation_post_film": bn,
                    "layer1x1_post_film": ch,
                    "head1x1_post_film": h1["out_channels"],
                }
                L["films"] = {
                    s: Film(r, cond_ch, dims[s], f["shift"], f["groups"])
                    for s, f in ((s, lc["films"].get(s)) for s in FILM_SLOTS)
                    if f is not None
                }
                arr["layers"].append(L)
            hin = h1["out_channels"] if h1["active"] else bn
            hd = lc["head"]
            arr["head_rechannel"] = Conv(
                r, hin, hd["out_channels"], hd["kernel_size"], hd["dilation"], 1, hd["bias"]
            )
            arr["rf"] = 1 + sum((k - 1) * d for k, d in zip(lc["kernel_sizes"], lc["dilations"]))
            arr["rf_head"] = (hd["kernel_size"] - 1) * hd["dilation"]
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
        if self.condition_dsp is not None:
            self.rf += self.condition_dsp.rf - 1
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

    def forward_valid(self, xp: np.ndarray, fast: bool) -> np.ndarray:
        """xp: (1, L) input; returns the (channels, L - rf + 1) outputs of a valid
        (unpadded) pass, as the trainer's modules compute them."""
        c = xp if self.condition_dsp is None else self.condition_dsp.forward_valid(xp, fast)
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
        return out

    def forward(self, x: np.ndarray, fast: bool) -> np.ndarray:
        """x: the input (float32 values) without padding; RF-1 zeros are prepended, as
        the trainer's forward does."""
        xp = np.concatenate([np.zeros(self.rf - 1), x.astype(np.float64)])[None, :]
        out = self.forward_valid(xp, fast)
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
        self.rf = 1
        self.prewarm = round(0.5 * (nam.get("sample_rate") or 48000))

    def forward_valid(self, xp: np.ndarray, fast: bool) -> np.ndarray:
        """From the file's initial state over all of xp (1, L) -> (1, L)."""
        th = fast_tanh if fast else np.tanh
        sg = (lambda v: 0.5 * (fast_tanh(0.5 * v) + 1.0)) if fast else sigmoid
        H = self.H
        state = [(h0.copy(), c0.copy()) for (_, _, h0, c0) in self.layers]
        xs = xp[0]
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
        return out[None, :]

    def forward(self, x: np.ndarray, fast: bool, prewarm: int = None) -> np.ndarray:
        prewarm = self.prewarm if prewarm is None else prewarm
        xs = np.concatenate([np.zeros(prewarm), x.astype(np.float64)])[None, :]
        return self.forward_valid(xs, fast)[0, prewarm:]


class NpConvNet:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        r = Reader(nam["weights"])
        c, bn, g = cfg["channels"], cfg["batchnorm"], cfg.get("groups", 1)
        self.act = cfg["activation"]
        self.blocks = []
        for i, d in enumerate(cfg["dilations"]):
            conv = Conv(r, 1 if i == 0 else c, c, 2, d, g, not bn)
            norm = None
            if bn:
                mean, var, w, b = r.take(c), r.take(c), r.take(c), r.take(c)
                eps = r.take(1)[0]
                norm = (mean, var, w, b, eps)
            self.blocks.append((conv, norm))
        self.head = Conv(r, c, 1, 1, 1, 1, True)
        assert r.i == len(r.w)
        self.rf = 1 + sum(cfg["dilations"])

    def forward_valid(self, xp, fast):
        y = xp
        for conv, norm in self.blocks:
            y = conv(y)
            if norm is not None:
                mean, var, w, b, eps = norm
                y = (y - mean[:, None]) / np.sqrt(var[:, None] + eps) * w[:, None] + b[:, None]
            y = activation_fn(self.act, fast)(y)
        return self.head(y)

    def forward(self, x, fast):
        xp = np.concatenate([np.zeros(self.rf - 1), x.astype(np.float64)])[None, :]
        return self.forward_valid(xp, fast)[0]


class NpLinear:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        r = Reader(nam["weights"])
        self.conv = Conv(r, 1, 1, cfg["receptive_field"], 1, 1, cfg.get("bias", False))
        assert r.i == len(r.w)
        self.rf = cfg["receptive_field"]

    def forward_valid(self, xp, fast):
        return self.conv(xp)

    def forward(self, x, fast):
        xp = np.concatenate([np.zeros(self.rf - 1), x.astype(np.float64)])[None, :]
        return self.forward_valid(xp, fast)[0]


class NpSequential:
    def __init__(self, nam: dict):
        cfg = nam["config"]
        models = cfg.get("models", cfg.get("layers"))
        self.stages = [np_model(m.get("model", m)) for m in models]
        self.rf = 1 + sum(s.rf - 1 for s in self.stages)
        lstm = [s.prewarm for s in self.stages if isinstance(s, NpLSTM)]
        self.prewarm = max(lstm) if lstm else 0

    def forward_valid(self, xp, fast):
        for s in self.stages:
            xp = s.forward_valid(xp, fast)
        return xp

    def forward(self, x, fast):
        xs = np.concatenate([np.zeros(self.rf - 1 + self.prewarm), x.astype(np.float64)])[None, :]
        return self.forward_valid(xs, fast)[0, -len(x):]


def size_steps(nam: dict):
    """[(upper bound, model dict)] for a model with sizes (a container's submodels, a
    slimmable WaveNet sliced at each step), or None."""
    if nam["architecture"] == "SlimmableContainer":
        return [(s["max_value"], s["model"]) for s in nam["config"]["submodels"]]
    if nam["architecture"] == "WaveNet":
        lcs = [normalize_layer_array(lc) for lc in nam["config"]["layers"]]
        if not any(lc["slimmable"] for lc in lcs):
            return None
        allowed = [allowed_channels(lc) for lc in lcs]
        breaks = sorted({i / len(a) for a in allowed if a for i in range(1, len(a))})
        lows = [0.0] + breaks
        ups = breaks + [1.0]
        return [(up, slice_wavenet(nam, channels_at(allowed, lcs, lo))) for lo, up in zip(lows, ups)]
    return None


def allowed_channels(lc):
    s = lc["slimmable"]
    if not s:
        return None
    return list(s.get("kwargs", {}).get("allowed_channels") or range(1, lc["channels"] + 1))


def channels_at(allowed, lcs, size):
    """The reference's size -> channels: allowed[min(floor(size * len), len - 1)]."""
    out = []
    for a, lc in zip(allowed, lcs):
        if a is None:
            out.append(lc["channels"])
        else:
            out.append(a[min(int(np.floor(size * len(a))), len(a) - 1)])
    return out


def slice_wavenet(nam: dict, channels):
    """The WaveNet cut to `channels` per array: the first rows and columns of every conv,
    as NeuralAmpModelerCore's SlimmableWavenet extracts them (groups 1, no FiLM)."""
    lcs = [normalize_layer_array(lc) for lc in nam["config"]["layers"]]
    w = list(nam["weights"])
    out, at = [], 0

    def cut(fo, fi, k, so, si, bias):
        nonlocal at
        for o in range(fo):
            for i in range(fi):
                if o < so and i < si:
                    out.extend(w[at : at + k])
                at += k
        if bias:
            out.extend(w[at : at + so])
            at += fo

    new_layers = []
    for ai, lc in enumerate(lcs):
        ch = channels[ai]
        bn = ch if not lc["layer1x1"]["active"] else max(1, lc["bottleneck"] * ch // lc["channels"])
        inp = lc["input_size"] if ai == 0 else channels[ai - 1]
        head = channels[ai + 1] if ai + 1 < len(lcs) else lc["head"]["out_channels"]
        cut(lc["channels"], lc["input_size"], 1, ch, inp, False)
        for i, k in enumerate(lc["kernel_sizes"]):
            paired = lc["gating_mode"][i] != "none"
            fm, sm = (2 * lc["bottleneck"], 2 * bn) if paired else (lc["bottleneck"], bn)
            cut(fm, lc["channels"], k, sm, ch, True)
            cut(fm, lc["condition_size"], 1, sm, lc["condition_size"], False)
            if lc["layer1x1"]["active"]:
                cut(lc["channels"], lc["bottleneck"], 1, ch, bn, True)
            h1 = lc["head1x1"]
            if h1["active"]:
                cut(h1["out_channels"], lc["bottleneck"], 1, h1["out_channels"], bn, True)
        h1 = lc["head1x1"]
        fin, sin = (h1["out_channels"],) * 2 if h1["active"] else (lc["bottleneck"], bn)
        cut(lc["head"]["out_channels"], fin, 1, head, sin, lc["head"]["bias"])
        new = copy.deepcopy(nam["config"]["layers"][ai])
        new.pop("slimmable", None)
        new.update(input_size=inp, channels=ch, bottleneck=bn)
        if "head" in new and new["head"] is not None:
            new["head"] = dict(new["head"], out_channels=head)
        else:
            new["head_size"] = head
        new_layers.append(new)
    out.append(w[at])
    assert at + 1 == len(w)
    d = copy.deepcopy({k: v for k, v in nam.items() if k != "weights"})
    d["config"]["layers"] = new_layers
    d["weights"] = out
    return d


def np_model(nam: dict):
    arch = nam["architecture"]
    if arch == "WaveNet":
        return NpWaveNet(nam)
    if arch == "LSTM":
        return NpLSTM(nam)
    if arch == "ConvNet":
        return NpConvNet(nam)
    if arch == "Linear":
        return NpLinear(nam)
    if arch in ("Sequential", "sequential"):
        return NpSequential(nam)
    if arch == "SlimmableContainer":
        return np_model(nam["config"]["submodels"][-1]["model"])
    raise NotImplementedError(arch)
