"""Hand-made .sdc files for the tests and benches: a small FlatBuffers writer (front to back, every
uoffset forward), files crafted from sections and tables with every hash right (tensor hashes from the
reference decoder's reconstruction), and taking valid files apart and back together."""
import importlib.util
import pathlib
import struct

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("reference_decoder", ROOT / "spec" / "reference_decoder.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def split(data):
    """-> (header, raw manifest bytes, data area) of a valid file."""
    stored, raw = struct.unpack_from("<QQ", data, 16)
    m = data[40:40 + stored]
    return data[:40], (ref.unzstd(m, raw) if data[12] else m), data[40 + stored:]


def join(header, manifest, area):
    """A file with a raw manifest and a correct header hash."""
    h = bytearray(header[:40])
    h[12] = 0
    h[16:32] = struct.pack("<QQ", len(manifest), len(manifest))
    h[32:40] = struct.pack("<Q", ref.xxh64(bytes(h[:32]) + manifest))
    return bytes(h) + manifest + area


def T(*fields):
    """A FlatBuffers table: per field id None (absent), (fmt, value) for a scalar, or a child object."""
    return ("t", fields)


def S(b):
    return ("v", "B", list(b), True)


def V(fmt, values):
    return ("v", fmt, list(values), False)


def VT(tables):
    return ("vt", tables)


def emit(buf, obj):
    """Writes obj front to back (uoffsets point forward) -> its position."""
    pad = lambda n: buf.extend(b"\0" * (-len(buf) % n))
    if obj[0] == "v":
        _, fmt, values, string = obj
        pad(4)
        if fmt == "Q" and len(buf) % 8 == 0:
            buf.extend(b"\0" * 4)
        pos = len(buf)
        buf += struct.pack(f"<I{len(values)}{fmt}", len(values), *values) + b"\0" * string
        return pos
    children = []
    if obj[0] == "vt":
        pad(4)
        pos = len(buf)
        buf += struct.pack("<I", len(obj[1]))
        for child in obj[1]:
            children.append((len(buf), child))
            buf += b"\0" * 4
    else:
        pad(2)
        v, n = len(buf), len(obj[1])
        buf += b"\0" * (4 + 2 * n)
        pad(8)
        pos = len(buf)
        buf += struct.pack("<i", pos - v)
        entries = []
        for f in obj[1]:
            if f is None:
                entries.append(0)
                continue
            scalar = f[0] in ("B", "I", "Q", "f")
            pad(struct.calcsize(f[0]) if scalar else 4)
            entries.append(len(buf) - pos)
            if not scalar:
                children.append((len(buf), f))
            buf += struct.pack("<" + f[0], f[1]) if scalar else b"\0" * 4
        struct.pack_into(f"<HH{n}H", buf, v, 4 + 2 * n, len(buf) - pos, *entries)
    for slot, child in children:
        struct.pack_into("<I", buf, slot, emit(buf, child) - slot)
    return pos


def craft(sections, tensors, banks=(), assets=(), bad_hash=None, alignment=0, gap=0, budget=0, hash_tensors=True):
    """sections: (kind, codec, stored bytes, raw size) in order (section bad_hash gets a wrong hash), each at
    the next multiple of `alignment` (the manifest is padded to make data_start one), after gap bytes of value gap;
    tensors: lists of Tensor fields whose xxh64 (field 7) is filled in from the reference reconstruction
    when it succeeds (unless hash_tensors is false: then as given); assets: (name, section); budget: the
    manifest's budget_bytes (0: absent)."""
    def build():
        area, secs = b"", []
        for i, (kind, codec, stored, raw) in enumerate(sections):
            area += bytes([gap]) * (-len(area) % max(alignment, 1))
            secs.append(T(("B", kind), ("B", codec), ("Q", len(area)), ("Q", len(stored)), ("Q", raw),
                          ("Q", ref.xxh64(stored) ^ (i == bad_hash))))
            area += stored
        buf = bytearray(b"\0\0\0\0SDC1")
        assets_ = VT([T(S(name), ("I", j)) for name, j in assets])
        struct.pack_into("<I", buf, 0, emit(buf, T(VT(secs), VT([T(*t) for t in tensors]), assets_, None, None,
                                                     ("Q", budget) if budget else None, ("I", alignment), VT(banks))))
        buf += bytes(-(40 + len(buf)) % max(alignment, 8))  # so data_start is aligned; unreferenced bytes are fine
        return join(b"\x89SDC\r\n\x1a\n\x01" + bytes(31), bytes(buf), area)
    if not hash_tensors:
        return build()
    try:
        f = ref.open_sdc(build())
    except ValueError:
        return build()
    for fields, t in zip(tensors, f.m.tensors):
        try:
            with np.errstate(all="ignore"):
                fields[7] = ("Q", ref.xxh64(ref.reconstruct(f, t)))
        except ValueError:
            pass
    return build()


def tensor(name, shape, dtype, rep_type, rep):
    name = name if isinstance(name, bytes) else name.encode()
    return [S(name), V("Q", shape), ("B", dtype), ("B", 5), None, ("B", rep_type), rep, None]


def zstd_frames(b):
    """A skippable frame, a frame with a checksum and content size, and a streamed one without."""
    import zstandard
    c = zstandard.ZstdCompressor(write_checksum=True).compress(b[:len(b) // 2])
    obj = zstandard.ZstdCompressor(write_content_size=False).compressobj()
    return b"\x5a\x2a\x4d\x18\x03\0\0\0abc" + c + obj.compress(b[len(b) // 2:]) + obj.flush()


def leb128(v):
    out = bytearray()
    while True:
        out.append(v & 0x7F | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(out)


def xxh64_repeated(byte, n):
    """XXH64 of n copies of `byte` (n a multiple of 2^20), streamed through the system's libxxhash: the
    pure-Python XXH64 of the reference decoder would take hours over gigabytes."""
    import ctypes
    lib = ctypes.CDLL("libxxhash.so.0")
    lib.XXH64_createState.restype = ctypes.c_void_p
    lib.XXH64_reset.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    lib.XXH64_update.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.XXH64_digest.argtypes = [ctypes.c_void_p]
    lib.XXH64_digest.restype = ctypes.c_uint64
    lib.XXH64_freeState.argtypes = [ctypes.c_void_p]
    state = lib.XXH64_createState()
    lib.XXH64_reset(state, 0)
    chunk = bytes([byte]) * (1 << 20)
    for _ in range(n >> 20):
        lib.XXH64_update(state, chunk, len(chunk))
    digest = lib.XXH64_digest(state)
    lib.XXH64_freeState(state)
    return digest

