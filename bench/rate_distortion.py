#!/usr/bin/env python3
"""Rate-distortion acceptance table of the codebook issue: sdcodec (scalar, per-tensor VQ, shared-bank VQ)
against the quantize + compress recipes parameter-golf users run, on the same tensors in the same run.

Usage:
  python3 bench/rate_distortion.py [--quick | --full] [--sdcodec build/sdcodec] [--out-dir bench/results]
                                   [--minilm-minutes 25] [--no-cache] [--retry-errors]

  --quick   stories260K only (about a minute or two on 2 cores; default)
  --full    stories260K, then all-MiniLM-L6-v2 for as much of its grid as fits in --minilm-minutes
            (the grid is run in priority order; every finished point is cached, so a second run resumes)

Every row is a full round trip through the bytes on disk (quantize -> serialize -> compress -> decompress ->
dequantize, or sdcodec encode -> .sdc -> decode) measured against the same original tensors:
  bits/weight  8 x whole-artifact bytes / every parameter of the model
  SNR          10 log10(sum w^2 / sum (w - w_hat)^2) over all float tensors
  SNR norm     the same on per-row-normalised 2-D weights (each row divided by its RMS): -10 log10 of the mean
               over every 2-D float weight of ((w - w_hat) / rms(row))^2
  R(D) bound   SNR norm / 6.02: the Shannon rate of an i.i.d. Gaussian source at that SNR; gap = bits/weight - bound
  bpb          (stories260K) bits per UTF-8 byte on text sampled from the full-precision model (bench/llama2c_eval.py)

Outputs bench/results/rate_distortion_<model>.md and .csv. Intermediate results (every measured point, and the
.sdc files) are cached under work/bench/ (gitignored), keyed by the model's sha256, the exact arguments and the
sdcodec binary's sha256. The binary is copied to work/bench/bin/ once at start, so a rebuild of build/sdcodec
during the run cannot mix two versions into one table.

Modules: baselines.py (the users' recipes), rd_context.py (points, the cache, running baselines and sdcodec),
curves.py (Pareto fronts and interpolation), rd_report.py (Markdown, CSV), rd_models.py (the two models),
sdcodec_cli.py (the pinned binary and its commands).
"""

from __future__ import annotations

import os

# ruff: noqa: E402 -- the imports below must come after this line
# Before numpy loads: a multi-threaded BLAS on a shared 2-core machine makes the models' small matmuls 100x
# slower (threads wait on each other); one thread is what these benchmarks are timed with unless the caller says.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime
import sys
import time
from pathlib import Path

import scalar_vs_baseline as svb
from baselines import absmax_baselines, gptq_baselines, pg_baselines
from bench_common import RESULTS, WORK, BenchError, log, rel
from rd_context import Context, Point, scalar_config, vq_config
from rd_models import prepare_minilm, prepare_stories
from rd_report import render_report, standard_notes, write_csv
from sdcodec_cli import Binary, snapshot_binary

DEFAULT_OUT_DIR = RESULTS


VQ_GRID = [(pt, d, m) for pt in (False, True) for d in (8, 4) for m in (1, 2)]
# MiniLM: a job list in priority order (one encode takes 1-4 min there); the time limit stops the tail.
# ("vq", per_tensor, dim, M, "budgets" | "fixed") or ("scalar", bits).
MINILM_JOBS = [("vq", False, 8, 1, "budgets"), ("vq", False, 8, 2, "budgets"), ("vq", False, 4, 2, "fixed"),
               ("scalar", 4), ("scalar", 5), ("scalar", 6), ("vq", False, 4, 1, "budgets"),
               ("vq", True, 8, 1, "budgets"), ("vq", True, 8, 2, "budgets"), ("vq", False, 4, 2, "budgets"),
               ("vq", True, 4, 1, "budgets"), ("vq", True, 4, 2, "budgets")]


def pick_budgets(gptq_points: list[Point], params: int, lo: float = 1.5, hi: float = 5.75) -> list[int]:
    return sorted(p.nbytes for p in gptq_points if p.ok and lo <= 8 * p.nbytes / params <= hi)


