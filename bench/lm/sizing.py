"""Sizing a shared-depth trunk for a byte budget with `sdcodec plan`, and its prediction for a built model.

`sdcodec plan` models a Llama-shaped model (embedding, per unique block q/k/v/o and three MLP matrices, norms).
The proving ground's shared-depth models also carry per-loop norm gains and rank-r deltas, and the factorised
variant a second r x D projection, which plan has no flags for: their bytes are taken from the measured file
(tensors under `blocks.*.loops.*`) and scaled linearly with the width (their parameters are r·(in + out) or D),
and plan is given the measured bits/weight of the other tensors (`--bits-per-weight`), since its own per-role
rates would average in the per-loop tensors (below --min-numel they stay raw fp16, ~15 bits/weight).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

from . import model as M

BUDGET_BITS = 4        # the budget of a comparison: the bytes of the model's scalar --bits BUDGET_BITS file
VARIANTS = ((256, 0), (4096, 0), (4096, 64))   # (vocabulary, factor rank) of pg-shared's vocabulary variants


def encode(sdcodec: str, model_dir: pathlib.Path, out: pathlib.Path, args: tuple[str, ...]) -> dict:
    """`sdcodec encode` of a committed model (its fp16 weights, its tokenizer as an asset) -> inspect report."""
    res = subprocess.run([sdcodec, "encode", str(model_dir / "model.safetensors"), "-o", str(out), "--asset",
                          f"tokenizer.json={model_dir / 'tokenizer.json'}", "--quiet", *map(str, args)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"sdcodec encode {' '.join(args)}: {res.stderr.strip()}")
    return inspect(sdcodec, str(out))


def inspect(sdcodec: str, sdc: str) -> dict:
    return json.loads(subprocess.run([sdcodec, "inspect", sdc, "--json"], capture_output=True, text=True,
                                     check=True).stdout)


def loop_bytes(report: dict) -> int:
    return sum(t["stored_bytes"] for t in report["tensors"] if ".loops." in t["name"])


def trunk_rates(report: dict) -> dict[str, float]:
    """Bits/weight per role over the tensors plan models (not the per-loop ones, which are small and often raw)."""
    num: dict[str, int] = {}
    den: dict[str, int] = {}
    for t in report["tensors"]:
        if ".loops." not in t["name"]:
            num[t["role"]] = num.get(t["role"], 0) + t["stored_bytes"]
            den[t["role"]] = den.get(t["role"], 0) + t["numel"]
    return {r: 8 * num[r] / den[r] for r in num if den[r]}


def plan(sdcodec: str, measured: str, cfg: M.ModelConfig) -> dict:
    """`sdcodec plan --json` for cfg's Llama-shaped part, at the measured file's rates without its per-loop
    tensors (passed as --bits-per-weight, since plan's own rates would average them in)."""
    args = [sdcodec, "plan", "--from", measured, "--vocab", str(cfg.vocab), "--dim", str(cfg.dim),
            "--layers", str(cfg.depth), "--unique-layers", str(cfg.unique_blocks), "--hidden", str(cfg.hidden),
            "--heads", str(cfg.heads), "--json"]
    for role, bits in sorted(trunk_rates(inspect(sdcodec, measured)).items()):
        args += ["--bits-per-weight", f"{role}={bits:.6f}"]
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
    for dim in range(step * measured_cfg.heads, max_dim + 1, step):
        cfg = M.ModelConfig(**{**measured_cfg.to_dict(), "vocab": vocab, "dim": dim,
                               "hidden": int(round(dim * ratio / step)) * step, "factor_rank": factor_rank})
        total = predict(sdcodec, measured, measured_cfg, cfg)[1]
        if total > budget:
            break
        best = (cfg, total)
    if best is None:
        raise RuntimeError(f"no trunk fits {budget} bytes with vocabulary {vocab}")
    return best


def size_variants(sdcodec: str, base_dir: pathlib.Path, base_cfg: M.ModelConfig, work: pathlib.Path):
    """The budget (pg-shared's --bits 4 file) and, per vocabulary variant, the widest trunk plan fits in it, with
    rates measured on pg-shared encoded scalar to that budget."""
    budget = encode(sdcodec, base_dir, work / "bits.sdc", ("--method", "scalar", "--bits", BUDGET_BITS))["file_bytes"]
    measured = work / "budget.sdc"
    encode(sdcodec, base_dir, measured, ("--method", "scalar", "--budget", budget))
    return budget, measured, [solve_dim(sdcodec, str(measured), base_cfg, budget, v, r) for v, r in VARIANTS]


def main() -> int:
    """python3 -m lm.sizing [SDCODEC]: prints the vocabulary variants' trunk widths (zoo.SPECS holds them)."""
    import tempfile

    from . import zoo
    sdcodec = sys.argv[1] if len(sys.argv) > 1 else str(pathlib.Path(__file__).resolve().parents[2] / "build" / "sdcodec")
    base = zoo.load("pg-shared")
    with tempfile.TemporaryDirectory() as work:
        budget, _, sized = size_variants(sdcodec, base.dir, base.cfg, pathlib.Path(work))
    print(f"budget {budget} B (pg-shared scalar --bits {BUDGET_BITS})")
    for cfg, total in sized:
        print(f"vocab {cfg.vocab} factor_rank {cfg.factor_rank}: dim {cfg.dim} hidden {cfg.hidden} "
              f"params {M.n_params(cfg):,} predicted {total:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
