"""The export of the 2026-04 parameter-golf top record (1.0611 bpb; ../shared/ANCHORS.md), in numpy.

Tensor treatment (`gptq_mixed_quantize` of the record), per float tensor in state-dict order:
  * 2-D attention-gate tensors (name contains "attn_gate", 1,024-8,192 elements) that would otherwise stay float:
    int8 per row, scale = fp16(row absmax / 127) (the record's QuantGate);
  * tensors of at most `keep_float_max_numel` elements (65,536 in the record), and tensors that are not 2-D: fp16;
  * every other 2-D tensor: GPTQ (bench/gptq.py) with its Hessian, one fp16 scale per row s = k·std(row)/qmax:
        role        bits             k (record)
        embedding   bits + 1 (int7)  14.0
        attention   bits (int6)      13.0
        mlp         bits (int6)      11.5
        other/head  bits (int6)      12.85
    Roles come from the tensor names by the rule of spec/format.md §11 (the caller passes them); the record matches
    "tok_emb" / ".attn." / ".mlp." in its own names, which is the same split.
  * LQER: the 3 GPTQ tensors with the largest ‖E‖_F, E = W − Ŵ, get E's rank-4 SVD A = U_r S_r, B = V_rᵀ stored as
    A int2 ([−2, 1], one fp16 scale |A|max/1.5 per matrix) and B int4 ([−8, 7], an fp16 scale |B|max/7.5 per
    group of 64 consecutive elements of B); when B's size is not a multiple of 64, both int4 with a scale per row.
    Ŵ' = q·s + A·B.
The export object {"w": tensors, "m": meta} is pickled (standing in for torch.save) and compressed:
  * "brotli": the records' stride-2 byte shuffle of the whole payload, then brotli quality 11;
  * "lrzip" (the top record's COMPRESSOR=pergroup): the int8 GPTQ codes grouped by role across layers (one group
    per tensor name with its layer index removed), rows of the embedding, query and MLP input projections reordered
    by greedy L1 nearest neighbour, every matrix transposed, each group `lrzip -z -L 9`; the rest (scales, fp16
    tensors, LQER factors, gates, and a manifest of names and shapes) brotli-11 with lgwin 24; the row permutations
    as uint16, brotli-11; the streams packed as "PGRP". The record's manifest holds shapes only (its group order is
    a fixed list); ours also names the tensors, a few bytes more.
Variants beyond the record: `keep_float_max_numel` scaled to the model (see `scaled_keep_float_threshold`), the
int3-int5 curve (`bits`), and `k_mode="grid"`, which picks k per tensor from gptq.K_GRID by the least H-weighted
error, because the record's k were tuned for int6.
"""

from __future__ import annotations

import pickle
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import compressors as cz
import gptq
import numpy as np
from baselines import Artifact, Baseline
from bench_common import StateDict

RECORD_PARAMS = 35_945_671            # the top record's parameter count
RECORD_KEEP_FLOAT_MAX_NUMEL = 65_536  # its keep-fp16 threshold: 0.18 % of its parameters
ROLE_K = {"embedding": 14.0, "attention": 13.0, "mlp": 11.5}
OTHER_K = 12.85
LQER_TOP_K, LQER_RANK, LQER_GROUP, LQER_FACTOR_BITS = 3, 4, 64, 4
_Q_PROJ = re.compile(r"(^|\.)(wq|c_q|q_proj|query)(\.|$)")


def scaled_keep_float_threshold(params: int) -> int:
    """The record's 65,536 elements as the same fraction of this model's parameters (at least 1)."""
    return max(1, round(RECORD_KEEP_FLOAT_MAX_NUMEL * params / RECORD_PARAMS))


@dataclass(frozen=True)
class RecordConfig:
    bits: int = 6                              # matrices; the embedding gets bits + 1
    keep_float_max_numel: int = RECORD_KEEP_FLOAT_MAX_NUMEL
    k_mode: str = "record"                     # "record" | "grid"
    lqer: bool = True
    compressor: str = "brotli"                 # "brotli" | "lrzip"


def _is_gate(name: str, t: np.ndarray) -> bool:
    return t.ndim == 2 and "attn_gate" in name and 1024 <= t.size <= 8192


