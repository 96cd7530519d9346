"""Read and write Tubeless's plugin state from Python hosts, for scripted reamping.

Tubeless's state is nice-plug's JSON: {"version", "params": {...}, "fields": {...}},
where every persisted field is itself a JSON string. The field "model" names the model
and carries a copy of it; {"path": "/abs/amp.nam"} alone is enough to load one.

pedalboard's `raw_state` for a VST3 wraps that JSON the way JUCE does ("VC2!", a length,
and an XML document holding the component state in JUCE's own base64). This module
unwraps and rewraps it, so a script only deals with the JSON:

    import pedalboard, tubeless_state
    amp = pedalboard.load_plugin("Tubeless.vst3")
    tubeless_state.set_model(amp, "/abs/path/amp.nam")
    out = amp(di, sample_rate)

Standard library only.
"""

import json
import re
import struct

_JUCE_B64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
_JUCE_INDEX = {c: i for i, c in enumerate(_JUCE_B64)}


def _juce_b64_decode(text: str) -> bytes:
    size_text, _, chars = text.partition(".")
    size = int(size_text)
    out = bytearray(size)
    bit = 0
    for c in chars:
        v = _JUCE_INDEX[c]
        for k in range(6):
            if bit >= size * 8:
                break
            if v >> k & 1:
                out[bit >> 3] |= 1 << (bit & 7)
            bit += 1
    return bytes(out)


def _juce_b64_encode(data: bytes) -> str:
    n_chars = (len(data) * 8 + 5) // 6
    total_bits = len(data) * 8
    chars = []
    for i in range(n_chars):
        v = 0
        for k in range(6):
            b = i * 6 + k
            if b < total_bits and data[b >> 3] >> (b & 7) & 1:
                v |= 1 << k
        chars.append(_JUCE_B64[v])
    return f"{len(data)}." + "".join(chars)


def unwrap(raw: bytes) -> bytes:
    """The plugin's own state bytes from a host's raw state (JUCE-wrapped or not)."""
    if raw[:4] != b"VC2!":
        return raw
    (size,) = struct.unpack("<I", raw[4:8])
    xml = raw[8 : 8 + size].decode("utf-8")
    m = re.search(r"<IComponent>([^<]*)</IComponent>", xml)
    if not m:
        raise ValueError("no IComponent in the VST3 state")
    return _juce_b64_decode(m.group(1).strip())


def wrap(raw_template: bytes, component: bytes) -> bytes:
    """`raw_template` (a host's raw state) with its component state replaced."""
    if raw_template[:4] != b"VC2!":
        return component
    (size,) = struct.unpack("<I", raw_template[4:8])
    xml = raw_template[8 : 8 + size].decode("utf-8")
    new = re.sub(
        r"<IComponent>[^<]*</IComponent>",
        lambda _m: "<IComponent>" + _juce_b64_encode(component) + "</IComponent>",
        xml,
    ).encode("utf-8")
    return b"VC2!" + struct.pack("<I", len(new)) + new + raw_template[8 + size :]


def get_state(plugin) -> dict:
    """The plugin's state as JSON, with the "model" field parsed."""
    state = json.loads(unwrap(plugin.raw_state))
    if "model" in state.get("fields", {}):
        state["fields"]["model"] = json.loads(state["fields"]["model"])
    return state


def set_state(plugin, state: dict) -> None:
    state = json.loads(json.dumps(state))
    fields = state.setdefault("fields", {})
    if "model" in fields and not isinstance(fields["model"], str):
        fields["model"] = json.dumps(fields["model"])
    body = json.dumps(state).encode("utf-8")
    plugin.raw_state = wrap(plugin.raw_state, body)


def set_model(plugin, path: str) -> None:
    """Loads the model at `path` (absolute) into the plugin."""
    state = get_state(plugin)
    state["fields"]["model"] = {"path": path}
    set_state(plugin, state)
