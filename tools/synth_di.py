#!/usr/bin/env python3
"""Synthesize Tubeless' demo guitar DI clip (assets/demo_di.wav).

A short mono riff of Karplus-Strong plucked strings, shaped like what a passive
pickup sends into an audio interface: single notes from E2 to E5, strummed open
chords with staggered string onsets, palm-muted chugs and a final ringing chord.
Peaks sit around -4 dBFS.

Deterministic: NumPy only, fixed seed, no wall-clock or platform input.
Written as 24-bit PCM, mono, 48 kHz with the stdlib `wave` module.

    python3 tools/synth_di.py                      # writes assets/demo_di.wav
    python3 tools/synth_di.py -o out.wav --seed 7  # another take of the same riff

`synthesize()` is also imported by tools/train_demo.py to make extra
guitar-like training material (other seeds, other levels).
"""

from __future__ import annotations

import argparse
import os
import wave

import numpy as np

SAMPLE_RATE = 48_000
DEFAULT_SEED = 20240611
DURATION_S = 6.8  # 6.8 s * 48 kHz * 3 bytes < 1 MB
PEAK_DBFS = -4.0

# Standard tuning, low to high (string index 0 = low E).
OPEN_STRINGS = ["E2", "A2", "D3", "G3", "B3", "E4"]
_NOTE_INDEX = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6,
               "G": 7, "G#": 8, "A": 9, "A#": 10, "B": 11}


def note_hz(name: str) -> float:
    """'E2' -> 82.41 Hz (A4 = 440 Hz, equal temperament)."""
    pitch, octave = name[:-1], int(name[-1])
    midi = 12 * (octave + 1) + _NOTE_INDEX[pitch]
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def _one_pole_lowpass(x: np.ndarray, fc: float, fs: int) -> np.ndarray:
    """y[n] = y[n-1] + a (x[n] - y[n-1]); short inputs only (excitations)."""
    a = 1.0 - np.exp(-2.0 * np.pi * fc / fs)
    y = np.empty_like(x)
    acc = 0.0
    for i, v in enumerate(x):
        acc += a * (v - acc)
        y[i] = acc
    return y


