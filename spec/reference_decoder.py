#!/usr/bin/env python3
"""An independent .sdc decoder written from spec/format.md alone: numpy, zstandard and the standard library
(its own FlatBuffers verifier and reader, XXH64 and rANS). It applies the rules of spec section 9 in the
spec's order, so it refuses what the C++ decoder refuses, with the same status (the first words of the
ValueError's message: corrupt, checksum mismatch, limit exceeded or unsupported), and otherwise returns
bit-identical tensors.

    tensors, assets = decode(open("model.sdc", "rb").read())   # {name: np.ndarray}, {name: bytes}
    python3 spec/reference_decoder.py model.sdc out.safetensors

BF16 and F8 tensors come back as their bit patterns (uint16 / uint8 arrays); decode_named also gives the
safetensors dtype names and the shapes.
"""
import bisect
import json
import struct
import sys
from types import SimpleNamespace

import numpy as np
import zstandard

CORRUPT, CHECKSUM, LIMIT, UNSUPPORTED = "corrupt", "checksum mismatch", "limit exceeded", "unsupported"
# The default DecodeLimits (spec 10)
MAX_MANIFEST, MAX_SECTIONS, MAX_TENSORS, MAX_ASSETS, MAX_BANKS = 64 << 20, 1 << 20, 1 << 20, 1 << 16, 1 << 16
MAX_RANK, MAX_NAME, MAX_SECTION_RAW, MAX_TENSOR, MAX_TOTAL = 8, 4096, 8 << 30, 8 << 30, 64 << 30
MAX_TABLES = 4 * (MAX_SECTIONS + MAX_TENSORS + MAX_ASSETS) + 64


def need(ok, what, status=CORRUPT):
    if not ok:
        raise ValueError(f"{status}: {what}")


# ---- XXH64, seed 0 (spec 1) -------------------------------------------------------------------------
M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                      0x27D4EB2F165667C5)


def rotl(x, r):
    return (x << r | x >> 64 - r) & M64


def lane(acc, x):
    return rotl((acc + x * P2) & M64, 31) * P1 & M64


def xxh64(data):
    n, p, h = len(data), 0, P5
    if n >= 32:
        v = [(P1 + P2) & M64, P2, 0, -P1 & M64]
        x = struct.unpack_from(f"<{n // 32 * 4}Q", data)
        for i in range(0, len(x), 4):
            v = [lane(v[j], x[i + j]) for j in range(4)]
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M64
        for a in v:
            h = ((h ^ lane(0, a)) * P1 + P4) & M64
        p = n // 32 * 32
    h = (h + n) & M64
    for p in range(p, n - 7, 8):
        h = (rotl(h ^ lane(0, struct.unpack_from("<Q", data, p)[0]), 27) * P1 + P4) & M64
    p = n - n % 8
    if n % 8 >= 4:
        h = (rotl(h ^ struct.unpack_from("<I", data, p)[0] * P1 & M64, 23) * P2 + P3) & M64
        p += 4
    for b in data[p:]:
        h = rotl(h ^ b * P5 & M64, 11) * P1 & M64
    h = (h ^ h >> 33) * P2 & M64
    h = (h ^ h >> 29) * P3 & M64
    return h ^ h >> 32


