"""The bundled VST3 in a real host, Spotify's pedalboard (JUCE): the parameters are
there with their ranges and units; a model set through `raw_state` renders what the CLI
renders; `raw_state` round-trips. Run by tests/pedalboard.rs, which writes the input and
the CLI's render: python3 pedalboard_test.py VST3 MODEL IN.f32 CLI.f32
"""

import json
import os
import sys

import numpy as np
import pedalboard

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import tubeless_state  # noqa: E402

RATE = 48000.0


# (name in pedalboard, low, high, unit, default): every float parameter.
FLOATS = [
    ("input_db", -20.0, 20.0, "dB", 0.0),
    ("output_db", -40.0, 40.0, "dB", 0.0),
    ("gate_threshold_db", -100.0, 0.0, "dB", -80.0),
    ("gate_attack_ms", 0.1, 500.0, "ms", 5.0),
    ("gate_hold_ms", 0.0, 2000.0, "ms", 10.0),
    ("gate_release_ms", 1.0, 5000.0, "ms", 50.0),
    ("bass", 0.0, 10.0, "", 5.0),
    ("middle", 0.0, 10.0, "", 5.0),
    ("treble", 0.0, 10.0, "", 5.0),
    ("input_calibration_dbu", -60.0, 60.0, "dBu", 12.0),
    ("size", 0.0, 1.0, "", 1.0),
]
# (name, default): every switch.
SWITCHES = [("bypass", False), ("gate", True), ("eq", True), ("cab_ir", True), ("calibrate_input", False)]


def check_parameters(p):
    params = p.parameters
    for name, lo, hi, unit, default in FLOATS:
        assert name in params, (name, list(params))
        par = params[name]
        assert abs(par.range[0] - lo) < 1e-6 and abs(par.range[1] - hi) < 1e-6, (name, par.range)
        assert (par.label or "").strip() == unit, (name, par.label)
        assert abs(getattr(p, name) - default) < 1e-3, (name, getattr(p, name))
    for name, default in SWITCHES:
        assert bool(getattr(p, name)) == default, (name, getattr(p, name))
    assert set(params["channel_mode"].valid_values) == {"Mono", "Dual mono"}
    assert set(params["output_mode"].valid_values) == {"Raw", "Normalized", "Calibrated"}
    assert p.channel_mode == "Mono" and p.output_mode == "Normalized"


def dc_blocked(x, rate):
    """The chain's 5 Hz DC blocker, so its phase lead is not read as a delay."""
    r = np.exp(-2 * np.pi * 5.0 / rate)
    y = np.zeros_like(x, dtype=np.float64)
    x1 = y1 = 0.0
    for i, v in enumerate(x.astype(np.float64)):
        y1 = v - x1 + r * y1
        x1 = v
        y[i] = y1
    return y


def check_alignment(vst3, tmp):
    """At 44.1 and 96 kHz a 48 kHz model is resampled; pedalboard removes the latency the
    plugin reports, so the output lines up with the input: exactly what was reported."""
    ident = os.path.join(tmp, "identity-48k.nam")
    with open(ident, "w") as f:
        json.dump({"version": "0.5.4", "architecture": "Linear", "sample_rate": 48000,
                   "config": {"receptive_field": 1, "bias": False}, "weights": [1.0]}, f)
    for rate in (44100.0, 96000.0):
        p = pedalboard.load_plugin(vst3)
        tubeless_state.set_model(p, ident)
        p.gate = False
        n = int(rate * 0.25)
        length = int(0.004 * rate)
        i = np.arange(length)
        x = np.zeros(n, np.float32)
        x[n // 4 : n // 4 + length] = 0.5 * (0.5 - 0.5 * np.cos(2 * np.pi * i / length)) * np.sin(
            2 * np.pi * 1000 * i / rate
        )
        y = p(np.stack([x, x]), rate)[0].astype(np.float64)
        ref = dc_blocked(x, rate)
        lags = np.arange(-50, 51)
        c = np.array([np.dot(ref[100 : n - 100], y[100 + k : n - 100 + k]) for k in lags])
        k = int(np.argmax(c))
        frac = 0.5 * (c[k - 1] - c[k + 1]) / (c[k - 1] - 2 * c[k] + c[k + 1])
        delay = lags[k] + frac
        assert abs(delay) < 0.05, f"{rate} Hz: output {delay:.3f} samples off the input"
        err = float(np.abs(y - ref).max())
        assert err < 5e-3, f"{rate} Hz: aligned output differs from the input by {err}"
        print(f"pedalboard at {rate:.0f} Hz: aligned within {abs(delay):.3f} samples, error {err:.1e}")


def main():
    vst3, model, in_path, cli_path = sys.argv[1:5]
    x = np.fromfile(in_path, dtype="<f4")
    want = np.fromfile(cli_path, dtype="<f4")
    stereo = np.stack([x, x])

    p = pedalboard.load_plugin(vst3)
    check_parameters(p)

    tubeless_state.set_model(p, model)
    state = tubeless_state.get_state(p)
    assert state["fields"]["model"]["path"] == model, state["fields"]["model"].get("path")
    assert state["fields"]["model"]["embedded"]["codec"] == "nam-f32le-base64"
    y = p(stereo, RATE)
    err = float(np.abs(y[0] - want).max())
    assert y.shape == stereo.shape, y.shape
    assert err <= 1e-6, f"pedalboard render differs from the CLI by {err}"
    assert float(np.abs(y[0] - x).max()) > 0.05, "the model did not play"
    # Same input again: the host resets between calls, the output is the same.
    y2 = p(stereo, RATE)
    assert float(np.abs(y2 - y).max()) == 0.0, "a second render differs"

    # Automation-free parameter change through pedalboard.
    p.output_db = -6.0
    y3 = p(stereo, RATE)
    ratio = float(np.abs(y3[0]).max() / np.abs(y[0]).max())
    assert abs(20 * np.log10(ratio) + 6.0) < 0.05, ratio
    p.output_db = 0.0

    # raw_state round-trips into a fresh instance: same parameters, same model, same sound.
    # A VST3 host hands parameter changes over with the audio: render once so it arrives.
    p.input_db = 4.5
    p(stereo, RATE)
    raw = p.raw_state
    assert tubeless_state.get_state(p)["params"]["in_db"] == {"f32": 4.5}
    y4 = p(stereo, RATE)
    q = pedalboard.load_plugin(vst3)
    q.raw_state = raw
    assert tubeless_state.get_state(q) == tubeless_state.get_state(p)
    assert q.raw_state == raw
    assert abs(q.input_db - 4.5) < 1e-3, q.input_db
    z = q(stereo, RATE)
    assert float(np.abs(z - y4).max()) == 0.0, "restored instance sounds different"
    check_alignment(vst3, os.path.dirname(in_path))
    print(f"pedalboard: parameters ok, CLI parity {err:.2e}, raw_state round trip ok")


if __name__ == "__main__":
    main()
