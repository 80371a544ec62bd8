"""The quantize + compress recipes parameter-golf users run, as benchmark baselines.

Every baseline turns a state dict into the exact bytes of its artifact (a real compressed blob, whose length is
what is counted) and gives back the float weights obtained by decompressing and dequantizing that blob, so the
round trip really happens:

  pg-int8 + zlib-9                the challenge's baseline export (bench/scalar_vs_baseline.py)
  int-b absmax + zstd-22          the int6 records' per-row absmax export
  GPTQ-lite + brotli-11           per row, the best of 5 clip percentiles by squared error
  record pipeline                 the 2026-04 top record: full-Hessian GPTQ, SDClip scales, LQER, brotli or
                                  per-group lrzip (bench/record_pipeline.py)

Tensor treatment of the first three (and of sdcodec's `--min-numel 0 --raw-dtype f16` in rate_distortion.py):
every 2-D float tensor that is not a control tensor is quantized, other float tensors are stored as fp16 (control
tensors fp32, as in parameter-golf), non-float tensors pass through. The record pipeline follows its own rule.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field

import compressors as cz
import numpy as np
import scalar_vs_baseline as svb
from bench_common import StateDict

GPTQ_LITE_PCTS = (0.9990, 0.9995, 0.9999, 0.99999, 1.0)


@dataclass
class Artifact:
    """One baseline's output: the artifact's bytes, the weights decoded from them, timings, and notes."""

    blob: bytes
    recon: StateDict
    enc_s: float
    dec_s: float
    info: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return len(self.blob)


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


@dataclass(frozen=True)
class Baseline:
    family: str
    config: str
    key: str

    def run(self, state: StateDict, hessians: StateDict | None = None,
            roles: dict[str, str] | None = None) -> Artifact:
        """The artifact of `state`; `hessians` and `roles` are used by the baselines that need them."""
        raise NotImplementedError


@dataclass(frozen=True)
class PgInt8(Baseline):
    all_2d: bool = False

    def run(self, state, hessians=None, roles=None):
        blob, recon, _, enc_s, dec_s = svb.baseline_round_trip(state, self.all_2d)
        return Artifact(blob, recon, enc_s, dec_s)


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

    def run(self, state, hessians=None, roles=None):
        t0 = time.perf_counter()
        obj = quantize_mixed(state, self.quantizer())
        raw = pickle.dumps(obj, protocol=4)
        blob = cz.compress_zstd22(raw) if self.codec == "zstd22" else cz.compress_brotli11_shuffled(raw)
        t1 = time.perf_counter()
        back = cz.decompress_zstd(blob) if self.codec == "zstd22" else cz.decompress_brotli_shuffled(blob)
        recon = dequantize_mixed(pickle.loads(back))
        t2 = time.perf_counter()
        return Artifact(blob, recon, t1 - t0, t2 - t1)


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
