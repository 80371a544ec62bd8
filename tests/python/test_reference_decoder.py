"""Differential test: spec/reference_decoder.py (written from spec/format.md alone) gives bit-identical
tensors and assets to the C++ decoder on artifacts of every representation and codec, and refuses exactly
the files the C++ decoder refuses, with the same status (fuzz corpus, damaged files, and damaged files whose
hashes were recomputed so that the checks behind them run)."""
import itertools
import json
import os
import struct

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import _TYPES as NUMPY_DTYPES
from sdc_files import T, V, craft, join, leb128, ref, split, tensor, zstd_frames

from conftest import ROOT, run

os.environ["OMP_WAIT_POLICY"] = "passive"
STATUSES = (ref.CORRUPT, ref.CHECKSUM, ref.LIMIT, ref.UNSUPPORTED)
RUNS = itertools.count()

ENCODES = {  # name: (input, encode arguments)
    "raw": ("mixed", ["--method", "raw"]),
    "raw_f16": ("mixed", ["--method", "raw", "--raw-dtype", "f16"]),
    "raw_bf16": ("mixed", ["--method", "raw", "--raw-dtype", "bf16"]),
    "cast_f16": ("special", ["--method", "raw", "--raw-dtype", "f16"]),
    "cast_bf16": ("special", ["--method", "raw", "--raw-dtype", "bf16"]),
    **{f"scalar{b}": ("mixed", ["--bits", str(b)]) for b in range(2, 9)},
    "scalar8_group": ("mixed", ["--bits", "8", "--group", "16"]),
    "scalar3_group_zstd0": ("mixed", ["--bits", "3", "--group", "7", "--zstd-level", "0"]),
    "scalar_budget": ("mixed", ["--budget", "9000"]),
    "aligned_asset": ("mixed", ["--bits", "5", "--alignment", "64", "--asset", "tok=ASSET", "--asset", "e=EMPTY"]),
    "vq_shared": ("mixed", ["--method", "codebook", "--k", "16", "--dim", "4"]),
    "vq_dim8_group": ("mixed", ["--method", "codebook", "--k", "64", "--group", "16"]),
    "vq_per_tensor_u16": ("mixed", ["--method", "codebook", "--k", "300", "--dim", "2", "--per-tensor-banks"]),
    "vq_additive_residual": ("mixed", ["--method", "codebook", "--k", "16", "--dim", "4", "--codebooks", "2",
                                       "--residuals", "0.05", "--lambda", "0.1"]),
    "vq_budget": ("mixed", ["--method", "codebook", "--k", "64", "--dim", "4", "--codebooks", "3",
                            "--budget", "8000", "--residuals", "0", "0.02"]),
    # 2^18 + 6 codes or indices: streams on four interleaved rANS states (codecs rans8x4 and rans16x4).
    "scalar_interleaved": ("long", ["--bits", "4"]),
    "vq_interleaved_u16": ("long", ["--method", "codebook", "--k", "300", "--dim", "1", "--per-tensor-banks"]),
}


def _write(path, tensors, metadata=None):
    ref.write_safetensors(path, {k: (dtype, list(a.shape), a) for k, (dtype, a) in tensors.items()})
    if metadata:  # the manifest's metadata key/value tables
        raw = path.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        h = json.dumps({"__metadata__": metadata, **json.loads(raw[8:8 + n])}).encode()
        h += b" " * (-len(h) % 8)
        path.write_bytes(struct.pack("<Q", len(h)) + h + raw[8 + n:])


