#!/usr/bin/env python3
"""Writes crates/nam/tests/bad_files/: broken and hostile .nam files, each one defect away from a
valid tiny model (WaveNet, 0.7.0 "A2" WaveNet, LSTM, ConvNet, Linear, SlimmableContainer,
Sequential; the valid ones are written too, as controls, named valid_*).
crates/nam/tests/bad_files.rs asserts the exact error for each.

Run from the repo root: python3 tools/gen_bad_files.py (stdlib only, deterministic).
"""
import copy
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "nam" / "tests" / "bad_files"


def wavenet():
    # 1 array: input 1, channels 2, head 1, kernel 2, dilations [1, 2], Tanh, head bias.
    arr = {
        "input_size": 1, "condition_size": 1, "channels": 2, "head_size": 1,
        "kernel_size": 2, "dilations": [1, 2], "activation": "Tanh",
        "gated": False, "head_bias": True,
    }
    c, k, n = 2, 2, 2
    count = c * 1 + n * (c * c * k + c + c + c * c + c) + 1 * c + 1 + 1
    weights = [round(0.1 * ((i * 37) % 11 - 5), 3) for i in range(count - 1)] + [0.02]
    return {
        "version": "0.5.4", "architecture": "WaveNet", "sample_rate": 48000,
        "metadata": {"name": "bad-file base"},
        "config": {"layers": [arr], "head": None, "head_scale": 0.02},
        "weights": weights,
    }


def lstm():
    h = 2
    count = 4 * h * (1 + h) + 4 * h + 2 * h + h + 1
    return {
        "version": "0.5.4", "architecture": "LSTM", "sample_rate": 48000,
        "config": {"input_size": 1, "hidden_size": h, "num_layers": 1},
        "weights": [0.01 * i for i in range(count)],
    }


