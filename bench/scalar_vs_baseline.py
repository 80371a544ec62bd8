#!/usr/bin/env python3
"""Acceptance table: sdcodec's scalar codec (3..8 bits) against the parameter-golf int8 baseline.

Usage:
  python3 bench/scalar_vs_baseline.py [--model X.safetensors] [--sdcodec build/sdcodec]
                                      [--out bench/results/scalar_vs_baseline.md]
                                      [--bits 3,4,5,6,7,8] [--group N] [--zstd-level L] [--baseline-only]

Why: the foundation issue is accepted when sdcodec's scalar codec is compared with what parameter-golf users
already have, on the same tensors in the same run, with the artifact's bytes counted honestly. Every row is a
full round trip (encode -> bytes on disk -> decode) measured against the same original tensors:
  * bytes          size of the artifact (the .sdc file; the zlib'd pickle for the baseline)
  * bits/weight    8 * bytes / all parameters of the model (every tensor, not only the quantized ones)
  * SNR            10 log10(sum w^2 / sum (w - w_hat)^2) over all float tensors, and over the 2-D ones only
  * max abs err    over all float tensors
  * bit-exact      parameters in tensors whose reconstruction is bit-identical to the input

The baseline re-implements `quantize_state_dict_int8` / `dequantize_state_dict_int8` of openai/parameter-golf's
train_gpt.py in numpy (torch is not a dependency). The one deliberate difference is the container: pickle
(protocol 4) of numpy arrays instead of torch.save's zip archive, both then zlib level 9.

With no --model, stories260K (llama2.c checkpoint in ../shared/models) is converted to a temporary
safetensors file with tools/llama2c_to_safetensors.py.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import math
import os
import pickle
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from bench_common import BenchError
from safetensors.numpy import load_file

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LLAMA2C = REPO.parent / "shared" / "models" / "stories260K.bin"
DEFAULT_SDCODEC = REPO / "build" / "sdcodec"
DEFAULT_OUT = REPO / "bench" / "results" / "scalar_vs_baseline.md"

StateDict = dict[str, np.ndarray]



# ----------------------------------------------------------------------------------------------------------
# parameter-golf baseline (train_gpt.py, quantize_state_dict_int8), re-implemented in numpy.
# Constants and control-name defaults are the original's (it also lets environment variables override the
# name patterns; this benchmark uses the defaults so the table does not depend on the environment).
# ----------------------------------------------------------------------------------------------------------

CONTROL_TENSOR_NAME_PATTERNS = (
    "attn_scale", "attn_scales", "mlp_scale", "mlp_scales", "resid_mix", "resid_mixes",
    "q_gain", "skip_weight", "skip_weights",
)
INT8_KEEP_FLOAT_FP32_NAME_PATTERNS = CONTROL_TENSOR_NAME_PATTERNS
INT8_KEEP_FLOAT_MAX_NUMEL = 65_536
INT8_KEEP_FLOAT_STORE_DTYPE = np.float16
INT8_PER_ROW_SCALE_DTYPE = np.float16
INT8_CLIP_PERCENTILE = 99.99984
INT8_CLIP_Q = INT8_CLIP_PERCENTILE / 100.0


def is_float(t: np.ndarray) -> bool:
    return np.issubdtype(t.dtype, np.floating)


def is_control(name: str) -> bool:
    return any(p in name for p in INT8_KEEP_FLOAT_FP32_NAME_PATTERNS)


def keep_float_tensor(name: str, t: np.ndarray, passthrough_orig_dtypes: dict[str, str]) -> np.ndarray:
    """Small float tensors: control tensors stay fp32, fp32 (bf16 in the original) ones are stored as fp16."""
    if is_control(name):
        return np.ascontiguousarray(t, dtype=np.float32)
    if t.dtype == np.float32:
        passthrough_orig_dtypes[name] = str(t.dtype)
        return np.ascontiguousarray(t, dtype=INT8_KEEP_FLOAT_STORE_DTYPE)
    return t


def quantize_float_tensor(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes plus scale(s), computed in float32 like the torch original.

    2-D: one fp16 scale per row, clip = 99.99984th percentile of |row| (numpy's default 'linear' quantile
    is torch.quantile's interpolation), scale = max(clip / 127, 1/127). The 1/127 floor is the original's
    `clamp_min(1.0 / 127.0)`; it means rows whose clip is below 1.0 do not use the full int8 range.
    Otherwise: one fp32 scale for the whole tensor, no floor (scale 1.0 only if the clip is 0).
    """
    t32 = np.asarray(t, dtype=np.float32)
    if t32.ndim == 2:
        if t32.size:
            clip_abs = np.quantile(np.abs(t32), INT8_CLIP_Q, axis=1).astype(np.float32)
        else:
            clip_abs = np.empty((t32.shape[0],), dtype=np.float32)
        clipped = np.maximum(np.minimum(t32, clip_abs[:, None]), -clip_abs[:, None])
        scale = np.maximum(clip_abs / np.float32(127.0), np.float32(1.0 / 127.0)).astype(np.float32)
        q = np.clip(np.round(clipped / scale[:, None]), -127, 127).astype(np.int8)
        return np.ascontiguousarray(q), np.ascontiguousarray(scale.astype(INT8_PER_ROW_SCALE_DTYPE))
    clip_abs = float(np.quantile(np.abs(t32).reshape(-1), INT8_CLIP_Q)) if t32.size else 0.0
    scale = np.array(clip_abs / 127.0 if clip_abs > 0 else 1.0, dtype=np.float32)
    bound = np.float32(clip_abs)
    q = np.clip(np.round(np.clip(t32, -bound, bound) / scale), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q), scale


