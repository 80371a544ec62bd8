"""The rate-distortion runner: one model's tensors, its measured points (cached) and how each point is made --
a baseline in process, or an sdcodec encode -> decode -> inspect through the command line."""

from __future__ import annotations

import hashlib
import math
import shlex
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scalar_vs_baseline as svb
from baselines import Baseline
from bench_common import WORK, BenchError, JsonCache, StateDict, log, rel, sha256_bytes
from safetensors.numpy import load_file
from sdcodec_cli import Binary, inspect_json, inspect_summary, last_line, run_cmd

BASELINE_VERSION = 1   # bump when a baseline's bytes or reconstruction change
MEASURE_VERSION = 1    # bump when the metrics change
DB_PER_BIT = 20.0 * math.log10(2.0)  # 6.0206
COMMON_ARGS = ("--min-numel", "0", "--raw-dtype", "f16")


@dataclass(frozen=True)
class SdcConfig:
    family: str        # "sdcodec scalar" | "sdcodec VQ per-tensor" | "sdcodec VQ shared"
    label: str         # e.g. "k256 d8 M2"
    args: tuple[str, ...]

    @property
    def short(self) -> str:
        return f"{self.family.replace('sdcodec ', '')} {self.label}".strip()


def scalar_config() -> SdcConfig:
    return SdcConfig("sdcodec scalar", "", ("--method", "scalar"))


def vq_config(per_tensor: bool, k: int, dim: int, m: int) -> SdcConfig:
    args = ("--method", "codebook") + (("--per-tensor-banks",) if per_tensor else ()) + (
        "--k", str(k), "--dim", str(dim), "--codebooks", str(m))
    return SdcConfig("sdcodec VQ per-tensor" if per_tensor else "sdcodec VQ shared", f"k{k} d{dim} M{m}", args)


def normalised_snr(orig: StateDict, recon: StateDict) -> float:
    """-10 log10 of the mean over every 2-D float weight of ((w - w_hat) / rms(row))^2 (rows of zero RMS are
    skipped). Equals the SNR of the whole set of rows after each is scaled to unit RMS."""
    num, n = 0.0, 0
    for name, w in orig.items():
        if not svb.is_float(w) or w.ndim != 2 or w.size == 0:
            continue
        w64 = w.astype(np.float64)
        d = recon[name].astype(np.float64) - w64
        ms = np.mean(w64 * w64, axis=1)
        ok = ms > 0
        num += float(np.sum(np.sum(d * d, axis=1)[ok] / ms[ok]))
        n += int(ok.sum()) * w.shape[1]
    return math.inf if num == 0 else -10.0 * math.log10(num / n)


@dataclass
class Point:
    model: str
    family: str
    config: str
    mode: str                 # "fixed" | "budget" | "baseline"
    budget: int | None = None
    nbytes: int | None = None
    bpw: float | None = None
    snr_all: float | None = None
    snr_2d: float | None = None
    snr_worst: float | None = None
    snr_norm: float | None = None
    bound: float | None = None
    gap: float | None = None
    bpb: float | None = None
    dbpb: float | None = None
    cb_share: float | None = None
    scalar_mean_bits: float | None = None
    bank_bytes: int | None = None
    enc_s: float | None = None
    dec_s: float | None = None
    command: str = ""
    error: str | None = None
    status: str = "ok"        # ok | error | skipped

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.nbytes is not None


