"""The contract between language models and the benchmarks that score codecs on them.

Every language model a benchmark scores (stories260K, the proving-ground models) is offered through an object
with this shape, so that a codec comparison (baselines against sdcodec, at matched bits per byte) is written
once and runs on any of them:

    lm.name                   short identifier ("stories260K", "pg-unique-6L", ...)
    lm.weights()              {tensor name: float32 ndarray}, the full-precision state under safetensors names
    lm.roles()                {tensor name: role} for tensors whose role the name rule of spec/format.md §11 would
                              get wrong (may be empty)
    lm.score(weights)         Score on the held-out split, with `weights` in place of the model's own
    lm.hessians()             {2-D tensor name: float32 [in, in]} = E[x xᵀ] over the calibration split, x the
                              inputs that multiply the tensor's columns (sdcodec's --hessians format)
    lm.assets()               {asset name: bytes} stored beside the weights in an artifact (the tokenizer)

The held-out split is used only by `score`; the calibration split only by `hessians` (and sensitivities).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

StateDict = dict[str, np.ndarray]


@dataclass
class Score:
    """Bits per UTF-8 byte on held-out text, with the per-window parts a paired comparison needs."""

    chunk_bits: np.ndarray   # total -log2 p of the tokens scored in each window (float64)
    chunk_bytes: np.ndarray  # UTF-8 bytes of the text those tokens spell, per window (int64)

    @property
    def bpb(self) -> float:
        return float(self.chunk_bits.sum() / self.chunk_bytes.sum())


class LanguageModel(Protocol):
    name: str

    def weights(self) -> StateDict: ...
    def roles(self) -> dict[str, str]: ...
    def score(self, weights: StateDict) -> Score: ...
    def hessians(self) -> StateDict: ...
    def assets(self) -> dict[str, bytes]: ...


def paired_difference(a: Score, b: Score) -> tuple[float, float]:
    """bpb(b) - bpb(a) and its standard error, paired over the windows both scored.

    The difference of two ratio estimates sum(bits)/sum(bytes) over the same windows; its standard error comes
    from the delta method on the per-window differences d_i = (bits_b,i - bits_a,i) - Δ·bytes_i, treating windows
    as independent draws (they are non-overlapping stretches of text).
    """
    if a.chunk_bytes.shape != b.chunk_bytes.shape or not np.array_equal(a.chunk_bytes, b.chunk_bytes):
        raise ValueError("paired_difference: the two scores cover different windows")
    total = float(a.chunk_bytes.sum())
    delta = float((b.chunk_bits.sum() - a.chunk_bits.sum()) / total)
    n = len(a.chunk_bytes)
    if n < 2:
        return delta, math.nan
    d = (b.chunk_bits - a.chunk_bits) - delta * a.chunk_bytes
    se = math.sqrt(n / (n - 1) * float(np.sum(d * d))) / total
    return delta, se


def paired_difference_text(a: Score, b: Score) -> tuple[float, float]:
    """bpb(b) - bpb(a) and its standard error for two scores over the same chunks of text whose byte counts may
    differ slightly (models with different tokenizers scored per block of text, where a token straddling a block
    boundary counts in one block only).

    Delta method on the two ratio estimates R = sum(bits)/sum(bytes), each chunk contributing
    u_i = (bits_b,i - R_b·bytes_b,i)/sum(bytes_b) - (bits_a,i - R_a·bytes_a,i)/sum(bytes_a); equal to
    paired_difference when the byte counts agree.
    """
    if a.chunk_bytes.shape != b.chunk_bytes.shape:
        raise ValueError("paired_difference_text: the two scores have different numbers of chunks")
    na, nb = float(a.chunk_bytes.sum()), float(b.chunk_bytes.sum())
    ra, rb = float(a.chunk_bits.sum()) / na, float(b.chunk_bits.sum()) / nb
    n = len(a.chunk_bytes)
    if n < 2:
        return rb - ra, math.nan
    u = (b.chunk_bits - rb * b.chunk_bytes) / nb - (a.chunk_bits - ra * a.chunk_bytes) / na
    return rb - ra, math.sqrt(n / (n - 1) * float(np.sum(u * u)))