def quantize_state_dict_int8(state: StateDict, quantize_all_2d: bool = False) -> dict[str, object]:
    """The baseline's export object. `quantize_all_2d=True` is the "threshold 0" variant: every 2-D float
    tensor (except control tensors) is int8-quantized whatever its size; everything else follows the
    original rule (so 1-D tensors stay fp16 instead of falling into the per-tensor int8 branch)."""
    quantized, scales, dtypes, passthrough = {}, {}, {}, {}
    passthrough_orig_dtypes: dict[str, str] = {}
    qmeta: dict[str, dict[str, object]] = {}
    for name, t in state.items():
        t = np.ascontiguousarray(t)
        if not is_float(t):
            passthrough[name] = t
            continue
        force = quantize_all_2d and t.ndim == 2 and not is_control(name)
        if t.size <= INT8_KEEP_FLOAT_MAX_NUMEL and not force:
            passthrough[name] = keep_float_tensor(name, t, passthrough_orig_dtypes)
            continue
        q, s = quantize_float_tensor(t)
        if s.ndim > 0:
            qmeta[name] = {"scheme": "per_row", "axis": 0}
        quantized[name] = q
        scales[name] = s
        dtypes[name] = str(t.dtype)
    obj: dict[str, object] = {
        "__quant_format__": "int8_clean_per_row_v1",
        "quantized": quantized,
        "scales": scales,
        "dtypes": dtypes,
        "passthrough": passthrough,
    }
    if qmeta:
        obj["qmeta"] = qmeta
    if passthrough_orig_dtypes:
        obj["passthrough_orig_dtypes"] = passthrough_orig_dtypes
    return obj


def dequantize_state_dict_int8(obj: dict[str, object]) -> StateDict:
    """Inverse of the export, as the original: q * scale in float32, then cast to the recorded dtype."""
    out: StateDict = {}
    qmeta = obj.get("qmeta", {})
    orig_dtypes = obj.get("passthrough_orig_dtypes", {})
    for name, q in obj["quantized"].items():
        dtype = np.dtype(obj["dtypes"][name])
        s = obj["scales"][name]
        if qmeta.get(name, {}).get("scheme") == "per_row" or s.ndim > 0:
            s32 = s.astype(np.float32).reshape(q.shape[0], *([1] * (q.ndim - 1)))
            out[name] = (q.astype(np.float32) * s32).astype(dtype)
        else:
            out[name] = (q.astype(np.float32) * np.float32(s)).astype(dtype)
    for name, t in obj["passthrough"].items():
        out[name] = t.astype(np.dtype(orig_dtypes[name])) if name in orig_dtypes else t
    return out


def baseline_round_trip(state: StateDict, quantize_all_2d: bool) -> tuple[bytes, StateDict, dict, float, float]:
    """Export -> pickle -> zlib 9 -> bytes, then back. Returns (the compressed artifact, reconstruction, export
    object, encode seconds, decode seconds). The reconstruction comes from the decompressed bytes, not the
    in-memory object."""
    t0 = time.perf_counter()
    obj = quantize_state_dict_int8(state, quantize_all_2d)
    blob = zlib.compress(pickle.dumps(obj, protocol=4), level=9)
    t1 = time.perf_counter()
    recon = dequantize_state_dict_int8(pickle.loads(zlib.decompress(blob)))
    t2 = time.perf_counter()
    return blob, recon, obj, t1 - t0, t2 - t1


