"""The proving-ground models and the bench/lmeval.py contract for each: `lm = zoo.load("pg-unique")`.

Beyond the contract (weights, roles, score, hessians, assets) every model offers:
    lm.calib_loss(weights)  mean next-token loss (nats per token) over the calibration windows
    lm.fisher(weights)      {tensor: float32 array of its shape}: mean over calibration mini-batches of the squared
                            gradient of the mean loss (an empirical Fisher diagonal; one backward pass per batch)
    lm.gradients(weights)   {tensor: float32}: the gradient of the mean calibration loss
    lm.score(weights, split="heldout2") scores the second domain (Vim's manuals) instead.
    lm.score_text(weights, split)  the same text scored in TEXT_BLOCK-byte chunks of text instead of windows, so that
                            models with different tokenizers can be compared pairwise

Calibration windows: the first CALIB_WINDOWS non-overlapping windows of the calibration split. Held-out windows:
every non-overlapping window of the training context over the held-out text (the split cut at a line boundary
below HELDOUT_BYTES); window i predicts tokens i*T+1 .. (i+1)*T from the T tokens before each, and its bytes
are those its target tokens spell.
"""

from __future__ import annotations

import functools
import hashlib
import math
import pathlib
import sys
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import corpus, store
from . import model as M
from . import tokenizer as tokz
from .train import TrainConfig

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from lmeval import Score  # noqa: E402

CALIB_WINDOWS = 128
# Held-out text scored, cut at a line boundary below these sizes so that a model scores in about a minute on the
# shared 2-core machine (prose: 61 chapters, 222 KB in all; manuals: 5 files, 453 KB).
HELDOUT_BYTES = {"heldout": 120_000, "heldout2": 100_000}
SCORE_BATCH = 16
TEXT_BLOCK = 2048


@dataclass(frozen=True)
class Spec:
    model: M.ModelConfig
    train: TrainConfig
    about: str


# Training budget: every model gets the same training FLOPs (as parameter golf gives every entry the same
# time), so steps = FLOP_BUDGET / (flops_per_token * batch * ctx).
FLOP_BUDGET = 4.0e12
BATCH = 8


def _steps(cfg: M.ModelConfig, batch: int = BATCH) -> int:
    return max(1, round(FLOP_BUDGET / (M.flops_per_token(cfg) * batch * cfg.ctx)))


def _spec(about: str, **kw) -> Spec:
    cfg = M.ModelConfig(**kw)
    return Spec(cfg, TrainConfig(steps=_steps(cfg), batch=BATCH, warmup=20), about)


SPECS: dict[str, Spec] = {
    "pg-unique": _spec("(a) GPT, 6 unique blocks, BPE 1024, tied embedding",
                       vocab=1024, dim=128, hidden=384, unique_blocks=6),
    "pg-shared": _spec("(b) shared depth: 2 blocks x 3 loops, per-loop norms and rank-4 deltas, BPE 1024, tied",
                       vocab=1024, dim=208, hidden=624, unique_blocks=2, loops=3, loop_rank=4, loop_norms=True),
}
# (c) vocabulary variants of pg-shared: the trunk widened or narrowed to the same artifact bytes as pg-shared's
# scalar --bits 4 file (763,448 B), widths from `python3 -m lm.sizing` (sdcodec plan on pg-shared's file at that
# budget): the widest dim (step 8, hidden 3 x dim) predicted to fit. Printed on 2026-12-07:
#   vocab 256 factor_rank 0: dim 216 hidden 648 params 1,374,840 predicted 726,535 B
#   vocab 4096 factor_rank 0: dim 160 hidden 480 params 1,399,840 predicted 745,921 B
#   vocab 4096 factor_rank 64: dim 192 hidden 576 params 1,339,840 predicted 723,513 B
_SHARED = dict(unique_blocks=2, loops=3, loop_rank=4, loop_norms=True)
SPECS.update({
    "pg-shared-v256": _spec("(c) pg-shared, bytes (vocabulary 256), tied, trunk sized by plan",
                            vocab=256, dim=216, hidden=648, **_SHARED),
    "pg-shared-v4096": _spec("(c) pg-shared, BPE 4096, tied, trunk sized by plan",
                             vocab=4096, dim=160, hidden=480, **_SHARED),
    "pg-shared-v4096f": _spec("(c) pg-shared, BPE 4096, factorised embedding (rank 64), trunk sized by plan",
                              vocab=4096, dim=192, hidden=576, factor_rank=64, **_SHARED),
})


def names() -> list[str]:
    return list(SPECS)


def load(name: str, models_dir: pathlib.Path | None = None) -> ProvingGroundLM:
    d = (models_dir or store.MODELS_DIR) / name
    if not (d / "model.safetensors").exists():
        raise FileNotFoundError(f"{d}/model.safetensors is missing: build it with `python3 -m lm.build {name}` "
                                f"(from bench/)")
    return ProvingGroundLM(name, d)


