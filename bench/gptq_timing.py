#!/usr/bin/env python3
"""Time of the record pipeline (bench/record_pipeline.py) on the top record's model shape, on this machine.

Usage:
  python3 bench/gptq_timing.py [--out bench/results/gptq_timing.md] [--layers 11] [--dim 512] [--mlp 4]
                               [--vocab 8192] [--k-grid] [--sdcodec build/sdcodec [--budget 16000000]]

The shape of the 2026-04 top record (../shared/ANCHORS.md): 11 layers, model dim 512, 8 query / 4 key-value heads
(k and v are 256 x 512), MLP 4x (fc 2048 x 512, proj 512 x 2048), vocabulary 8192 tied: 35,913,728 parameters
in its 67 matrices. Weights are random (std 0.02, per-row spread), Hessians random SPD (low rank 64 plus a positive
diagonal); GPTQ's work depends only on the shapes. Timed: GPTQ over every matrix (int6, int7 embedding, the
records' k), LQER, serialisation + brotli-11, and the decode (brotli, unpickle, dequantize). The weights and
Hessians are written to work/bench/gptq_timing/ so that `sdcodec encode ... --hessians` can be timed on the
same inputs; with --sdcodec that encode is run here too (`--budget`, `--hessians` when the binary has it).
"""

from __future__ import annotations

import os

# ruff: noqa: E402 -- the imports below must come after this line
# Before numpy loads: a multi-threaded BLAS on a shared 2-core machine makes the models' small matmuls 100x
# slower (threads wait on each other); one thread is what these benchmarks are timed with unless the caller says.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import gptq
import numpy as np
from bench_common import RESULTS, WORK, BenchError, log, rel, write_atomic
from record_pipeline import (
    RECORD_KEEP_FLOAT_MAX_NUMEL,
    RecordConfig,
    dequantize_record,
    deserialize,
    quantize_record,
    serialize,
)
from safetensors.numpy import save_file
from sdcodec_cli import last_line, run_cmd, snapshot_binary


def record_shape(layers: int, dim: int, mlp: int, vocab: int) -> dict[str, tuple[tuple[int, int], str]]:
    kv = dim // 2
    out = {"tok_emb.weight": ((vocab, dim), "embedding")}
    for i in range(layers):
        for n, shape in (("attn.c_q", (dim, dim)), ("attn.c_k", (kv, dim)), ("attn.c_v", (kv, dim)),
                         ("attn.proj", (dim, dim))):
            out[f"blocks.{i}.{n}.weight"] = (shape, "attention")
        out[f"blocks.{i}.mlp.fc.weight"] = ((mlp * dim, dim), "mlp")
        out[f"blocks.{i}.mlp.proj.weight"] = ((dim, mlp * dim), "mlp")
    return out


