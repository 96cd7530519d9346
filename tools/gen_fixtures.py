#!/usr/bin/env python3
"""Generate Tubeless' parity fixtures with the official NAM trainer.

Writes into crates/nam/tests/fixtures/ (or --out):

* ``input.f32``          8192 samples of raw little-endian float32, deterministic.
* ``NAME.nam``           the model file exactly as the trainer's exporter writes it
                         (``Exportable.export``), seeded random weights; a container or
                         a sequential model assembled from trainer exports of its parts
                         (only the trainer's PackedWaveNet exports a container itself).
* ``NAME.out.f32``       the trainer's own PyTorch forward pass on input.f32 (float32),
                         under the contracts of tools/nam_numpy.py; for a model with a
                         size control, ``NAME.sK.out.f32`` per size step K.
* ``NAME.fast.f32``      an independent NumPy re-implementation read from the .nam JSON
  (``NAME.sK.fast.f32``) only (tools/nam_numpy.py), with every tanh replaced by the
                         plugin's fast_tanh (and, for LSTM, every sigmoid by
                         0.5*(fast_tanh(x/2)+1)).
* ``manifest.json``      one object per fixture (A2 files from the first round go to a2/
                         and a2/manifest.json); a model with sizes lists them in `sizes`
                         (size used, outputs, receptive field at that size).

The NumPy reference works in float64 on the float32 weights and the float32 input and
its result is rounded to float32 once at the end.  Before a fast reference is trusted,
the same code with the exact tanh/sigmoid is compared with NAME.out.f32 (printed; the
script fails above 2e-5 x max(1, peak)).

LSTM contract: the engine loads h/c from the file, runs 24000 samples (0.5 s at 48 kHz)
of zeros, then the input.  NAME.out.f32 is made by loading the .nam with the trainer's
own loader (``import_weights``: the file's initial h/c become the module's initial
state, the summed bias goes to ``bias_ih``), running the trainer's forward on
``zeros(24000) ++ input`` and keeping the last 8192 samples.

Two trainer versions cannot live in one interpreter (both are the package ``nam``), so
this script runs tools/fixture_worker.py in a subprocess once per trainer version:

* 0.12.3 (legacy writer, schema "0.5.4"): ``pip install --no-deps
  neural-amp-modeler==0.12.3 --target DIR`` and pass ``--nam-0123 DIR``.
* 0.13.0 (schema "0.7.0"): the normal installation in the running interpreter.

Usage:  python tools/gen_fixtures.py [--out crates/nam/tests/fixtures] [--nam-0123 /work/nam-0.12.3]
        [--only NAME...]   (regenerate some fixtures; their manifest entries are updated)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_specs import PRESET_WEIGHTS, fixture_specs  # noqa: E402
from fixture_worker import N_SAMPLES  # noqa: E402
from nam_numpy import NpWaveNet, np_model, size_steps  # noqa: E402

INPUT_SEED = 20250601

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------
# The shared input signal
# ---------------------------------------------------------------------------------------


def make_input(n: int = N_SAMPLES, sr: float = 48000.0) -> np.ndarray:
    """Silence, an impulse, a plucked tone, a loud chirp to +-1.0, a noise burst at
    +-0.3, a quiet passage, a DC step and a silent tail."""
    rng = np.random.default_rng(INPUT_SEED)
    x = np.zeros(n, dtype=np.float64)
    # [0, 256): silence.  256: unit impulse, then its ring-out.
    x[256] = 1.0
    # [768, 2560): plucked-like tone, G3 with 8 decaying harmonics + a short noisy attack.
    s, e = 768, 2560
    t = np.arange(e - s) / sr
    tone = np.zeros(e - s)
    for k in range(1, 9):
        phase = rng.uniform(0.0, 2.0 * np.pi)
        tone += (0.7 ** (k - 1)) * np.sin(2 * np.pi * 196.0 * k * t + phase) * np.exp(
            -t * (6.0 + 5.0 * k)
        )
    tone[:48] += rng.uniform(-0.5, 0.5, 48) * np.linspace(1.0, 0.0, 48)
    x[s:e] = 0.8 * tone / np.max(np.abs(tone))
    # [2560, 4608): exponential chirp 40 Hz -> 12 kHz, rising envelope, peak exactly 1.0.
    s, e = 2560, 4608
    t = np.arange(e - s) / sr
    dur = (e - s) / sr
    f0, f1 = 40.0, 12000.0
    k = np.log(f1 / f0) / dur
    chirp = np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1.0) / k)
    chirp *= np.linspace(0.2, 1.0, e - s)
    x[s:e] = chirp / np.max(np.abs(chirp))
    # [4608, 5888): white noise burst, uniform in +-0.3.
    x[4608:5888] = rng.uniform(-0.3, 0.3, 5888 - 4608)
    # [5888, 7424): quiet passage: 0.01 sine at 440 Hz plus faint noise.
    s, e = 5888, 7424
    t = np.arange(e - s) / sr
    x[s:e] = 0.01 * np.sin(2 * np.pi * 440.0 * t) + 0.002 * rng.standard_normal(e - s)
    # [7424, 7680): DC step of 0.5.  [7680, 8192): silence.
    x[7424:7680] = 0.5
    return x.astype("<f4")


# ---------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------


def run_worker(python, trainer, specs, out_dir, input_path, nam0123):
    with tempfile.TemporaryDirectory() as td:
        job_path = Path(td, "job.json")
        result_path = Path(td, "result.json")
        with open(job_path, "w") as fp:
            json.dump(
                {
                    "trainer": trainer,
                    "out_dir": str(out_dir),
                    "input": str(input_path),
                    "result": str(result_path),
                    "specs": specs,
                },
                fp,
            )
        env = dict(os.environ)
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
        if trainer == "0.12.3":
            env["PYTHONPATH"] = os.pathsep.join([str(nam0123)] + [p for p in [env.get("PYTHONPATH")] if p])
        subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", str(job_path)],
            env=env,
            check=True,
        )
        with open(result_path) as fp:
            return json.load(fp)


def check_fixture(s, info, out_dir, x, failures):
    """NumPy references (exact and fast tanh) for each size of one fixture; its manifest
    entry."""
    name = s["name"]
    fdir = out_dir / s["subdir"]
    with open(fdir / f"{name}.nam") as fp:
        nam = json.load(fp)
    cases = info["cases"]
    steps = size_steps(nam) if len(cases) > 1 else None
    subs = [sub for _, sub in steps] if steps else [nam]
    assert len(subs) == len(cases), name
    for k, (case, sub) in enumerate(zip(cases, subs)):
        out = np.fromfile(fdir / case["output"], dtype="<f4").astype(np.float64)
        m = np_model(sub)
        ref = m.forward(x, fast=False)
        fast = m.forward(x, fast=True)
        err = float(np.max(np.abs(out - ref)))
        dfast = float(np.max(np.abs(fast - out)))
        case["fast"] = case["output"].replace(".out.f32", ".fast.f32")
        fast.astype("<f4").tofile(fdir / case["fast"])
        case["receptive_field"] = m.rf
        if isinstance(m, NpWaveNet):
            assert np.float32(m.head_scale_config) == np.float32(m.head_scale_weight)
        tol = 2e-5 * max(1.0, float(np.max(np.abs(out))))
        flag = "" if err <= tol else "  <-- MISMATCH"
        if flag:
            failures.append(f"{name} step {k}")
        label = name if len(cases) == 1 else f"{name} [{case['size']:.2f}]"
        print(f"{label:40s} {case['peak']:10.4f} {err:18.3e} {dfast:14.3e}{flag}")
        case["max_abs_err_ref_tanh"] = err
        case["max_abs_fast_minus_out"] = dfast
    sr = nam.get("sample_rate")
    entry = {
        "name": name,
        "model": f"{name}.nam",
        "architecture": nam["architecture"],
        "schema": nam["version"],
        "trainer": s["trainer"],
        "samples": N_SAMPLES,
        "sample_rate": 48000 if sr is None else sr,
        "sample_rate_in_file": info["sample_rate_in_file"],
        "receptive_field": cases[-1]["receptive_field"],
        "description": s["description"],
    }
    if len(cases) == 1:
        entry["output"], entry["fast"] = cases[0]["output"], cases[0]["fast"]
    else:
        entry["sizes"] = [{k: c[k] for k in ("size", "output", "fast", "receptive_field")} for c in cases]
    if "preset" in s and s["arch"] == "WaveNet":
        assert len(nam["weights"]) == PRESET_WEIGHTS[s["preset"]], name
    return entry


def write_manifest(path, entries, merge):
    """Writes `entries`; with `merge`, into the manifest already there (by name)."""
    if merge and path.exists():
        # Regenerated entries replace theirs in place; new ones go at the end.
        updated = {e["name"]: e for e in entries}
        old = json.loads(path.read_text())
        entries = [updated.pop(e["name"], e) for e in old] + list(updated.values())
    with open(path, "w") as fp:
        json.dump(entries, fp, indent=2)
        fp.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "crates" / "nam" / "tests" / "fixtures"))
    ap.add_argument(
        "--nam-0123",
        default=os.environ.get("NAM_0123_PATH", "/work/nam-0.12.3"),
        help="directory holding neural-amp-modeler 0.12.3 (pip install --no-deps --target)",
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch + nam 0.13.0")
    ap.add_argument("--only", nargs="*", help="generate only these fixture names")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        from fixture_worker import worker

        worker(args.worker)
        return

    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    x = make_input()
    assert x.shape == (N_SAMPLES,)
    input_path = out_dir / "input.f32"
    x.tofile(input_path)
    print(f"input.f32: {len(x)} samples, peak {np.abs(x).max():.4f}")

    specs = fixture_specs()
    if args.only:
        unknown = set(args.only) - {s["name"] for s in specs}
        assert not unknown, f"no such fixtures: {sorted(unknown)}"
        specs = [s for s in specs if s["name"] in args.only]
    for s in specs:
        s["subdir"] = "." if s["group"] == "main" else s["group"]

    results = {}
    for trainer in ("0.12.3", "0.13.0"):
        todo = [s for s in specs if s["trainer"] == trainer]
        if todo:
            print(f"trainer {trainer}: {len(todo)} fixtures")
            results.update(run_worker(args.python, trainer, todo, out_dir, input_path, args.nam_0123))

    manifests = {"main": [], "a2": []}
    print()
    print(f"{'fixture':40s} {'peak|out|':>10s} {'max|out-ref_tanh|':>18s} {'max|fast-out|':>14s}")
    failures = []
    for s in specs:
        manifests[s["group"]].append(check_fixture(s, results[s["name"]], out_dir, x, failures))

    # Twins must carry identical weights (and so give identical outputs).
    for s in specs:
        twin = s.get("weights_from")
        if s["arch"] == "LSTM" and s["name"].endswith("_v054"):
            twin = s["name"].replace("_v054", "_v070")
        if not twin or twin not in results:
            continue
        a = json.load(open(out_dir / s["subdir"] / f"{s['name']}.nam"))["weights"]
        b = json.load(open(out_dir / s["subdir"] / f"{twin}.nam"))["weights"]
        ya = np.fromfile(out_dir / s["subdir"] / f"{s['name']}.out.f32", dtype="<f4")
        yb = np.fromfile(out_dir / s["subdir"] / f"{twin}.out.f32", dtype="<f4")
        print(
            f"twin {s['name']} / {twin}: weights identical {a == b}, "
            f"max|out diff| {float(np.max(np.abs(ya - yb))):.3e}"
        )

    merge = bool(args.only)
    write_manifest(out_dir / "manifest.json", manifests["main"], merge)
    if manifests["a2"]:
        write_manifest(out_dir / "a2" / "manifest.json", manifests["a2"], merge)
    with open(Path(tempfile.gettempdir()) / "tubeless_fixture_report.json", "w") as fp:
        json.dump(results, fp, indent=1)
    total = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    print(f"\ntotal fixture size: {total / 1e6:.2f} MB in {out_dir}")
    if failures:
        print("MISMATCHES:", failures)
        sys.exit(1)


if __name__ == "__main__":
    main()
