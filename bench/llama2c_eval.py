#!/usr/bin/env python3
"""Bits per byte of stories260K (llama2.c) on text sampled from the full-precision model, in numpy.

Usage:
  python3 bench/llama2c_eval.py [--model X.safetensors] [--compare Y.safetensors ...]
                                [--seqs 8] [--tokens 256] [--seed 1234] [--greedy 30] [--noise-check]

Why: the quality measure of this field is `val_bpb` measured after the quantize -> bytes -> dequantize round
trip. For stories260K there is no held-out corpus in the repository, but text sampled from the full-precision
model itself (temperature 1, fixed seed) is in-domain for it (../shared/models/README.md), so scoring that
same text with a round-tripped copy of the weights measures what the codec cost.

The forward pass follows karpathy/llama2.c run.c:
  * x = tok_embeddings[token]; per layer: RMSNorm (eps 1e-5, weight), q/k/v projections, RoPE on q and k
    rotating pairs (2i, 2i+1) of each head by pos * 10000^(-(2i mod head_size)/head_size), grouped-query
    attention (query head h reads kv head h // (n_heads / n_kv_heads)), causal softmax(q.k / sqrt(head_size)),
    wo, residual; RMSNorm, SwiGLU FFN w2(silu(w1 x) * (w3 x)), residual; final RMSNorm; logits = x @ tok_embeddings.T
    (the classifier is tied to the embedding for stories260K).
Weights come from a safetensors file with the names written by tools/llama2c_to_safetensors.py.

Tokenizer (../shared/models/tok512.bin, llama2.c format): used only to count the UTF-8 bytes of the scored
text. Decoding follows run.c's `decode()`: a piece that follows BOS (id 1) loses its leading space (the
SentencePiece dummy-prefix convention); pieces spelled `<0xXX>` are the single raw byte XX. The special
tokens <unk> (0), BOS (1) and EOS (2) are not text and count 0 bytes (run.c's pieces for them, "\\n<s>\\n" and
"\\n</s>\\n", are display strings). Sampling starts from BOS; unlike run.c's `generate`, which stops when BOS is
sampled, the sequence continues through it (a sampled BOS starts the next story, as in the packed training
stream, and positions keep counting) so that every sequence has exactly the same number of tokens.

bits per byte = (sum over every predicted token of -log2 p(token | prefix)) / (UTF-8 bytes of the text those
tokens spell); the first token (BOS) is context only, every later token -- BOS/EOS included, they carry 0
bytes -- is predicted and scored (the parameter-golf `val_bpb` convention: all token losses over all bytes).

`Stories260K` offers the model through the bench/lmeval.py contract (held-out score per sequence, calibration
Hessians from a separately seeded sample, the tokenizer asset) for bench/loss_aware.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = REPO.parent / "shared" / "models"
DEFAULT_LLAMA2C = SHARED_MODELS / "stories260K.bin"
DEFAULT_TOKENIZER = SHARED_MODELS / "tok512.bin"

BOS, EOS, UNK = 1, 2, 0
RMS_EPS = 1e-5
ROPE_THETA = 10000.0

StateDict = dict[str, np.ndarray]


# ----------------------------------------------------------------------------------------------------------
# Config and weights
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_dim(self) -> int:
        return self.dim * self.n_kv_heads // self.n_heads


def config_from_state(state: StateDict, n_heads: int = 8, n_kv_heads: int | None = None, seq_len: int = 512) -> Config:
    """dim, hidden_dim, vocab and layers come from the shapes; n_heads cannot (it is 8 for stories260K);
    n_kv_heads follows from wk's rows given n_heads."""
    vocab, dim = state["tok_embeddings.weight"].shape
    n_layers = 0
    while f"layers.{n_layers}.attention.wq.weight" in state:
        n_layers += 1
    hidden = state["layers.0.feed_forward.w1.weight"].shape[0]
    kv_dim = state["layers.0.attention.wk.weight"].shape[0]
    if n_kv_heads is None:
        n_kv_heads = kv_dim * n_heads // dim
    return Config(dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len)


def load_weights(weights: str | Path | StateDict) -> StateDict:
    """A state dict, or a safetensors path (header metadata n_heads etc. is not needed)."""
    if isinstance(weights, dict):
        return weights
    from safetensors.numpy import load_file
    return load_file(str(weights))


