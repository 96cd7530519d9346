#!/usr/bin/env python3
"""Tubeless' own synthetic tube amp: the "real amp" behind assets/demo_amp.nam.

Signal chain (all causal, deterministic, float64):

  pre-filter   2nd-order high-pass at 100 Hz (input coupling, tightens the lows)
               +6 dB peaking mid boost at 720 Hz, Q 0.8
  stage 1      x4 oversampled, gain 4.5, asymmetric soft clip: tanh on the positive
               half-wave, a harder-kneed algebraic curve with a lower ceiling
               (0.62) on the negative half: even harmonics like a biased triode
  coupling     15 Hz DC block (the bias shift of the asymmetric stage settles
               through it, as through a coupling capacitor) and a gentle 7 kHz
               one-pole (Miller capacitance)
  stage 2      gain 2.2, symmetric softer knee x / (1 + |x|^2.5)^(1/2.5)
               (a "power amp" that only rounds off the loudest peaks)
  post-filter  cab-ish: 2nd-order high-pass at 75 Hz, +5 dB speaker resonance at
               110 Hz (Q 1.8), -3 dB at 400 Hz, +3 dB presence at 2.6 kHz,
               4th-order Butterworth low-pass at 5 kHz
  output       x 0.35

The oversampling filters are causal elliptic low-passes, so the whole chain is
causal (a WaveNet can model it exactly in principle). Needs numpy and scipy.

    python3 tools/synth_amp.py in.wav out.wav     # 8/16/24/32-bit integer PCM WAV, 48 kHz
"""

from __future__ import annotations

import argparse
import wave

import numpy as np
from scipy import signal

SAMPLE_RATE = 48_000
OVERSAMPLE = 4


def _peaking(fc: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """RBJ cookbook peaking EQ as one SOS row."""
    a_lin = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / fs
    alpha = np.sin(w0) / (2 * q)
    cw = np.cos(w0)
    b = np.array([1 + alpha * a_lin, -2 * cw, 1 - alpha * a_lin])
    a = np.array([1 + alpha / a_lin, -2 * cw, 1 - alpha / a_lin])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


def _pre_sos(fs: float) -> np.ndarray:
    hp = signal.butter(2, 100.0, "highpass", fs=fs, output="sos")
    return np.vstack([hp, _peaking(720.0, 6.0, 0.8, fs)])


def _post_sos(fs: float) -> np.ndarray:
    hp = signal.butter(2, 75.0, "highpass", fs=fs, output="sos")
    lp = signal.butter(4, 5000.0, "lowpass", fs=fs, output="sos")
    return np.vstack([
        hp,
        _peaking(110.0, 5.0, 1.8, fs),
        _peaking(400.0, -3.0, 1.0, fs),
        _peaking(2600.0, 3.0, 1.5, fs),
        lp,
    ])


def _interstage_sos(fs: float) -> np.ndarray:
    dc = signal.butter(1, 15.0, "highpass", fs=fs, output="sos")
    miller = signal.butter(1, 7000.0, "lowpass", fs=fs, output="sos")
    return np.vstack([dc, miller])


def _aa_sos(fs_os: float) -> np.ndarray:
    # Anti-imaging / anti-aliasing filter for the x4 rate: passband to 19 kHz,
    # 90 dB down from 24 kHz.
    return signal.ellip(10, 0.05, 90, 19_500.0, "lowpass", fs=fs_os, output="sos")


def clip_asym(x: np.ndarray) -> np.ndarray:
    """Stage 1 curve: slope 1 at 0 on both sides, different knees and ceilings."""
    neg_ceiling = 0.62
    return np.where(x >= 0.0, np.tanh(x), x / np.sqrt(1.0 + (x / neg_ceiling) ** 2))


def clip_soft(x: np.ndarray) -> np.ndarray:
    """Stage 2 curve: symmetric, ceiling 1, a softer knee than tanh."""
    return x / (1.0 + np.abs(x) ** 2.5) ** (1.0 / 2.5)


def process(x: np.ndarray, fs: int = SAMPLE_RATE, *, gain: float = 4.5,
            output_level: float = 0.35) -> np.ndarray:
    """Run a mono float signal through the amp; returns the same length."""
    x = np.asarray(x, dtype=np.float64)
    fs_os = fs * OVERSAMPLE
    y = signal.sosfilt(_pre_sos(fs), x)

    # Up: zero-stuff and filter (gain OVERSAMPLE keeps the level).
    up = np.zeros(len(y) * OVERSAMPLE)
    up[::OVERSAMPLE] = y * OVERSAMPLE
    aa = _aa_sos(fs_os)
    up = signal.sosfilt(aa, up)

    up = clip_asym(gain * up)
    up = signal.sosfilt(_interstage_sos(fs_os), up)
    up = clip_soft(2.2 * up)

    # Down: filter and decimate.
    y = signal.sosfilt(aa, up)[::OVERSAMPLE]
    y = signal.sosfilt(_post_sos(fs), y)
    return output_level * y


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Mono (first channel) float64 from an integer-PCM WAV, via the stdlib."""
    with wave.open(path, "rb") as w:
        n_ch, width, fs, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, n_ch, width)[:, 0, :]
    if width == 1:
        return (b[:, 0].astype(np.float64) - 128.0) / 128.0, fs
    # Sign-extend little-endian integers of any width into int32/int64.
    padded = np.zeros((b.shape[0], 8), dtype=np.uint8)
    padded[:, 8 - width:] = b
    v = padded.view("<i8")[:, 0] >> (8 * (8 - width))
    return v.astype(np.float64) / float(1 << (8 * width - 1)), fs


def write_wav24(path: str, x: np.ndarray, fs: int) -> None:
    q = np.clip(np.round(x * 8388608.0), -8388608, 8388607).astype("<i4")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(fs)
        w.writeframes(q.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())


def main() -> None:
    p = argparse.ArgumentParser(description="Run a WAV through Tubeless' synthetic amp.")
    p.add_argument("input")
    p.add_argument("output")
    args = p.parse_args()
    x, fs = read_wav(args.input)
    if fs != SAMPLE_RATE:
        raise SystemExit(f"{args.input}: {fs} Hz, the amp is designed for {SAMPLE_RATE} Hz")
    y = process(x, fs)
    write_wav24(args.output, y, fs)
    print(f"wrote {args.output}: peak {20 * np.log10(np.max(np.abs(y)) + 1e-12):.1f} dBFS")


if __name__ == "__main__":
    main()