def _inputs(d):
    rng = np.random.default_rng(7)
    f32 = lambda *s: (rng.standard_t(5, s) * 0.05).astype(np.float32)
    _write(d / "mixed.safetensors", {
        "layers.0.mlp.w": ("F32", f32(48, 40)),
        "layers.0.attn.q": ("F16", f32(32, 36).astype(np.float16)),
        "embed.weight": ("BF16", (f32(24, 40).view(np.uint32) >> 16).astype(np.uint16)),
        "conv": ("F32", f32(4, 3, 8, 8)),
        "norm": ("F32", f32(40)),
        "scalar": ("F32", np.array(1.5, np.float32)),
        "empty": ("F32", np.zeros((0, 5), np.float32)),
        "empty_cols": ("F16", np.zeros((3, 0), np.float16)),
        "ids": ("I64", np.arange(6, dtype=np.int64)),
        "mask": ("BOOL", np.array([True, False, True])),
        "bytes": ("U8", np.arange(7, dtype=np.uint8).reshape(7, 1)),
        "f64": ("F64", np.array([1.0, -2.5])),
    }, {"source": "test", "k": ""})
    # Every finite f16 / bf16 pattern and random finite f32 patterns (subnormals, overflow), for the casts.
    half = np.arange(65536, dtype=np.uint32)
    bits = rng.integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32)
    edge = np.float32([65504, 65519.996, 65520, 1e-8, 2.98e-8, 2.99e-8, 5.96e-8, -0.0, 3e38, -3e38])
    _write(d / "special.safetensors", {
        "all_f16": ("F16", half[(half & 0x7C00) != 0x7C00].astype(np.uint16).view(np.float16)),
        "all_bf16": ("BF16", half[(half & 0x7F80) != 0x7F80].astype(np.uint16)),
        "f32_bits": ("F32", np.concatenate([bits.view(np.float32)[np.isfinite(bits.view(np.float32))], edge])),
    })
    _write(d / "long.safetensors", {"long.w": ("F32", f32(2, (1 << 17) + 3))})
    (d / "asset.bin").write_bytes(b"tokenizer bytes \x00\x01")
    (d / "empty.bin").write_bytes(b"")


@pytest.fixture(scope="module")
def artifacts(sdcodec, tmp_path_factory):
    d = tmp_path_factory.mktemp("refdec")
    _inputs(d)
    out = {}
    for name, (src, args) in ENCODES.items():
        args = [a.replace("EMPTY", str(d / "empty.bin")).replace("ASSET", str(d / "asset.bin")) for a in args]
        out[name] = d / f"{name}.sdc"
        run(sdcodec, "encode", d / f"{src}.safetensors", "-o", out[name], "--quiet", "--min-numel", "0", *args)
    return out


def _cpp(sdcodec, data, tmp_path):
    """The C++ decoder's status and (tensors, assets) for the file bytes `data`."""
    d = tmp_path / str(next(RUNS))
    d.mkdir()
    f, st, assets = d / "in.sdc", d / "cpp.safetensors", d / "assets"
    f.write_bytes(data)
    p = run(sdcodec, "decode", f, "-o", st, "--assets-dir", assets, check=False)
    if "invalid argument" in p.stderr:  # a valid file whose names safetensors cannot hold (not UTF-8)
        p = run(sdcodec, "verify", f, check=False)
        return ("ok" if p.returncode == 0 else next(s for s in STATUSES if f"sdcodec: {s}:" in p.stderr)), None
    if p.returncode:
        status = next((s for s in STATUSES if f"sdcodec: {s}:" in p.stderr), None)
        assert status, p.stderr
        return status, None
    raw = st.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    header.pop("__metadata__", None)
    tensors, start = {}, 8 + int.from_bytes(raw[:8], "little")
    with safe_open(st, framework="np") as sf:
        for name, h in header.items():
            a, b = h["data_offsets"]
            data = raw[start + a:start + b]  # BF16, F8 (no numpy dtype) and empty tensors numpy cannot shape
            if h["dtype"] in NUMPY_DTYPES and np.prod([n for n in h["shape"] if n], dtype=object) < 1 << 40:
                data = sf.get_tensor(name)
                assert list(data.shape) == h["shape"]
            tensors[name] = (h["dtype"], h["shape"], data)
    return "ok", (tensors, {p.name: p.read_bytes() for p in assets.iterdir()} if assets.exists() else {})


def _ref(data):
    try:
        return "ok", ref.decode_named(data)
    except ValueError as e:
        status = str(e).split(": ")[0]
        assert status in STATUSES, e
        return status, None