class Model:
    """float32 weights laid out for the forward pass (stacked per layer, transposed for x @ W)."""

    def __init__(self, weights: str | Path | StateDict, cfg: Config | None = None):
        state = load_weights(weights)
        self.cfg = cfg or config_from_state(state)
        c = self.cfg
        f = lambda name: np.asarray(state[name], dtype=np.float32)  # noqa: E731
        self.emb = f("tok_embeddings.weight")  # [vocab, dim]
        self.untied = "output.weight" in state
        self.cls = f("output.weight") if self.untied else self.emb
        L = range(c.n_layers)
        self.rms_att = [f(f"layers.{i}.attention_norm.weight") for i in L]
        self.rms_ffn = [f(f"layers.{i}.ffn_norm.weight") for i in L]
        self.wq = [f(f"layers.{i}.attention.wq.weight").T.copy() for i in L]
        self.wk = [f(f"layers.{i}.attention.wk.weight").T.copy() for i in L]
        self.wv = [f(f"layers.{i}.attention.wv.weight").T.copy() for i in L]
        self.wo = [f(f"layers.{i}.attention.wo.weight").T.copy() for i in L]
        self.w1 = [f(f"layers.{i}.feed_forward.w1.weight").T.copy() for i in L]
        self.w2 = [f(f"layers.{i}.feed_forward.w2.weight").T.copy() for i in L]
        self.w3 = [f(f"layers.{i}.feed_forward.w3.weight").T.copy() for i in L]
        self.rms_final = f("norm.weight")
        # RoPE as run.c computes it: for element pair (i, i+1) of a head, freq = 10000^(-(i % hs) / hs).
        hs = c.head_size
        i = np.arange(0, hs, 2, dtype=np.float32)
        self.freq = (1.0 / np.power(np.float32(ROPE_THETA), i / np.float32(hs))).astype(np.float32)  # [hs/2]

    # -- pieces ------------------------------------------------------------------------------------------

    @staticmethod
    def rmsnorm(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        ms = np.mean(x * x, axis=-1, keepdims=True)
        return (x / np.sqrt(ms + np.float32(RMS_EPS))) * w

    def rope(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """x [..., T, n, hs] with positions pos [T]; rotates pairs (2i, 2i+1)."""
        ang = pos.astype(np.float32)[:, None] * self.freq[None, :]  # [T, hs/2]
        cos = np.cos(ang)[:, None, :]
        sin = np.sin(ang)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    # -- full-sequence forward (scoring) -------------------------------------------------------------------

    def logits(self, tokens: np.ndarray, tap=None) -> np.ndarray:
        """tokens [B, T] -> logits [B, T, vocab], causal, positions 0..T-1. `tap(name, x)`, when given, sees the
        input x [B, T, in] of every linear map under the safetensors name of its weight (the tied classifier's
        input, the final-norm output, under the embedding's name): what calibration Hessians are made of."""
        tap = tap or (lambda name, x: None)
        c = self.cfg
        B, T = tokens.shape
        hs, nh, nkv = c.head_size, c.n_heads, c.n_kv_heads
        rep = nh // nkv
        pos = np.arange(T)
        mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), k=1)
        x = self.emb[tokens]  # [B, T, dim]
        for l in range(c.n_layers):
            h = self.rmsnorm(x, self.rms_att[l])
            for w in ("wq", "wk", "wv"):
                tap(f"layers.{l}.attention.{w}.weight", h)
            q = (h @ self.wq[l]).reshape(B, T, nh, hs)
            k = (h @ self.wk[l]).reshape(B, T, nkv, hs)
            v = (h @ self.wv[l]).reshape(B, T, nkv, hs)
            q, k = self.rope(q, pos), self.rope(k, pos)
            k = np.repeat(k, rep, axis=2)  # head h -> kv head h // rep
            v = np.repeat(v, rep, axis=2)
            # Batched matmuls and in-place softmax: [B, heads, T, T] is the biggest array of the pass.
            att = np.matmul(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 3, 1))
            att /= np.float32(math.sqrt(hs))
            att += mask
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            o = np.matmul(att, v.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3).reshape(B, T, c.dim)
            tap(f"layers.{l}.attention.wo.weight", o)
            x = x + o @ self.wo[l]
            h = self.rmsnorm(x, self.rms_ffn[l])
            tap(f"layers.{l}.feed_forward.w1.weight", h)
            tap(f"layers.{l}.feed_forward.w3.weight", h)
            a = h @ self.w1[l]
            a = a / (np.float32(1.0) + np.exp(-a))  # silu
            g = a * (h @ self.w3[l])
            tap(f"layers.{l}.feed_forward.w2.weight", g)
            x = x + g @ self.w2[l]
        x = self.rmsnorm(x, self.rms_final)
        tap("output.weight" if self.untied else "tok_embeddings.weight", x)
        return x @ self.cls.T

    # -- incremental forward with a KV cache (sampling) ----------------------------------------------------

    def step(self, tok: np.ndarray, pos: int, cache: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """tok [B] at position pos -> logits [B, vocab]; cache[l] = (K, V) each [B, seq, nkv, hs]."""
        c = self.cfg
        B = tok.shape[0]
        hs, nh, nkv = c.head_size, c.n_heads, c.n_kv_heads
        rep = nh // nkv
        p = np.array([pos])
        x = self.emb[tok][:, None, :]  # [B, 1, dim]
        for l in range(c.n_layers):
            h = self.rmsnorm(x, self.rms_att[l])
            q = self.rope((h @ self.wq[l]).reshape(B, 1, nh, hs), p)
            k = self.rope((h @ self.wk[l]).reshape(B, 1, nkv, hs), p)
            v = (h @ self.wv[l]).reshape(B, 1, nkv, hs)
            K, V = cache[l]
            K[:, pos] = k[:, 0]
            V[:, pos] = v[:, 0]
            Kh = np.repeat(K[:, : pos + 1], rep, axis=2)  # [B, t, nh, hs]
            Vh = np.repeat(V[:, : pos + 1], rep, axis=2)
            att = np.einsum("bhd,bthd->bht", q[:, 0], Kh) / np.float32(math.sqrt(hs))
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            o = np.einsum("bht,bthd->bhd", att, Vh).reshape(B, 1, c.dim)
            x = x + o @ self.wo[l]
            h = self.rmsnorm(x, self.rms_ffn[l])
            a = h @ self.w1[l]
            a = a / (np.float32(1.0) + np.exp(-a))
            x = x + (a * (h @ self.w3[l])) @ self.w2[l]
        x = self.rmsnorm(x, self.rms_final)
        return (x @ self.cls.T)[:, 0]

    def new_cache(self, B: int, T: int) -> list[tuple[np.ndarray, np.ndarray]]:
        c = self.cfg
        shape = (B, T, c.n_kv_heads, c.head_size)
        return [(np.zeros(shape, np.float32), np.zeros(shape, np.float32)) for _ in range(c.n_layers)]


def as_model(weights) -> Model:
    return weights if isinstance(weights, Model) else Model(weights)


# ----------------------------------------------------------------------------------------------------------
# Tokenizer (byte counting only)
# ----------------------------------------------------------------------------------------------------------

BYTE_TOKEN = re.compile(rb"^<0x([0-9A-Fa-f]{2})>$")


class Tokenizer:
    def __init__(self, path: str | Path = DEFAULT_TOKENIZER, vocab_size: int = 512):
        raw = Path(path).read_bytes()
        (self.max_token_length,) = struct.unpack_from("<i", raw, 0)
        off = 4
        self.pieces: list[bytes] = []
        self.scores: list[float] = []
        for _ in range(vocab_size):
            score, n = struct.unpack_from("<fi", raw, off)
            off += 8
            self.pieces.append(raw[off:off + n])
            self.scores.append(score)
            off += n
        if off != len(raw):
            raise ValueError(f"{path}: {len(raw) - off} trailing bytes after {vocab_size} tokens")
        # The bytes each token spells, in both contexts (after BOS: leading space stripped).
        self.text = []
        self.text_after_bos = []
        for i, p in enumerate(self.pieces):
            if i in (UNK, BOS, EOS):
                self.text.append(b"")
                self.text_after_bos.append(b"")
                continue
            m = BYTE_TOKEN.match(p)
            t = bytes([int(m.group(1), 16)]) if m else p
            self.text.append(t)
            self.text_after_bos.append(t[1:] if (not m and t.startswith(b" ")) else t)
        self.len = np.array([len(t) for t in self.text], dtype=np.int64)
        self.len_after_bos = np.array([len(t) for t in self.text_after_bos], dtype=np.int64)

    def decode(self, tokens) -> bytes:
        """The UTF-8 bytes a token sequence spells, run.c's rule (see the module docstring)."""
        out, prev = [], None
        for t in tokens:
            t = int(t)
            out.append(self.text_after_bos[t] if prev == BOS else self.text[t])
            prev = t
        return b"".join(out)

    def count_bytes(self, tokens: np.ndarray) -> np.ndarray:
        """Per-position byte counts of tokens [B, T] (vectorised decode lengths)."""
        tokens = np.asarray(tokens)
        prev_bos = np.zeros_like(tokens, dtype=bool)
        prev_bos[:, 1:] = tokens[:, :-1] == BOS
        return np.where(prev_bos, self.len_after_bos[tokens], self.len[tokens])


# ----------------------------------------------------------------------------------------------------------
# Sampling and scoring
# ----------------------------------------------------------------------------------------------------------


def sample(weights, n_seqs: int = 8, n_tokens: int = 256, seed: int = 1234, temperature: float = 1.0) -> np.ndarray:
    """[n_seqs, n_tokens] token ids, each row starting with BOS, sampled from `weights` (use the full-precision
    model) at `temperature` (0: greedy) with numpy's default Generator seeded with `seed`. Softmax in float64;
    one uniform draw per sequence per step, inverse-CDF over the vocabulary (the run.c `sample_mult` rule)."""
    m = as_model(weights)
    if n_tokens > m.cfg.seq_len:
        raise ValueError(f"n_tokens {n_tokens} exceeds the model's seq_len {m.cfg.seq_len}")
    rng = np.random.default_rng(seed)
    toks = np.empty((n_seqs, n_tokens), dtype=np.int64)
    toks[:, 0] = BOS
    cache = m.new_cache(n_seqs, n_tokens)
    for pos in range(n_tokens - 1):
        logits = m.step(toks[:, pos], pos, cache).astype(np.float64)
        if temperature == 0:
            toks[:, pos + 1] = np.argmax(logits, axis=-1)
            continue
        logits /= temperature
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        cdf = np.cumsum(p, axis=-1)
        cdf /= cdf[:, -1:]
        u = rng.random(n_seqs)
        idx = np.array([np.searchsorted(cdf[b], u[b], side="right") for b in range(n_seqs)])
        toks[:, pos + 1] = np.minimum(idx, m.cfg.vocab_size - 1)
    return toks


def token_nll_bits(weights, token_seqs: np.ndarray) -> np.ndarray:
    """-log2 p(token_t | tokens_<t) for t = 1..T-1, shape [B, T-1], float64."""
    m = as_model(weights)
    token_seqs = np.asarray(token_seqs, dtype=np.int64)
    logits = m.logits(token_seqs[:, :-1]).astype(np.float64)
    mx = logits.max(axis=-1, keepdims=True)
    logz = mx[..., 0] + np.log(np.exp(logits - mx).sum(axis=-1))
    tgt = token_seqs[:, 1:]
    picked = np.take_along_axis(logits, tgt[..., None], axis=-1)[..., 0]
    return (logz - picked) / math.log(2.0)


_TOKENIZER: Tokenizer | None = None


def default_tokenizer() -> Tokenizer:
    global _TOKENIZER
    if _TOKENIZER is None:
        _TOKENIZER = Tokenizer(DEFAULT_TOKENIZER)
    return _TOKENIZER


def scored_bytes(token_seqs: np.ndarray, tok: Tokenizer | None = None) -> int:
    """UTF-8 bytes spelled by the predicted tokens (positions 1..T-1; position 0 is BOS, 0 bytes)."""
    tok = tok or default_tokenizer()
    return int(tok.count_bytes(np.asarray(token_seqs))[:, 1:].sum())


def bits_per_byte(weights, token_seqs: np.ndarray, tok: Tokenizer | None = None) -> float:
    """Total next-token cross-entropy in bits over all predicted tokens / UTF-8 bytes of the scored text."""
    return float(token_nll_bits(weights, token_seqs).sum()) / scored_bytes(token_seqs, tok)


# ----------------------------------------------------------------------------------------------------------
# Reference text and evaluation helpers (used by bench/rate_distortion.py)
# ----------------------------------------------------------------------------------------------------------


def load_converter():
    spec = importlib.util.spec_from_file_location("llama2c_to_safetensors", REPO / "tools" / "llama2c_to_safetensors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def stories_state(llama2c: Path = DEFAULT_LLAMA2C) -> StateDict:
    """stories260K's tensors under the converter's names, straight from the llama2.c checkpoint."""
    _, tensors = load_converter().load_checkpoint(str(llama2c))
    return tensors


class Evaluator:
    """Samples the evaluation text once from the full-precision weights and scores any copy of them on it."""

    def __init__(self, reference, n_seqs: int = 8, n_tokens: int = 256, seed: int = 1234):
        self.ref = as_model(reference)
        self.n_seqs, self.n_tokens, self.seed = n_seqs, n_tokens, seed
        self.tokens = sample(self.ref, n_seqs, n_tokens, seed)
        self.tok = default_tokenizer()
        self.nbytes = scored_bytes(self.tokens, self.tok)
        self.ref_bpb = bits_per_byte(self.ref, self.tokens, self.tok)

    def bpb(self, weights) -> float:
        return bits_per_byte(weights, self.tokens, self.tok)

    def describe(self) -> str:
        return (f"{self.n_seqs} sequences × {self.n_tokens} tokens sampled from the full-precision model "
                f"(temperature 1, numpy default_rng({self.seed}), from BOS): {self.n_seqs * (self.n_tokens - 1):,} "
                f"scored tokens spelling {self.nbytes:,} UTF-8 bytes; full-precision bpb {self.ref_bpb:.4f}")


# ----------------------------------------------------------------------------------------------------------
# stories260K as a bench/lmeval.py LanguageModel
# ----------------------------------------------------------------------------------------------------------

# Held-out text: 256 sequences of 256 tokens (65,280 scored tokens, ~140 KB). Measured with bench/loss_aware.py
# (bench/results/loss_aware_stories260K.md): the paired standard error of Δbpb against the full-precision weights
# is 0.0004 at the record's int6 (Δ 0.006) to 0.005 at int3 (Δ 0.44); at matched bytes, ±1 SE moves the
# sdcodec/record bytes ratio by at most ±1 %. (8 sequences, rate_distortion.py's default, give ~6x those errors.)
HELDOUT_SEQS, HELDOUT_TOKENS, HELDOUT_SEED = 256, 256, 1234
# Calibration text for the Hessians: a separate sample (another seed), 64 x 256 tokens = 16,384 token positions,
# far more than the largest input dimension (172).
CALIB_SEQS, CALIB_TOKENS, CALIB_SEED = 64, 256, 20260


class Stories260K:
    """stories260K under the bench/lmeval.py contract. Held-out and calibration texts are sampled from the
    full-precision model (temperature 1, from BOS) with different seeds; each held-out sequence is one window of
    the paired comparison. Hessians are E[x xᵀ] over every token position of the calibration sample, x the input of
    each linear map; the tied classifier's (the embedding's) from the final-norm output."""

    name = "stories260K"

    def __init__(self, llama2c: Path = DEFAULT_LLAMA2C, tokenizer: Path = DEFAULT_TOKENIZER,
                 heldout=(HELDOUT_SEQS, HELDOUT_TOKENS, HELDOUT_SEED), calib=(CALIB_SEQS, CALIB_TOKENS, CALIB_SEED),
                 batch: int = 16):
        if heldout[2] == calib[2]:
            raise ValueError("held-out and calibration samples need different seeds")
        self.tokenizer_path = Path(tokenizer)
        self._state = stories_state(Path(llama2c))
        self._ref = Model(self._state)
        self.tok = Tokenizer(self.tokenizer_path, self._ref.cfg.vocab_size)
        self.heldout, self.calib, self.batch = heldout, calib, batch
        self.tokens = sample(self._ref, *heldout)
        self._hessians: StateDict | None = None
        self._calib_tokens: np.ndarray | None = None

    def describe(self) -> str:
        n, t, seed = self.heldout
        cn, ct, cseed = self.calib
        return (f"held-out: {n} sequences x {t} tokens sampled from the full-precision model (temperature 1, "
                f"default_rng({seed})), {n * (t - 1):,} scored tokens, one window per sequence; calibration: "
                f"{cn} x {ct} tokens, default_rng({cseed})")

    def weights(self) -> StateDict:
        return {k: v.copy() for k, v in self._state.items()}

    def roles(self) -> dict[str, str]:
        return {}  # the name rule of spec/format.md §11 gets every stories260K tensor right

    def score(self, weights: StateDict):
        from lmeval import Score
        m = as_model(weights)
        bits, nbytes = [], []
        counts = self.tok.count_bytes(self.tokens)[:, 1:]
        for i in range(0, len(self.tokens), self.batch):
            bits.append(token_nll_bits(m, self.tokens[i:i + self.batch]).sum(axis=1))
            nbytes.append(counts[i:i + self.batch].sum(axis=1))
        return Score(np.concatenate(bits), np.concatenate(nbytes).astype(np.int64))

    def calib_tokens(self) -> np.ndarray:
        if self._calib_tokens is None:
            self._calib_tokens = sample(self._ref, *self.calib)
        return self._calib_tokens

    def calib_loss(self, weights: StateDict) -> float:
        """Mean cross-entropy (bits per token) of `weights` on the calibration sample, never the held-out one:
        what `sdcodec.sensitivities` probes."""
        m, toks = as_model(weights), self.calib_tokens()
        total = sum(float(token_nll_bits(m, toks[i:i + self.batch]).sum()) for i in range(0, len(toks), self.batch))
        return total / (toks.shape[0] * (toks.shape[1] - 1))

    def hessians(self) -> StateDict:
        if self._hessians is None:
            toks = self.calib_tokens()
            acc: dict[str, np.ndarray] = {}

            def tap(name, x):
                x2 = x.reshape(-1, x.shape[-1]).astype(np.float64)
                acc[name] = acc.get(name, 0.0) + x2.T @ x2

            for i in range(0, len(toks), self.batch):
                self._ref.logits(toks[i:i + self.batch], tap=tap)
            n = toks.size
            self._hessians = {k: (v / n).astype(np.float32) for k, v in acc.items()}
        return {k: v.copy() for k, v in self._hessians.items()}

    def assets(self) -> dict[str, bytes]:
        return {"tokenizer": self.tokenizer_path.read_bytes()}


def noise_like(state: StateDict, seed: int = 0) -> StateDict:
    """Every float tensor replaced by Gaussian noise of the same per-tensor mean and std (a broken model)."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, v in state.items():
        v = np.asarray(v, dtype=np.float32)
        out[k] = (rng.standard_normal(v.shape) * v.std() + v.mean()).astype(np.float32)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="safetensors weights (default: stories260K.bin converted in memory)")
    p.add_argument("--compare", nargs="*", default=[], help="other safetensors files scored on the same text")
    p.add_argument("--seqs", type=int, default=8)
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--greedy", type=int, default=30, help="greedy tokens from BOS to print (0: none)")
    p.add_argument("--noise-check", action="store_true", help="also score a model whose weights are noise")
    args = p.parse_args(argv[1:])
    state = load_weights(args.model) if args.model else stories_state()
    model = Model(state)
    c = model.cfg
    print(f"config: dim {c.dim}, hidden {c.hidden_dim}, layers {c.n_layers}, heads {c.n_heads}, kv heads "
          f"{c.n_kv_heads}, head size {c.head_size}, vocab {c.vocab_size}; "
          f"{sum(v.size for v in state.values()):,} params")
    tok = default_tokenizer()
    if args.greedy:
        g = sample(model, 1, args.greedy + 1, 0, temperature=0.0)
        print(f"greedy {args.greedy} tokens from BOS: {tok.decode(g[0]).decode('utf-8', 'replace')!r}")
    t0 = time.perf_counter()
    ev = Evaluator(model, args.seqs, args.tokens, args.seed)
    t1 = time.perf_counter()
    print(f"sampled in {t1 - t0:.2f} s: {ev.describe()}")
    print(f"first sample: {tok.decode(ev.tokens[0]).decode('utf-8', 'replace')[:400]!r}")
    t0 = time.perf_counter()
    ev.bpb(model)
    print(f"one bits_per_byte evaluation: {time.perf_counter() - t0:.2f} s")
    for path in args.compare:
        print(f"{path}: bpb {ev.bpb(Model(path)):.4f} (full precision {ev.ref_bpb:.4f})")
    if args.noise_check:
        print(f"noise weights (same per-tensor mean/std): bpb {ev.bpb(noise_like(state)):.4f}; "
              f"uniform over the vocabulary would be "
              f"{(args.tokens - 1) * args.seqs * math.log2(c.vocab_size) / ev.nbytes:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