@functools.cache
def _splits() -> dict[str, list[str]]:
    return corpus.load_splits()


# A cap on the held-out text scored, for toy runs (seeds.py --tiny sets it before scoring anything); None: all.
SCORE_LIMIT: int | None = None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: text.rindex("\n", 0, limit) + 1]


def split_text(split: str) -> str:
    text = corpus.split_text(_splits()[split])
    if split in HELDOUT_BYTES:
        text = _cut(text, HELDOUT_BYTES[split])
    if SCORE_LIMIT is not None and split in ("heldout", "heldout2"):
        text = _cut(text, SCORE_LIMIT)
    return text


@functools.lru_cache(maxsize=16)
def _split_ids(tok_json: bytes, split: str) -> np.ndarray:
    return tokz.encode(tokz.from_json(tok_json), split_text(split))


def _windows(ids: np.ndarray, T: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    n = (len(ids) - 1) // T
    if limit is not None:
        n = min(n, limit)
    return ids[: n * T].reshape(n, T), ids[1 : n * T + 1].reshape(n, T)


@functools.partial(jax.jit, static_argnums=1)
def _logprobs(p, cfg, x, y):
    return M.token_logprobs(p, cfg, x, y)


@functools.partial(jax.jit, static_argnums=1)
def _taps(p, cfg, x):
    taps: dict = {}
    M.forward(p, cfg, x, taps=taps)
    return {k: (s, jnp.asarray(n, jnp.float32)) for k, (s, n) in taps.items()}


@functools.partial(jax.jit, static_argnums=1)
def _grad(p, cfg, x, y):
    return jax.value_and_grad(M.loss)(p, cfg, x, y)


def _batches(n: int, size: int):
    for i in range(0, n, size):
        yield i, min(i + size, n)


class ProvingGroundLM:
    """One trained proving-ground model, offered through bench/lmeval.py's contract."""

    def __init__(self, name: str, model_dir: pathlib.Path):
        self.name = name
        self.dir = model_dir
        self._w, self._tok_json, self.card = store.load_model(model_dir)
        self.cfg = M.ModelConfig(**self.card["model"])
        self._tb = tokz.token_bytes(tokz.from_json(self._tok_json))
        self._bits_cache: dict = {}

    # -- the contract ------------------------------------------------------------------------------------------
    def weights(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._w.items()}

    def roles(self) -> dict[str, str]:
        return {}   # names follow spec/format.md §11 (model.py); tests/python/test_proving_ground.py checks it

    def assets(self) -> dict[str, bytes]:
        return {"tokenizer.json": self._tok_json}

    def score(self, weights: dict[str, np.ndarray], split: str = "heldout") -> Score:
        bits, ids = self._stream_bits(weights, split)
        T = self.cfg.ctx
        nw = (len(ids) - 1) // T
        y = ids[1 : nw * T + 1].reshape(nw, T)
        return Score(chunk_bits=bits[: nw * T].reshape(nw, T).sum(axis=1), chunk_bytes=self._tb[y].sum(axis=1))

    def score_text(self, weights: dict[str, np.ndarray], split: str = "heldout", block: int = TEXT_BLOCK) -> Score:
        """Every token after the first (the last window padded), its bits summed per `block` bytes of the text
        (a token counts in the block holding its last byte): nearly the same chunks of text for any tokenizer,
        so scores of different vocabularies pair up (lmeval.paired_difference_text)."""
        bits, ids = self._stream_bits(weights, split)
        blk = (np.cumsum(self._tb[ids])[1:] - 1) // block
        nb = int(blk[-1]) + 1
        return Score(chunk_bits=np.bincount(blk, weights=bits, minlength=nb),
                     chunk_bytes=np.bincount(blk, weights=self._tb[ids[1:]], minlength=nb).astype(np.int64))

    def _stream_bits(self, weights, split: str) -> tuple[np.ndarray, np.ndarray]:
        """-log2 p of every token after the first of a held-out split, read in non-overlapping windows of the
        context (the last one padded; causal, so padding after a token never changes it); one forward pass per
        (weights, split), the last few kept for score and score_text."""
        ids = self._heldout_ids(split)
        h = hashlib.sha1()
        for k in sorted(weights):
            h.update(k.encode() + np.ascontiguousarray(weights[k], dtype=np.float32).tobytes())
        key = (h.hexdigest(), split)
        if key not in self._bits_cache:
            T, n = self.cfg.ctx, len(ids) - 1
            nw = -(-n // T)
            padded = np.concatenate([ids, np.zeros(nw * T + 1 - len(ids), ids.dtype)])
            x, y = padded[: nw * T].reshape(nw, T), padded[1 : nw * T + 1].reshape(nw, T)
            if len(self._bits_cache) >= 4:                   # a few (weights, split) pairs, oldest dropped
                self._bits_cache.pop(next(iter(self._bits_cache)))
            self._bits_cache[key] = self._bits(weights, x, y).reshape(-1)[:n]
        return self._bits_cache[key], ids

    def _heldout_ids(self, split: str) -> np.ndarray:
        if split not in ("heldout", "heldout2"):
            raise ValueError(f"score: split {split!r} is not a held-out split")
        return _split_ids(self._tok_json, split)

    def _bits(self, weights, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """-log2 p of every target token, float64 [windows, T]."""
        p = self._params(weights)
        out = np.zeros(x.shape)
        for a, b in _batches(len(x), SCORE_BATCH):
            lp = np.asarray(_logprobs(p, self.cfg, self._pad(x[a:b]), self._pad(y[a:b])), dtype=np.float64)
            out[a:b] = -lp[: b - a] / math.log(2)
        return out

    def hessians(self) -> dict[str, np.ndarray]:
        """E[x xᵀ] per 2-D tensor over the calibration windows (model.py says which x), for the model's own
        weights; cached outside the work tree beside the training cache."""
        h = hashlib.sha256((self.dir / "model.safetensors").read_bytes()).hexdigest()[:16]
        path = store.cache_dir() / "hessians" / f"{self.name}-{h}-{store.key_of('hessians', CALIB_WINDOWS)}.safetensors"
        if path.exists():
            from safetensors.numpy import load_file
            return load_file(str(path))
        x, _ = self._calib()
        p = self._params(self._w)
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, float] = {}
        for a, b in _batches(len(x), SCORE_BATCH):
            for k, (s, n) in _taps(p, self.cfg, jnp.asarray(x[a:b])).items():
                sums[k] = sums.get(k, 0.0) + np.asarray(s, dtype=np.float64)
                counts[k] = counts.get(k, 0.0) + float(n)
        out = {k: (sums[k] / counts[k]).astype(np.float32) for k in sorted(sums)}
        store.save_tensors_atomic(path, out)
        return out

    # -- sensitivities -----------------------------------------------------------------------------------------
    def calib_loss(self, weights: dict[str, np.ndarray]) -> float:
        x, y = self._calib()
        p = self._params(weights)
        total = 0.0
        for a, b in _batches(len(x), SCORE_BATCH):
            total += -float(np.asarray(_logprobs(p, self.cfg, jnp.asarray(x[a:b]), jnp.asarray(y[a:b])),
                                       dtype=np.float64).sum())
        return total / y.size

    def gradients(self, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._grads(weights)[0]

    def fisher(self, weights: dict[str, np.ndarray], batch: int = 8) -> dict[str, np.ndarray]:
        return self._grads(weights, batch)[1]

    def _grads(self, weights, batch: int = SCORE_BATCH):
        x, y = self._calib()
        x, y = x[: len(x) // batch * batch], y[: len(y) // batch * batch]
        p = self._params(weights)
        g1: dict[str, np.ndarray] = {}
        g2: dict[str, np.ndarray] = {}
        nb = len(x) // batch
        for a, b in _batches(len(x), batch):
            _, g = _grad(p, self.cfg, jnp.asarray(x[a:b]), jnp.asarray(y[a:b]))
            for k, v in g.items():
                v = np.asarray(v, dtype=np.float64)
                g1[k] = g1.get(k, 0.0) + v / nb
                g2[k] = g2.get(k, 0.0) + v * v / nb
        return ({k: v.astype(np.float32) for k, v in g1.items()}, {k: v.astype(np.float32) for k, v in g2.items()})

    # -- helpers -----------------------------------------------------------------------------------------------
    def _calib(self):
        return _windows(_split_ids(self._tok_json, "calib"), self.cfg.ctx, CALIB_WINDOWS)

    def _params(self, weights):
        missing = set(self._w) - set(weights)
        if missing:
            raise ValueError(f"{self.name}: weights lack {sorted(missing)[:3]}")
        return {k: jnp.asarray(np.asarray(weights[k], dtype=np.float32).reshape(self._w[k].shape)) for k in self._w}

    @staticmethod
    def _pad(a: np.ndarray) -> jnp.ndarray:
        if len(a) == SCORE_BATCH:
            return jnp.asarray(a)
        return jnp.asarray(np.concatenate([a, np.zeros((SCORE_BATCH - len(a), a.shape[1]), a.dtype)]))

    def unigram_entropy(self, split: str = "heldout") -> float:
        return byte_unigram_entropy(split_text(split))


def byte_unigram_entropy(text: str) -> float:
    """Bits per byte of the text's own byte frequencies (order-0 entropy): the reference a model must beat."""
    c = np.bincount(np.frombuffer(text.encode("utf-8"), dtype=np.uint8), minlength=256).astype(np.float64)
    p = c[c > 0] / c.sum()
    return float(-(p * np.log2(p)).sum())
