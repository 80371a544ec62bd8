"""Where proving-ground artifacts live: the training cache outside the work tree, and the committed models.

Cache: $SDC_PG_CACHE, else ~/.cache/sdcodec/proving-ground. A trained model is kept under a key that hashes
the source files that decide its weights (TRAINING_SOURCES), the model and training configs, the corpus and the JAX / tokenizers versions;
anything that could change the weights changes the key. Committed copies (bench/lm/models/NAME/) hold the fp16
weights, the tokenizer and a card (configs, key, training statistics), so benchmarks never wait for training.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile

import numpy as np
from safetensors.numpy import load_file, save_file

PKG = pathlib.Path(__file__).resolve().parent
MODELS_DIR = PKG / "models"


def cache_dir() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("SDC_PG_CACHE", pathlib.Path.home() / ".cache" / "sdcodec" / "proving-ground"))
    d.mkdir(parents=True, exist_ok=True)
    return d


# The sources that decide a model's weights (zoo.py's configs enter the key as values, not as source).
TRAINING_SOURCES = ("corpus.py", "tokenizer.py", "model.py", "train.py")


def code_hash() -> str:
    h = hashlib.sha256()
    for p in (PKG / n for n in TRAINING_SOURCES):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def key_of(*parts) -> str:
    import jax
    import tokenizers
    blob = json.dumps([code_hash(), jax.__version__, tokenizers.__version__, *parts], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def write_atomic(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)   # mkstemp makes 0600; these are ordinary data files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_tensors_atomic(path: pathlib.Path, tensors: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, tmp, metadata=metadata)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_model(d: pathlib.Path, params: dict[str, np.ndarray], tokenizer_json: bytes, card: dict) -> None:
    """fp16 weights, tokenizer and card into directory d (each file written atomically)."""
    save_tensors_atomic(d / "model.safetensors", {k: v.astype(np.float16) for k, v in params.items()})
    write_atomic(d / "tokenizer.json", tokenizer_json)
    write_atomic(d / "card.json", (json.dumps(card, indent=1, sort_keys=True) + "\n").encode())


def load_model(d: pathlib.Path) -> tuple[dict[str, np.ndarray], bytes, dict]:
    w = {k: v.astype(np.float32) for k, v in load_file(str(d / "model.safetensors")).items()}
    return w, (d / "tokenizer.json").read_bytes(), json.loads((d / "card.json").read_text())
