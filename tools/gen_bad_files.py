#!/usr/bin/env python3
"""Writes crates/nam/tests/bad_files/: broken and hostile .nam files, each one defect away from a
valid tiny WaveNet or LSTM. crates/nam/tests/bad_files.rs asserts the exact error for each.

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
    mut("post_stack_head", lambda d: d["config"].update(head={"layers": []}))
    mut("gating_blended", lambda d: d["config"]["layers"][0].update(gating_mode=["blended", "none"]))
    mut("gating_unknown", lambda d: d["config"]["layers"][0].update(gating_mode="sometimes"))
    mut("film_active", lambda d: d["config"]["layers"][0].update(
        conv_pre_film={"active": True, "shift": True, "groups": 1}))
    mut("bottleneck", lambda d: d["config"]["layers"][0].update(bottleneck=4))
    mut("head_kernel", lambda d: d["config"]["layers"][0].update(
        head={"out_channels": 1, "kernel_size": 4, "bias": True}))
    mut("condition_dsp", lambda d: d["config"].update(condition_dsp=wavenet()))
    mut("container", lambda d: d.update(architecture="SlimmableContainer"))
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
