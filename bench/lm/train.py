"""Training: AdamW (optax) on random windows of the train split, deterministic for a given seed.

Batches are drawn by numpy's PCG64 from the seed, initial weights by JAX's PRNG from the same seed; XLA on the
CPU gives the same result for the same program, so the same code, config, corpus and JAX version give the same
weights (checked by tests/python/test_proving_ground.py on a tiny model).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import model as M


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch: int = 16
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 0.1
    seed: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def _optimizer(tc: TrainConfig, params):
    sched = optax.warmup_cosine_decay_schedule(0.0, tc.lr, min(tc.warmup, max(tc.steps - 1, 1)), max(tc.steps, 2),
                                               end_value=tc.lr * 0.1)
    decay_mask = {k: v.ndim == 2 for k, v in params.items()}   # matrices only; norm gains are not decayed
    return optax.chain(optax.clip_by_global_norm(1.0),
                       optax.adamw(sched, b1=0.9, b2=0.95, weight_decay=tc.weight_decay, mask=decay_mask))


def train(cfg: M.ModelConfig, tc: TrainConfig, train_ids: np.ndarray, log=print) -> tuple[dict, dict]:
    """Trained float32 parameters (numpy) and statistics: tokens seen, FLOPs, wall seconds, losses."""
    if len(train_ids) < cfg.ctx + 2:
        raise ValueError(f"train split has {len(train_ids)} tokens, fewer than one window of {cfg.ctx + 1}")
    params = M.init(cfg, tc.seed)
    opt = _optimizer(tc, params)
    state = opt.init(params)

    @jax.jit
    def step(params, state, x, y):
        loss, grads = jax.value_and_grad(M.loss)(params, cfg, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    rng = np.random.Generator(np.random.PCG64(tc.seed))
    offsets = np.arange(cfg.ctx + 1)
    t0 = time.perf_counter()
    losses = []
    for i in range(tc.steps):
        starts = rng.integers(0, len(train_ids) - cfg.ctx - 1, size=tc.batch)
        w = train_ids[starts[:, None] + offsets[None, :]]
        params, state, loss = step(params, state, jnp.asarray(w[:, :-1]), jnp.asarray(w[:, 1:]))
        if i % 50 == 0 or i == tc.steps - 1:
            losses.append((i, float(loss)))
            log(f"  step {i:5d}/{tc.steps}  loss {float(loss):.4f}  {time.perf_counter() - t0:7.1f} s")
    wall = time.perf_counter() - t0
    tokens = tc.steps * tc.batch * cfg.ctx
    stats = {"tokens_seen": tokens, "train_flops": tokens * M.flops_per_token(cfg), "train_seconds": round(wall, 1),
             "final_loss": losses[-1][1] if losses else None, "loss_curve": losses, "params": M.n_params(cfg)}
    return {k: np.asarray(v) for k, v in params.items()}, stats
