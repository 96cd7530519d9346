#!/usr/bin/env python3
"""Train Tubeless' demo model (assets/demo_amp.nam) with the official NAM trainer.

What it does:
  1. Builds a training input (48 kHz, about 62 s): the trainer's own bundled
     loudness clip (nam/models/_resources/loudness_input.wav) at three levels,
     seven synthetic DI riffs from tools/synth_di.py (other seeds, transposed
     from -3 to +7 semitones, peaks from -12 to -1 dBFS), log sine sweeps at three levels and a noise
     level ramp. neural-amp-modeler 0.13.0 does not ship its standard capture
     signal (v3_0_0.wav is a separate download), hence the synthetic input.
  2. Runs it through tools/synth_amp.py to get the targets ("reamping").
  3. Validation: assets/demo_di.wav (the README's demo clip, never trained on)
     through the same amp.
  4. Trains the "feather" WaveNet (8 -> 4 channels, 4 -> 1, kernel 3, Tanh,
     receptive field 4093; the trainer 0.12 preset, written in 0.13's config
     schema) with nam.train.lightning_module.LightningModule on the CPU with one
     thread, fixed seeds and deterministic algorithms.
  5. Exports the best checkpoint (lowest validation ESR) with the trainer's own
     exporter (`model.net.export`), i.e. a plain "WaveNet" .nam, version 0.7.0,
     not the SlimmableContainer that 0.13's simplified trainer writes for its
     packed default model.

Run with the trainer's venv (Python 3.11, neural-amp-modeler==0.13.0):

    /work/venv-nam/bin/python tools/train_demo.py            # ~5-7 min on one core

Scratch files (WAVs, checkpoints) go to out/train_demo/ (git-ignored).
"""

from __future__ import annotations

import os

# One thread everywhere, before torch / numpy load their thread pools.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse
import importlib.resources
import json
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import pytorch_lightning as pl  # noqa: E402

import nam  # noqa: E402
from nam.data import Split, init_dataset  # noqa: E402
from nam.models.metadata import GearType, ToneType, UserMetadata  # noqa: E402
from nam.train.lightning_module import LightningModule  # noqa: E402

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
import synth_amp  # noqa: E402
import synth_di  # noqa: E402

FS = 48_000
SEED = 0
EXPECTED_NAM_VERSION = "0.13.0"

# trainer 0.12.3 "feather" preset, in 0.13's layers_configs schema.
FEATHER = {
    "layers_configs": [
        {
            "input_size": 1,
            "condition_size": 1,
            "channels": 8,
            "head": {"out_channels": 4, "kernel_size": 1, "bias": False},
            "kernel_size": 3,
            "dilations": [1, 2, 4, 8, 16, 32, 64],
            "activation": "Tanh",
        },
        {
            "input_size": 8,
            "condition_size": 1,
            "channels": 4,
            "head": {"out_channels": 1, "kernel_size": 1, "bias": True},
            "kernel_size": 3,
            "dilations": [128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
            "activation": "Tanh",
        },
    ],
    "head_scale": 0.02,
}

USER_METADATA = UserMetadata(
    name="Tubeless Demo Amp",
    modeled_by="Tubeless",
    gear_make="Tubeless",
    gear_model="Synthetic Tube Amp",
    gear_type=GearType.AMP,
    tone_type=ToneType.CRUNCH,
)


def db(x: float) -> float:
    return 10.0 ** (x / 20.0)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * FS)))


def log_sweep(f0: float, f1: float, seconds: float, peak_dbfs: float) -> np.ndarray:
    t = np.arange(int(round(seconds * FS))) / FS
    k = np.log(f1 / f0)
    phase = 2 * np.pi * f0 * seconds / k * (np.exp(t * k / seconds) - 1.0)
    y = np.sin(phase)
    ramp = int(0.01 * FS)
    y[:ramp] *= np.linspace(0, 1, ramp)
    y[-ramp:] *= np.linspace(1, 0, ramp)
    return db(peak_dbfs) * y