class Context:
    """One model: its tensors, file, cache and (for stories260K) the bits-per-byte evaluator."""

    def __init__(self, name: str, path: Path, state: StateDict, description: str, evaluator=None, cache=True,
                 retry_errors=False):
        self.name, self.path, self.state, self.description = name, path, state, description
        self.sha = sha256_bytes(path.read_bytes())
        self.params = sum(int(t.size) for t in state.values())
        self.float_params = sum(int(t.size) for t in state.values() if svb.is_float(t))
        self.quant_params = sum(int(t.size) for t in state.values() if svb.is_float(t) and t.ndim == 2)
        self.ev = evaluator
        self.dir = WORK / name
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "sdc").mkdir(exist_ok=True)
        self.cache = JsonCache(self.dir / "points.json", enabled=cache)
        self.retry_errors = retry_errors
        self.encode_timeout = 3600.0
        self.eval_key = (f"eval {evaluator.n_seqs}x{evaluator.n_tokens} seed {evaluator.seed}"
                         if evaluator else "no-eval")

    def key(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self.sha, self.eval_key, f"m{MEASURE_VERSION}", *parts)).encode()).hexdigest()[:24]

    def cached(self, key: str) -> Point | None:
        d = self.cache.get(key)
        if d is None:
            return None
        if d.get("status") == "error" and self.retry_errors:
            return None
        return Point(**d)

    def store(self, key: str, p: Point) -> None:
        self.cache.put(key, asdict(p))

    def measure(self, p: Point, recon: StateDict) -> Point:
        row = svb.measure(p.family, self.state, recon, p.nbytes)
        p.bpw = 8.0 * p.nbytes / self.params
        p.snr_all, p.snr_2d, p.snr_worst = row.snr_all, row.snr_2d, row.snr_worst
        p.snr_norm = normalised_snr(self.state, recon)
        if math.isfinite(p.snr_norm):
            p.bound = p.snr_norm / DB_PER_BIT
            p.gap = p.bpw - p.bound
        if self.ev is not None:
            p.bpb = self.ev.bpb(recon)
            p.dbpb = p.bpb - self.ev.ref_bpb
        return p

    # -- baselines --------------------------------------------------------------------------------------

    def baseline(self, b: Baseline) -> Point:
        key = self.key("baseline", b.key, f"v{BASELINE_VERSION}")
        hit = self.cached(key)
        if hit:
            hit.family, hit.config = b.family, b.config  # labels may have been renamed since it was cached
            return hit
        log(f"{self.name}: baseline {b.family} {b.config}")
        p = Point(self.name, b.family, b.config, "baseline", command=f"in-process: {b.family}, {b.config}")
        try:
            art = b.run(self.state)
            p.nbytes, p.enc_s, p.dec_s = art.nbytes, art.enc_s, art.dec_s
            self.measure(p, art.recon)
        except Exception as e:  # a baseline that fails is reported, not fatal
            p.status, p.error = "error", f"{type(e).__name__}: {e}"
        self.store(key, p)
        return p

    # -- sdcodec ----------------------------------------------------------------------------------------

    def sdcodec(self, binary: Binary, cfg: SdcConfig, budget: int | None = None, bits: int | None = None,
                deadline: float | None = None) -> Point:
        extra = ("--budget", str(budget)) if budget is not None else (("--bits", str(bits)) if bits is not None else ())
        args = cfg.args + COMMON_ARGS + extra
        key = self.key("sdcodec", binary.sha256, " ".join(args))
        sdc = self.dir / "sdc" / f"{key}.sdc"
        cmd = [str(binary.path), "encode", str(self.path), "-o", str(sdc), *args, "--quiet"]
        shown = shlex.join([rel(binary.path), "encode", rel(self.path), "-o", rel(sdc), *args, "--quiet"])
        mode = "budget" if budget is not None else "fixed"
        config = cfg.label + (f" {bits}-bit" if bits is not None else "") + (
            " (no budget, λ=0)" if budget is None and bits is None else "")
        p = Point(self.name, cfg.family, config.strip(), mode, budget=budget, command=shown)
        hit = self.cached(key)
        if hit:
            return hit
        if deadline is not None and time.monotonic() > deadline:
            p.status, p.error = "skipped", "not run: time limit of this run reached (rerun to resume)"
            return p
        log(f"{self.name}: {shown}")
        rc, _, err, enc_s = run_cmd(cmd, timeout=self.encode_timeout)
        p.enc_s = enc_s
        if rc != 0:
            p.status, p.error = "error", f"encode exit {rc}: {last_line(err)}"
            self.store(key, p)
            return p
        with tempfile.TemporaryDirectory(prefix="rd.", dir=self.dir) as tmp:
            out = Path(tmp) / "decoded.safetensors"
            rc, _, err, dec_s = run_cmd([str(binary.path), "decode", str(sdc), "-o", str(out)])
            p.dec_s = dec_s
            if rc != 0:
                p.status = "error"
                p.error = f"decode exit {rc}: {last_line(err)} (command: {rel(binary.path)} decode {rel(sdc)} -o X)"
                self.store(key, p)
                return p
            p.nbytes = sdc.stat().st_size
            try:
                s = inspect_summary(inspect_json(binary, sdc))
                p.cb_share, p.scalar_mean_bits, p.bank_bytes = s["cb_share"], s["scalar_mean_bits"], s["bank_bytes"]
            except BenchError as e:
                p.status, p.error = "error", f"{e} (command: {rel(binary.path)} inspect {rel(sdc)} --json)"
            try:
                self.measure(p, load_file(str(out)))
            except BenchError as e:
                p.status, p.error = "error", f"round trip mismatch: {e}"
        if budget is not None and p.nbytes is not None and p.nbytes > budget:
            p.error = f"budget exceeded: {p.nbytes} > {budget}"
        self.store(key, p)
        return p