def _biquad(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Direct form I biquad (a[0] == 1). A plain loop (NumPy has no IIR filter);
    used twice on the final mix, about half a second."""
    y = np.zeros_like(x)
    x1 = x2 = y1 = y2 = 0.0
    b0, b1, b2 = b
    _, a1, a2 = a
    for i, v in enumerate(x):
        out = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1 = x1, v
        y2, y1 = y1, out
        y[i] = out
    return y


def _rbj_lowpass(fc: float, q: float, fs: int):
    w0 = 2 * np.pi * fc / fs
    alpha = np.sin(w0) / (2 * q)
    cw = np.cos(w0)
    b = np.array([(1 - cw) / 2, 1 - cw, (1 - cw) / 2])
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / a[0], a / a[0]


def _rbj_highpass(fc: float, q: float, fs: int):
    w0 = 2 * np.pi * fc / fs
    alpha = np.sin(w0) / (2 * q)
    cw = np.cos(w0)
    b = np.array([(1 + cw) / 2, -(1 + cw), (1 + cw) / 2])
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / a[0], a / a[0]


def pluck(f0: float, n_samples: int, rng: np.random.Generator, *, t60: float,
          brightness: float = 0.5, pick_pos: float = 0.14, muted: bool = False,
          fs: int = SAMPLE_RATE) -> np.ndarray:
    """One Karplus-Strong string, `n_samples` long, unit-ish amplitude.

    The loop is delay D + a short FIR (two-point average, or a three-point
    smoother for a palm mute, convolved with a linear fractional delay) so the
    total loop delay is exactly fs / f0. Every FIR tap lags by >= D samples, so
    the recursion is computed one period (D samples) at a time in NumPy.
    """
    period = fs / f0
    smooth = np.array([0.25, 0.5, 0.25]) if muted else np.array([0.5, 0.5])
    smooth_delay = (len(smooth) - 1) / 2.0
    total = period - smooth_delay
    d = int(np.floor(total))
    frac = total - d
    loop = np.convolve(smooth, [1.0 - frac, frac])  # taps at lags d, d+1, ...
    # Loop gain per period so the fundamental decays by 60 dB in t60 seconds.
    rho = 10.0 ** (-3.0 / (f0 * t60))
    loop = loop * rho

    # Excitation: one period of noise, darker for soft/muted picking, with the
    # comb notch of the picking position along the string.
    n_exc = int(round(period))
    exc = rng.uniform(-1.0, 1.0, n_exc)
    cutoff = 600.0 + 7000.0 * brightness ** 2
    if muted:
        cutoff = min(cutoff, 1200.0)
    exc = _one_pole_lowpass(exc, cutoff, fs)
    exc = _one_pole_lowpass(exc, cutoff * 1.5, fs)
    lag = max(1, int(round(pick_pos * period)))
    exc = exc - np.concatenate([np.zeros(lag), exc[:-lag]])
    exc -= exc.mean()
    exc /= np.max(np.abs(exc)) + 1e-12

    n_taps = len(loop)
    hist = d + n_taps  # samples of history the recursion needs
    y = np.zeros(hist + n_samples + d)
    x = np.zeros_like(y)
    x[hist:hist + n_exc] = exc
    for start in range(hist, hist + n_samples, d):
        stop = start + d
        acc = x[start:stop].copy()
        for k, g in enumerate(loop):
            lagged = d + k
            acc += g * y[start - lagged:stop - lagged]
        y[start:stop] = acc
    return y[hist:hist + n_samples]


def _fade(n: int, fs: int = SAMPLE_RATE, release_s: float = 0.03) -> np.ndarray:
    """Envelope of 1s ending in a short cosine release (string damped by hand)."""
    env = np.ones(n)
    r = min(n, int(release_s * fs))
    env[n - r:] = 0.5 * (1 + np.cos(np.linspace(0, np.pi, r)))
    return env


class Riff:
    def __init__(self, duration_s: float, rng: np.random.Generator, fs: int = SAMPLE_RATE,
                 transpose: int = 0):
        self.fs = fs
        self.transpose = transpose
        self.rng = rng
        self.out = np.zeros(int(round(duration_s * fs)))

    def note(self, name: str, start: float, dur: float, vel: float = 0.8, *,
             t60: float | None = None, muted: bool = False, brightness: float | None = None):
        """Add one plucked note; `dur` is how long it rings before being damped."""
        f0 = note_hz(name) * 2.0 ** (self.transpose / 12.0)
        if t60 is None:
            # Low strings ring longer than high ones.
            t60 = 0.25 if muted else float(np.clip(3.2 * (82.4 / f0) ** 0.45, 0.9, 3.5))
        if brightness is None:
            brightness = 0.25 + 0.5 * vel
        n0 = int(round(start * self.fs))
        if n0 >= len(self.out):
            return
        n = min(int(round(dur * self.fs)), len(self.out) - n0)
        pick = self.rng.uniform(0.10, 0.18)
        s = pluck(f0, n, self.rng, t60=t60, brightness=brightness, pick_pos=pick,
                  muted=muted, fs=self.fs)
        s *= _fade(n, self.fs, 0.012 if muted else 0.03)
        # Pickup output falls a little with pitch (fewer turns' worth of swing on
        # thin strings); velocity gives the dynamics.
        level = vel * (82.4 / f0) ** 0.15
        self.out[n0:n0 + n] += level * s

    def strum(self, names, start: float, dur: float, vel: float = 0.8, *,
              down: bool = True, spread_s: float = 0.012, muted: bool = False):
        """Strings hit one after another (low to high for a down-strum)."""
        order = list(names) if down else list(reversed(names))
        for i, name in enumerate(order):
            jitter = self.rng.uniform(-0.002, 0.002)
            t = start + i * spread_s + jitter
            v = vel * self.rng.uniform(0.85, 1.0) * (1.0 - 0.04 * i)
            self.note(name, t, dur - i * spread_s, v, muted=muted)


CHORDS = {
    "E": ["E2", "B2", "E3", "G#3", "B3", "E4"],
    "A": ["A2", "E3", "A3", "C#4", "E4"],
    "D": ["D3", "A3", "D4", "F#4"],
    "G": ["G2", "B2", "D3", "G3", "D4", "G4"],
    "E5": ["E2", "B2", "E3"],
    "G5": ["G2", "D3", "G3"],
    "A5": ["A2", "E3", "A3"],
}


def synthesize(seed: int = DEFAULT_SEED, duration_s: float = DURATION_S,
               peak_dbfs: float = PEAK_DBFS, fs: int = SAMPLE_RATE,
               transpose: int = 0) -> np.ndarray:
    """The demo riff as float64 in [-1, 1], peak at `peak_dbfs`.

    `transpose` (semitones) and `seed` give other takes for training material;
    the demo clip is the default seed, untransposed.
    """
    rng = np.random.default_rng(seed)
    r = Riff(duration_s, rng, fs, transpose)

    # 0.0 - 2.1 s: open low E let ring, then a single-note line up to E5.
    r.note("E2", 0.00, 2.1, 0.85)
    line = [("E3", 0.40), ("G3", 0.58), ("A3", 0.76), ("B3", 0.94), ("D4", 1.12),
            ("E4", 1.30), ("G4", 1.45), ("B4", 1.60)]
    for i, (name, t) in enumerate(line):
        nxt = line[i + 1][1] if i + 1 < len(line) else 1.75
        r.note(name, t, nxt - t + 0.01, rng.uniform(0.6, 0.8))
    r.note("E5", 1.75, 0.55, 0.8)

    # 2.2 - 4.3 s: strummed open chords, down and up strums.
    r.strum(CHORDS["E"], 2.20, 0.55, 0.9)
    r.strum(CHORDS["A"], 2.75, 0.55, 0.85)
    r.strum(CHORDS["D"], 3.30, 0.30, 0.8)
    r.strum(CHORDS["D"][1:], 3.60, 0.26, 0.55, down=False, spread_s=0.008)
    r.strum(CHORDS["G"], 3.86, 0.50, 0.9)

    # 4.4 - 5.9 s: palm-muted chugs on low E with power-chord accents.
    t = 4.40
    eighth = 0.125
    pattern = ["x", "x", "x", "P:E5", "x", "x", "P:G5", "x", "x", "P:A5", "x", "x"]
    for step in pattern:
        if step == "x":
            r.note("E2", t, 0.12, rng.uniform(0.7, 0.9), muted=True)
        else:
            r.strum(CHORDS[step[2:]], t, 0.12, 0.95, spread_s=0.004, muted=True)
        t += eighth

    # 5.95 s - end: open E power chord plus E5 on top, left to ring out.
    r.strum(CHORDS["E5"], 5.95, duration_s - 5.95, 1.0, spread_s=0.010)
    r.note("E5", 6.00, duration_s - 6.00, 0.7)

    y = r.out
    # Passive pickup + cable: a resonant peak around 4 kHz then roll-off, and the
    # interface's input coupling (DC block).
    b, a = _rbj_lowpass(4200.0, 1.6, fs)
    y = _biquad(y, b, a)
    b, a = _rbj_highpass(30.0, 0.707, fs)
    y = _biquad(y, b, a)
    # Tiny noise floor (about -95 dBFS RMS) so silence is not digital zero.
    y = y + rng.normal(0.0, 1.0, len(y)) * 10 ** (-95 / 20)
    # Fade the last 80 ms so the file ends on zero.
    nf = int(0.08 * fs)
    y[-nf:] *= np.linspace(1.0, 0.0, nf)
    y *= 10 ** (peak_dbfs / 20) / np.max(np.abs(y))
    return y


def write_wav24(path: str, x: np.ndarray, fs: int = SAMPLE_RATE) -> None:
    """Mono 24-bit little-endian PCM via the stdlib wave module."""
    q = np.clip(np.round(x * 8388608.0), -8388608, 8388607).astype("<i4")
    raw = q.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(fs)
        w.writeframes(raw)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "assets", "demo_di.wav")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", default=default_out)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args()
    y = synthesize(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    write_wav24(args.output, y)
    peak = 20 * np.log10(np.max(np.abs(y)))
    rms = 20 * np.log10(np.sqrt(np.mean(y ** 2)))
    print(f"wrote {args.output}: {len(y) / SAMPLE_RATE:.2f} s, peak {peak:.1f} dBFS, "
          f"RMS {rms:.1f} dBFS")


if __name__ == "__main__":
    main()
