#!/usr/bin/env python3
"""An independent .sdc decoder written from spec/format.md alone, with numpy and zstandard only (its own
FlatBuffers reading, XXH64 and rANS). It checks every hash the format has (header + manifest, each section,
each reconstructed tensor), so it never returns wrong bytes: any failure raises ValueError. It does not
repeat every structural rule of spec section 9 (the C++ decoder does); the hashes make a damaged file fail.

    tensors, assets = decode(open("model.sdc", "rb").read())   # {name: (dtype, shape, bytes)}, {name: bytes}
    python3 spec/reference_decoder.py model.sdc                 # prints name, dtype, shape, xxh64 per tensor
"""
import struct
import sys

import numpy as np
import zstandard

M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                      0x27D4EB2F165667C5)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & M64, 31) * P1) & M64


def xxh64(data, seed=0):
    """XXH64 (the reference algorithm)."""
    n, p = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        lanes = struct.unpack_from(f"<{(n // 32) * 4}Q", data)
        for i in range(0, len(lanes), 4):
            v = [_round(v[j], lanes[i + j]) for j in range(4)]
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for x in v:
            h = ((h ^ _round(0, x)) * P1 + P4) & M64
        p = (n // 32) * 32
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while p + 8 <= n:
        h = (_rotl(h ^ _round(0, struct.unpack_from("<Q", data, p)[0]), 27) * P1 + P4) & M64
        p += 8
    if p + 4 <= n:
        h = (_rotl(h ^ (struct.unpack_from("<I", data, p)[0] * P1) & M64, 23) * P2 + P3) & M64
        p += 4
    while p < n:
        h = (_rotl(h ^ (data[p] * P5) & M64, 11) * P1) & M64
        p += 1
    h = ((h ^ (h >> 33)) * P2) & M64
    h = ((h ^ (h >> 29)) * P3) & M64
    return h ^ (h >> 32)


class Table:
    """A FlatBuffers table (spec 4.2): fields by id, absent fields give their default."""

    def __init__(self, buf, pos):
        self.b, self.t = buf, pos
        self.v = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vsize = struct.unpack_from("<H", buf, self.v)[0]

    def _at(self, fid):
        if 4 + 2 * fid >= self.vsize:
            return 0
        return struct.unpack_from("<H", self.b, self.v + 4 + 2 * fid)[0]

    def scalar(self, fid, fmt, default=0):
        o = self._at(fid)
        return struct.unpack_from("<" + fmt, self.b, self.t + o)[0] if o else default

    def _ref(self, fid):
        o = self._at(fid)
        return self.t + o + struct.unpack_from("<I", self.b, self.t + o)[0] if o else None

    def string(self, fid):
        p = self._ref(fid)
        if p is None:
            return None
        n = struct.unpack_from("<I", self.b, p)[0]
        return bytes(self.b[p + 4:p + 4 + n])

    def table(self, fid):
        p = self._ref(fid)
        return None if p is None else Table(self.b, p)

    def vector(self, fid, fmt=None):
        """Scalars (fmt) or tables (fmt None) of a vector field; absent = empty."""
        p = self._ref(fid)
        if p is None:
            return []
        n = struct.unpack_from("<I", self.b, p)[0]
        if fmt:
            return list(struct.unpack_from(f"<{n}{fmt}", self.b, p + 4))
        return [Table(self.b, p + 4 + 4 * i + struct.unpack_from("<I", self.b, p + 4 + 4 * i)[0]) for i in range(n)]


def rans_decode(data, nbytes, width):
    """Spec 5.1: static order-0 rANS over `width`-byte symbols, exactly nbytes out."""
    n = nbytes // width
    if nbytes % width:
        raise ValueError("rans: size not a multiple of the symbol width")
    if n == 0:
        if data:
            raise ValueError("rans: bytes after an empty stream")
        return b""
    A = 1 << (8 * width)
    prec = data[0]
    if prec > min(24, (n - 1).bit_length() + 1):
        raise ValueError("rans: bad precision")
    M = 1 << prec
    reader = _BitCursor(data, 1)
    S = reader.bits(8 * width) + 1
    if not 1 <= S <= min(n, M):
        raise ValueError("rans: bad symbol count")
    gaps_model = reader.model((A - S) // S, 8 * width)
    syms, prev = [], -1
    for _ in range(S):
        prev = prev + 1 + gaps_model()
        syms.append(prev)
    if syms[-1] >= A:
        raise ValueError("rans: symbol out of range")
    freq_model = reader.model((M - S) // S, prec)
    freqs = [freq_model() + 1 for _ in range(S - 1)]
    last = M - sum(freqs)
    if last < 1:
        raise ValueError("rans: frequencies exceed the total")
    freqs.append(last)
    p = reader.bytes_used()
    out_dtype = np.uint8 if width == 1 else np.dtype("<u2")
    if S == 1:
        if p != len(data):
            raise ValueError("rans: bytes after a one-symbol table")
        return np.full(n, syms[0], out_dtype).tobytes()
    if len(data) - p < 8 or (len(data) - p - 8) % 4:
        raise ValueError("rans: bad stream length")
    x = struct.unpack_from("<Q", data, p)[0]
    if not (1 << 31) <= x < (1 << 63):
        raise ValueError("rans: bad initial state")
    words = struct.unpack_from(f"<{(len(data) - p - 8) // 4}I", data, p + 8)
    slot_sym = np.repeat(np.arange(S), freqs)
    cum = np.concatenate([[0], np.cumsum(freqs)]).tolist()
    out, w, mask = np.empty(n, np.int64), 0, M - 1
    for i in range(n):
        slot = x & mask
        s = int(slot_sym[slot])
        out[i] = syms[s]
        x = freqs[s] * (x >> prec) + slot - cum[s]
        if x < (1 << 31):
            if w >= len(words):
                raise ValueError("rans: missing words")
            x = (x << 32) | words[w]
            w += 1
    if x != (1 << 31) or any(words[w:]):
        raise ValueError("rans: stream does not end cleanly")
    return out.astype(out_dtype).tobytes()


class _BitCursor:
    """LSB-first bit reader with the adaptive Rice model R(sum, count=1, width) of spec 5.1."""

    def __init__(self, data, start):
        self.d, self.pos = data, start * 8

    def bits(self, w):
        v = 0
        for i in range(w):
            byte = self.pos >> 3
            if byte >= len(self.d):
                raise ValueError("rans: table runs past the stream")
            v |= ((self.d[byte] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return v

    def bytes_used(self):
        return (self.pos + 7) // 8

    def model(self, total, width):
        st = [total, 1]

        def read():
            s, c = st
            k = next((k for k in range(25) if (c << k) >= s), 24)
            q = 0
            while q < 12 and self.bits(1):
                q += 1
            if q == 12:
                v = self.bits(width)
                if v >> k < 12:
                    raise ValueError("rans: needless escape")
            else:
                v = (q << k) | self.bits(k)
            s, c = s + v, c + 1
            if c == 16:
                s, c = s >> 1, 8
            st[:] = [s, c]
            return v
        return read


# ---- Number formats (spec 7), on bit patterns ----------------------------------------------------------
SIZES = [4, 2, 2, 8, 1, 1, 2, 2, 4, 4, 8, 8, 1, 1, 1]
NAMES = ["F32", "F16", "BF16", "F64", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "BOOL", "F8_E4M3",
         "F8_E5M2"]


def widen(raw, dtype):
    """F32/F16/BF16 little-endian bytes -> float32 array (exact)."""
    if dtype == 0:
        return np.frombuffer(raw, "<f4").copy()
    h = np.frombuffer(raw, "<u2").astype(np.uint32)
    if dtype == 2:
        return (h << 16).view(np.float32)
    s, e, m = (h & 0x8000) << 16, (h >> 10) & 0x1F, h & 0x3FF
    out = s | ((e + 112) << 23) | (m << 13)
    out = np.where(e == 31, s | 0x7F800000 | (m << 13), out)
    k = np.floor(np.log2(np.maximum(m, 1))).astype(np.uint32)  # highest set bit of a subnormal's mantissa
    sub = s | ((103 + k) << 23) | (((m << (10 - k)) & 0x3FF) << 13)
    out = np.where(e == 0, np.where(m == 0, s, sub), out)
    return out.astype(np.uint32).view(np.float32)


def store(v, dtype):
    """float32 array -> little-endian bytes of dtype F32, F16 or BF16 (round to nearest even)."""
    x = np.ascontiguousarray(v, np.float32).view(np.uint32).astype(np.uint64)
    if dtype == 0:
        return x.astype("<u4").tobytes()
    if dtype == 2:
        nan = (x & 0x7FFFFFFF) > 0x7F800000
        return np.where(nan, (x >> 16) | 0x40, (x + 0x7FFF + ((x >> 16) & 1)) >> 16).astype("<u2").tobytes()
    s, a = (x >> 16) & 0x8000, x & 0x7FFFFFFF
    e = a >> 23
    shift = np.clip(126 - e.astype(np.int64), 14, 24).astype(np.uint64)
    mant = (a & 0x7FFFFF) | 0x800000
    r, rem, half = mant >> shift, mant & ((np.uint64(1) << shift) - 1), np.uint64(1) << (shift - 1)
    sub = s | (r + ((rem > half) | ((rem == half) & (r & 1 == 1))))
    sub = np.where(e < 102, s, sub)
    h = (((e - 112) & 0x1F) << 10) | ((a & 0x7FFFFF) >> 13)
    rem2 = a & 0x1FFF
    norm = s | (h + ((rem2 > 0x1000) | ((rem2 == 0x1000) & (h & 1 == 1))))
    out = np.where(a < 0x38800000, sub, norm)
    out = np.where(a >= 0x477FF000, s | 0x7C00, out)
    out = np.where(a == 0x7F800000, s | 0x7C00, out)
    out = np.where(a > 0x7F800000, s | 0x7E00 | ((a >> 13) & 0x3FF), out)
    return out.astype("<u2").tobytes()


# ---- The container (spec 2-5) ---------------------------------------------------------------------------
MAGIC = b"\x89SDC\r\n\x1a\n"


class File:
    def __init__(self, data):
        data = bytes(data)
        if len(data) < 40 or data[:8] != MAGIC:
            raise ValueError("not an .sdc file")
        major, _minor, codec = struct.unpack_from("<HHB", data, 8)
        stored, raw, digest = struct.unpack_from("<QQQ", data, 16)
        if major != 1 or codec > 1 or data[13:16] != b"\0\0\0" or stored > len(data) - 40:
            raise ValueError("unsupported or corrupt header")
        if xxh64(data[:32] + data[40:40 + stored]) != digest:
            raise ValueError("header/manifest checksum mismatch")
        blob = data[40:40 + stored]
        if codec == 1:
            blob = _zstd(blob, raw)
        if len(blob) != raw or blob[4:8] != b"SDC1":
            raise ValueError("corrupt manifest")
        self.data, self.start = data, 40 + stored
        self.m = Table(blob, struct.unpack_from("<I", blob, 0)[0])
        self.sections = self.m.vector(0)
        self.banks = self.m.vector(7)
        # Sections tile the data area (spec 2), so every byte is under some hash.
        pos, align = 0, self.m.scalar(6, "I")
        for s in self.sections:
            off, size = s.scalar(2, "Q"), s.scalar(3, "Q")
            want = pos if align <= 1 else -(-(self.start + pos) // align) * align - self.start
            if off != want or any(data[self.start + pos:self.start + off]):
                raise ValueError("sections do not tile the file")
            pos = off + size
        if self.start + pos != len(data):
            raise ValueError("bytes after the last section")

    def section(self, i):
        s = self.sections[i]
        off, size, raw = s.scalar(2, "Q"), s.scalar(3, "Q"), s.scalar(4, "Q")
        stored = self.data[self.start + off:self.start + off + size]
        if xxh64(stored) != s.scalar(5, "Q"):
            raise ValueError(f"section {i}: checksum mismatch")
        codec = s.scalar(1, "B")
        if codec == 0:
            out = stored
        elif codec == 1:
            out = _zstd(stored, raw)
        elif codec in (2, 3):
            out = rans_decode(stored, raw, codec - 1)
        else:
            raise ValueError(f"section {i}: unknown codec")
        if len(out) != raw:
            raise ValueError(f"section {i}: wrong decoded size")
        return out


def _zstd(stored, raw):
    out, d = b"", zstandard.ZstdDecompressor()
    while stored:  # a concatenation of frames (spec 5)
        obj = d.decompressobj()
        out += obj.decompress(stored)
        if len(out) > raw or not obj.eof:
            raise ValueError("zstd: bad frame or too much output")
        stored = obj.unused_data
    return out


# ---- Reconstruction (spec 8) ----------------------------------------------------------------------------
def _rows(shape):
    cols = shape[-1] if shape else 1
    rows = int(np.prod(shape[:-1], dtype=np.uint64)) if len(shape) > 1 else 1
    return rows, cols


def _scales(f, rep, sid, dtid, rows, cols, gsid):
    group = rep.scalar(gsid, "I")
    gpr = 0 if cols == 0 else (1 if group == 0 else -(-cols // group))
    sc = widen(f.section(rep.scalar(sid, "I")), rep.scalar(dtid, "B"))
    if sc.size != rows * gpr or not np.all(np.isfinite(sc)):
        raise ValueError("bad scales")
    col_group = np.arange(cols) // (group or max(cols, 1))
    return sc.reshape(rows, gpr)[:, col_group] if gpr else np.zeros((rows, 0), np.float32)


def reconstruct(f, t):
    shape = t.vector(1, "Q")
    dtype, kind, rep = t.scalar(2, "B"), t.scalar(5, "B"), t.table(6)
    rows, cols = _rows(shape)
    if kind == 1:  # RawRep
        raw, sd = f.section(rep.scalar(0, "I")), rep.scalar(1, "B")
        out = raw if sd == dtype else store(widen(raw, sd), dtype)
    elif kind == 2:  # ScalarRep
        q = (1 << (rep.scalar(0, "B") - 1)) - 1
        codes = np.frombuffer(f.section(rep.scalar(4, "I")), np.uint8)
        if codes.size != rows * cols or np.any(codes > 2 * q):
            raise ValueError("bad codes")
        v = (codes.reshape(rows, cols).astype(np.int32) - q).astype(np.float32) * _scales(f, rep, 3, 2, rows, cols, 1)
        out = store(v, dtype)
    elif kind == 3:  # CodebookRep
        dim, banks, alpha = rep.scalar(0, "B"), rep.vector(1, "I"), rep.vector(2, "f")
        idx_dt = np.uint8 if all(f.banks[b].scalar(1, "I") <= 256 for b in banks) else np.dtype("<u2")
        vpr = -(-cols // dim) if cols else 0
        acc = np.zeros((rows, vpr * dim), np.float32)
        for m, (b, sid) in enumerate(zip(banks, rep.vector(6, "I"))):
            bank = f.banks[b]
            k = bank.scalar(1, "I")
            entries = widen(f.section(bank.scalar(0, "I")), bank.scalar(3, "B")).reshape(k, dim)
            if not np.all(np.isfinite(entries)):
                raise ValueError("bad bank")
            idx = np.frombuffer(f.section(sid), idx_dt)
            if idx.size != rows * vpr or np.any(idx >= k):
                raise ValueError("bad indices")
            acc = acc + np.float32(alpha[m]) * entries[idx].reshape(rows, vpr * dim)
        v = (acc[:, :cols] * _scales(f, rep, 5, 3, rows, cols, 4)).reshape(-1)
        res = rep.table(7)
        if res is not None:
            v = _residual(f, res, v)
        out = store(v, dtype)
    else:
        raise ValueError("unknown representation")
    if xxh64(out) != t.scalar(7, "Q"):
        raise ValueError(f"tensor {t.string(0)!r}: checksum mismatch")
    return NAMES[dtype], shape, out


def _residual(f, res, v):
    count, step = res.scalar(0, "Q"), np.float32(res.scalar(3, "f"))
    pos_bytes, vals = f.section(res.scalar(1, "I")), np.frombuffer(f.section(res.scalar(2, "I")), np.int8)
    positions, p, shift, gap, prev = [], 0, 0, 0, -1
    for byte in pos_bytes:  # LEB128 gaps
        gap |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            prev = prev + 1 + gap
            positions.append(prev)
            gap = shift = 0
    if shift or len(positions) != count or vals.size != count or (count and positions[-1] >= v.size):
        raise ValueError("bad residual")
    idx = np.array(positions, np.int64)
    v = v.copy()
    v[idx] = v[idx] + step * vals.astype(np.float32)
    return v


def decode(data):
    """-> ({name: (dtype name, shape, bytes)}, {asset name: bytes}); raises ValueError on any problem."""
    try:
        f = File(data)
        tensors = {t.string(0).decode(): reconstruct(f, t) for t in f.m.vector(1)}
        assets = {a.string(0).decode(): f.section(a.scalar(1, "I")) for a in f.m.vector(2)}
        return tensors, assets
    except (struct.error, IndexError, OverflowError, zstandard.ZstdError, TypeError) as e:
        raise ValueError(f"corrupt: {e}") from None


if __name__ == "__main__":
    ts, assets = decode(open(sys.argv[1], "rb").read())
    for name, (dt, shape, b) in ts.items():
        print(f"{name}\t{dt}\t{list(shape)}\t{xxh64(b):016x}")
    for name, b in assets.items():
        print(f"asset {name}\t{len(b)} bytes")
