#!/usr/bin/env python3
"""How far is each cheap per-tensor error weight from the loss's measured sensitivity? (Issue 11: how the
errors of different tensors are weighed without measured sensitivities.)

For each model: the measured sensitivities a_t (loss per unit of absolute H-weighted error,
`sdcodec.sensitivities` on the calibration loss, cached by bench/loss_aware.py) against the weights the
encoder can compute from W and H alone:
  absolute         1 for every tensor (GPTQ's implicit choice: output error counts the same everywhere);
  relative row     mean over rows of 1 / (row mean square · mean diag H) (the encoder's default measure);
  relative tensor  numel / tr(W H Wᵀ) (the whole tensor's error relative to its output energy);
  sqrt relative    the square root of relative row (half way, in log terms, between the first two);
each without and with the tied embedding's factor 4 (`--tied-weight`); and, for models with gradients, the
diagonal Fisher (`sdcodec.fisher_sensitivities`: not from W and H alone, but one backward pass per
calibration batch instead of five forward passes per tensor). Figure of merit: the high-rate
excess loss factor of allocating bits by weights w instead of a, E = (Σ n ρ / N) / exp(Σ n log ρ / N),
ρ = a / w, n = numel (1: w ranks tensors exactly as the loss does; an allocation with it at a given rate
has E times the loss increase of one with a). Bits a weight this costs at the same loss: ½·log2 E.

Usage: python3 bench/sensitivity_proxies.py [--models pg-unique,pg-shared,stories260K] [--out FILE.md]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# ruff: noqa: E402 -- after the BLAS setting
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import REPO, log, write_atomic
from la_points import FISHER, ModelRun
from loss_aware import load_model
from sdcodec_cli import roles_of, snapshot_binary

TIED = 4.0  # the encoder's --tied-weight default


def weights_of(w: np.ndarray, h: np.ndarray) -> dict[str, float]:
    w = w.astype(np.float64).reshape(-1, w.shape[-1])
    ms = np.mean(w * w, axis=1)
    dh = float(np.mean(np.diag(h)))
    rel_row = float(np.mean(1.0 / np.maximum(ms, 1e-30))) / max(dh, 1e-30)
    energy = float(np.einsum("ij,jk,ik->", w, h.astype(np.float64), w))
    return {"absolute": 1.0, "relative row": rel_row, "relative tensor": w.size / max(energy, 1e-30),
            "sqrt relative": math.sqrt(rel_row)}


def excess(n: np.ndarray, rho: np.ndarray) -> float:
    return float((n @ rho / n.sum()) / np.exp(n @ np.log(rho) / n.sum()))


def analyse(name: str) -> list[str]:
    lm = load_model(name)
    run = ModelRun(lm, {})
    binary = snapshot_binary(REPO / "build" / "sdcodec")
    run.roles = {**roles_of(binary, run.weights_path), **lm.roles()}  # as bench/loss_aware.py names them
    path, _ = run.sensitivity()
    a = json.loads(Path(path).read_text())
    names = sorted(k for k in a if k in run.hessians and a[k] > 0)
    n = np.array([run.weights[k].size for k in names], float)
    meas = np.array([a[k] for k in names])
    tied = np.array([TIED if run.roles.get(k) == "embedding" else 1.0 for k in names])
    rules = [weights_of(run.weights[k], run.hessians[k]) for k in names]
    lines = [f"## {name}", "", f"{len(names)} tensors with a Hessian and a positive measured sensitivity; "
             f"measured a spans {meas.min():.2e} to {meas.max():.2e} ({math.log10(meas.max() / meas.min()):.1f} "
             "decades).", "", "| rule | excess E, tied 1 | b/w at the same loss | excess E, tied 4 | b/w |",
             "|---|---:|---:|---:|---:|"]
    for rule in rules[0]:
        w = np.array([r[rule] for r in rules])
        e1, e4 = excess(n, meas / w), excess(n, meas / (w * tied))
        lines.append(f"| {rule} | {e1:.2f} | {0.5 * math.log2(e1):.2f} | {e4:.2f} | {0.5 * math.log2(e4):.2f} |")
    if hasattr(lm, "fisher"):  # not from W and H alone: one backward pass per calibration batch
        t0 = time.perf_counter()
        fisher = json.loads(Path(run.sensitivity(FISHER)[0]).read_text())
        f = np.array([fisher[k] for k in names])
        e = excess(n, meas / f)
        lines.append(f"| diagonal Fisher (`fisher_sensitivities`; {time.perf_counter() - t0:.0f} s, cached or "
                     f"not) | {e:.2f} | {0.5 * math.log2(e):.2f} | – | – |")
        reliable = meas > meas.min() * 1.0001  # probes at the floor read zero or negative curvature: noise
        if not reliable.all():
            e = excess(n[reliable], meas[reliable] / f[reliable])
            lines.append(f"| diagonal Fisher, the {reliable.sum()} tensors whose probe is above its floor | {e:.2f} | "
                         f"{0.5 * math.log2(e):.2f} | – | – |")
    # Where the default goes wrong: measured a against the default's weight, by kind of matrix.
    groups: dict[str, list[float]] = {}
    for k, r, m, t in zip(names, rules, meas, tied):
        kind = k.split(".")[-2] if k.count(".") >= 2 else k
        groups.setdefault(kind, []).append(m / (r["relative row"] * t))
    ref = float(np.median([v for vals in groups.values() for v in vals]))
    lines += ["", "Measured a over the default's weight (relative row, tied 4), by matrix, as a factor of the median "
              "over all tensors (1 everywhere would make the default right):", "",
              "| matrix | tensors | median factor | range |", "|---|---:|---:|---|"]
    for kind, vals in sorted(groups.items()):
        v = np.array(vals) / ref
        lines.append(f"| {kind} | {len(v)} | {np.median(v):.2g} | {v.min():.2g}–{v.max():.2g} |")
    return lines + [""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="pg-unique,pg-shared,stories260K")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "sensitivity_proxies.md")
    a = ap.parse_args()
    lines = ["# Cheap error weights against measured sensitivities", "",
             f"- command: `python3 bench/sensitivity_proxies.py {' '.join(sys.argv[1:])}`",
             f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
             "- excess E: the high-rate loss factor of allocating by the rule instead of by the measured "
             "sensitivities (1 = as good); b/w = ½·log2 E, the bits a weight it costs at the same loss "
             "(an upper bound in practice: bit widths are bounded, and rounding feeds errors back)", ""]
    for name in a.models.split(","):
        log(f"{name}: sensitivities and rules")
        lines += analyse(name)
    text = "\n".join(lines)
    write_atomic(a.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
