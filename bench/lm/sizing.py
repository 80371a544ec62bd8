"""Sizing a shared-depth trunk for a byte budget with `sdcodec plan`, and its prediction for a built model.

`sdcodec plan` models a Llama-shaped model (embedding, per unique block q/k/v/o and three MLP matrices, norms).
The proving ground's shared-depth models also carry per-loop norm gains and rank-r deltas, and the factorised
variant a second r x D projection, which plan has no flags for: their bytes are taken from the measured file
(tensors under `blocks.*.loops.*`) and scaled linearly with the width (their parameters are r·(in + out) or D).
"""

from __future__ import annotations

import json
import subprocess

from . import model as M


def inspect(sdcodec: str, sdc: str) -> dict:
    return json.loads(subprocess.run([sdcodec, "inspect", sdc, "--json"], capture_output=True, text=True,
                                     check=True).stdout)


def loop_bytes(report: dict) -> int:
    return sum(t["stored_bytes"] for t in report["tensors"] if ".loops." in t["name"])


def plan(sdcodec: str, measured: str, cfg: M.ModelConfig) -> dict:
    """`sdcodec plan --json` for cfg's Llama-shaped part."""
    args = [sdcodec, "plan", "--from", measured, "--vocab", str(cfg.vocab), "--dim", str(cfg.dim),
            "--layers", str(cfg.depth), "--unique-layers", str(cfg.unique_blocks), "--hidden", str(cfg.hidden),
            "--heads", str(cfg.heads), "--json"]
    if cfg.factor_rank:
        args += ["--factor-rank", str(cfg.factor_rank)]
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"sdcodec plan failed: {res.stderr.strip()}")
    return json.loads(res.stdout)[0]


def predict(sdcodec: str, measured: str, measured_cfg: M.ModelConfig, cfg: M.ModelConfig) -> tuple[int, int]:
    """(plan's total bytes, plus the per-loop tensors scaled from the measured file) for cfg."""
    p = plan(sdcodec, measured, cfg)["total_bytes"]
    extra = loop_bytes(inspect(sdcodec, measured)) * cfg.dim / measured_cfg.dim if cfg.loops > 1 else 0
    return int(p), int(round(p + extra))


def solve_dim(sdcodec: str, measured: str, measured_cfg: M.ModelConfig, budget: int, vocab: int,
              factor_rank: int = 0, step: int = 8, max_dim: int = 1024) -> tuple[M.ModelConfig, int]:
    """The widest trunk (dim a multiple of `step`, hidden = dim x measured hidden/dim ratio) whose predicted file
    fits `budget`, keeping heads, blocks, loops and delta rank of the measured model."""
    ratio = measured_cfg.hidden / measured_cfg.dim
    best = None
    for dim in range(step * measured_cfg.heads, max_dim + 1, step * measured_cfg.heads // 2):
        cfg = M.ModelConfig(**{**measured_cfg.to_dict(), "vocab": vocab, "dim": dim,
                               "hidden": int(round(dim * ratio / step)) * step, "factor_rank": factor_rank})
        total = predict(sdcodec, measured, measured_cfg, cfg)[1]
        if total > budget:
            break
        best = (cfg, total)
    if best is None:
        raise RuntimeError(f"no trunk fits {budget} bytes with vocabulary {vocab}")
    return best