def run_model(ctx: Context, args, binary: Binary | None, minilm: bool, started: str) -> str:
    t_start = time.monotonic()
    points: list[Point] = []
    if minilm:
        baselines = pg_baselines() + absmax_baselines([4, 5, 6]) + gptq_baselines([3, 4, 5, 6, 7], True)
    else:
        baselines = pg_baselines() + absmax_baselines([3, 4, 5, 6, 7, 8]) + gptq_baselines([2, 3, 4, 5, 6, 7, 8], True)
    for b in baselines:
        points.append(ctx.baseline(b))
    gptq_main = [p for p in points if p.family.startswith("GPTQ-lite") and "published" not in p.config]
    # MiniLM encodes are slow: only the budgets in (and next to) the 3-5 b/w range of the goal.
    budgets = pick_budgets(gptq_main, ctx.params, lo=2.5 if minilm else 1.5)
    ctx.encode_timeout = args.encode_timeout
    log(f"{ctx.name}: budgets {budgets} ({', '.join(f'{8 * b / ctx.params:.2f}' for b in budgets)} b/w)")
    deadline = t_start + 60.0 * args.minilm_minutes if minilm else None
    if binary is not None:
        sc = scalar_config()
        if not minilm:
            for bits in range(2, 9):
                points.append(ctx.sdcodec(binary, sc, bits=bits))
        # MiniLM: the scalar curve (cheap) also gets the GPTQ-lite budgets below 2.5 b/w, so the 3 b/w target
        # can be interpolated; the slow VQ configurations only the budgets from 2.5 b/w up.
        for B in (pick_budgets(gptq_main, ctx.params, lo=1.5) if minilm else budgets):
            points.append(ctx.sdcodec(binary, sc, budget=B, deadline=deadline))
        if not minilm:
            for pt, d, m in VQ_GRID:
                cfg = vq_config(pt, 256, d, m)
                for B in budgets:
                    points.append(ctx.sdcodec(binary, cfg, budget=B))
                points.append(ctx.sdcodec(binary, cfg))
        else:
            for job in MINILM_JOBS:
                if job[0] == "scalar":
                    points.append(ctx.sdcodec(binary, sc, bits=job[1], deadline=deadline))
                    continue
                cfg = vq_config(job[1], 256, job[2], job[3])
                if job[4] == "fixed":
                    points.append(ctx.sdcodec(binary, cfg, deadline=deadline))
                else:
                    for B in budgets:
                        points.append(ctx.sdcodec(binary, cfg, budget=B, deadline=deadline))
    notes = standard_notes(ctx)
    if minilm:
        notes.append(f"MiniLM grid (priority order, stopped after --minilm-minutes {args.minilm_minutes}): "
                     "baselines int4–6 absmax + zstd-22, GPTQ-lite int3–7; budgets only at the GPTQ-lite points "
                     "of ≥ 2.5 b/w (scalar also ≥ 1.5 b/w); sdcodec scalar budgets, then shared d8 M1 and shared d8 M2 budgets, the pure "
                     "codebook point shared d4 M2 (no budget, λ=0, ≈ 4 b/w), scalar 4/5/6-bit fixed, shared d4 M1 "
                     "budgets, per-tensor d8 M1, per-tensor d8 M2, shared d4 M2, per-tensor d4 M1, per-tensor d4 M2 "
                     "budgets (k = 256). "
                     "Skipped rows were not run in this invocation; rerunning resumes from the cache.")
    report = render_report(ctx, sys.argv, binary, points, budgets, notes, started)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"rate_distortion_{ctx.name}.md").write_text(report, encoding="utf-8")
    write_csv(out_dir / f"rate_distortion_{ctx.name}.csv", points)
    log(f"{ctx.name}: wrote {rel(out_dir / f'rate_distortion_{ctx.name}.md')} in {time.monotonic() - t_start:.0f} s")
    return report


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="stories260K only (default)")
    g.add_argument("--full", action="store_true", help="stories260K and all-MiniLM-L6-v2")
    p.add_argument("--minilm-only", action="store_true", help="with --full: skip stories260K")
    p.add_argument("--sdcodec", default=str(svb.DEFAULT_SDCODEC))
    p.add_argument("--no-sdcodec", action="store_true", help="baselines only")
    p.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR))
    p.add_argument("--encode-timeout", type=float, default=900.0,
                   help="seconds after which one sdcodec encode is abandoned (recorded as an error)")
    p.add_argument("--minilm-minutes", type=float, default=20.0,
                   help="stop starting new MiniLM sdcodec encodes after this many minutes of the MiniLM part")
    p.add_argument("--no-cache", action="store_true", help="ignore cached points (they are still rewritten)")
    p.add_argument("--retry-errors", action="store_true", help="rerun points whose cached result is an error")
    p.add_argument("--eval-seqs", type=int, default=8)
    p.add_argument("--eval-tokens", type=int, default=256)
    p.add_argument("--eval-seed", type=int, default=1234)
    return p.parse_args(argv)


def main() -> int:
    args = parse_args(sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        WORK.mkdir(parents=True, exist_ok=True)
        binary = None if args.no_sdcodec else snapshot_binary(Path(args.sdcodec))
        if binary:
            log(f"sdcodec: {binary.provenance}")
        if not (args.full and args.minilm_only):
            ctx = prepare_stories(args)
            log(f"stories: {ctx.ev.describe()}")
            run_model(ctx, args, binary, False, started)
        if args.full:
            run_model(prepare_minilm(args), args, binary, True, started)
    except BenchError as e:
        print(f"rate_distortion: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