def random_inputs(shapes, seed: int = 0):
    rng = np.random.default_rng(seed)
    state, hess, roles = {}, {}, {}
    for name, (shape, role) in shapes.items():
        state[name] = (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
                       * rng.uniform(0.5, 2.0, (shape[0], 1)).astype(np.float32))
        a = rng.standard_normal((shape[1], 64), dtype=np.float32)
        hess[name] = (a @ a.T / np.float32(64) + np.diag(rng.uniform(0.05, 1.0, shape[1]).astype(np.float32)))
        roles[name] = role
    return state, hess, roles


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(RESULTS / "gptq_timing.md"))
    p.add_argument("--layers", type=int, default=11)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--mlp", type=int, default=4)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--k-grid", action="store_true", help=f"also time the k-grid variant ({len(gptq.K_GRID)} GPTQs "
                                                           "per matrix)")
    p.add_argument("--sdcodec", help="also time `sdcodec encode` of the same weights (and Hessians)")
    p.add_argument("--budget", type=int, default=16_000_000)
    args = p.parse_args()
    load0 = os.getloadavg()
    shapes = record_shape(args.layers, args.dim, args.mlp, args.vocab)
    state, hess, roles = random_inputs(shapes)
    params = sum(t.size for t in state.values())
    log(f"{len(state)} matrices, {params:,} parameters")
    rows = []

    def timed(label, fn):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        rows.append((label, time.perf_counter() - t0, time.process_time() - c0))
        log(f"{label}: {rows[-1][1]:.1f} s")
        return out

    cfg = RecordConfig(6, RECORD_KEEP_FLOAT_MAX_NUMEL, lqer=False)
    timed("GPTQ, every matrix (int6, embedding int7, the records' k)",
          lambda: quantize_record(state, hess, roles, cfg))
    cfg = RecordConfig(6, RECORD_KEEP_FLOAT_MAX_NUMEL)
    obj, _ = timed("GPTQ + LQER (the record's quantization)", lambda: quantize_record(state, hess, roles, cfg))
    blob = timed("serialise + stride-2 shuffle + brotli-11", lambda: serialize(obj, cfg, roles))
    timed("decode: brotli, unpickle, dequantize", lambda: dequantize_record(deserialize(blob, cfg, roles), state))
    if args.k_grid:
        timed("GPTQ with k from the grid (int6)", lambda: quantize_record(state, hess, roles, RecordConfig(
            6, RECORD_KEEP_FLOAT_MAX_NUMEL, "grid", lqer=False)))
    d = WORK / "gptq_timing"
    d.mkdir(parents=True, exist_ok=True)
    for path, tensors in ((d / "weights.safetensors", state), (d / "hessians.safetensors", hess)):
        save_file(tensors, str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").replace(path)
    sdc_line = (f"- sdcodec: not run here; time it on the same inputs with `build/sdcodec encode "
                f"{rel(d / 'weights.safetensors')} -o X.sdc --budget {args.budget} --hessians "
                f"{rel(d / 'hessians.safetensors')} --threads 2`")
    if args.sdcodec:
        b = snapshot_binary(Path(args.sdcodec))
        cmd = [str(b.path), "encode", str(d / "weights.safetensors"), "-o", str(d / "out.sdc"),
               "--budget", str(args.budget), "--threads", "2", "--quiet"]
        if b.supports("--hessians"):
            cmd += ["--hessians", str(d / "hessians.safetensors")]
        rc, _, err, wall = run_cmd(cmd)
        if rc != 0:
            raise BenchError(f"sdcodec encode exit {rc}: {last_line(err)}")
        rows.append((f"sdcodec encode --budget {args.budget:,}" + (" --hessians" if "--hessians" in cmd else "")
                     + f" → {(d / 'out.sdc').stat().st_size:,} B", wall, float("nan")))
        sdc_line = f"- sdcodec: {b.provenance}"
    load1 = os.getloadavg()
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "library default"
    md = [
        "# Record pipeline time on the top record's shape",
        "",
        f"- command: `python3 {' '.join([rel(sys.argv[0])] + sys.argv[1:])}`",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; BLAS threads: {threads}; load average "
        f"{load0[0]:.1f} before, {load1[0]:.1f} after (a shared machine: wall times are upper bounds)",
        f"- shape: {args.layers} layers, dim {args.dim}, MLP {args.mlp}x, vocab {args.vocab} tied: "
        f"{len(state)} matrices, {params:,} parameters; random weights and SPD Hessians",
        f"- artifact: {len(blob):,} bytes (int6 + int7 embedding + LQER, brotli-11; random weights compress "
        "like Gaussian ones)",
        sdc_line,
        "",
        "| step | wall s | CPU s (this process) |",
        "|---|---:|---:|",
    ] + [f"| {label} | {wall:.1f} | {'–' if cpu != cpu else f'{cpu:.1f}'} |" for label, wall, cpu in rows] + [
        "",
        "GPTQ here is numpy on the CPU (bench/gptq.py: the Cholesky factorisations in float64, the column loop in "
        "float32); the records run it in torch on GPUs (collecting their 67 Hessians took 4.7 s on 8 GPUs; the "
        "runner-up's brotli-11 step 65-67 s). On a loaded machine the CPU seconds are the better estimate of the "
        "time on an idle one (one BLAS thread: wall = CPU when the process has a core to itself).",
        ""]
    write_atomic(Path(args.out), "\n".join(md))
    log(f"wrote {rel(args.out)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"gptq_timing: error: {e}", file=sys.stderr)
        sys.exit(1)
