"""The byte-level compressors parameter-golf records put around their quantized payloads.

  zstd-22                 the int6 records (`zstandard`, level 22)
  brotli-11 + shuffle     the records' `_byte_shuffle` (stride 2, 5-byte "BSHF" marker) over the whole serialized
                          payload, then brotli quality 11 (PyPI `brotli`)
  lrzip -z -L 9           ZPAQ back end of Debian's `lrzip` (the top record's per-group streams; slow)
  stream packing          the top record's "PGRP" container: magic, u32 count, u32 lengths, the streams
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from bench_common import BenchError

_BSHF_MAGIC = b"BSHF"
_PACK_MAGIC = b"PGRP"


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


def compress_brotli(raw: bytes, lgwin: int = 22) -> bytes:
    """Plain brotli-11 (the per-group pipeline's remainder uses lgwin 24, its permutations the default 22)."""
    import brotli
    return brotli.compress(raw, quality=11, lgwin=lgwin)


def decompress_brotli(blob: bytes) -> bytes:
    import brotli
    return brotli.decompress(blob)


def lrzip_path() -> str | None:
    """Debian's lrzip (`apt-get install lrzip`), or None: the lrzip variant is skipped without it."""
    return shutil.which("lrzip")


def _lrzip(args: list[str], data: bytes, in_name: str, out_name: str) -> bytes:
    exe = lrzip_path()
    if exe is None:
        raise BenchError("lrzip is not installed (apt-get install lrzip)")
    with tempfile.TemporaryDirectory(prefix="lrz.") as tmp:
        src, dst = Path(tmp) / in_name, Path(tmp) / out_name
        src.write_bytes(data)
        res = subprocess.run([exe, *args, "-o", str(dst), str(src)], capture_output=True, text=True)
        if res.returncode != 0 or not dst.is_file():
            msg = (res.stderr or res.stdout).strip().splitlines()
            raise BenchError(f"lrzip {' '.join(args)} failed ({res.returncode}): {msg[-1] if msg else 'no output'}")
        return dst.read_bytes()


def compress_lrzip(raw: bytes) -> bytes:
    """`lrzip -z -L 9` (ZPAQ, level 9) on one stream, through files as the record's `_lrzip_compress` does.
    `-q` only silences progress output; it does not change the bytes."""
    return _lrzip(["-q", "-z", "-L", "9"], raw, "s.bin", "s.bin.lrz")


def decompress_lrzip(blob: bytes) -> bytes:
    return _lrzip(["-q", "-d"], blob, "s.bin.lrz", "s.bin")


def pack_streams(streams: list[bytes]) -> bytes:
    """The top record's `_pack_streams`: b"PGRP", u32 count, u32 length per stream, then the streams."""
    return _PACK_MAGIC + struct.pack("<I", len(streams)) + b"".join(struct.pack("<I", len(s)) for s in streams) \
        + b"".join(streams)


def unpack_streams(blob: bytes) -> list[bytes]:
    if blob[:4] != _PACK_MAGIC or len(blob) < 8:
        raise BenchError("not a PGRP stream pack")
    (n,) = struct.unpack_from("<I", blob, 4)
    lens = struct.unpack_from(f"<{n}I", blob, 8)
    off = 8 + 4 * n
    out = []
    for ln in lens:
        out.append(blob[off:off + ln])
        off += ln
    if off != len(blob):
        raise BenchError(f"PGRP stream pack: {len(blob) - off} bytes unaccounted for")
    return out
