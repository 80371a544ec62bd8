#!/usr/bin/env python3
"""Builds a Llama-shaped model of any size from a trained one's own weights (cut or tiled), to check what
`sdcodec plan` predicts for a shape against the real file of that shape.

Usage: llama_shape.py SRC.safetensors OUT.safetensors --vocab V --dim D --blocks N --hidden H
                      [--heads n --kv-heads k] [--seed S]

SRC uses tools/llama2c_to_safetensors.py's names (stories260K). Block i of the output is the source's block
i mod its block count. A matrix R x C becomes rows x cols: output row r is source row floor(r * R / rows)
(its `copy`: how many earlier output rows used that source row), and its columns are laid out in tiles of C,
tile t holding the source columns in an order fixed per (copy, t), shared by every row: the identity for the
first tile of the first copy, a random permutation otherwise. So a cut (rows <= R, cols <= C) is the trained
weights themselves; a widened row keeps its own trained values; rows that were alike in the source (e.g.
stories260K's barely-trained byte-fallback embeddings, which the section compressor finds) stay alike; and
no two output rows are copies of each other, which the compressor would shrink below what a model of that
size would cost. A row's later copies are scaled by 1 + 0.01 z (z standard normal, one per row), so that their
per-row scales differ as a trained model's would rather than repeat. Vectors (norms, stored raw as float32)
get the same tiles with each value beyond the first tile scaled by 1 + 1e-4 z, since raw storage compresses
exact repeats of a float32 that a trained vector does not have. Deterministic for a given seed. `--blocks` is the number of blocks with their
own weights (plan's unique layers).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file, save

BLOCK = {  # name in block i -> shape in terms of the output's dim D, key/value width K and MLP width H
    "attention_norm.weight": lambda D, K, H: (D,), "ffn_norm.weight": lambda D, K, H: (D,),
    "attention.wq.weight": lambda D, K, H: (D, D), "attention.wk.weight": lambda D, K, H: (K, D),
    "attention.wv.weight": lambda D, K, H: (K, D), "attention.wo.weight": lambda D, K, H: (D, D),
    "feed_forward.w1.weight": lambda D, K, H: (H, D), "feed_forward.w2.weight": lambda D, K, H: (D, H),
    "feed_forward.w3.weight": lambda D, K, H: (H, D),
}


def resize(w, shape, rng):
    """`w` (1-D or 2-D) to `shape` by the rule in the module docstring."""
    vector = w.ndim == 1
    w2 = w.reshape(1, -1) if vector else w
    rows, cols = (1, shape[0]) if vector else shape
    R, C = w2.shape
    tiles = -(-cols // C)
    src = np.arange(rows) * R // rows
    copy = np.arange(rows) - np.searchsorted(src, src)  # rows before this one with the same source row
    out = np.empty((rows, tiles * C), w.dtype)
    for k in range(copy.max() + 1):
        for t in range(tiles):
            order = np.arange(C) if k == t == 0 else rng.permutation(C)
            out[copy == k, t * C:(t + 1) * C] = w2[src[copy == k]][:, order]
    out = out[:, :cols]
    out[copy > 0] *= (1 + 0.01 * rng.standard_normal((int((copy > 0).sum()), 1))).astype(w.dtype)
    if vector and cols > C:
        out[:, C:] *= (1 + 1e-4 * rng.standard_normal(cols - C)).astype(w.dtype)
    return np.ascontiguousarray(out.reshape(shape))


def build(src, vocab, dim, blocks, hidden, heads, kv_heads, seed=0):
    """{name: array} of the requested shape from the source tensors `src`."""
    if dim % heads or kv_heads > heads:
        raise ValueError("heads must divide dim and kv-heads must not exceed heads")
    kv = dim // heads * kv_heads
    have = sorted({int(k.split(".")[1]) for k in src if k.startswith("layers.")})
    if not have:
        raise ValueError("the source has no layers.N.* tensors")
    out, index = {}, 0

    def put(name, w, shape):
        nonlocal index
        out[name] = resize(w, shape, np.random.default_rng([seed, index]))
        index += 1

    put("tok_embeddings.weight", src["tok_embeddings.weight"], (vocab, dim))
    for i in range(blocks):
        j = have[i % len(have)]
        for suffix, shape in BLOCK.items():
            put(f"layers.{i}.{suffix}", src[f"layers.{j}.{suffix}"], shape(dim, kv, hidden))
    put("norm.weight", src["norm.weight"], (dim,))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src")
    p.add_argument("out")
    for name in ("vocab", "dim", "blocks", "hidden"):
        p.add_argument(f"--{name}", type=int, required=True)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    try:
        if os.path.exists(a.out) and os.path.samefile(a.src, a.out):
            raise ValueError(f"output '{a.out}' is the input file")
        t = build(load_file(a.src), a.vocab, a.dim, a.blocks, a.hidden, a.heads, a.kv_heads, a.seed)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.out)), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(save(t))
        os.replace(tmp, a.out)
    except (ValueError, KeyError, OSError) as e:
        print(f"llama_shape: {e}", file=sys.stderr)
        return 1
    print(f"{a.out}: {sum(v.size for v in t.values())} parameters in {len(t)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