def scale_floor_note(obj: dict[str, object], state: StateDict) -> str | None:
    """How often the 1/127 scale floor decides a row's scale, and how many int8 levels rows then use."""
    rows_total = rows_floored = 0
    max_codes = []
    for name, q in obj["quantized"].items():
        if q.ndim != 2:
            continue
        clip_abs = np.quantile(np.abs(state[name].astype(np.float32)), INT8_CLIP_Q, axis=1)
        rows_total += q.shape[0]
        rows_floored += int(np.sum(clip_abs / 127.0 < 1.0 / 127.0))
        max_codes.append(np.abs(q.astype(np.int16)).max(axis=1))
    if not rows_total:
        return None
    codes = np.concatenate(max_codes)
    med = float(np.median(codes))
    return (
        f"{rows_floored} of {rows_total} quantized rows have a clip value below 1.0, so the `clamp_min(1/127)` "
        f"floor sets their scale; per row the largest |code| is median {med:.0f} (min {codes.min()}, "
        f"max {codes.max()}) of 127, i.e. a median row uses ~{math.log2(2 * med + 1):.1f} bits' worth of "
        f"levels, not 8."
    )


# ----------------------------------------------------------------------------------------------------------
# sdcodec CLI
# ----------------------------------------------------------------------------------------------------------


def check_binary(path: Path) -> None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(f"sdcodec binary not found or not executable at {path} (build it: cmake --build build)")