def noise_ramp(seconds: float, lo_dbfs: float, hi_dbfs: float,
               rng: np.random.Generator) -> np.ndarray:
    """Guitar-band noise (one-pole low-passed at ~3 kHz, no DC) whose RMS level
    rises linearly in dB."""
    n = int(round(seconds * FS))
    w = rng.normal(0.0, 1.0, n)
    a = 1.0 - np.exp(-2 * np.pi * 3000.0 / FS)
    # One-pole low-pass via a closed-form IIR in NumPy (scipy is in the venv).
    from scipy import signal
    y = signal.lfilter([a], [1.0, a - 1.0], w)
    y = signal.lfilter([1.0, -1.0], [1.0, -0.995], y)  # DC block
    y /= np.sqrt(np.mean(y ** 2))
    env = db(np.linspace(lo_dbfs, hi_dbfs, n))
    return np.clip(y * env, -1.0, 1.0)


def loudness_clip() -> np.ndarray:
    """The 1 s clip the trainer uses for the `loudness` metadata."""
    res = importlib.resources.files("nam").joinpath("models/_resources/loudness_input.wav")
    with importlib.resources.as_file(res) as p:
        x, fs = synth_amp.read_wav(str(p))
    assert fs == FS, fs
    return x


def training_input() -> np.ndarray:
    rng = np.random.default_rng(1234)
    parts = [silence(0.5)]
    lc = loudness_clip()
    for g in (-12.0, -6.0, 0.0):
        parts += [db(g) * lc, silence(0.25)]
    # Synthetic riffs: seeds different from the demo clip's, transposed, at a
    # spread of pickup levels.
    takes = [(-12, 2), (-8, -2), (-6, 5), (-4, -3), (-3, 3), (-2, 7), (-1, 0)]
    for i, (peak, transpose) in enumerate(takes):
        x = synth_di.synthesize(seed=100 + i, peak_dbfs=peak, transpose=transpose)
        parts += [x, silence(0.2)]
    for peak in (-24.0, -12.0, -4.0):
        parts += [log_sweep(30.0, 15_000.0, 1.5, peak), silence(0.2)]
    parts += [noise_ramp(4.0, -50.0, -8.0, rng), silence(0.3)]
    return np.concatenate(parts)


def esr(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((pred - target) ** 2) / np.mean(target ** 2))