def _check_same(sdcodec, data, tmp_path, what):
    """Both decoders give the same status; on success, bit-identical tensors and identical assets."""
    (cs, cout), (rs, rout) = _cpp(sdcodec, data, tmp_path), _ref(data)
    assert cs == rs, f"{what}: C++ says {cs}, the reference decoder {rs}"
    if cout:
        (ct, ca), (rt, ra) = cout, rout
        assert sorted(ct) == sorted(rt), what
        for name, (dtype, shape, a) in rt.items():
            assert ct[name][:2] == (dtype, shape), f"{what}: {name}"
            c = ct[name][2]
            assert bytes(c) == a.tobytes(), f"{what}: tensor {name} differs"
        assert ca == ra, f"{what}: assets differ"
    return cs


def test_every_representation_is_bit_identical(sdcodec, artifacts, tmp_path):
    reps, codecs, residuals = set(), set(), 0
    for name, f in artifacts.items():
        assert _check_same(sdcodec, f.read_bytes(), tmp_path, name) == "ok"
        report = json.loads(run(sdcodec, "inspect", f, "--json").stdout)
        reps |= {t["representation"] for t in report["tensors"]}
        codecs |= {s["codec"] for s in report["sections"]}
        residuals += sum(s["part"] == "residual_values" for s in report["sections"])
    assert reps == {"raw", "scalar", "codebook"} and residuals
    assert codecs == {"raw", "zstd", "rans8", "rans16", "rans8x4", "rans16x4"}


def test_corpus_and_stories(sdcodec, stories, tmp_path):
    files = sorted((ROOT / "fuzz" / "corpus" / "decode").iterdir())
    for args in (["--budget", "150000"], ["--method", "codebook"]):
        f = tmp_path / ("stories" + "_".join(args).replace("-", "") + ".sdc")
        run(sdcodec, "encode", stories, "-o", f, "--quiet", *args)
        files.append(f)
    statuses = [_check_same(sdcodec, f.read_bytes(), tmp_path, f.name) for f in files]
    assert statuses.count("ok") >= 3 and len(set(statuses)) == 5