# ---- Manifest: FlatBuffers verifier and reader (spec 4.2, 4.3) ------------------------------------------
# Per table, "name:type" per field id. Scalars B ubyte, I uint, Q ulong, f float; s string, S required string;
# q [ulong], i [uint], g [float]; [X] a vector of tables X; (X) a table X; U the (required) union value.
SCHEMA = {
    "Manifest": "sections:[Section] tensors:[Tensor] assets:[Asset] metadata:[KeyValue] encoder:s "
                "budget_bytes:Q alignment:I banks:[Bank]",
    "Section": "kind:B codec:B offset:Q stored_size:Q raw_size:Q xxh64:Q",
    "Tensor": "name:S shape:q dtype:B role:B role_source:B rep_type:B rep:U xxh64:Q snr_db:f",
    "RawRep": "data:I stored_dtype:B",
    "ScalarRep": "bits:B group_size:I scale_dtype:B scales:I codes:I",
    "CodebookRep": "dim:B banks:i coefficients:g scale_dtype:B group_size:I scales:I indices:i "
                   "residual:(SparseResidual)",
    "SparseResidual": "count:Q positions:I values:I step:f",
    "Bank": "data:I k:I dim:B entry_dtype:B",
    "Asset": "name:S data:I",
    "KeyValue": "key:S value:S",
}
UNION = [None, "RawRep", "ScalarRep", "CodebookRep"]
FMT = {"q": "Q", "i": "I", "g": "f"}


FB = "manifest: FlatBuffers verification failed"


def manifest(b):
    """Verifies the whole FlatBuffer (any failure is corrupt) and returns it as SimpleNamespaces."""
    tables = 0

    def get(fmt, p):  # a scalar, aligned to its size and in bounds
        bounds(p, struct.calcsize(fmt), struct.calcsize(fmt))
        return struct.unpack_from("<" + fmt, b, p)[0]

    def bounds(p, n, align=1):
        need(p % align == 0 and 0 <= p and n < len(b) and p + n <= len(b), FB)

    def offset(p):
        o = get("I", p)
        need(0 < o < 1 << 31, FB)
        bounds(p + o, 1)
        return p + o

    def vector(p, size):
        n = get("I", p)
        bounds(p, 4 + n * size)
        return n

    def table(t, name):
        nonlocal tables
        tables += 1
        v = t - get("i", t)
        size = get("H", v)
        need(tables <= MAX_TABLES and size % 2 == 0, FB)
        bounds(v, size)
        out = SimpleNamespace()
        for k, field in enumerate(SCHEMA[name].split()):
            key, kind = field.split(":")
            e = struct.unpack_from("<H", b, v + 4 + 2 * k)[0] if 4 + 2 * k < size else 0
            if kind in "BIQf":
                val = get(kind, t + e) if e else 0
            elif not e:
                need(kind not in "SU", FB)
                val = [] if kind[0] in "qig[" else None
            else:
                p = offset(t + e)
                if kind in "sS":
                    n = vector(p, 1)
                    need(get("B", p + 4 + n) == 0, FB)
                    val = b[p + 4:p + 4 + n]
                elif kind in "qig":
                    n = vector(p, struct.calcsize(FMT[kind]))
                    val = list(struct.unpack_from(f"<{n}{FMT[kind]}", b, p + 4))
                elif kind[0] == "[":
                    n = vector(p, 4)
                    val = [table(q + get("I", q), kind[1:-1]) for q in range(p + 4, p + 4 + 4 * n, 4)]
                elif kind[0] == "(":
                    val = table(p, kind[1:-1])
                else:  # the union value is a table only for a known member
                    val = table(p, UNION[out.rep_type]) if 1 <= out.rep_type <= 3 else None
            setattr(out, key, val)
        return out

    need(len(b) >= 12 and b[4:8] == b"SDC1", FB)
    return table(offset(0), "Manifest")


# ---- Section codecs (spec 5, 5.1) -------------------------------------------------------------------
def unzstd(s, raw):
    """zstd frames whose content is exactly raw bytes; decoding stops as soon as the output passes raw."""
    out = bytearray()
    try:
        while s:
            need(len(s) >= 4, "zstd: trailing bytes are not a frame")
            magic = struct.unpack_from("<I", s)[0]
            if magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame: magic, u32 size, that many bytes
                need(len(s) >= 8 and len(s) - 8 >= struct.unpack_from("<I", s, 4)[0], "zstd: truncated frame")
                s = s[8 + struct.unpack_from("<I", s, 4)[0]:]
                continue
            need(magic == 0xFD2FB528, "zstd: not a zstd frame (legacy frames are not part of the format)")
            p = zstandard.get_frame_parameters(s)
            need(p.dict_id == 0 and p.window_size <= 1 << 27, "zstd: dictionary or window over 2^27")
            d, i = zstandard.ZstdDecompressor().decompressobj(), 0
            while not d.eof and i < len(s):
                out += d.decompress(s[i:i + 4096])
                i += 4096
                need(len(out) <= raw, "zstd: more output than declared")
            need(d.eof, "zstd: truncated frame")
            s = d.unused_data + s[i:]
    except zstandard.ZstdError as e:
        need(0, f"zstd: {e}")
    need(len(out) == raw, "zstd: less output than declared")
    return bytes(out)


