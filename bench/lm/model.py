"""The proving ground's language models in JAX: a Llama-style GPT whose blocks may be looped (shared depth).

Parameters are one flat dict under their safetensors names, named so that spec/format.md §11's role rule gives
every tensor its role without overrides:

    tok_emb.weight                      [V, D] tied embedding and head (or [V, r] with factor_rank r)
    tok_emb_in.weight                   [D, r] factorised only: embedding row -> model width
    lm_head_proj.weight                 [r, D] factorised only: final state -> the r-dim space of tok_emb
    blocks.{b}.attn.{wq,wk,wv,wo}.weight, blocks.{b}.mlp.{w1,w2,w3}.weight   (linear weights, [out, in])
    blocks.{b}.attn_norm.weight, blocks.{b}.mlp_norm.weight, norm.weight       (RMSNorm gains)

Shared depth (Relaxed Recursive Transformers, arXiv 2410.20672): `unique_blocks` blocks are applied in order
`loops` times (depth unique_blocks*loops, use i runs block i % unique_blocks in loop i // unique_blocks). Each
use may have its own norm gains (`loop_norms`: blocks.{b}.loops.{l}.attn_norm.weight replaces the block's) and
its own rank-`loop_rank` delta on every linear weight, W_eff = W + delta_b @ delta_a:

    blocks.{b}.loops.{l}.attn.wq.delta_a   [rank, in]     blocks.{b}.loops.{l}.attn.wq.delta_b   [out, rank]

Causal attention with rotary positions (no position table), SwiGLU MLP (w2(silu(w1 x) * w3 x)).

Calibration taps: `forward(..., taps=dict)` adds, for every weight that multiplies an input, the sum of x·xᵀ
over all rows x that multiply its columns and the count of those rows, so E[x xᵀ] = sum / count:
a weight used at several depths accumulates over all its uses; a delta_a sees the same x as its weight, a
delta_b the rank-dim x·delta_aᵀ; the tied tok_emb sees the final-norm output that feeds the head (the
factorised one, the lm_head_proj output), as in the parameter-golf records. The embedding lookup is not a
product with an input vector and adds nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np

LINEARS = (("attn", "wq"), ("attn", "wk"), ("attn", "wv"), ("attn", "wo"), ("mlp", "w1"), ("mlp", "w3"), ("mlp", "w2"))


@dataclass(frozen=True)
class ModelConfig:
    vocab: int
    dim: int
    hidden: int
    heads: int = 4
    unique_blocks: int = 6
    loops: int = 1
    loop_rank: int = 0        # rank of the per-use deltas on every linear weight (0: none)
    loop_norms: bool = False  # per-use norm gains instead of per-block ones
    factor_rank: int = 0      # 0: tied V x D embedding; r: V x r table with in/out projections
    ctx: int = 256

    def __post_init__(self):
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(f"dim {self.dim} must split into {self.heads} heads of even width")

    @property
    def depth(self) -> int:
        return self.unique_blocks * self.loops

    def to_dict(self) -> dict:
        return asdict(self)


def _shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    D, H, V = cfg.dim, cfg.hidden, cfg.vocab
    lin = {"wq": (D, D), "wk": (D, D), "wv": (D, D), "wo": (D, D), "w1": (H, D), "w3": (H, D), "w2": (D, H)}
    s: dict[str, tuple[int, ...]] = {}
    if cfg.factor_rank:
        s["tok_emb.weight"] = (V, cfg.factor_rank)
        s["tok_emb_in.weight"] = (D, cfg.factor_rank)
        s["lm_head_proj.weight"] = (cfg.factor_rank, D)
    else:
        s["tok_emb.weight"] = (V, D)
    for b in range(cfg.unique_blocks):
        for part, w in LINEARS:
            s[f"blocks.{b}.{part}.{w}.weight"] = lin[w]
        if not cfg.loop_norms:
            s[f"blocks.{b}.attn_norm.weight"] = (D,)
            s[f"blocks.{b}.mlp_norm.weight"] = (D,)
        for l in range(cfg.loops if (cfg.loop_norms or cfg.loop_rank) else 0):
            if cfg.loop_norms:
                s[f"blocks.{b}.loops.{l}.attn_norm.weight"] = (D,)
                s[f"blocks.{b}.loops.{l}.mlp_norm.weight"] = (D,)
            for part, w in LINEARS if cfg.loop_rank else ():
                out, inp = lin[w]
                s[f"blocks.{b}.loops.{l}.{part}.{w}.delta_a"] = (cfg.loop_rank, inp)
                s[f"blocks.{b}.loops.{l}.{part}.{w}.delta_b"] = (out, cfg.loop_rank)
    s["norm.weight"] = (D,)
    return s


def n_params(cfg: ModelConfig) -> int:
    return int(sum(np.prod(v) for v in _shapes(cfg).values()))


def init(cfg: ModelConfig, seed: int) -> dict[str, jnp.ndarray]:
    """Deterministic initialisation: N(0, 0.02) matrices, output projections scaled by 1/sqrt(2·depth), unit
    norm gains, delta_a N(0, 0.02) and delta_b zero (every use starts as the shared block)."""
    shapes = _shapes(cfg)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(shapes))
    p = {}
    for k, (name, shp) in zip(keys, sorted(shapes.items())):
        if len(shp) == 1:
            p[name] = jnp.ones(shp, jnp.float32)
        elif name.endswith("delta_b"):
            p[name] = jnp.zeros(shp, jnp.float32)
        else:
            std = 0.02 / (np.sqrt(2 * cfg.depth) if name.endswith(("wo.weight", "w2.weight")) else 1.0)
            p[name] = std * jax.random.normal(k, shp, jnp.float32)
    return p


def _tap(taps, name, x):
    if taps is None:
        return
    x2 = x.reshape(-1, x.shape[-1])
    s, n = taps.get(name, (0.0, 0))
    taps[name] = (s + x2.T @ x2, n + x2.shape[0])


def _linear(p, taps, x, wname, dname=None):
    y = x @ p[wname].T
    _tap(taps, wname, x)
    if dname is not None:
        z = x @ p[dname + ".delta_a"].T
        y = y + z @ p[dname + ".delta_b"].T
        _tap(taps, dname + ".delta_a", x)
        _tap(taps, dname + ".delta_b", z)
    return y


def _rmsnorm(x, g):
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-5) * g


def _rope(x):  # x [B, T, H, hd]
    T, hd = x.shape[1], x.shape[3]
    inv = 1.0 / (10000.0 ** (jnp.arange(0, hd, 2, dtype=jnp.float32) / hd))
    ang = jnp.arange(T, dtype=jnp.float32)[:, None] * inv[None, :]
    cos, sin = jnp.cos(ang)[None, :, None, :], jnp.sin(ang)[None, :, None, :]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return jnp.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1).reshape(x.shape)


def forward(p, cfg: ModelConfig, tokens, taps=None):
    """Logits [B, T, V] for tokens [B, T]."""
    B, T = tokens.shape
    nh, hd = cfg.heads, cfg.dim // cfg.heads
    if cfg.factor_rank:
        x = _linear(p, taps, p["tok_emb.weight"][tokens], "tok_emb_in.weight")
    else:
        x = p["tok_emb.weight"][tokens]
    mask = jnp.tril(jnp.ones((T, T), bool))
    for i in range(cfg.depth):
        b, l = i % cfg.unique_blocks, i // cfg.unique_blocks
        pre = f"blocks.{b}.loops.{l}" if cfg.loop_norms else f"blocks.{b}"
        # The names are built inside this iteration only, so the closures binding b and l late is harmless.
        dl = (lambda part, w: f"blocks.{b}.loops.{l}.{part}.{w}") if cfg.loop_rank else (lambda part, w: None)  # noqa: B023
        W = lambda part, w: f"blocks.{b}.{part}.{w}.weight"  # noqa: E731, B023
        h = _rmsnorm(x, p[f"{pre}.attn_norm.weight"])
        q = _rope(_linear(p, taps, h, W("attn", "wq"), dl("attn", "wq")).reshape(B, T, nh, hd))
        k = _rope(_linear(p, taps, h, W("attn", "wk"), dl("attn", "wk")).reshape(B, T, nh, hd))
        v = _linear(p, taps, h, W("attn", "wv"), dl("attn", "wv")).reshape(B, T, nh, hd)
        att = jnp.einsum("bthd,bshd->bhts", q, k) / np.sqrt(hd)
        att = jax.nn.softmax(jnp.where(mask, att, -1e30), axis=-1)
        o = jnp.einsum("bhts,bshd->bthd", att, v).reshape(B, T, cfg.dim)
        x = x + _linear(p, taps, o, W("attn", "wo"), dl("attn", "wo"))
        h = _rmsnorm(x, p[f"{pre}.mlp_norm.weight"])
        g = jax.nn.silu(_linear(p, taps, h, W("mlp", "w1"), dl("mlp", "w1")))
        u = _linear(p, taps, h, W("mlp", "w3"), dl("mlp", "w3"))
        x = x + _linear(p, taps, g * u, W("mlp", "w2"), dl("mlp", "w2"))
    h = _rmsnorm(x, p["norm.weight"])
    if cfg.factor_rank:
        h = _linear(p, taps, h, "lm_head_proj.weight")
    _tap(taps, "tok_emb.weight", h)
    return h @ p["tok_emb.weight"].T


def token_logprobs(p, cfg: ModelConfig, x, y):
    """log p(y | x) per position (natural log), float32 [B, T]."""
    logits = forward(p, cfg, x)
    lp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return jnp.take_along_axis(lp, y[..., None], axis=-1)[..., 0]


def loss(p, cfg: ModelConfig, x, y):
    return -jnp.mean(token_logprobs(p, cfg, x, y))


def flops_per_token(cfg: ModelConfig) -> int:
    """Training FLOPs per token: 3 x (2 x multiply-adds of every matrix use, the head, and attention's
    QK^T and AV over the full context, causal masking not discounted)."""
    s = _shapes(cfg)
    mac = 0
    for name, shp in s.items():
        if len(shp) != 2 or name == "tok_emb.weight":
            continue
        uses = cfg.loops if name.startswith("blocks.") and ".loops." not in name else 1
        mac += shp[0] * shp[1] * uses
    mac += s["tok_emb.weight"][0] * s["tok_emb.weight"][1]   # the head
    mac += cfg.depth * 2 * cfg.ctx * cfg.dim                 # attention scores and mixing
    return 3 * 2 * mac