class EpochPrinter(pl.Callback):
    def __init__(self):
        self.t0 = time.time()

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        m = trainer.callback_metrics
        print(f"epoch {trainer.current_epoch:3d}  val ESR {float(m['ESR']):.5f}  "
              f"lr {trainer.optimizers[0].param_groups[0]['lr']:.2e}  "
              f"t {time.time() - self.t0:6.1f} s", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description="Train assets/demo_amp.nam")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--ny", type=int, default=16384)
    p.add_argument("--lr", type=float, default=0.006)
    p.add_argument("--gamma", type=float, default=0.88, help="ExponentialLR per epoch")
    p.add_argument("--workdir", type=Path, default=ROOT / "out" / "train_demo")
    p.add_argument("--output", type=Path, default=ROOT / "assets" / "demo_amp.nam")
    args = p.parse_args()

    if nam.__version__ != EXPECTED_NAM_VERSION:
        print(f"WARNING: neural-amp-modeler {nam.__version__}, this script was made "
              f"for {EXPECTED_NAM_VERSION}", file=sys.stderr)
    t_start = time.time()
    random.seed(SEED)
    np.random.seed(SEED)
    pl.seed_everything(SEED, workers=True)
    torch.use_deterministic_algorithms(True)

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    # --- Data -------------------------------------------------------------
    x_train = training_input()
    y_train = synth_amp.process(x_train, FS)
    demo_di = ROOT / "assets" / "demo_di.wav"
    if demo_di.exists():
        x_val, fs = synth_amp.read_wav(str(demo_di))
        assert fs == FS
    else:
        x_val = synth_di.synthesize()
    y_val = synth_amp.process(x_val, FS)
    paths = {}
    for name, sig in (("x_train", x_train), ("y_train", y_train),
                      ("x_val", x_val), ("y_val", y_val)):
        paths[name] = str(work / f"{name}.wav")
        synth_amp.write_wav24(paths[name], sig, FS)
    print(f"train {len(x_train) / FS:.1f} s (target peak {np.max(np.abs(y_train)):.2f}), "
          f"validation {len(x_val) / FS:.1f} s; data ready in {time.time() - t_start:.1f} s",
          flush=True)

    # --- Model and datasets (the trainer's own classes) -------------------
    model_config = {
        "net": {"name": "WaveNet", "config": json.loads(json.dumps(FEATHER))},
        "loss": {"val_loss": "esr"},
        "optimizer": {"lr": args.lr},
        "lr_scheduler": {"class": "ExponentialLR", "kwargs": {"gamma": args.gamma}},
    }
    model = LightningModule.init_from_config(json.loads(json.dumps(model_config)))
    rf = model.net.receptive_field
    data_config = {
        "train": {"x_path": paths["x_train"], "y_path": paths["y_train"], "ny": args.ny},
        "validation": {"x_path": paths["x_val"], "y_path": paths["y_val"], "ny": None},
        "common": {"nx": rf, "delay": 0},
    }
    ds_train = init_dataset(data_config, Split.TRAIN)
    ds_val = init_dataset(data_config, Split.VALIDATION)
    model.net.sample_rate = ds_train.sample_rate
    for ds in (ds_train, ds_val):
        ds.handshake(model.net)
        model.net.handshake(ds)
    dl_train = torch.utils.data.DataLoader(ds_train, batch_size=args.batch_size,
                                           shuffle=True, drop_last=True, num_workers=0)
    dl_val = torch.utils.data.DataLoader(ds_val)

    ckpt = pl.callbacks.ModelCheckpoint(dirpath=work / "checkpoints",
                                        filename="{epoch:03d}_{ESR:.5f}",
                                        monitor="val_loss", save_top_k=1)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=args.epochs, deterministic=True,
        callbacks=[ckpt, EpochPrinter()], logger=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=str(work),
        num_sanity_val_steps=0,
    )
    t_fit = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, dl_train, dl_val)
    fit_s = time.time() - t_fit

    # --- Best checkpoint, validation ESR, export --------------------------
    best = LightningModule.load_from_checkpoint(
        ckpt.best_model_path, **LightningModule.parse_config(json.loads(json.dumps(model_config))))
    best.cpu().eval()
    best.net.sample_rate = ds_train.sample_rate
    with torch.no_grad():
        pred = best.net(torch.tensor(x_val, dtype=torch.float32), pad_start=True).numpy()
    val_esr = esr(pred.astype(np.float64), y_val)
    print(f"best checkpoint {Path(ckpt.best_model_path).name}: validation ESR "
          f"{val_esr:.5f} on demo_di.wav ({fit_s:.0f} s of training)", flush=True)

    out = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    training_md = {
        "validation_esr": val_esr,
        "trainer": f"neural-amp-modeler {nam.__version__}",
        "architecture_preset": "feather (trainer 0.12.3 preset)",
        "data": "synthetic: tools/synth_di.py riffs, sweeps, noise and the trainer's "
                "loudness clip through tools/synth_amp.py",
        "validation_data": "assets/demo_di.wav through tools/synth_amp.py",
        "epochs": args.epochs,
        "seed": SEED,
        "train_seconds": round(len(x_train) / FS, 2),
    }
    best.net.export(out.parent, basename=out.stem, user_metadata=USER_METADATA,
                    other_metadata={"validation_esr": val_esr, "training": training_md})

    # Sanity: the written file reloads in the trainer and reproduces the model.
    from nam.models._from_nam import init_from_nam
    with open(out) as fp:
        d = json.load(fp)
    reloaded = init_from_nam(d)
    with torch.no_grad():
        pred2 = reloaded(torch.tensor(x_val, dtype=torch.float32), pad_start=True).numpy()
    diff = float(np.max(np.abs(pred2 - pred)))
    print(f"wrote {out} ({out.stat().st_size} bytes): architecture {d['architecture']}, "
          f"version {d['version']}, sample_rate {d.get('sample_rate')}, "
          f"{len(d['weights'])} weights, loudness {d['metadata'].get('loudness'):.2f} dB, "
          f"reload max |diff| {diff:.2e}")
    print(f"total {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