def run_cli(cmd: list[str], what: str) -> float:
    """Run one sdcodec command; a failure becomes a one-line error carrying the tool's last stderr line."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if res.returncode != 0:
        lines = (res.stderr or res.stdout).strip().splitlines()
        raise BenchError(f"{what} failed (exit {res.returncode}): {lines[-1] if lines else 'no output'}")
    return secs


def sdcodec_provenance(binary: Path) -> str:
    """Which sdcodec produced the rows: its --version line if it has one, the repository commit (marked
    "+dirty" with uncommitted changes) and the binary's build time. Best effort; nothing here is fatal."""
    parts = []
    try:
        res = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
        lines = res.stdout.strip().splitlines()
        if res.returncode == 0 and lines:
            parts.append(lines[0])
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
        if head.returncode == 0:
            parts.append(f"repo {head.stdout.strip()}{'+dirty' if dirty.stdout.strip() else ''}")
    except (OSError, subprocess.TimeoutExpired):
        pass
    built = datetime.datetime.fromtimestamp(binary.stat().st_mtime, datetime.timezone.utc)
    parts.append(f"binary built {built.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    return f"{binary} ({'; '.join(parts)})"


# sdcodec tensor policies, as (row-label suffix, extra encode flags). "pg-matched" treats tensors as the
# threshold-0 baseline does: every 2-D float tensor quantized, the 1-D ones stored as f16.
SDCODEC_POLICIES = (
    ("", []),
    (", pg-matched", ["--min-numel", "0", "--raw-dtype", "f16"]),
)


def sdcodec_round_trip(binary: Path, model: Path, bits: int, policy: list[str], workdir: Path, group: int | None,
                       zstd_level: int | None) -> tuple[int, StateDict, float, float]:
    """encode -> .sdc -> decode -> safetensors. Returns (.sdc bytes, reconstruction, encode s, decode s)."""
    sdc = workdir / "round_trip.sdc"
    rec = workdir / "round_trip.safetensors"
    # bits > 0: fixed bits; bits < 0: a byte budget of -bits (the allocator's choice of per-tensor settings).
    mode = ["--bits", str(bits)] if bits > 0 else ["--budget", str(-bits)]
    cmd = [str(binary), "encode", str(model), "-o", str(sdc), "--method", "scalar", *mode, "--quiet", *policy]
    if group is not None:
        cmd += ["--group", str(group)]
    if zstd_level is not None:
        cmd += ["--zstd-level", str(zstd_level)]
    t_enc = run_cli(cmd, f"sdcodec encode --bits {bits}")
    t_dec = run_cli([str(binary), "decode", str(sdc), "-o", str(rec)], f"sdcodec decode ({sdc.name})")
    return sdc.stat().st_size, load_file(str(rec)), t_enc, t_dec


# ----------------------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    nbytes: int
    snr_all: float
    snr_2d: float
    snr_worst: float  # lowest SNR of any single 2-D float tensor
    max_abs_err: float
    exact_params: int
    enc_s: float | None = None
    dec_s: float | None = None


@dataclass
class ModelInfo:
    description: str
    path: Path
    sha256: str
    state: StateDict
    params: int = field(init=False)
    float_params: int = field(init=False)
    matrix_params: int = field(init=False)

    def __post_init__(self) -> None:
        self.params = sum(int(t.size) for t in self.state.values())
        self.float_params = sum(int(t.size) for t in self.state.values() if is_float(t))
        self.matrix_params = sum(int(t.size) for t in self.state.values() if is_float(t) and t.ndim == 2)


def snr_db(signal: float, noise: float) -> float:
    return math.inf if noise == 0.0 else 10.0 * math.log10(signal / noise)


def measure(label: str, orig: StateDict, recon: StateDict, nbytes: int, enc_s=None, dec_s=None) -> Row:
    """Compare a reconstruction with the originals, accumulating in float64. Names, shapes and dtypes must
    match exactly: a codec that changes them has not round-tripped the model."""
    if set(orig) != set(recon):
        missing, extra = sorted(set(orig) - set(recon)), sorted(set(recon) - set(orig))
        raise BenchError(f"{label}: tensor names differ (missing {missing[:3]}, extra {extra[:3]})")
    sig = {"all": 0.0, "2d": 0.0}
    err = {"all": 0.0, "2d": 0.0}
    max_err, exact, worst = 0.0, 0, math.inf
    for name, w in orig.items():
        w_hat = recon[name]
        if w_hat.shape != w.shape or w_hat.dtype != w.dtype:
            raise BenchError(f"{label}: {name} came back as {w_hat.dtype}{list(w_hat.shape)}, "
                             f"expected {w.dtype}{list(w.shape)}")
        if w.tobytes() == w_hat.tobytes():
            exact += int(w.size)
        if not is_float(w):
            continue
        w64, d64 = w.astype(np.float64), w_hat.astype(np.float64) - w.astype(np.float64)
        s, e = float(np.sum(w64 * w64)), float(np.sum(d64 * d64))
        sig["all"] += s
        err["all"] += e
        if w.ndim == 2:
            sig["2d"] += s
            err["2d"] += e
            worst = min(worst, snr_db(s, e))
        if d64.size:
            max_err = max(max_err, float(np.max(np.abs(d64))))
    return Row(label, nbytes, snr_db(sig["all"], err["all"]), snr_db(sig["2d"], err["2d"]), worst, max_err, exact,
               enc_s, dec_s)


# ----------------------------------------------------------------------------------------------------------
# Model loading and report
# ----------------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_converter():
    """Import tools/llama2c_to_safetensors.py by path (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("llama2c_to_safetensors", REPO / "tools" / "llama2c_to_safetensors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here while the class is being built
    spec.loader.exec_module(module)
    return module


def prepare_model(model_arg: str | None, tmpdir: Path) -> ModelInfo:
    """The user's safetensors model, or stories260K converted into `tmpdir`."""
    if model_arg is not None:
        path = Path(model_arg)
        if not path.is_file():
            raise BenchError(f"model not found: {path}")
        description = str(path)
    else:
        if not DEFAULT_LLAMA2C.is_file():
            raise BenchError(f"default model not found: {DEFAULT_LLAMA2C} (pass --model X.safetensors)")
        path = tmpdir / "stories260K.safetensors"
        converter = load_converter()
        try:
            converter.convert(str(DEFAULT_LLAMA2C), str(path))
        except converter.ConversionError as e:
            raise BenchError(f"converting {DEFAULT_LLAMA2C}: {e}") from e
        description = (f"{DEFAULT_LLAMA2C.name} (sha256 {sha256_of(DEFAULT_LLAMA2C)[:16]}…) converted with "
                       f"tools/llama2c_to_safetensors.py")
    try:
        state = load_file(str(path))
    except Exception as e:  # safetensors raises its own error types; report them as one line
        raise BenchError(f"cannot read {path} as safetensors: {e}") from e
    return ModelInfo(description, path, sha256_of(path), state)


def fmt_db(x: float) -> str:
    return "∞ (exact)" if math.isinf(x) else f"{x:.2f}"


def fmt_s(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def render_table(rows: list[Row], params: int) -> list[str]:
    lines = [
        "| configuration | bytes | bits/weight | SNR all float (dB) | SNR 2-D only (dB) | worst 2-D tensor SNR (dB) "
        "| max abs err | bit-exact params | encode s | decode s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.nbytes:,} | {8 * r.nbytes / params:.3f} | {fmt_db(r.snr_all)} | {fmt_db(r.snr_2d)} "
            f"| {fmt_db(r.snr_worst)} | {r.max_abs_err:.3g} | {r.exact_params:,} | {fmt_s(r.enc_s)} | {fmt_s(r.dec_s)} |"
        )
    return lines


def machine_line() -> str:
    proc = platform.processor() or platform.machine()
    return f"{proc}, {os.cpu_count()} CPUs (nproc), {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__}"


def render_report(argv: list[str], model: ModelInfo, rows: list[Row], notes: list[str], sdcodec: str) -> str:
    state = model.state
    n_small = sum(1 for t in state.values() if is_float(t) and t.size <= INT8_KEEP_FLOAT_MAX_NUMEL)
    lines = [
        "# sdcodec scalar codec vs parameter-golf int8 baseline",
        "",
        f"- command: `{shlex.join(['python3', *argv])}`",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- machine: {machine_line()}",
        f"- model: {model.description}; safetensors sha256 {model.sha256[:16]}…",
        f"- tensors: {len(state)} ({n_small} float tensors with ≤ {INT8_KEEP_FLOAT_MAX_NUMEL:,} elements); "
        f"params: {model.params:,} total, {model.float_params:,} float, {model.matrix_params:,} in 2-D matrices",
        f"- sdcodec: {sdcodec}",
        "",
        *render_table(rows, model.params),
        "",
        "Notes:",
        *[f"- {n}" for n in notes],
        "",
    ]
    return "\n".join(lines)


def standard_notes(model: ModelInfo, group: int | None, zstd_level: int | None, ran_sdcodec: bool) -> list[str]:
    state = model.state
    big = [n for n, t in state.items() if is_float(t) and t.size > INT8_KEEP_FLOAT_MAX_NUMEL]
    notes = [
        "bits/weight = 8 × bytes / all parameters of the model; SNR = 10·log10(Σw² / Σ(w − ŵ)²) over all float "
        "tensors (and over the 2-D ones only); every row is measured after a full round trip through its bytes.",
        "pg-int8 = `quantize_state_dict_int8` of openai/parameter-golf train_gpt.py re-implemented in numpy: float "
        f"tensors with ≤ {INT8_KEEP_FLOAT_MAX_NUMEL:,} elements kept (fp16, control tensors fp32), larger 2-D "
        "tensors int8 per row with an fp16 scale = max(clip/127, 1/127), clip = 99.99984th percentile of |row|, "
        "other large tensors int8 with one fp32 scale.",
        "Container: the original does torch.save(obj) then zlib level 9; here the same object is serialised with "
        "pickle protocol 4 of numpy arrays, then zlib level 9. The difference is container overhead only "
        "(torch.save's zip archive adds at most a few hundred bytes per tensor of headers and records); the "
        "tensor bytes are the same.",
    ]
    if not big:
        notes.append(
            f"Every float tensor of this model has ≤ {INT8_KEEP_FLOAT_MAX_NUMEL:,} elements, so the faithful baseline "
            "(`pg-int8 (original)`) quantizes nothing: it is fp16 + zlib. `pg-int8 (threshold 0)` applies the same "
            "per-row int8 scheme to every 2-D float tensor regardless of size (1-D tensors stay fp16, control "
            "tensors fp32, as in the original), so the int8 scheme itself is compared on the same tensors.")
    else:
        notes.append("`pg-int8 (threshold 0)` additionally int8-quantizes the 2-D float tensors at or below the "
                     f"{INT8_KEEP_FLOAT_MAX_NUMEL:,}-element threshold (1-D stay fp16, control tensors fp32).")
    if ran_sdcodec:
        opts = [f"--group {group}" if group is not None else "per-row scales (default)",
                f"--zstd-level {zstd_level}" if zstd_level is not None else "default zstd level"]
        small_2d = sum(int(t.size) for t in state.values() if is_float(t) and t.ndim >= 2 and t.size < 1024)
        notes.append(
            f"sdcodec rows: `sdcodec encode --method scalar --bits B --quiet` ({', '.join(opts)}), then "
            "`sdcodec decode`; bytes = the .sdc file. Its default policy quantizes tensors of rank ≥ 2 with ≥ 1,024 "
            "elements and stores the rest losslessly; the bit-exact column shows what actually came back exact"
            + (f" (here {small_2d:,} params sit in 2-D tensors below 1,024 elements, which the threshold-0 "
               "baseline does quantize)." if small_2d else ".")
            + " `pg-matched` rows add `--min-numel 0 --raw-dtype f16`: every 2-D float tensor quantized, the rest "
              "stored as f16, i.e. the same tensor treatment as `pg-int8 (threshold 0)`.")
    notes.append("Input safetensors row: the input file itself (its own header included), for scale. "
                 "Worst 2-D tensor SNR: the lowest per-tensor SNR among the 2-D float tensors (a global SNR can "
                 "hide a badly served small-magnitude tensor). encode/decode s: wall-clock seconds; sdcodec's include "
                 "process start-up and file I/O, the baseline's are in-process numpy + pickle + zlib.")
    return notes


def parse_bits(text: str) -> list[int]:
    try:
        bits = [int(b) for b in text.split(",") if b.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--bits wants a comma-separated list of integers, got {text!r}") from e
    if not bits or any(b < 3 or b > 8 for b in bits):
        raise argparse.ArgumentTypeError(f"--bits values must be in 3..8, got {text!r}")
    return bits


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="safetensors model (default: stories260K converted to a temp dir)")
    p.add_argument("--sdcodec", default=str(DEFAULT_SDCODEC), help="path of the sdcodec binary")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="markdown output file")
    p.add_argument("--bits", type=parse_bits, default=[3, 4, 5, 6, 7, 8], help="comma list in 3..8")
    p.add_argument("--group", type=int, help="pass --group N to sdcodec (default: per-row scales)")
    p.add_argument("--zstd-level", type=int, help="pass --zstd-level L to sdcodec")
    p.add_argument("--baseline-only", action="store_true",
                   help="skip sdcodec (for use before the CLI is built); the table then has baseline rows only")
    return p.parse_args(argv)


def run(argv: list[str]) -> str:
    """`argv` is the full sys.argv (the script path is kept for the report's command line)."""
    args = parse_args(argv[1:])
    binary = Path(args.sdcodec)
    if not args.baseline_only:
        check_binary(binary)
    with tempfile.TemporaryDirectory(prefix="scalar_vs_baseline.") as tmp:
        tmpdir = Path(tmp)
        model = prepare_model(args.model, tmpdir)
        state = model.state
        rows = [measure("input safetensors (as is)", state, state, model.path.stat().st_size)]
        notes = standard_notes(model, args.group, args.zstd_level, not args.baseline_only)
        for label, all_2d in (("pg-int8 (original)", False), ("pg-int8 (threshold 0)", True)):
            blob, recon, obj, enc_s, dec_s = baseline_round_trip(state, all_2d)
            rows.append(measure(label, state, recon, len(blob), enc_s, dec_s))
            floor = scale_floor_note(obj, state)
            if floor:
                notes.append(f"{label}: {floor}")
        version = "not run (--baseline-only)"
        if not args.baseline_only:
            version = sdcodec_provenance(binary)
            for suffix, policy in SDCODEC_POLICIES:
                for bits in args.bits:
                    nbytes, recon, enc_s, dec_s = sdcodec_round_trip(binary, model.path, bits, policy, tmpdir,
                                                                     args.group, args.zstd_level)
                    rows.append(measure(f"sdcodec scalar {bits}-bit{suffix}", state, recon, nbytes, enc_s, dec_s))
            # Fitted to the threshold-0 baseline's bytes, on the same tensors: quality at matched size.
            target = rows[2].nbytes
            for label, extra in (("relative distortion (default)", []), ("absolute distortion", ["--distortion", "absolute"])):
                nbytes, recon, enc_s, dec_s = sdcodec_round_trip(binary, model.path, -target,
                                                                 [*SDCODEC_POLICIES[1][1], *extra], tmpdir, args.group,
                                                                 args.zstd_level)
                rows.append(measure(f"sdcodec scalar --budget {target}, pg-matched, {label}", state, recon, nbytes,
                                    enc_s, dec_s))
        report = render_report(argv, model, rows, notes, version)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    return report


def main() -> int:
    try:
        report = run(sys.argv)
    except BenchError as e:
        print(f"scalar_vs_baseline: error: {e}", file=sys.stderr)
        return 1
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
