#!/usr/bin/env python3
"""Convert a llama2.c legacy checkpoint (e.g. stories260K.bin) into a safetensors file.

Usage: python3 tools/llama2c_to_safetensors.py IN.bin OUT.safetensors

Why this exists: sdcodec reads safetensors, and the small real model the project tests and benchmarks on is
published in llama2.c's headerless "legacy" format. The conversion is a pure re-labelling of float32 arrays:
values are copied bit for bit, so any error measured later belongs to the codec, not to this step.

Legacy layout (little-endian): 7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
seq_len; a negative vocab_size means the classifier is NOT shared with the embedding), then float32 arrays
token_embedding [vocab, dim]; rms_att [L, dim]; wq [L, dim, dim]; wk [L, kv_dim, dim]; wv [L, kv_dim, dim];
wo [L, dim, dim]; rms_ffn [L, dim]; w1 [L, hidden, dim]; w2 [L, dim, hidden]; w3 [L, hidden, dim];
rms_final [dim]; the RoPE table (seq_len * head_size floats, skipped); and wcls [vocab, dim] only if unshared.
Output names follow Meta's llama checkpoints; linear weights are [out, in] as stored.

Uses only the standard library and numpy. The safetensors file is written by hand (8-byte LE header length,
JSON header padded with spaces to a multiple of 8, tensors contiguous in checkpoint order) rather than with
`safetensors.numpy.save`, because the reference writer emits `__metadata__` in hash-map order, which changes
the file's bytes from run to run; a converter whose output has a stable checksum is easier to cite.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

HEADER_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len")
HEADER_BYTES = 4 * len(HEADER_FIELDS)
F32 = np.dtype("<f4")


class ConversionError(Exception):
    """A problem with the input or output that is reported as one line and exit status 1."""


@dataclass(frozen=True)
class Config:
    """The checkpoint header. `vocab_size` is the absolute value; `tied` records the sign convention."""

    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int
    tied: bool

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_dim(self) -> int:
        return self.dim * self.n_kv_heads // self.n_heads

    def metadata(self) -> dict[str, str]:
        """safetensors `__metadata__` only holds strings, so every field is stringified."""
        fields = {name: str(getattr(self, name)) for name in HEADER_FIELDS}
        fields["tied"] = "true" if self.tied else "false"
        return fields


def parse_header(raw: bytes) -> Config:
    """Decode and sanity-check the 7-int32 header before any size arithmetic relies on it."""
    if len(raw) < HEADER_BYTES:
        raise ConversionError(f"file is {len(raw)} bytes, shorter than the {HEADER_BYTES}-byte header")
    values = dict(zip(HEADER_FIELDS, struct.unpack_from("<7i", raw, 0)))
    tied = values["vocab_size"] > 0
    values["vocab_size"] = abs(values["vocab_size"])
    bad = [f"{k}={v}" for k, v in values.items() if v <= 0]
    if bad:
        raise ConversionError("header has non-positive fields: " + ", ".join(bad))
    cfg = Config(tied=tied, **values)
    if cfg.dim % cfg.n_heads or cfg.n_heads % cfg.n_kv_heads or cfg.head_size % 2:
        raise ConversionError(
            f"header is inconsistent: dim={cfg.dim}, n_heads={cfg.n_heads}, n_kv_heads={cfg.n_kv_heads}"
            " (need n_heads | dim, n_kv_heads | n_heads, even head size)"
        )
    return cfg


def array_layout(cfg: Config) -> list[tuple[str, tuple[int, ...]]]:
    """The float32 arrays in file order, as (key, shape). Per-layer arrays are stacked on axis 0.

    "rope" is the precomputed RoPE table (real and imaginary halves, seq_len * head_size / 2 floats each); it is
    listed so offsets stay right but is not converted.
    """
    d, h, L, kv, v = cfg.dim, cfg.hidden_dim, cfg.n_layers, cfg.kv_dim, cfg.vocab_size
    layout = [
        ("tok_embeddings", (v, d)),
        ("attention_norm", (L, d)),
        ("wq", (L, d, d)),
        ("wk", (L, kv, d)),
        ("wv", (L, kv, d)),
        ("wo", (L, d, d)),
        ("ffn_norm", (L, d)),
        ("w1", (L, h, d)),
        ("w2", (L, d, h)),
        ("w3", (L, h, d)),
        ("norm", (d,)),
        ("rope", (cfg.seq_len * cfg.head_size,)),
    ]
    if not cfg.tied:
        layout.append(("output", (v, d)))
    return layout


def expected_file_size(cfg: Config) -> int:
    """Header plus every array of the layout, in bytes (Python ints, so no overflow)."""
    return HEADER_BYTES + F32.itemsize * sum(int(np.prod(shape)) for _, shape in array_layout(cfg))


# Per-layer key -> Meta llama tensor name (format with the layer index).
LAYER_NAMES = {
    "attention_norm": "layers.{i}.attention_norm.weight",
    "wq": "layers.{i}.attention.wq.weight",
    "wk": "layers.{i}.attention.wk.weight",
    "wv": "layers.{i}.attention.wv.weight",
    "wo": "layers.{i}.attention.wo.weight",
    "ffn_norm": "layers.{i}.ffn_norm.weight",
    "w1": "layers.{i}.feed_forward.w1.weight",
    "w2": "layers.{i}.feed_forward.w2.weight",
    "w3": "layers.{i}.feed_forward.w3.weight",
}
GLOBAL_NAMES = {"tok_embeddings": "tok_embeddings.weight", "norm": "norm.weight", "output": "output.weight"}


def read_arrays(raw: bytes, cfg: Config) -> dict[str, np.ndarray]:
    """Slice the float32 arrays out of `raw` at their offsets and give them their safetensors names.

    Arrays are copied (np.frombuffer views would pin `raw` and be read-only) and kept as little-endian float32.
    """
    tensors: dict[str, np.ndarray] = {}
    offset = HEADER_BYTES
    for key, shape in array_layout(cfg):
        count = int(np.prod(shape))
        arr = np.frombuffer(raw, dtype=F32, count=count, offset=offset).reshape(shape)
        offset += count * F32.itemsize
        if key == "rope":
            continue
        if key in LAYER_NAMES:
            for i in range(cfg.n_layers):
                tensors[LAYER_NAMES[key].format(i=i)] = np.array(arr[i], dtype=F32, copy=True)
        else:
            tensors[GLOBAL_NAMES[key]] = np.array(arr, dtype=F32, copy=True)
    return tensors


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """Serialise float32 tensors as safetensors, deterministically: keys in the given order (metadata sorted),
    compact JSON, offsets contiguous from 0, header space-padded to a multiple of 8 so the data is aligned."""
    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    offset = 0
    for name, arr in tensors.items():
        if arr.dtype != F32:
            raise ConversionError(f"internal: {name} is {arr.dtype}, expected little-endian float32")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *(np.ascontiguousarray(a).tobytes() for a in tensors.values())])


def load_checkpoint(path: str) -> tuple[Config, dict[str, np.ndarray]]:
    """Read and validate a legacy checkpoint. The size must match the header exactly, which catches truncated
    downloads and the newer versioned llama2.c formats (those start with a magic, not a sane header)."""
    with open(path, "rb") as f:
        raw = f.read()
    cfg = parse_header(raw)
    want = expected_file_size(cfg)
    if len(raw) != want:
        raise ConversionError(
            f"{path}: size {len(raw)} bytes does not match the {want} bytes its header implies "
            f"({', '.join(f'{k}={v}' for k, v in cfg.metadata().items())})"
        )
    return cfg, read_arrays(raw, cfg)


def write_atomically(data: bytes, out_path: str) -> None:
    """Write to a temp file in the destination directory, fsync, then os.replace, so a reader never sees a
    half-written file and a failed run leaves any previous output intact."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix="." + os.path.basename(out_path) + ".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~current_umask())  # mkstemp makes 0600; use normal permissions
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def current_umask() -> int:
    """The process umask (only readable by setting it, so set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_file(a: str, b: str) -> bool:
    """True if the two paths name the same file (resolving links), so the input is never overwritten."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    return os.path.exists(b) and os.path.samefile(a, b)


def convert(in_path: str, out_path: str) -> tuple[Config, dict[str, np.ndarray]]:
    """Convert `in_path` to `out_path`; returns the config and the tensors written (for callers such as the
    benchmark that want to use them without re-reading)."""
    if same_file(in_path, out_path):
        raise ConversionError(f"refusing to write the output over the input {in_path}")
    cfg, tensors = load_checkpoint(in_path)
    write_atomically(safetensors_bytes(tensors, metadata=cfg.metadata()), out_path)
    return cfg, tensors


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print("usage: python3 tools/llama2c_to_safetensors.py IN.bin OUT.safetensors", file=sys.stderr)
        return 2 if len(argv) != 3 else 0
    try:
        cfg, tensors = convert(argv[1], argv[2])
    except (ConversionError, OSError) as e:
        print(f"llama2c_to_safetensors: error: {e}", file=sys.stderr)
        return 1
    params = sum(t.size for t in tensors.values())
    print(
        f"wrote {argv[2]}: {len(tensors)} tensors, {params:,} params "
        f"(dim={cfg.dim} layers={cfg.n_layers} vocab={cfg.vocab_size} tied={cfg.metadata()['tied']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