def conv_weights(cin, cout, k=1, groups=1, bias=False):
    return cout * (cin // groups) * k + (cout if bias else 0)


FILM_SLOTS = ["conv_pre_film", "conv_post_film", "input_mixin_pre_film", "input_mixin_post_film",
              "activation_pre_film", "activation_post_film", "layer1x1_post_film", "head1x1_post_film"]


def a2_weight_count(cfg):
    """Weights of a 0.7.0 WaveNet config (the layout of NAM_FORMAT.md), for the controls."""
    n = 0
    for a in cfg["layers"]:
        ch, cond, bn = a["channels"], a["condition_size"], a.get("bottleneck", a["channels"])
        l1, h1 = a["layer1x1"], a["head1x1"]
        n += conv_weights(a["input_size"], ch)
        for i, (k, d) in enumerate(zip(a["kernel_sizes"], a["dilations"])):
            mid = 2 * bn if a["gating_mode"][i] != "none" else bn
            n += conv_weights(ch, mid, k, a["groups_input"], True)
            n += conv_weights(cond, mid, 1, a["groups_input_mixin"])
            if l1["active"]:
                n += conv_weights(bn, ch, 1, l1["groups"], True)
            if h1["active"]:
                n += conv_weights(bn, h1["out_channels"], 1, h1["groups"], True)
            width = {"conv_pre_film": ch, "conv_post_film": mid, "input_mixin_pre_film": cond,
                     "input_mixin_post_film": mid, "activation_pre_film": mid,
                     "activation_post_film": bn, "layer1x1_post_film": ch,
                     "head1x1_post_film": h1["out_channels"]}
            for slot in FILM_SLOTS:
                f = a.get(slot)
                if f and f.get("active", True):
                    n += conv_weights(cond, (2 if f["shift"] else 1) * width[slot], 1, f["groups"], True)
        hin = h1["out_channels"] if h1["active"] else bn
        h = a["head"]
        n += conv_weights(hin, h["out_channels"], h["kernel_size"], 1, h["bias"])
    post = cfg.get("head")
    if post:
        cin = cfg["layers"][-1]["head"]["out_channels"]
        for i, k in enumerate(post["kernel_sizes"]):
            cout = post["out_channels"] if i == len(post["kernel_sizes"]) - 1 else post["channels"]
            n += conv_weights(cin, cout, k, 1, True)
            cin = cout
    return n + 1


def a2():
    """A small 0.7.0 WaveNet with many knobs on (blended and gated layers, bottleneck,
    groups, head 1x1, four FiLMs, a head kernel of 2, a post-stack head)."""
    off = {"active": False, "shift": True, "groups": 1}
    arr = {
        "input_size": 1, "condition_size": 1, "channels": 4, "bottleneck": 2,
        "head": {"out_channels": 2, "kernel_size": 2, "bias": True},
        "kernel_sizes": [2, 3], "dilations": [1, 2],
        "activation": [{"type": "LeakyReLU", "negative_slope": 0.05}, {"type": "Tanh"}],
        "gating_mode": ["blended", "gated"], "secondary_activation": [{"type": "Sigmoid"}, {"type": "Sigmoid"}],
        "layer1x1": {"active": True, "groups": 2},
        "head1x1": {"active": True, "out_channels": 2, "groups": 2},
        "groups_input": 2, "groups_input_mixin": 1, "slimmable": None,
    }
    for slot in FILM_SLOTS:
        arr[slot] = dict(off)
    arr["conv_pre_film"] = {"active": True, "shift": True, "groups": 1}
    arr["activation_post_film"] = {"active": True, "shift": False, "groups": 1}
    arr["layer1x1_post_film"] = {"active": True, "shift": True, "groups": 1}
    arr["head1x1_post_film"] = {"active": True, "shift": True, "groups": 1}
    cfg = {"layers": [arr], "head": {"channels": 2, "activation": {"type": "Tanh"},
                                     "out_channels": 1, "kernel_sizes": [2]}, "head_scale": 0.5}
    count = a2_weight_count(cfg)
    return {
        "version": "0.7.0", "architecture": "WaveNet", "sample_rate": 48000,
        "config": cfg,
        "weights": [round(0.05 * ((i * 29) % 13 - 6), 3) for i in range(count - 1)] + [0.5],
    }


def convnet():
    c, dil = 2, [1, 2]
    weights = []
    for i, _ in enumerate(dil):
        cin = 1 if i == 0 else c
        weights += [0.1 * ((j * 7) % 5 - 2) for j in range(c * cin * 2)]
        weights += [0.01, -0.02] + [0.5, 0.8] + [1.0, 0.9] + [0.0, 0.05] + [1e-5]
    weights += [0.3, -0.4, 0.01]
    return {
        "version": "0.5.4", "architecture": "ConvNet", "sample_rate": 48000,
        "config": {"channels": c, "dilations": dil, "batchnorm": True, "activation": "Tanh"},
        "weights": weights,
    }


def linear():
    return {
        "version": "0.5.4", "architecture": "Linear", "sample_rate": 48000,
        "config": {"receptive_field": 4, "bias": True},
        "weights": [0.1, -0.2, 0.3, 0.9, 0.01],
    }


def container():
    return {
        "version": "0.7.0", "architecture": "SlimmableContainer", "sample_rate": 48000,
        "config": {"submodels": [
            {"max_value": 0.5, "model": lstm()},
            {"max_value": 1.0, "model": wavenet()},
        ]},
        "weights": [],
    }


def sequential():
    return {
        "version": "0.6.0", "architecture": "Sequential",
        "config": {"weights_version": 2, "models": [linear(), {"model": wavenet()}]},
    }


def nested_condition(depth):
    m = wavenet()
    for _ in range(depth):
        outer = wavenet()
        outer["config"]["condition_dsp"] = m
        m = outer
    return m


def write(name, obj):
    text = obj if isinstance(obj, str) else json.dumps(obj)
    (OUT / f"{name}.nam").write_text(text)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.nam"):
        p.unlink()
    base = wavenet()
    write("valid_wavenet", base)  # control: must load
    write("valid_lstm", lstm())

    def mut(name, fn, src=None):
        d = copy.deepcopy(src if src is not None else base)
        fn(d)
        write(name, d)

    full = json.dumps(base)
    write("truncated_json", full[: len(full) // 2])
    write("empty", "")
    write("not_an_object", "[1, 2, 3]")
    mut("missing_version", lambda d: d.pop("version"))
    mut("version_not_string", lambda d: d.update(version=5))
    mut("version_garbage", lambda d: d.update(version="five"))
    mut("version_too_new_minor", lambda d: d.update(version="0.8.0"))
    mut("version_too_new_major", lambda d: d.update(version="1.0.0"))
    mut("version_too_old", lambda d: d.update(version="0.4.9"))
    mut("unknown_architecture", lambda d: d.update(architecture="Transformer"))
    mut("missing_config", lambda d: d.pop("config"))
    mut("missing_weights", lambda d: d.pop("weights"))
    mut("weights_not_array", lambda d: d.update(weights="lots"))
    mut("weights_too_few", lambda d: d["weights"].pop())
    mut("weights_too_many", lambda d: d["weights"].append(0.5))
    mut("weight_string", lambda d: d["weights"].__setitem__(3, "0.5"))
    mut("weight_null", lambda d: d["weights"].__setitem__(4, None))
    mut("weight_overflows_f32", lambda d: d["weights"].__setitem__(5, 1e39))
    # JSON has no NaN; Python writes the non-standard token, which must fail cleanly too.
    mut("weight_nan_token", lambda d: d["weights"].__setitem__(6, float("nan")))
    mut("weight_infinity_token", lambda d: d["weights"].__setitem__(7, float("-inf")))
    mut("sample_rate_string", lambda d: d.update(sample_rate="48k"))
    mut("sample_rate_zero", lambda d: d.update(sample_rate=0))
    mut("sample_rate_negative", lambda d: d.update(sample_rate=-44100.0))
    mut("zero_channels", lambda d: d["config"]["layers"][0].update(channels=0))
    mut("huge_channels", lambda d: d["config"]["layers"][0].update(channels=100000))
    mut("fractional_channels", lambda d: d["config"]["layers"][0].update(channels=2.5))
    mut("negative_kernel", lambda d: d["config"]["layers"][0].update(kernel_size=-3))
    mut("huge_kernel", lambda d: d["config"]["layers"][0].update(kernel_size=4096))
    mut("huge_dilation", lambda d: d["config"]["layers"][0].update(dilations=[1, 10**9]))
    mut("zero_dilation", lambda d: d["config"]["layers"][0].update(dilations=[1, 0]))
    mut("empty_dilations", lambda d: d["config"]["layers"][0].update(dilations=[]))
    mut("too_many_layers", lambda d: d["config"]["layers"][0].update(dilations=[1] * 5000))
    # Each dilation is legal alone; together the history would need gigabytes.
    mut("receptive_field_too_large",
        lambda d: d["config"]["layers"][0].update(kernel_size=64, dilations=[65536] * 8))
    # Within every per-field limit and the receptive-field limit, but 256 channels of
    # 258k-sample history is over the engine memory limit: refused before the weights.
    mut("engine_too_large", lambda d: d["config"]["layers"][0].update(
        channels=256, kernel_size=64, dilations=[4096]))
    mut("unknown_activation", lambda d: d["config"]["layers"][0].update(activation="Swish9000"))
    mut("activation_wrong_type", lambda d: d["config"]["layers"][0].update(activation=7))
    mut("activation_list_wrong_length",
        lambda d: d["config"]["layers"][0].update(activation=["Tanh"] * 3))
    mut("gated_not_bool", lambda d: d["config"]["layers"][0].update(gated="yes"))
    mut("layers_empty", lambda d: d["config"].update(layers=[]))
    mut("layers_not_array", lambda d: d["config"].update(layers={"channels": 2}))
    mut("missing_dilations", lambda d: d["config"]["layers"][0].pop("dilations"))
    mut("first_input_size_not_1", lambda d: d["config"]["layers"][0].update(input_size=2))
    mut("last_head_size_not_1", lambda d: d["config"]["layers"][0].update(head_size=2))
    mut("condition_size_2", lambda d: d["config"]["layers"][0].update(condition_size=2))
    mut("head_scale_missing", lambda d: d["config"].pop("head_scale"))
    mut("post_stack_head_incomplete", lambda d: d["config"].update(head={"layers": []}))
    mut("gating_unknown", lambda d: d["config"]["layers"][0].update(gating_mode="sometimes"))
    mut("gating_secondary_unknown", lambda d: d["config"]["layers"][0].update(
        gating_mode="blended", secondary_activation="Swish9000"))
    mut("in_channels_2", lambda d: d["config"].update(in_channels=2))

    # 0.7.0 knobs, each one defect away from the valid A2 control.
    a = a2()
    write("valid_a2", a)
    arr = lambda d: d["config"]["layers"][0]  # noqa: E731
    mut("groups_input_not_dividing", lambda d: arr(d).update(groups_input=3), a)
    mut("groups_layer1x1_not_dividing", lambda d: arr(d).update(layer1x1={"active": True, "groups": 4}), a)
    mut("groups_head1x1_not_dividing", lambda d: arr(d).update(
        head1x1={"active": True, "out_channels": 3, "groups": 2}), a)
    mut("film_groups_not_dividing", lambda d: arr(d)["conv_pre_film"].update(groups=2), a)
    mut("film_not_an_object", lambda d: arr(d).update(conv_post_film=5), a)
    mut("film_on_inactive_layer1x1", lambda d: arr(d).update(
        layer1x1={"active": False, "groups": 1}, bottleneck=4), a)
    mut("film_on_inactive_head1x1", lambda d: arr(d).update(
        head1x1={"active": False, "out_channels": 2, "groups": 1}), a)
    mut("bottleneck_without_layer1x1", lambda d: arr(d).update(
        layer1x1={"active": False, "groups": 1}, layer1x1_post_film={"active": False}), a)
    mut("prelu_slopes_mismatch", lambda d: arr(d)["activation"].__setitem__(
        1, {"type": "PReLU", "negative_slopes": [0.1, 0.2, 0.3]}), a)
    mut("post_head_in_channels_mismatch", lambda d: d["config"]["head"].update(in_channels=3), a)
    mut("a2_weights_short", lambda d: d["weights"].pop(), a)

    def head_widths(d):
        second = copy.deepcopy(arr(d))
        second.update(input_size=4, head={"out_channels": 1, "kernel_size": 1, "bias": True})
        arr(d)["head"]["out_channels"] = 3
        d["config"]["layers"].append(second)
        d["config"]["head"] = None
    mut("head_widths_dont_chain", head_widths, a)

    # Condition DSP: a nested model whose output is the condition.
    def cond_width(d):
        # A condition DSP with 3 output channels (its head rechannel: 3 x 2 weights and 3
        # biases instead of 2 and 1) for layers that expect 1.
        c = wavenet()
        c["config"]["layers"][0]["head_size"] = 3
        c["weights"][-1:-1] = [0.1] * 6
        d["config"]["condition_dsp"] = c
    mut("condition_dsp_width_mismatch", cond_width)

    def film_width(d):
        # A 3-channel condition and a FiLM of the 2-channel layer input in 3 groups: the
        # groups split the condition but not the FiLM's 2 scales.
        cond_width(d)
        d["config"]["layers"][0].update(
            condition_size=3, conv_pre_film={"active": True, "shift": False, "groups": 3})
    mut("film_groups_vs_width", film_width)
    mut("condition_dsp_bad_nested", lambda d: d["config"].update(
        condition_dsp=dict(wavenet(), version="0.9.0")))
    write("nesting_too_deep", nested_condition(7))

    # SlimmableContainer.
    c = container()
    write("valid_container", c)
    mut("container_empty", lambda d: d["config"].update(submodels=[]), c)
    mut("container_not_ascending", lambda d: d["config"]["submodels"][1].update(max_value=0.5), c)
    mut("container_last_below_one", lambda d: d["config"]["submodels"][1].update(max_value=0.9), c)
    mut("container_missing_max_value", lambda d: d["config"]["submodels"][0].pop("max_value"), c)
    mut("container_rate_mismatch", lambda d: d["config"]["submodels"][1]["model"].update(sample_rate=44100), c)
    mut("container_weights_not_empty", lambda d: d.update(weights=[0.5]), c)
    mut("container_submodel_bad", lambda d: d["config"]["submodels"][1]["model"]["config"]["layers"][0]
        .update(channels=0), c)
    mut("container_submodel_no_version", lambda d: d["config"]["submodels"][0]["model"].pop("version"), c)
    mut("container_too_many", lambda d: d["config"].update(
        submodels=[{"max_value": 0.05 * (i + 1), "model": linear()} for i in range(20)]), c)

    # Slimmable WaveNet.
    slim = {"method": "slice_channels_uniform", "kwargs": {"allowed_channels": [2, 4]}}
    mut("slimmable_unknown_method", lambda d: d["config"]["layers"][0].update(
        slimmable={"method": "prune_randomly"}))
    mut("slimmable_bad_allowed", lambda d: d["config"]["layers"][0].update(
        slimmable={"method": "slice_channels_uniform", "kwargs": {"allowed_channels": [2, 1]}}))
    mut("slimmable_grouped", lambda d: arr(d).update(slimmable=slim), a)

    # Sequential.
    q = sequential()
    write("valid_sequential", q)
    mut("sequential_empty", lambda d: d["config"].update(models=[]), q)
    mut("sequential_weights_version_1", lambda d: d["config"].update(weights_version=1), q)
    mut("sequential_child_incomplete", lambda d: d["config"]["models"][1]["model"].pop("config"), q)
    mut("sequential_rate_mismatch", lambda d: d["config"]["models"][0].update(sample_rate=44100), q)

    # ConvNet and Linear.
    cn = convnet()
    write("valid_convnet", cn)
    mut("convnet_groups", lambda d: d["config"].update(groups=2), cn)
    mut("convnet_missing_activation", lambda d: d["config"].pop("activation"), cn)
    mut("convnet_batchnorm_negative_variance", lambda d: d["weights"].__setitem__(6, -1.0), cn)
    mut("convnet_weights_short", lambda d: d["weights"].pop(), cn)
    li = linear()
    write("valid_linear", li)
    mut("linear_zero_taps", lambda d: d["config"].update(receptive_field=0), li)
    mut("linear_weights_short", lambda d: d["weights"].pop(), li)
    mut("architecture_packed", lambda d: d.update(architecture="PackedWaveNet"))
    mut("lstm_zero_hidden", lambda d: d["config"].update(hidden_size=0), lstm())
    mut("lstm_huge_hidden", lambda d: d["config"].update(hidden_size=1 << 20), lstm())
    mut("lstm_input_size_2", lambda d: d["config"].update(input_size=2), lstm())
    mut("lstm_missing_layers", lambda d: d["config"].pop("num_layers"), lstm())
    mut("lstm_weights_short", lambda d: d["weights"].pop(), lstm())
    # Deep nesting: serde_json's recursion limit must answer, not the stack.
    write("deeply_nested", "[" * 100000 + "]" * 100000)
    print(f"wrote {len(list(OUT.glob('*.nam')))} files to {OUT}")


if __name__ == "__main__":
    main()
