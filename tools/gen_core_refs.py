#!/usr/bin/env python3
"""The official trainer's output for each of NeuralAmpModelerCore's example models.

The example files themselves stay where they are (../shared/models/core-examples/, never
copied into the repository); this writes only what the trainer computes from them, so
crates/nam/tests/core_examples.rs can hold the engine to the trainer on every one of them
when the files are present:

* ``crates/nam/tests/fixtures/core/NAME.sK.out.f32``: the trainer's output (float32) for
  tests/fixtures/input.f32 at size step K (one step, K = 0, for a model without sizes),
  under the same contracts as the parity fixtures (see tools/nam_numpy.py);
* ``NAME.sK.ref.f32``: the NumPy reference's output for the same (float64 arithmetic,
  rounded once): on trained weights (large internal values) the trainer's own float32
  rounding is a few 1e-5 of the peak, so the engine is held to this one at 1e-5 and to
  the trainer's at the trainer's own distance from it plus 1e-5;
* ``crates/nam/tests/fixtures/core/manifest.json``: per example its file name and byte
  length, and per step the size used (the middle of the step's range), the receptive field
  and the output file.

Each output is also computed by the independent NumPy reference, and the script fails if
the two disagree by more than 2e-5 x max(1, peak).

Usage (the venv of tools/requirements-fixtures.txt):
    OMP_NUM_THREADS=1 /work/venv-nam/bin/python tools/gen_core_refs.py [--examples DIR] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nam_numpy  # noqa: E402
import nam_torch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def steps(nam):
    """[(size, model dict for NumPy, trainer model)] per size step."""
    arch = nam["architecture"]
    if arch == "SlimmableContainer":
        subs = nam["config"]["submodels"]
        out, lo = [], 0.0
        for s in subs:
            up = min(s["max_value"], 1.0)
            out.append(((lo + up) / 2, s["model"], nam_torch.load_export(s["model"])))
            lo = up
        return out
    sized = nam_numpy.size_steps(nam)
    if sized is None:
        return [(1.0, nam, nam_torch.load_export(nam))]
    model = nam_torch.load_export(nam)
    out, lo = [], 0.0
    for up, sliced in sized:
        out.append(((lo + up) / 2, sliced, model))
        lo = up
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", default=str(REPO.parent / "shared" / "models" / "core-examples"))
    ap.add_argument("--out", default=str(REPO / "crates" / "nam" / "tests" / "fixtures" / "core"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x_np = np.fromfile(REPO / "crates" / "nam" / "tests" / "fixtures" / "input.f32", dtype="<f4")
    x = torch.from_numpy(x_np.astype(np.float32))
    manifest, failures = [], []
    for path in sorted(Path(args.examples).glob("*.nam")):
        nam = json.loads(path.read_text())
        entry = {"name": path.stem, "file": path.name, "bytes": path.stat().st_size, "sizes": []}
        for k, (size, sub, model) in enumerate(steps(nam)):
            if nam_numpy.size_steps(nam) is not None and nam["architecture"] == "WaveNet":
                nam_torch.set_size(model, size)
            y = nam_torch.contract_output(model, sub, x)
            ref = nam_numpy.np_model(sub).forward(x_np, fast=False)
            err = float(np.max(np.abs(ref - y)))
            tol = 2e-5 * max(1.0, float(np.max(np.abs(y))))
            flag = "" if err <= tol else "  <-- MISMATCH"
            if flag:
                failures.append(f"{path.stem} step {k}")
            name = f"{path.stem}.s{k}.out.f32"
            y.tofile(out / name)
            ref_name = f"{path.stem}.s{k}.ref.f32"
            ref.astype("<f4").tofile(out / ref_name)
            rf = nam_numpy.np_model(sub).rf
            entry["sizes"].append({"size": size, "output": name, "reference": ref_name,
                                   "trainer_vs_reference": err, "receptive_field": rf})
            print(f"{path.stem:28s} step {k} size {size:.3f}: peak {np.abs(y).max():.4f} "
                  f"rf {rf} |numpy - trainer| {err:.2e}{flag}")
        manifest.append(entry)
    with open(out / "manifest.json", "w") as fp:
        json.dump(manifest, fp, indent=2)
        fp.write("\n")
    if failures:
        print("MISMATCHES:", failures)
        sys.exit(1)


if __name__ == "__main__":
    main()