def test_damaged_files_are_refused(sdcodec, artifacts, tmp_path):
    rng = np.random.default_rng(5)
    for name in ("vq_additive_residual", "scalar3_group_zstd0", "aligned_asset"):
        data = artifacts[name].read_bytes()
        for pos in [*rng.integers(0, len(data), 6), 0, 9, 12, 20, 35, len(data) - 1]:
            bad = bytearray(data)
            bad[pos] ^= 1 << int(rng.integers(0, 8))
            with pytest.raises(ValueError):
                ref.decode(bytes(bad))
            assert _check_same(sdcodec, bytes(bad), tmp_path, f"{name} bit flip at {pos}") != "ok"
        for cut in (0, 39, len(data) // 2, len(data) - 1):
            with pytest.raises(ValueError):
                ref.decode(data[:cut])


def test_damage_behind_the_hashes(sdcodec, artifacts, tmp_path):
    """Damage the manifest or a section and recompute the hashes over it, so that the structural, semantic
    and payload checks behind them decide; both decoders must agree on the outcome."""
    rng = np.random.default_rng(11)
    seen = set()
    for name in ("raw_bf16", "scalar2", "scalar3_group_zstd0", "vq_per_tensor_u16", "vq_additive_residual",
                 "vq_dim8_group", "vq_budget", "scalar_budget"):
        header, manifest, area = split(artifacts[name].read_bytes())
        m = ref.manifest(manifest)
        for pos in rng.integers(0, len(manifest), 50):  # the manifest
            bad = bytearray(manifest)
            bad[pos] = int(rng.integers(0, 256)) if pos % 3 else bad[pos] ^ 1 << int(rng.integers(0, 8))
            seen.add(_check_same(sdcodec, join(header, bytes(bad), area), tmp_path, f"{name} manifest @{pos}"))
        for i, s in [*enumerate(m.sections)] * 2:  # a section, with its hash fixed in the manifest
            if s.stored_size == 0:
                continue
            pos = s.offset + int(rng.integers(0, s.stored_size))
            bad = bytearray(area)
            bad[pos] ^= 1 << int(rng.integers(0, 8))
            new = ref.xxh64(bytes(bad[s.offset:s.offset + s.stored_size]))
            fixed = manifest.replace(struct.pack("<Q", s.xxh64), struct.pack("<Q", new))
            seen.add(_check_same(sdcodec, join(header, fixed, bytes(bad)), tmp_path, f"{name} section {i}"))
    assert {ref.CORRUPT, ref.CHECKSUM} <= seen


def test_interleaved_streams_damaged_behind_the_hash(sdcodec, artifacts, tmp_path):
    """Bit flips in the four-state rANS streams (their table, states and words), hashes recomputed: both
    decoders agree on each outcome, and the lane checks catch damage to the states."""
    rng = np.random.default_rng(13)
    seen = set()
    for name in ("scalar_interleaved", "vq_interleaved_u16"):
        header, manifest, area = split(artifacts[name].read_bytes())
        for i, s in enumerate(ref.manifest(manifest).sections):
            if s.codec not in (4, 5):
                continue
            for pos in (s.offset + int(rng.integers(0, 48)), s.offset + s.stored_size // 2,
                        s.offset + s.stored_size - 1):
                bad = bytearray(area)
                bad[pos] ^= 1 << int(rng.integers(0, 8))
                new = ref.xxh64(bytes(bad[s.offset:s.offset + s.stored_size]))
                fixed = manifest.replace(struct.pack("<Q", s.xxh64), struct.pack("<Q", new))
                seen.add(_check_same(sdcodec, join(header, fixed, bytes(bad)), tmp_path, f"{name} section {i} @{pos}"))
    assert ref.CORRUPT in seen


def test_xxh64(artifacts):
    assert ref.xxh64(b"") == 0xEF46DB3751D8E999
    assert ref.xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert ref.xxh64(b"abc") == 0x44BC2CF5AD770999
    lengths = set()
    for f in artifacts.values():  # the hashes the C++ encoder wrote, over sections of many lengths
        header, manifest, area = split(f.read_bytes())
        for s in ref.manifest(manifest).sections:
            assert ref.xxh64(area[s.offset:s.offset + s.stored_size]) == s.xxh64
            lengths.add(s.stored_size % 32)
    assert len(lengths) > 16
    try:
        import xxhash
    except ImportError:
        return
    data = np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes()
    for n in range(0, 300, 7):
        assert ref.xxh64(data[:n]) == xxhash.xxh64_intdigest(data[:n])


def test_hand_made_files(sdcodec, tmp_path):
    half = np.arange(65536, dtype="<u2").tobytes()
    f16 = lambda *v: np.array(v, np.float32).astype("<f2").tobytes()
    f32 = lambda *v: np.array(v, "<f4").tobytes()
    # Casts of every f16 / bf16 pattern, NaN payloads included, one tensor per (dtype, stored dtype).
    casts = [(0, 1), (2, 1), (0, 2), (1, 2)]
    cases = {"casts": ([(0, 0, half, len(half))] * 4, [
        tensor(f"c{i}", [256, 256], d, 1, T(("I", i), ("B", sd))) for i, (d, sd) in enumerate(casts)], ())}
    # Scalar: f16 scales 0, -0, subnormal, 1, 65504 (products overflow f16), every code, three output dtypes.
    codes = np.tile(np.arange(255, dtype=np.uint8), 5).tobytes()
    scales = f16(0, -0.0, 6e-8, 1, 65504)
    for d in (0, 1, 2):
        cases[f"scalar{d}"] = ([(1, 0, scales, 10), (2, 1, zstd_frames(codes), len(codes))], [
            tensor("s", [5, 255], d, 2, T(("B", 8), None, ("B", 1), ("I", 0), ("I", 1)))], ())
    for bad_scale in (-1.0, np.inf, np.nan):
        cases[f"bad_scale{bad_scale}"] = ([(1, 0, f32(1, bad_scale), 8), (2, 0, codes[:10], 10)], [
            tensor("s", [2, 5], 0, 2, T(("B", 8), None, None, ("I", 0), ("I", 1)))], ())
    cases["code_above_2Q"] = ([(1, 0, f32(1), 4), (2, 0, bytes([0, 1, 2, 3]), 4)], [
        tensor("s", [4], 0, 2, T(("B", 2), None, None, ("I", 0), ("I", 1)))], ())
    # Codebook: 3e38 and -3e38 times entries (inf - inf = NaN), negative scales, a short last sub-vector,
    # an f16 bank, groups, a residual; then residual position streams, valid and not.
    banks = [T(("I", 0), ("I", 3), ("B", 2), None), T(("I", 1), ("I", 2), ("B", 2), ("B", 1))]
    bank_data = [(4, 0, f32(1, 2, 3, -4, 0.5, 1e-40), 24), (4, 0, f16(1, -1, 2, 0.25), 8)]
    idx = [(5, 0, bytes([0, 1, 2, 1, 0, 2]), 6), (5, 0, bytes([1, 0, 1, 1, 0, 0]), 6)]
    for name, coef, gaps, vals in [
            ("vq", [1.5, -0.75], None, None), ("vq_nan", [3e38, -3e38], None, None),
            ("res", [1.5, 1.0], [0, 3, 0], [5, -128, 127]),
            ("res_long_varints", [1.0, 1.0], [bytes([0x80, 0]), bytes([0x80] * 9 + [0])], [1, 2]),
            ("res_11_byte_varint", [1.0, 1.0], [bytes([0x80] * 10 + [0]), 0], [1, 1]),
            ("res_value_over_2^64", [1.0, 1.0], [bytes([0x80] * 9 + [2])], [1]),
            ("res_wraps_to_0", [1.0, 1.0], [5, 2 ** 64 - 6], [1, 1]),
            ("res_last", [1.0, 1.0], [9], [1]), ("res_past_end", [1.0, 1.0], [10], [1]),
            ("res_repeat", [1.0, 1.0], [2, 2 ** 64 - 1], [1, 1]),  # 2 + 1 + 2^64 - 1 wraps to 2 in 64 bits
            ("res_trailing_byte", [1.0, 1.0], [b"\x01\x00"], [1])]:
        secs = bank_data + [(1, 0, f32(-2, 0.5, 1.5, -0.25), 16)] + idx
        res = None
        if gaps is not None:
            pos = b"".join(g if isinstance(g, bytes) else leb128(g) for g in gaps)
            secs += [(6, 0, pos, len(pos)), (7, 0, np.array(vals, np.int8).tobytes(), len(vals))]
            res = T(("Q", len(vals)), ("I", 5), ("I", 6), ("f", 0.125))
        rep = T(("B", 2), V("I", [0, 1]), V("f", coef), None, ("I", 4), ("I", 2), V("I", [3, 4]), res)
        for d in (0, 1, 2):
            cases[f"{name}_{d}"] = (secs, [tensor("v", [2, 5], d, 3, rep)], banks)
    cases["empty_zstd"] = ([(0, 1, b"", 0)], [tensor("e", [0, 3], 0, 1, T(("I", 0), None))], ())
    cases["zstd_trailing_byte"] = ([(0, 1, zstd_frames(half[:64]) + b"\0", 64)], [
        tensor("z", [32], 1, 1, T(("I", 0), ("B", 1)))], ())
    statuses = {}
    for name, (sections, tensors, bank_tables) in cases.items():
        statuses[name] = _check_same(sdcodec, craft(sections, tensors, bank_tables), tmp_path, name)
    ok = {k for k, s in statuses.items() if s == "ok"}
    assert ok == {"casts", "scalar0", "scalar1", "scalar2", "empty_zstd", *(f"{n}_{d}" for d in (0, 1, 2) for n in (
        "vq", "vq_nan", "res", "res_long_varints", "res_last"))}, statuses


def test_hand_made_rule_order(sdcodec, tmp_path):
    """Files breaking one or two rules of spec section 9: the status is the first broken rule's."""
    f32 = lambda *v: np.array(v, "<f4").tobytes()
    raw = lambda name, shape, dtype, j, **k: tensor(name, shape, dtype, 1, T(("I", j), ("B", k.get("sd", dtype))))
    big = (0, 1, b"\x28\xb5\x2f\xfd", 8 << 30)  # declares 8 GiB: only decoding would find out it is not
    scalar = lambda shape, dtype=0, sdt=0: tensor("s", shape, dtype, 2, T(("B", 8), None, ("B", sdt), ("I", 0),
                                                                            ("I", 1)))
    bank = [T(("I", 0), ("I", 2), ("B", 2), None)]
    cb = T(("B", 2), V("I", [0]), V("f", [1.0]), None, None, ("I", 1), V("I", [2]), None)
    cases = {  # name: (expected status, sections, tensors, banks, assets, bad hash)
        "size_at_cap": (ref.CORRUPT, [big[:3] + (big[3] - 4,)], [raw("t", [1 << 31], 0, 0)], (), (), None),
        "size_over_cap": (ref.LIMIT, [big], [raw("t", [(1 << 31) + 1], 0, 0)], (), (), None),
        "size_over_cap_no_rep": (ref.LIMIT, [], [raw("t", [1 << 40, 0], 0, 0)[:5] + [("B", 0)] +
                                                 raw("t", [], 0, 0)[6:]], (), (), None),
        "empty_rows_of_huge": ("ok", [(0, 0, b"", 0)], [raw("t", [0, 1 << 40], 0, 0)], (), (), None),
        "scalar_empty_huge_cols": ("ok", [(1, 0, b"", 0), (2, 0, b"", 0)], [scalar([0, 1 << 62])], (), (), None),
        "codebook_empty_huge_cols": ("ok", [(4, 0, f32(0, 1, 2, 3), 16), (1, 0, b"", 0), (5, 0, b"", 0)],
                                     [tensor("v", [0, 1 << 62], 0, 3, cb)], bank, (), None),
        "codebook_empty_nan_bank": (ref.CORRUPT, [(4, 0, f32(0, 1, 2, np.inf), 16), (1, 0, b"", 0), (5, 0, b"", 0)],
                                    [tensor("v", [3, 0], 0, 3, cb)], bank, (), None),
        "total_over_64GiB": (ref.LIMIT, [big] * 9, [raw(f"t{i}", [1 << 31], 0, i) for i in range(9)], (), (),
                             None),
        "rank_9": (ref.LIMIT, [(0, 0, f32(1), 4)], [raw("t", [1] * 9, 0, 0)], (), (), None),
        "name_4097": (ref.CORRUPT, [(0, 0, f32(1), 4)], [raw("t" * 4097, [], 0, 0)], (), (), None),
        "name_4096": ("ok", [(0, 0, f32(1), 4)], [raw("t" * 4096, [], 0, 0)], (), (), None),
        "dtype_15_role_source_2": (ref.UNSUPPORTED, [(0, 0, f32(1), 4)],
                                   [raw("t", [], 15, 0)[:4] + [("B", 2)] + raw("t", [], 15, 0)[5:]], (), (), None),
        "role_source_2": (ref.CORRUPT, [(0, 0, f32(1), 4)], [raw("t", [], 0, 0)[:4] + [("B", 2)] +
                                                            raw("t", [], 0, 0)[5:]], (), (), None),
        "rep_type_4": (ref.UNSUPPORTED, [(0, 0, f32(1), 4)], [raw("t", [], 0, 0)[:5] + [("B", 4)] +
                                                             raw("t", [], 0, 0)[6:]], (), (), None),
        "cast_f32_to_i32": (ref.CORRUPT, [(0, 0, f32(1), 4)], [raw("t", [], 8, 0, sd=0)], (), (), None),
        "cast_f16_stored_f32": (ref.CORRUPT, [(0, 0, f32(1), 4)], [raw("t", [2], 1, 0, sd=0)], (), (), None),
        "stored_dtype_15": (ref.UNSUPPORTED, [(0, 0, f32(1), 4)], [raw("t", [], 0, 0, sd=15)], (), (), None),
        "section_kind_8": (ref.UNSUPPORTED, [(8, 0, f32(1), 4)], [raw("t", [], 0, 0)], (), (), None),
        "section_codec_6": (ref.UNSUPPORTED, [(0, 6, f32(1), 4)], [raw("t", [], 0, 0)], (), (), None),
        "rans16_odd": (ref.CORRUPT, [(0, 3, b"", 3)], [raw("t", [3], 5, 0)], (), (), None),
        "rans16x4_odd": (ref.CORRUPT, [(0, 5, b"", 3)], [raw("t", [3], 5, 0)], (), (), None),
        "unreferenced_section": (ref.CORRUPT, [(0, 0, f32(1), 4), (3, 0, b"x", 1)], [raw("t", [], 0, 0)], (), (),
                                 None),
        "claimed_twice": (ref.CORRUPT, [(0, 0, f32(1), 4)], [raw("t", [], 0, 0), raw("u", [], 0, 0)], (), (), None),
        "wrong_kind": (ref.CORRUPT, [(1, 0, f32(1), 4)], [raw("t", [], 0, 0)], (), (), None),
        "tensor_and_asset_share_a_name": ("ok", [(0, 0, f32(1), 4), (3, 0, b"x", 1)], [raw("t", [], 0, 0)], (),
                                          [(b"t", 1)], None),
        "asset_names_repeat": (ref.CORRUPT, [(3, 0, b"x", 1), (3, 0, b"y", 1)], [], (), [(b"a", 0), (b"a", 1)],
                               None),
        "scale_dtype_7": (ref.CORRUPT, [(1, 0, f32(1), 4), (2, 0, b"\0", 1)], [scalar([1], 0, 7)], (), (), None),
        "scalar_of_i32": (ref.CORRUPT, [(1, 0, f32(1), 4), (2, 0, b"\0", 1)], [scalar([1], 8)], (), (), None),
        # step H: the order in which sections are read and checked
        "negative_scale_then_bad_codes_hash": (ref.CHECKSUM, [(1, 0, f32(-1), 4), (2, 0, b"\0", 1)],
                                               [scalar([1])], (), (), 1),
        "nan_bank_then_bad_scales_hash": (ref.CORRUPT, [(4, 0, f32(np.nan, 1, 2, 3), 16), (1, 0, f32(1), 4),
                                                        (5, 0, b"\0", 1)], [tensor("v", [2], 0, 3, cb)], bank, (),
                                          1),
        "nan_scale_then_bad_index_hash": (ref.CHECKSUM, [(4, 0, f32(0, 1, 2, 3), 16), (1, 0, f32(np.nan), 4),
                                                         (5, 0, b"\0", 1)], [tensor("v", [2], 0, 3, cb)], bank, (),
                                          2),
        "nan_scale_then_bad_index": (ref.CORRUPT, [(4, 0, f32(0, 1, 2, 3), 16), (1, 0, f32(np.nan), 4),
                                                   (5, 0, b"\5", 1)], [tensor("v", [2], 0, 3, cb)], bank, (), None),
        "bad_tensor_then_bad_asset_hash": (ref.CHECKSUM, [(0, 0, f32(1), 4), (3, 0, b"x", 1)],
                                           [raw("t", [], 0, 0)[:7] + [("Q", 1)]], (), [(b"a", 1)], 1),
    }
    three = [(0, 0, f32(1), 4), (3, 0, b"abc", 3), (3, 0, b"d", 1)]
    for alignment, gap, expected in [(1, 0, "ok"), (8, 0, "ok"), (4096, 0, "ok"), (8, 1, ref.CORRUPT),
                                     (3, 0, ref.CORRUPT), (8192, 0, ref.CORRUPT)]:
        cases[f"alignment_{alignment}_gap_{gap}"] = (expected, three, [raw("t", [], 0, 0)], (), [(b"a", 1), (b"b", 2)],
                                                     None, alignment, gap)
    for name, (expected, *args) in cases.items():
        status = _check_same(sdcodec, craft(*args), tmp_path, name)
        assert status == expected, f"{name}: {status}, the spec says {expected}"


def test_hostile_files(sdcodec, tmp_path):
    """The attacks of issue 14 that concern the file (not the command line): both decoders give the same
    status. zstd frames outside spec 5 (legacy v0.7, windows over 2^27, a dictionary), bombs that declare far
    more than their bytes hold (refused without allocating it), asset names that are not one file name, and
    a bank no tensor uses that is broken (decode checks it, as verify does)."""
    import zstandard
    u8 = lambda name, n, j: tensor(name, [n], 5, 1, T(("I", j), ("B", 5)))

    def frame(descriptor, fields, content):  # RFC 8878: magic, header, one last raw block
        return (b"\x28\xb5\x2f\xfd" + bytes([descriptor, *fields]) + (1 | len(content) << 3).to_bytes(3, "little")
                + content)
    # zstd v0.7 (the legacy format libzstd still reads): magic, FHD, window byte, a raw block, an end block
    v07 = b"\x27\xb5\x2f\xfd\x00\x00" + b"\x40\x00\x03abc" + b"\xc0\x00\x00"
    small = zstandard.ZstdCompressor().compress(b"0123456789abcdef")
    two_symbols = bytes([1]) + bytes([0b00000001, 0b00001110, 0b00000000, 0]) + struct.pack("<Q", 1 << 31)
    cases = {  # name: (expected status, sections, tensors, banks, assets)
        "zstd_window_2^27": ("ok", [(0, 1, frame(0, [0x88], b"abc"), 3)], [u8("t", 3, 0)], (), ()),
        "zstd_window_2^27+2^24": (ref.CORRUPT, [(0, 1, frame(0, [0x89], b"abc"), 3)], [u8("t", 3, 0)], (), ()),
        "zstd_single_segment": ("ok", [(0, 1, frame(0x20, [3], b"abc"), 3)], [u8("t", 3, 0)], (), ()),
        "zstd_dictionary": (ref.CORRUPT, [(0, 1, frame(1, [0x88, 7], b"abc"), 3)], [u8("t", 3, 0)], (), ()),
        "zstd_legacy_v07": (ref.CORRUPT, [(0, 1, v07, 3)], [u8("t", 3, 0)], (), ()),
        "zstd_bomb_4GiB": (ref.CORRUPT, [(0, 1, small, 4 << 30)], [u8("t", 4 << 30, 0)], (), ()),
        "rans_bomb_1GiB": (ref.CORRUPT, [(0, 2, two_symbols, 1 << 30)], [u8("t", 1 << 30, 0)], (), ()),
        "unused_bank_nan": (ref.CORRUPT, [(0, 0, b"\1", 1), (4, 0, np.array([0, np.nan], "<f4").tobytes(), 8)],
                            [u8("t", 1, 0)], [T(("I", 1), ("I", 1), ("B", 2), None)], ()),
    }
    for name in (b"../x", b"/abs", b".", b"..", b"a/b", b"a\\b", b"a\x01", b"a\x7f", b"\x1b[2J", b"n" * 256):
        cases[f"asset {name[:20]!r}"] = (ref.CORRUPT, [(3, 0, b"x", 1)], [], (), [(name, 0)])
    for name in (b"tokenizer.json", b"..x", b"\xff\xfe", b"n" * 255):
        cases[f"asset {name[:20]!r}"] = ("ok", [(3, 0, b"x", 1)], [], (), [(name, 0)])
    for name, (expected, *args) in cases.items():
        status = _check_same(sdcodec, craft(*args), tmp_path, name)
        assert status == expected, f"{name}: {status}, expected {expected}"
    bad_bank = craft(*cases["unused_bank_nan"][1:3], [T(("I", 1), ("I", 1), ("B", 2), None)], (), bad_hash=1)
    assert _check_same(sdcodec, bad_bank, tmp_path, "unused bank, bad hash") == ref.CHECKSUM

