"""What every benchmark script shares: repository paths, the work directory, logging, one error type."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "work" / "bench"          # gitignored: caches, encoded files, model copies
RESULTS = REPO / "bench" / "results"    # committed tables and plots

StateDict = dict[str, np.ndarray]


class BenchError(Exception):
    """Reported as one line on stderr with exit status 1."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def state_fingerprint(state: StateDict) -> str:
    """sha256 over names, dtypes, shapes and bytes, in name order: the same weights give the same key."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = np.ascontiguousarray(state[name])
        h.update(f"{name}|{t.dtype.str}|{t.shape}|".encode())
        h.update(t.tobytes())
    return h.hexdigest()


def rel(p: Path | str) -> str:
    """A path relative to the repository when it is inside it (tables must not name the author's machine)."""
    p = Path(p)
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Temp file in the same directory, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    tmp.replace(path)


class JsonCache:
    """Measured points kept in one JSON file between runs ({key: dict}), rewritten atomically after each store, so
    an interrupted run resumes where it stopped."""

    def __init__(self, path: Path, enabled: bool = True):
        self.path, self.enabled, self.data = Path(path), enabled, {}
        if enabled and self.path.is_file():
            try:
                self.data = json.loads(self.path.read_text())
            except (OSError, ValueError) as e:
                log(f"cache {rel(self.path)} unreadable ({e}); starting afresh")
                self.data = {}

    def get(self, key: str) -> dict | None:
        return self.data.get(key) if self.enabled else None

    def put(self, key: str, value: dict) -> None:
        self.data[key] = value
        write_atomic(self.path, json.dumps(self.data, indent=1))
