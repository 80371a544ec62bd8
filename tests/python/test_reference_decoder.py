"""Differential test: spec/reference_decoder.py (written from spec/format.md alone) gives bit-identical
tensors and assets to the C++ decoder on artifacts of every representation and codec, and refuses damaged
files."""
import importlib.util
import json
import pathlib

import numpy as np
import pytest

from conftest import ROOT, run

spec = importlib.util.spec_from_file_location("reference_decoder", ROOT / "spec" / "reference_decoder.py")
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

ENCODES = {  # name: encode arguments (input "mixed" unless stated)
    "raw": ["--method", "raw"],
    "raw_f16": ["--method", "raw", "--raw-dtype", "f16"],
    "raw_bf16": ["--method", "raw", "--raw-dtype", "bf16"],
    "scalar2": ["--bits", "2"],
    "scalar8_group": ["--bits", "8", "--group", "16"],
    "scalar_budget": ["--budget", "9000"],
    "aligned_asset": ["--bits", "5", "--alignment", "64", "--asset", "tok=ASSET"],
    "zstd0": ["--bits", "4", "--zstd-level", "0"],
    "vq_shared": ["--method", "codebook", "--k", "16", "--dim", "4"],
    "vq_per_tensor_u16": ["--method", "codebook", "--k", "300", "--dim", "2", "--per-tensor-banks"],
    "vq_additive_residual": ["--method", "codebook", "--k", "16", "--dim", "4", "--codebooks", "2",
                             "--residuals", "0.05", "--lambda", "0.1"],
    "vq_budget": ["--method", "codebook", "--k", "64", "--dim", "4", "--budget", "8000", "--residuals", "0", "0.02"],
}


def _write_safetensors(path, tensors):
    """{name: (dtype, shape, bytes)} -> a safetensors file (any dtype, BF16 included)."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    pathlib.Path(path).write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))


@pytest.fixture(scope="module")
def artifacts(sdcodec, tmp_path_factory):
    d = tmp_path_factory.mktemp("refdec")
    rng = np.random.default_rng(7)
    f32 = lambda *s: (rng.standard_t(5, s) * 0.05).astype(np.float32)
    bf16 = (f32(24, 40).view(np.uint32) >> 16).astype("<u2")
    _write_safetensors(d / "mixed.safetensors", {
        "layers.0.mlp.w": ("F32", (48, 40), f32(48, 40).tobytes()),
        "layers.0.attn.q": ("F16", (32, 36), f32(32, 36).astype(np.float16).tobytes()),
        "embed.weight": ("BF16", (24, 40), bf16.tobytes()),
        "conv": ("F32", (4, 3, 8, 8), f32(4, 3, 8, 8).tobytes()),
        "norm": ("F32", (40,), f32(40).tobytes()),
        "scalar": ("F32", (), np.float32(1.5).tobytes()),
        "empty": ("F32", (0, 5), b""),
        "ids": ("I64", (6,), np.arange(6, dtype="<i8").tobytes()),
    })
    (d / "asset.bin").write_bytes(b"tokenizer bytes \x00\x01")
    out = {}
    for name, args in ENCODES.items():
        args = [a.replace("ASSET", str(d / "asset.bin")) for a in args]
        out[name] = d / f"{name}.sdc"
        run(sdcodec, "encode", d / "mixed.safetensors", "-o", out[name], "--quiet", "--min-numel", "0", *args)
    return out


def _check_same(sdcodec, f, tmp_path):
    tensors, assets = ref.decode(f.read_bytes())
    run(sdcodec, "decode", f, "-o", tmp_path / "cpp.safetensors", "--assets-dir", tmp_path / "assets")
    raw = (tmp_path / "cpp.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    assert sorted(header) == sorted(tensors)
    for name, (dtype, shape, data) in tensors.items():
        h = header[name]
        a, b = h["data_offsets"]
        assert h["dtype"] == dtype and h["shape"] == list(shape), name
        assert raw[8 + n + a:8 + n + b] == data, f"{f.name}: tensor {name} differs"
    for name, data in assets.items():
        assert (tmp_path / "assets" / name).read_bytes() == data
    return tensors


def test_every_representation_is_bit_identical(sdcodec, artifacts, tmp_path):
    reps = set()
    for name, f in artifacts.items():
        sub = tmp_path / name
        sub.mkdir()
        _check_same(sdcodec, f, sub)
        for t in run(sdcodec, "inspect", f, "--json").stdout.split('"representation": "')[1:]:
            reps.add(t.split('"')[0])
    assert reps == {"raw", "scalar", "codebook"}


def test_corpus_and_stories(sdcodec, stories, tmp_path):
    files = sorted((ROOT / "fuzz" / "corpus" / "decode").glob("*.sdc"))
    for args in (["--bits", "6"], ["--budget", "120000"], ["--method", "codebook", "--k", "256", "--dim", "4"]):
        f = tmp_path / ("stories" + "_".join(args).replace("-", "") + ".sdc")
        run(sdcodec, "encode", stories, "-o", f, "--quiet", *args)
        files.append(f)
    for i, f in enumerate(files):
        sub = tmp_path / f"c{i}"
        sub.mkdir()
        _check_same(sdcodec, f, sub)


def test_damaged_files_are_refused(artifacts):
    data = artifacts["vq_additive_residual"].read_bytes()
    rng = np.random.default_rng(5)
    for pos in list(rng.integers(0, len(data), 40)) + [0, 20, 35, len(data) - 1]:
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(ValueError):
            ref.decode(bytes(bad))
    for cut in (0, 39, len(data) // 2, len(data) - 1):
        with pytest.raises(ValueError):
            ref.decode(data[:cut])


def test_xxh64_known_values():
    assert ref.xxh64(b"") == 0xEF46DB3751D8E999
    assert ref.xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert ref.xxh64(b"abc") == 0x44BC2CF5AD770999