def unrans(data, raw, width, L):
    """Static order-0 rANS over width-byte symbols on L interleaved states -> exactly raw bytes."""
    n, A, pos = raw // width, 1 << 8 * width, 8

    def bits(w):  # LSB first
        nonlocal pos
        need(pos + w <= 8 * len(data), "rans: truncated table")
        v = sum((data[(pos + i) >> 3] >> (pos + i & 7) & 1) << i for i in range(w))
        pos += w
        return v

    def rice(s, escape_bits, count):  # count values of the adaptive Rice model R(s, 1, escape_bits)
        out, c = [], 1
        for _ in range(count):
            k = next((k for k in range(25) if c << k >= s), 24)
            q = 0
            while q < 12 and bits(1):
                q += 1
            v = q << k | bits(k) if q < 12 else bits(escape_bits)
            need(q < 12 or v >> k >= 12, "rans: needless escape")
            out.append(v)
            s, c = s + v, c + 1
            if c == 16:
                s, c = s >> 1, 8
        return out

    if n == 0:
        need(not data, "rans: bytes after the end")
        return b""
    need(data and data[0] <= min(24, (n - 1).bit_length() + 1), "rans: bad precision")
    P = data[0]
    M, S = 1 << P, bits(8 * width) + 1
    need(S <= min(n, M), "rans: bad symbol count")
    syms = np.cumsum(np.array(rice((A - S) // S, 8 * width, S), object) + 1) - 1
    f = [v + 1 for v in rice((M - S) // S, P, S - 1)]
    f.append(M - sum(f))
    need(syms[-1] < A and f[-1] >= 1, "rans: bad table")
    p = (pos + 7) // 8
    need(pos % 8 == 0 or data[p - 1] >> pos % 8 == 0, "rans: table padding bits")
    if S == 1:
        need(p == len(data), "rans: bytes after the end")
        return np.full(n, syms[0], f"<u{width}").tobytes()
    need(len(data) >= p + 8 * L and (len(data) - p) % 4 == 0, "rans: bad stream length")
    x = list(struct.unpack_from(f"<{L}Q", data, p))
    words = struct.unpack_from(f"<{(len(data) - p - 8 * L) // 4}I", data, p + 8 * L)
    need(all(1 << 31 <= v < 1 << 63 for v in x), "rans: bad initial state")
    c = [0, *np.cumsum(f).tolist()]
    out, w = [], 0
    for k in range(n):  # symbol k on lane k mod L; the words are one sequence, read in symbol order
        j = k % L
        slot = x[j] & M - 1
        i = bisect.bisect_right(c, slot) - 1
        out.append(i)
        x[j] = f[i] * (x[j] >> P) + slot - c[i]
        if x[j] < 1 << 31:
            need(w < len(words), "rans: missing words")
            x[j], w = x[j] << 32 | words[w], w + 1
    need(all(v == 1 << 31 for v in x) and not any(words[w:]), "rans: bad final state or padding")
    return np.array(syms.tolist(), np.uint64)[out].astype(f"<u{width}").tobytes()


# ---- Number formats (spec 7), on bit patterns ----------------------------------------------------------
DTYPES = "F32 F16 BF16 F64 I8 U8 I16 U16 I32 U32 I64 U64 BOOL F8_E4M3 F8_E5M2".split()
SIZE = [4, 2, 2, 8, 1, 1, 2, 2, 4, 4, 8, 8, 1, 1, 1]
NUMPY = "<f4 <f2 <u2 <f8 i1 u1 <i2 <u2 <i4 <u4 <i8 <u8 ? u1 u1".split()
F32, F16, BF16 = 0, 1, 2


def widen(raw, dtype):
    """F32 / F16 / BF16 little-endian bytes -> float32 array, exactly."""
    if dtype == F32:
        return np.frombuffer(raw, "<f4")
    h = np.frombuffer(raw, "<u2").astype(np.int64)
    if dtype == BF16:
        return (h << 16).astype(np.uint32).view(np.float32)
    s, e, m = (h & 0x8000) << 16, h >> 10 & 31, h & 0x3FF
    k = np.frexp(m)[1] - 1  # the highest set bit of m
    x = np.where(e == 31, s | 0x7F800000 | m << 13, s | (e + 112) << 23 | m << 13)
    x = np.where(e > 0, x, np.where(m == 0, s, s | (103 + k) << 23 | (m << 10 - k & 0x3FF) << 13))
    return x.astype(np.uint32).view(np.float32)


def store(v, dtype):
    """float32 array -> little-endian bytes of F32, F16 or BF16, rounding to nearest even."""
    x = np.asarray(v, np.float32).view(np.uint32).astype(np.int64)
    if dtype == F32:
        return x.astype("<u4").tobytes()
    if dtype == BF16:
        y = np.where(x & 0x7FFFFFFF > 0x7F800000, x >> 16 | 0x40, x + 0x7FFF + (x >> 16 & 1) >> 16)
        return y.astype("<u2").tobytes()
    s, a = x >> 16 & 0x8000, x & 0x7FFFFFFF
    e = a >> 23
    shift = np.clip(126 - e, 14, 24)  # a result below 2^-14: subnormal or zero
    mant, half = a & 0x7FFFFF | 0x800000, 1 << shift - 1
    r, rem = mant >> shift, mant & 2 * half - 1
    sub = np.where(e < 102, 0, r + ((rem > half) | (rem == half) & (r & 1 == 1)))
    h, rem = e - 112 << 10 | (a & 0x7FFFFF) >> 13, a & 0x1FFF
    y = np.where(a < 0x38800000, sub, h + ((rem > 0x1000) | (rem == 0x1000) & (h & 1 == 1)))
    y = np.where(a >= 0x477FF000, 0x7C00, y)  # rounds to inf, or is inf
    y = np.where(a > 0x7F800000, 0x7E00 | a >> 13 & 0x3FF, y)  # NaN: quiet, top payload bits kept
    return (s | y).astype("<u2").tobytes()


# ---- The file (spec 2, 3, 9) ----------------------------------------------------------------------------
def open_sdc(d):
    """Steps A-G of spec 9: everything checked before any payload is decoded."""
    f = SimpleNamespace()  # A. header; B. manifest bytes; C. FlatBuffers structure
    need(len(d) >= 40 and d[:8] == b"\x89SDC\r\n\x1a\n", "header: not an .sdc file")
    major, _, codec = struct.unpack_from("<HHB", d, 8)
    need(major == 1 and codec <= 1, f"header: major version {major}, manifest codec {codec}", UNSUPPORTED)
    stored, raw, digest = struct.unpack_from("<3Q", d, 16)
    need(d[13:16] == bytes(3) and stored <= len(d) - 40 and (codec or raw == stored), "header")
    need(raw <= MAX_MANIFEST, f"manifest: {raw} bytes", LIMIT)
    need(xxh64(d[:32] + d[40:40 + stored]) == digest, "header and manifest", CHECKSUM)
    m = d[40:40 + stored]
    f.m = m = manifest(unzstd(m, raw) if codec else m)
    f.d, f.start, f.claimed, secs, size = d, 40 + stored, set(), m.sections, len(d) - 40 - stored
    # D. sections tile the data area
    need(len(secs) <= MAX_SECTIONS, "section count", LIMIT)
    a, pos = m.alignment, 0
    need(a & a - 1 == 0 and a <= 4096, f"alignment {a}")
    for i, s in enumerate(secs):
        need(s.kind <= 7 and s.codec <= 5, f"section {i}: kind or codec", UNSUPPORTED)
        o, start = s.offset, f.start + pos
        need(pos <= o <= size and s.stored_size <= size - o, f"section {i}: offset")
        need(o == (pos if a <= 1 else -(-start // a) * a - f.start) and not any(d[start:o + f.start]),
             f"section {i}: alignment")
        need(s.raw_size <= MAX_SECTION_RAW, f"section {i}: raw size", LIMIT)
        need((s.raw_size == s.stored_size or s.codec) and (s.raw_size % 2 == 0 or s.codec not in (3, 5)),
             f"section {i}: raw size")
        pos = o + s.stored_size
    need(pos == size, "bytes after the last section")
    # E. banks and tensors; F. assets; G. coverage
    need(len(m.banks) <= MAX_BANKS, "bank count", LIMIT)
    for i, b in enumerate(m.banks):
        need(1 <= b.k <= 65536 and 1 <= b.dim <= 16 and b.entry_dtype <= F16, f"bank {i}")
        claim(f, b.data, 4, b.k * b.dim * SIZE[b.entry_dtype], f"bank {i}")
    need(len(m.tensors) <= MAX_TENSORS, "tensor count", LIMIT)
    f.total, names = 0, set()
    for t in m.tensors:
        check_tensor(f, t, names)
    need(len(m.assets) <= MAX_ASSETS, "asset count", LIMIT)
    names = set()
    for a in m.assets:
        check_name(a.name, names, asset=True)
        f.total += claim(f, a.data, 3, None, f"asset {a.name!r}")
        need(f.total <= MAX_TOTAL, "total output", LIMIT)
    for i in range(len(secs)):
        need(i in f.claimed, f"section {i} is not referenced")
    return f


def claim(f, j, kind, raw, what):
    s = f.m.sections
    need(j < len(s) and j not in f.claimed and s[j].kind == kind, f"{what}: bad section reference {j}")
    f.claimed.add(j)
    need(raw is None or s[j].raw_size == raw, f"{what}: section {j} has the wrong size")
    return s[j].raw_size


def check_tensor(f, t, names):
    t.what = what = check_name(t.name, names)
    need(t.dtype < 15 and t.role < 6, f"{what}: dtype or role", UNSUPPORTED)
    need(t.role_source <= 1, f"{what}: role_source")
    need(len(t.shape) <= MAX_RANK, f"{what}: rank", LIMIT)
    t.numel = 1
    for n in t.shape:
        t.numel *= n
        need(t.numel <= MAX_TENSOR // SIZE[t.dtype], f"{what}: size", LIMIT)
    f.total += t.numel * SIZE[t.dtype]
    need(f.total <= MAX_TOTAL, "total output", LIMIT)
    t.cols = t.shape[-1] if t.shape else 1
    t.rows = t.numel // t.cols if t.cols else int(np.prod(t.shape[:-1], dtype=object))
    r, kind = t.rep, t.rep_type
    need(kind, f"{what}: no representation")
    need(kind <= 3, f"{what}: representation {kind}", UNSUPPORTED)
    if kind == 1:
        need(r.stored_dtype < 15, f"{what}: stored dtype", UNSUPPORTED)
        need(r.stored_dtype == t.dtype or t.dtype <= BF16 and r.stored_dtype in (F16, BF16), f"{what}: cast")
        return claim(f, r.data, 0, t.numel * SIZE[r.stored_dtype], what)
    need(t.dtype <= BF16, f"{what}: lossy non-float")
    if kind == 2:
        need(2 <= r.bits <= 8, f"{what}: bits")
        check_scales(f, t, True)
        return claim(f, r.codes, 2, t.rows * t.cols, what)
    M, bank = len(r.banks), f.m.banks
    need(1 <= M <= 8 and len(r.coefficients) == len(r.indices) == M, f"{what}: codebook count")
    for b, a in zip(r.banks, r.coefficients):
        need(b < len(bank) and bank[b].dim == r.dim and np.isfinite(a), f"{what}: bank {b}")
    t.vpr, t.wide = -(-t.cols // r.dim), max(bank[b].k for b in r.banks) > 256
    check_scales(f, t, r.group_size % r.dim == 0)
    for j in r.indices:
        claim(f, j, 5, t.rows * t.vpr * (1 + t.wide), what)
    s = r.residual
    if s:
        need(s.count <= t.numel and np.isfinite(s.step), f"{what}: residual")
        need(s.count <= claim(f, s.positions, 6, None, what) <= 10 * s.count, f"{what}: residual size")
        claim(f, s.values, 7, s.count, what)


def check_scales(f, t, group_ok):
    r = t.rep
    need(r.scale_dtype <= F16 and group_ok, f"{t.what}: scale dtype or group size")
    t.gpr = 0 if t.cols == 0 else 1 if r.group_size == 0 else -(-t.cols // r.group_size)
    claim(f, r.scales, 1, t.rows * t.gpr * SIZE[r.scale_dtype], t.what)


def read(f, j):
    """H. a section's decoded bytes, after its hash."""
    s = f.m.sections[j]
    b = f.d[f.start + s.offset:f.start + s.offset + s.stored_size]
    need(xxh64(b) == s.xxh64, f"section {j}", CHECKSUM)
    if s.codec == 1:
        return unzstd(b, s.raw_size)
    return unrans(b, s.raw_size, 1 + s.codec % 2, 1 if s.codec < 4 else 4) if s.codec else b


def tensor(f, t):
    """Reconstructs one tensor and checks its hash -> its little-endian bytes."""
    out = reconstruct(f, t)
    need(xxh64(out) == t.xxh64, t.what, CHECKSUM)
    return out


def reconstruct(f, t):
    r = t.rep
    if t.rep_type == 1:
        out = read(f, r.data)
        return out if r.stored_dtype == t.dtype else store(widen(out, r.stored_dtype), t.dtype)
    if t.rep_type == 2:
        sc, q = widen(read(f, r.scales), r.scale_dtype), (1 << r.bits - 1) - 1
        codes = np.frombuffer(read(f, r.codes), np.uint8)
        need(np.all(sc >= 0) and np.all(np.isfinite(sc)), f"{t.what}: bad scale")
        need(codes.size == 0 or codes.max() <= 2 * q, f"{t.what}: code above 2Q")
        v = (codes.astype(np.int16) - q).astype(np.float32)
    else:
        v, sc = codebook(f, t)
    if t.numel == 0:
        return b""
    v = v.reshape(t.rows, -1)[:, :t.cols]  # a codebook's rows hold vpr * dim values
    v = v * sc.reshape(t.rows, t.gpr)[:, np.arange(t.cols) // (r.group_size or t.cols)]  # scale (r, c / group)
    if t.rep_type == 3 and r.residual:
        v = v.reshape(-1)
        v[t.positions] += np.float32(r.residual.step) * t.values.astype(np.float32)
    return store(v, t.dtype)


def codebook(f, t):
    """-> (acc = the sum over m of alpha_m * entry per sub-vector, scales) (spec 8.4), checking in the order of
    step 23b."""
    r, banks = t.rep, []
    for b in r.banks:
        e = widen(read(f, f.m.banks[b].data), f.m.banks[b].entry_dtype)
        need(np.all(np.isfinite(e)), f"bank {b}: entry not finite")
        banks.append(e.reshape(-1, r.dim))
    sc = widen(read(f, r.scales), r.scale_dtype)
    idx = [np.frombuffer(read(f, j), "<u2" if t.wide else "u1") for j in r.indices]
    s = r.residual
    if s:
        gaps, t.values = read(f, s.positions), np.frombuffer(read(f, s.values), np.int8)
    need(np.all(np.isfinite(sc)), f"{t.what}: bad scale")
    acc = np.zeros((t.rows * t.vpr, r.dim), np.float32)
    for i, e, a in zip(idx, banks, r.coefficients):
        need(i.size == 0 or i.max() < len(e), f"{t.what}: index out of range")
        acc += np.float32(a) * e[i]  # acc = acc + (alpha * entry): two roundings
    if s:
        t.positions = leb128(gaps, s.count, t.numel, t.what)
    return acc, sc


def check_name(name, seen, asset=False):
    need(1 <= len(name) <= MAX_NAME and name not in seen, f"name {name[:99]!r}: empty, too long or repeated")
    need(not asset or (len(name) <= 255 and name not in (b".", b"..") and not any(c in b"/\\" or c < 32 or c == 127
                                                                                  for c in name)),
         f"asset name {name[:99]!r}: not one safe path component")
    seen.add(name)
    return f"tensor {name.decode(errors='replace')!r}"


def leb128(data, count, numel, what):
    """count LEB128 gaps using every byte -> strictly increasing flat indices below numel."""
    out, p, prev = [], 0, -1
    for _ in range(count):
        g = shift = 0
        while shift == 0 or data[p - 1] & 0x80:
            need(p < len(data) and shift < 70, f"{what}: residual positions malformed")
            g |= (data[p] & 0x7F) << shift
            p, shift = p + 1, shift + 7
        prev += 1 + g
        need(g >> 64 == 0 and prev < numel, f"{what}: residual position out of range")
        out.append(prev)
    need(p == len(data), f"{what}: residual positions malformed")
    return np.array(out, np.int64)


def decode_named(data):
    """-> ({name: (safetensors dtype, shape, array)}, {asset name: bytes}); ValueError on any invalid file.
    The array has the shape unless numpy cannot make it (an empty tensor with huge dims: then it is flat)."""
    name = lambda x: x.name.decode(errors="surrogateescape")
    with np.errstate(all="ignore"):  # overflow to inf and NaN are defined results
        try:
            f, tensors = open_sdc(bytes(data)), {}
            for t in f.m.tensors:
                a = np.frombuffer(tensor(f, t), NUMPY[t.dtype])
                try:
                    a = a.reshape(t.shape)
                except ValueError:
                    pass
                tensors[name(t)] = DTYPES[t.dtype], t.shape, a
            assets = {name(a): read(f, a.data) for a in f.m.assets}
            for i, b in enumerate(f.m.banks):  # those no tensor uses too: then every section was checked
                need(np.all(np.isfinite(widen(read(f, b.data), b.entry_dtype))), f"bank {i}: entry not finite")
            return tensors, assets
        except (struct.error, IndexError, OverflowError) as e:  # never expected: the checks come first
            need(0, f"{type(e).__name__}: {e}")


def decode(data):
    """-> ({name: np.ndarray}, {asset name: bytes}); ValueError on any invalid file."""
    tensors, assets = decode_named(data)
    return {k: a for k, (_, _, a) in tensors.items()}, assets


def write_safetensors(path, tensors):
    """{name: (safetensors dtype, shape, array)} -> a .safetensors file."""
    h, off = {}, 0
    for k, (dtype, shape, a) in tensors.items():
        h[k] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off := off + a.nbytes]}
    h = json.dumps(h).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(a.tobytes() for *_, a in tensors.values()))


if __name__ == "__main__":  # FILE.sdc OUT.safetensors
    write_safetensors(sys.argv[2], decode_named(open(sys.argv[1], "rb").read())[0])