def _quantize_gate_int8_row(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = (np.maximum(np.abs(w).max(axis=1), np.float32(1e-10)) / np.float32(127.0)).astype(np.float16)
    q = np.clip(np.round(w / s.astype(np.float32)[:, None]), -127, 127).astype(np.int8)
    return q, s


def _lqer_pack_asym(A: np.ndarray, B: np.ndarray, group: int):
    sA = (np.maximum(np.abs(A).max(), np.float32(1e-10)) / np.float32(1.5)).astype(np.float16)
    qA = np.clip(np.round(A / sA.astype(np.float32)), -2, 1).astype(np.int8)
    Bf = B.reshape(-1, group)
    sB = (np.maximum(np.abs(Bf).max(axis=1, keepdims=True), np.float32(1e-10)) / np.float32(7.5)).astype(np.float16)
    qB = np.clip(np.round(Bf / sB.astype(np.float32)), -8, 7).astype(np.int8).reshape(B.shape)
    return qA, np.asarray(sA), qB, sB.reshape(-1)


def _lqer_pack_rows(A: np.ndarray, B: np.ndarray, bits: int):
    r = gptq.qmax_of(bits)
    out = []
    for M in (A, B):
        s = (np.maximum(np.abs(M).max(axis=1), np.float32(1e-10)) / np.float32(r)).astype(np.float16)
        out += [np.clip(np.round(M / s.astype(np.float32)[:, None]), -r, r).astype(np.int8), s]
    return tuple(out)


def quantize_record(state: StateDict, hessians: StateDict, roles: dict[str, str],
                    cfg: RecordConfig) -> tuple[dict, dict]:
    """(export object {"w", "m"}, info {tensor: chosen k, "lqer": [names]})."""
    result: dict[str, np.ndarray] = {}
    meta: dict[str, str] = {}
    info: dict = {"k": {}, "lqer": []}
    cands: list[tuple[float, str, np.ndarray]] = []
    for name, t in state.items():
        t = np.ascontiguousarray(t)
        if not np.issubdtype(t.dtype, np.floating):
            result[name], meta[name] = t, "passthrough"
            continue
        if t.size <= cfg.keep_float_max_numel or t.ndim != 2:
            if _is_gate(name, t):
                result[name + ".gq"], result[name + ".gs"] = _quantize_gate_int8_row(t.astype(np.float32))
                meta[name] = "gate int8"
            else:
                result[name], meta[name] = t.astype(np.float16), "passthrough (float16)"
            continue
        role = roles.get(name, "other")
        bits = cfg.bits + 1 if role == "embedding" else cfg.bits
        w = t.astype(np.float32)
        H = hessians.get(name)
        if cfg.k_mode == "grid":
            k, q, s = gptq.gptq_best_k(w, H, bits)
        else:
            k = ROLE_K.get(role, OTHER_K)
            s = gptq.sdclip_scale(w, k, bits)
            q = gptq.gptq_quantize(w, H, s, bits)
        info["k"][name] = k
        result[name + ".q"], result[name + ".scale"] = q, s
        meta[name] = f"gptq (int{bits})"
        if cfg.lqer:
            E = w - gptq.dequantize_rows(q, s)
            cands.append((float(np.linalg.norm(E)), name, E))
            cands = sorted(cands, key=lambda c: -c[0])[:LQER_TOP_K]
    for _, name, E in cands:
        U, S, Vh = np.linalg.svd(E, full_matrices=False)
        r = min(LQER_RANK, S.size)
        A = np.ascontiguousarray(U[:, :r] * S[:r]).astype(np.float32)
        B = np.ascontiguousarray(Vh[:r]).astype(np.float32)
        if B.size % LQER_GROUP == 0:
            parts, suffix = _lqer_pack_asym(A, B, LQER_GROUP), "_a"
        else:
            parts, suffix = _lqer_pack_rows(A, B, LQER_FACTOR_BITS), ""
        for key, arr in zip(("lqA", "lqAs", "lqB", "lqBs"), parts):
            result[f"{name}.{key}{suffix}"] = arr
        meta[name] += "+lqer_asym" if suffix else "+lqer"
        info["lqer"].append(name)
    return {"w": result, "m": meta}, info


def dequantize_record(obj: dict, template: StateDict) -> StateDict:
    """The record's `dequantize_mixed`: tensors back in the template's dtypes."""
    w, out = obj["w"], {}
    for name, kind in obj["m"].items():
        dt = template[name].dtype
        if kind.startswith("passthrough"):
            out[name] = w[name].astype(dt)
            continue
        if kind == "gate int8":
            out[name] = gptq.dequantize_rows(w[name + ".gq"], w[name + ".gs"]).astype(dt)
            continue
        x = gptq.dequantize_rows(w[name + ".q"], w[name + ".scale"])
        if name + ".lqA_a" in w:
            qB, sB = w[name + ".lqB_a"], w[name + ".lqBs_a"]
            g = qB.size // sB.size
            A = w[name + ".lqA_a"].astype(np.float32) * np.float32(w[name + ".lqAs_a"])
            B = (qB.reshape(-1, g).astype(np.float32) * sB.astype(np.float32)[:, None]).reshape(qB.shape)
            x = x + A @ B
        elif name + ".lqA" in w:
            A = gptq.dequantize_rows(w[name + ".lqA"], w[name + ".lqAs"])
            B = gptq.dequantize_rows(w[name + ".lqB"], w[name + ".lqBs"])
            x = x + A @ B
        out[name] = x.astype(dt)
    return out


# -- per-group lrzip serialisation ---------------------------------------------------------------------------

def _group_key(qname: str) -> str:
    return re.sub(r"\.\d+\.", ".*.", qname)


def _layer_index(qname: str) -> int:
    m = re.search(r"\.(\d+)\.", qname)
    return int(m.group(1)) if m else -1


def _simsort(name: str, role: str, shape: tuple[int, ...]) -> bool:
    """Rows of the embedding, the query projections and the MLP input projections are reordered (the record's
    tok_emb, c_q and mlp.fc)."""
    return role == "embedding" or bool(_Q_PROJ.search(name)) or (role == "mlp" and shape[0] > shape[1])


def similarity_order_l1(m: np.ndarray) -> np.ndarray:
    """The record's greedy chain: start at row 0, repeatedly go to the nearest unused row by L1 distance (first
    on ties)."""
    n = m.shape[0]
    x = m.astype(np.float32)
    used = np.zeros(n, dtype=bool)
    order = [0]
    used[0] = True
    cur = x[0]
    for _ in range(n - 1):
        rest = np.flatnonzero(~used)
        best = rest[np.argmin(np.abs(x[rest] - cur).sum(axis=1))]
        order.append(best)
        used[best] = True
        cur = x[best]
    return np.array(order, dtype=np.uint16)


def serialize_pergroup(obj: dict, roles: dict[str, str]) -> bytes:
    w, groups, remainder = obj["w"], {}, {}
    for qname, t in w.items():
        if qname.endswith(".q") and t.dtype == np.int8 and t.ndim == 2:
            groups.setdefault(_group_key(qname), []).append(qname)
        else:
            remainder[qname] = t
    manifest, blobs, perms = {}, [], []
    for key in sorted(groups):
        names = sorted(groups[key], key=_layer_index)
        parts = []
        for qname in names:
            arr = w[qname]
            if _simsort(qname[:-2], roles.get(qname[:-2], "other"), arr.shape):
                order = similarity_order_l1(arr)
                perms.append(order.tobytes())
                arr = arr[order]
            parts.append(np.ascontiguousarray(arr.T).tobytes())
        manifest[key] = [(qname, w[qname].shape) for qname in names]
        blobs.append(b"".join(parts))
    with ThreadPoolExecutor(max_workers=8) as pool:   # lrzip's time here is memory set-up, not CPU: overlap it
        streams = list(pool.map(cz.compress_lrzip, blobs))
    rest = pickle.dumps({"r": remainder, "m": obj["m"], "s": manifest}, protocol=4)
    streams.append(cz.compress_brotli(rest, lgwin=24))
    streams.append(cz.compress_brotli(b"".join(perms)) if perms else b"")
    return cz.pack_streams(streams)


def deserialize_pergroup(blob: bytes, roles: dict[str, str]) -> dict:
    streams = cz.unpack_streams(blob)
    rest = pickle.loads(cz.decompress_brotli(streams[-2]))
    perms = np.frombuffer(cz.decompress_brotli(streams[-1]), dtype=np.uint16) if streams[-1] else np.zeros(0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        raws = list(pool.map(cz.decompress_lrzip, streams[:-2]))
    w, p_off = dict(rest["r"]), 0
    for raw, (_key, entries) in zip(raws, rest["s"].items()):
        off = 0
        for qname, (rows, cols) in entries:
            arr = np.frombuffer(raw, dtype=np.int8, count=rows * cols, offset=off).reshape(cols, rows).T
            off += rows * cols
            if _simsort(qname[:-2], roles.get(qname[:-2], "other"), (rows, cols)):
                order = perms[p_off:p_off + rows].astype(np.int64)
                p_off += rows
                back = np.empty_like(arr)
                back[order] = arr
                arr = back
            w[qname] = np.ascontiguousarray(arr)
    return {"w": w, "m": rest["m"]}


def serialize(obj: dict, cfg: RecordConfig, roles: dict[str, str]) -> bytes:
    if cfg.compressor == "lrzip":
        return serialize_pergroup(obj, roles)
    return cz.compress_brotli11_shuffled(pickle.dumps(obj, protocol=4))


def deserialize(blob: bytes, cfg: RecordConfig, roles: dict[str, str]) -> dict:
    if cfg.compressor == "lrzip":
        return deserialize_pergroup(blob, roles)
    return pickle.loads(cz.decompress_brotli_shuffled(blob))


@dataclass(frozen=True)
class RecordPipeline(Baseline):
    cfg: RecordConfig = RecordConfig()

    def run(self, state, hessians=None, roles=None):
        roles, hessians = roles or {}, hessians or {}
        t0 = time.perf_counter()
        obj, info = quantize_record(state, hessians, roles, self.cfg)
        blob = serialize(obj, self.cfg, roles)
        t1 = time.perf_counter()
        recon = dequantize_record(deserialize(blob, self.cfg, roles), state)
        t2 = time.perf_counter()
        return Artifact(blob, recon, t1 - t0, t2 - t1, info)
