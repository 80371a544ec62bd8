"""Measured points of the loss-aware comparison (bench/loss_aware.py): one artifact per point -- a baseline's blob
or an sdcodec file -- scored on the model's held-out text after the round trip, kept with its per-window bits so
that any two points can be compared paired. Points and scores are cached under work/bench/loss_aware/<model>/."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from baselines import Baseline
from bench_common import WORK, BenchError, JsonCache, StateDict, log, rel, state_fingerprint, write_atomic
from lmeval import Score, paired_difference
from safetensors.numpy import load_file, save_file
from sdcodec_cli import Binary, last_line, run_cmd

LA_VERSION = 1  # bump when a baseline's bytes, the scoring or the point fields change
# In a setting's arguments, replaced by the JSON file of the model's measured sensitivities (ModelRun.sensitivity).
SENSITIVITY = "@sensitivity"
SENSITIVITY_SNR_DB, SENSITIVITY_PROBES = 25.0, 2
# ... or by the sensitivities from the diagonal Fisher (ModelRun.sensitivity(FISHER)).
FISHER = "@fisher"
FISHER_BATCH = 8


@dataclass
class LaPoint:
    family: str                 # "record pipeline", "GPTQ-lite + brotli-11", "sdcodec scalar", ...
    config: str                 # "int4, k per role", "budget 90,000", ...
    key: str
    nbytes: int | None = None
    bpb: float | None = None
    dbpb: float | None = None   # bpb - bpb of the full-precision weights, paired over the windows
    dbpb_se: float | None = None
    enc_s: float | None = None
    dec_s: float | None = None
    budget: int | None = None
    command: str = ""
    info: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.nbytes is not None and self.bpb is not None


class ModelRun:
    """One LanguageModel in one run: its weights and Hessians on disk (for the CLI), roles, the reference score,
    and the cache of measured points."""

    def __init__(self, lm, roles: dict[str, str], use_cache: bool = True):
        self.lm, self.name = lm, lm.name
        self.weights = lm.weights()
        self.hessians = lm.hessians()
        self.params = sum(int(t.size) for t in self.weights.values())
        self.fp = state_fingerprint(self.weights)
        self.h_fp = state_fingerprint(self.hessians)
        self.dir = WORK / "loss_aware" / self.name
        self.use_cache = use_cache
        # Scores depend on the held-out text too. A model that describes it (`describe()`) is keyed by that text;
        # any other by its reference score itself, computed afresh each run (a changed held-out split changes it).
        fresh_ref = None
        if hasattr(lm, "describe"):
            self.eval_id = hashlib.sha256(lm.describe().encode()).hexdigest()[:12]
        else:
            fresh_ref = lm.score(self.weights)
            self.eval_id = hashlib.sha256(fresh_ref.chunk_bits.tobytes() + fresh_ref.chunk_bytes.tobytes()
                                          ).hexdigest()[:12]
        self.scores_dir = self.dir / "scores" / self.eval_id
        self.scores_dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "sdc").mkdir(exist_ok=True)
        self.weights_path = self.dir / "weights.safetensors"
        self.hessians_path = self.dir / "hessians.safetensors"
        for path, tensors in ((self.weights_path, self.weights), (self.hessians_path, self.hessians)):
            tmp = path.with_name(path.name + ".tmp")
            save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
            tmp.replace(path)
        self.roles = roles
        self.cache = JsonCache(self.dir / "points.json", enabled=use_cache)
        self.cache_hits = 0
        self.ref = fresh_ref if fresh_ref is not None else self._score(self.weights)
        self.ref_bpb = self.ref.bpb

    def sensitivity(self, kind: str = SENSITIVITY) -> tuple[Path, str]:
        """Per-tensor sensitivities as the JSON file `--sensitivity` reads, and a digest of its values, cached by
        the weights and Hessians; measured on the calibration data, never the held-out text. kind SENSITIVITY:
        loss probes (`sdcodec.sensitivities` on the model's calibration loss); FISHER: the diagonal Fisher
        (`sdcodec.fisher_sensitivities` on its mean squared gradients over batches of FISHER_BATCH windows)."""
        import sdcodec
        if kind == SENSITIVITY:
            needs, params = "calib_loss", (f"snr{SENSITIVITY_SNR_DB}", f"probes{SENSITIVITY_PROBES}")
            compute = lambda: sdcodec.sensitivities(self.lm.calib_loss, self.weights, self.hessians,  # noqa: E731
                                                    snr_db=SENSITIVITY_SNR_DB, probes=SENSITIVITY_PROBES)
        else:
            needs, params = "fisher", (f"batch{FISHER_BATCH}",)
            compute = lambda: sdcodec.fisher_sensitivities(  # noqa: E731
                self.lm.fisher(self.weights, batch=FISHER_BATCH), self.weights, self.hessians)
        if not hasattr(self.lm, needs):
            raise BenchError(f"{self.name}: {kind} needs the model's {needs}")
        stem = kind.lstrip("@")
        path = self.dir / f"{stem}.json"
        key = self.key(stem, *params)
        cached = json.loads(path.read_text()) if path.is_file() and self.use_cache else {}
        if cached.get("key") != key:
            t0 = time.perf_counter()
            values = compute()
            log(f"{self.name}: measured {len(values)} sensitivities ({stem}) in {time.perf_counter() - t0:.0f} s")
            cached = {"key": key, "values": {k: float(v) for k, v in sorted(values.items())}}
            write_atomic(path, json.dumps(cached, indent=1) + "\n")
        values_path = self.dir / f"{stem}.values.json"
        body = json.dumps(cached["values"], indent=1, sort_keys=True) + "\n"
        if not values_path.is_file() or values_path.read_text() != body:
            write_atomic(values_path, body)
        return values_path, hashlib.sha256(body.encode()).hexdigest()[:12]

    def key(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self.fp, self.h_fp, self.eval_id, f"v{LA_VERSION}", *parts)).encode()
                              ).hexdigest()[:24]

    def describe(self) -> str:
        return self.lm.describe() if hasattr(self.lm, "describe") else f"{self.name}'s held-out split"

    # -- scores ----------------------------------------------------------------------------------------------

    def _score(self, weights: StateDict) -> Score:
        """The held-out score of `weights`, cached by the weights' fingerprint (two methods that reconstruct the
        same tensors share one evaluation)."""
        path = self.scores_dir / f"{state_fingerprint(weights)[:32]}.npz"
        if self.use_cache and path.is_file():
            with np.load(path) as z:
                return Score(z["bits"], z["bytes"])
        s = self.lm.score(weights)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, bits=s.chunk_bits, bytes=s.chunk_bytes)
        tmp.replace(path)
        return s

    def score_of(self, p: LaPoint) -> Score:
        """The stored per-window score of a measured point."""
        with np.load(self.scores_dir / f"{p.info['recon']}.npz") as z:
            return Score(z["bits"], z["bytes"])

    def _finish(self, p: LaPoint, recon: StateDict) -> LaPoint:
        s = self._score(recon)
        p.info["recon"] = state_fingerprint(recon)[:32]
        p.bpb = s.bpb
        p.dbpb, p.dbpb_se = paired_difference(self.ref, s)
        return p

    def _cached(self, key: str, family: str, config: str) -> LaPoint | None:
        d = self.cache.get(key)
        if d is None:
            return None
        p = LaPoint(**d)
        p.family, p.config = family, config  # labels may have been renamed since it was cached
        self.cache_hits += 1
        return p

    # -- methods ---------------------------------------------------------------------------------------------

    def baseline(self, b: Baseline) -> LaPoint:
        key = self.key("baseline", b.key)
        hit = self._cached(key, b.family, b.config)
        if hit:
            return hit
        log(f"{self.name}: {b.family}, {b.config}")
        p = LaPoint(b.family, b.config, key, command=f"in-process: {b.family}, {b.config}")
        try:
            art = b.run(self.weights, self.hessians, self.roles)
            p.nbytes, p.enc_s, p.dec_s = art.nbytes, art.enc_s, art.dec_s
            p.info.update({k: v for k, v in art.info.items() if k in ("k", "lqer")})
            self._finish(p, art.recon)
        except (BenchError, ValueError, np.linalg.LinAlgError, OSError) as e:
            p.error = f"{type(e).__name__}: {e}"
        self.cache.put(key, asdict(p))
        return p

    def sdcodec(self, binary: Binary, family: str, args: tuple[str, ...], budget: int,
                timeout: float = 3600.0) -> LaPoint:
        """`sdcodec encode` at `budget` with the setting's arguments (plus --hessians when the binary has it),
        decode, score."""
        if binary.supports("--hessians"):
            args = args + ("--hessians", str(self.hessians_path))
        named = {str(self.hessians_path): "H"}
        for kind in (SENSITIVITY, FISHER):
            if kind in args:
                path, digest = self.sensitivity(kind)
                args = tuple(str(path) if a == kind else a for a in args)
                named[str(path)] = f"S:{digest}"  # the key follows the measured values, not the file's place
        args = args + ("--budget", str(budget))
        shown_args = [named.get(a, a) for a in args]
        key = self.key("sdcodec", binary.sha256, " ".join(shown_args))
        config = f"budget {budget:,}"
        hit = self._cached(key, family, config)
        if hit:
            return hit
        sdc = self.dir / "sdc" / f"{key}.sdc"
        cmd = [str(binary.path), "encode", str(self.weights_path), "-o", str(sdc), *args, "--quiet"]
        shown = " ".join([rel(binary.path), "encode", rel(self.weights_path), "-o", rel(sdc),
                          *(rel(a) if a.startswith("/") else a for a in args), "--quiet"])
        log(f"{self.name}: {shown}")
        p = LaPoint(family, config, key, budget=budget, command=shown)
        rc, _, err, p.enc_s = run_cmd(cmd, timeout=timeout)
        if rc != 0:
            p.error = f"encode exit {rc}: {last_line(err)}"
        else:
            with tempfile.TemporaryDirectory(prefix="la.", dir=self.dir) as tmp:
                out = Path(tmp) / "decoded.safetensors"
                t0 = time.perf_counter()
                rc, _, err, _ = run_cmd([str(binary.path), "decode", str(sdc), "-o", str(out)])
                p.dec_s = time.perf_counter() - t0
                if rc != 0:
                    p.error = f"decode exit {rc}: {last_line(err)}"
                else:
                    p.nbytes = sdc.stat().st_size
                    recon = load_file(str(out))
                    if set(recon) != set(self.weights):
                        p.error = "decoded tensors differ from the input's"
                    else:
                        self._finish(p, recon)
                        if p.nbytes > budget:
                            p.error = f"budget exceeded: {p.nbytes} > {budget}"
        self.cache.put(key, asdict(p))
        return p


def write_csv(path: Path, points: list[LaPoint]) -> None:
    buf = io.StringIO()
    fields = ["family", "config", "nbytes", "bpb", "dbpb", "dbpb_se", "budget", "enc_s", "dec_s", "error", "command"]
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    w.writeheader()
    for p in points:
        w.writerow(asdict(p))
    write_atomic(path, buf.getvalue())
