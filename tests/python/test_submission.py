"""The submission kit (sdcodec.submission): its single-file decoder is made from the reference decoder and
gives tensors identical to the C++ decoder's (and refuses damaged files like the reference decoder); a
submission fits the cap with every byte counted, or is refused with the exact overshoot and nothing written;
encode options pass through; the command line."""
import ast
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import MODELS, ROOT, run

sdcodec = pytest.importorskip("sdcodec")
from sdcodec import submission  # noqa: E402  (after the skip: needs the installed package)


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


ref = _module(ROOT / "spec" / "reference_decoder.py", "reference_decoder")


@pytest.fixture(scope="module")
def decoder(tmp_path_factory):
    """The kit's decoder as the tree's tool writes it, imported."""
    out = tmp_path_factory.mktemp("kitdec") / "sdc_decoder.py"
    run(sys.executable, ROOT / "tools" / "minify_decoder.py", "-o", out)
    return out, _module(out, "sdc_decoder")


def _mixed():
    rng = np.random.default_rng(3)
    f = lambda *s: (rng.standard_normal(s) * 0.05).astype(np.float32)
    return {"layers.0.mlp.w": f(96, 128), "layers.0.attn.q": f(64, 96).astype(np.float16),
            "embed.weight": (f(40, 64).view(np.uint32) >> 16).astype(np.uint16), "norm": f(96),
            "ids": np.arange(6, dtype=np.int64), "mask": np.array([True, False]), "empty": np.zeros((0, 4), np.float32),
            "scalar": np.float32(1.5) * np.ones((), np.float32)}


def _write_mixed(path):
    """_mixed() as a .safetensors file, embed.weight's uint16 values as BF16 bits."""
    dtypes = {"float32": "F32", "float16": "F16", "int64": "I64", "bool": "BOOL"}
    ref.write_safetensors(path, {k: ("BF16" if k == "embed.weight" else dtypes[v.dtype.name], list(v.shape), v)
                                 for k, v in _mixed().items()})


def test_decoder_is_the_reference_decoder_minified(decoder):
    path, mod = decoder
    text = path.read_text()
    assert text == submission.decoder_source(), "the installed package's copy differs from the tree's"
    assert len(text.encode()) < 0.7 * len((ROOT / "spec" / "reference_decoder.py").read_bytes())
    tree = ast.parse(text)
    top = {m.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
           for m in ([a.name for a in n.names] if isinstance(n, ast.Import) else [n.module])}
    assert top - set(sys.stdlib_module_names) == {"numpy", "zstandard"}
    assert {"load", "decode", "decode_named"} <= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "__main__" not in text and "write_safetensors" not in text  # the command line and its writer went


def test_identical_to_the_cpp_decoder(sdcodec_bin, stories, decoder, tmp_path):
    """Every representation and codec, BF16/F16/integer/empty tensors and an asset: bit-identical tensors."""
    _, mod = decoder
    _write_mixed(tmp_path / "mixed.safetensors")
    tok = MODELS / "tok512.bin"
    files = []
    for src, args in [("mixed", ["--bits", "5", "--min-numel", "0"]), ("mixed", ["--method", "raw"]),
                      ("stories", ["--bits", "6", "--asset", f"tok512.bin={tok}"]), ("stories", ["--budget", "120000"]),
                      ("stories", ["--method", "codebook", "--k", "64", "--dim", "4", "--codebooks", "2",
                                   "--residuals", "0.02"]),
                      ("stories", ["--method", "codebook", "--k", "32", "--dim", "2", "--per-tensor-banks"])]:
        f = tmp_path / f"{len(files)}.sdc"
        run(sdcodec_bin, "encode", stories if src == "stories" else tmp_path / f"{src}.safetensors", "-o", f,
            "--quiet", *args)
        files.append(f)
    for f in files:
        data = f.read_bytes()
        mine, mine_assets = mod.decode_named(data)
        cpp, cpp_assets = sdcodec.decode(data, bf16="bits", with_assets=True)
        assert sorted(mine) == sorted(cpp) and mine_assets == cpp_assets, f.name
        for name, (_dtype, shape, a) in mine.items():
            assert list(shape) == list(cpp[name].shape) and a.tobytes() == cpp[name].tobytes(), (f.name, name)
    for f in files[:3]:  # the loader: BF16 as exact float32, like sdcodec.decode; assets on request
        loaded, assets = mod.load(f, as_torch=False, with_assets=True)
        for name, a in sdcodec.decode(f.read_bytes()).items():
            assert loaded[name].dtype == a.dtype and loaded[name].tobytes() == a.tobytes(), name
        assert assets == ({"tok512.bin": tok.read_bytes()} if f == files[2] else {})
    assert submission.round_trip(files[0].read_bytes(), decoder[0]) == len(_mixed())


def test_round_trip_catches_a_difference(decoder, tmp_path):
    """The kit's check is real: a decoder that gets one bit of one tensor wrong is caught."""
    path, _ = decoder
    data = sdcodec.encode(_mixed(), bits=6)
    bad = tmp_path / "bad_decoder.py"
    bad.write_text(path.read_text() + (
        "\n_good = decode_named\n"
        "def decode_named(data):\n"
        " t, a = _good(data)\n"
        " dtype, shape, x = t['layers.0.mlp.w']\n"
        " x = x.copy(); x.reshape(-1).view('u1')[5] ^= 1\n"
        " t['layers.0.mlp.w'] = (dtype, shape, x)\n"
        " return t, a\n"))
    assert submission.round_trip(data, path) == len(_mixed())
    with pytest.raises(sdcodec.Error, match="differ on tensor 'layers.0.mlp.w'"):
        submission.round_trip(data, bad)


def test_damaged_files_refused_like_the_reference(sdcodec_bin, stories, decoder, tmp_path):
    _, mod = decoder
    f = tmp_path / "s.sdc"
    run(sdcodec_bin, "encode", stories, "-o", f, "--quiet", "--method", "codebook", "--k", "16", "--dim", "4")
    data = f.read_bytes()
    rng = np.random.default_rng(9)
    for pos in [0, 9, 20, 35, *rng.integers(40, len(data), 12), len(data) - 1]:
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        for dec in (mod, ref):
            with pytest.raises(ValueError) as e:
                dec.decode(bytes(bad))
            if dec is mod:
                mine = str(e.value)
        assert mine == str(e.value), pos
    with pytest.raises(ValueError, match="^corrupt"):
        mod.decode(data[:100])


def _script(tmp_path, size=3000):
    p = tmp_path / "train.py"
    p.write_text("# the user's training and evaluation code\n" + "x = 1\n" * ((size - 43) // 6))
    return p


def test_kit_fits_the_cap_and_counts_every_byte(stories, tmp_path):
    script = _script(tmp_path)
    tok = (MODELS / "tok512.bin").read_bytes()
    cap = 150_000
    r = submission.build(stories, tmp_path / "sub", scripts=[script], assets={"tok512.bin": tok}, cap=cap)
    out = tmp_path / "sub"
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    assert sorted(sizes) == ["model.sdc", "sdc_decoder.py", "submission.json"]
    files = {f["name"]: f for f in r["files"]}
    assert files["model.sdc"]["bytes"] == sizes["model.sdc"] and files["sdc_decoder.py"]["bytes"] == sizes["sdc_decoder.py"]
    assert files["train.py"]["bytes"] == script.stat().st_size
    assert r["code_bytes"] == sizes["sdc_decoder.py"] + script.stat().st_size
    assert r["total"] == sizes["model.sdc"] + r["code_bytes"] <= cap and r["left"] == cap - r["total"]
    assert r["encode"] == {"mode": "fitted", "budget": cap - r["code_bytes"]}
    assert sum(r["artifact_roles"].values()) == sizes["model.sdc"] and r["artifact_roles"]["assets"] > 0
    assert r["round_trip"]["tensors"] == 47 and r["round_trip"]["result"] == "identical tensors and assets"
    assert json.loads((out / "submission.json").read_text()) == r
    text = submission.report_text(r)
    assert f"{r['total']:,}" in text and "train.py" in text and "identical" in text
    # With nothing but the written decoder, the artifact comes back as the library decodes it.
    mod = _module(out / "sdc_decoder.py", "written")
    back, assets = mod.load(out / "model.sdc", as_torch=False, with_assets=True)
    lib = sdcodec.load(out / "model.sdc")
    assert assets == {"tok512.bin": tok} and all(back[k].tobytes() == lib[k].tobytes() for k in lib)
    # Code counted compressed leaves more room to the artifact.
    z = submission.build(stories, tmp_path / "subz", scripts=[script], assets={"tok512.bin": tok}, cap=cap,
                         count_code="lzma")
    assert z["code_bytes"] < r["code_bytes"] and z["encode"]["budget"] > r["encode"]["budget"]
    assert z["files"][1]["counted"] < z["files"][1]["bytes"]
    # Same input and settings, same bytes.
    again = submission.build(stories, tmp_path / "sub2", scripts=[script], assets={"tok512.bin": tok}, cap=cap)
    assert (tmp_path / "sub2" / "model.sdc").read_bytes() == (out / "model.sdc").read_bytes() and again == r


def test_kit_refuses_with_the_exact_overshoot(stories, tmp_path):
    script = _script(tmp_path)
    code = len(submission.decoder_source().encode()) + script.stat().st_size
    size8 = len(sdcodec.encode(sdcodec.read_safetensors(str(stories)), bits=8))
    cap = size8 + code - 1  # one byte short at 8 bits
    with pytest.raises(sdcodec.Error, match=f"= {size8 + code} bytes, 1 over the cap of {cap}$"):
        submission.build(stories, tmp_path / "a", scripts=[script], cap=cap, bits=8)
    assert not (tmp_path / "a" / "model.sdc").exists() and list((tmp_path / "a").iterdir()) == []
    with pytest.raises(sdcodec.Error, match="the smallest artifact takes") as e:
        submission.build(stories, tmp_path / "b", scripts=[script], cap=code + 1000)
    smallest = int(str(e.value).split("takes ")[1].split(" ")[0])
    assert f"{smallest + code - (code + 1000)} over the cap" in str(e.value)
    with pytest.raises(sdcodec.Error, match=f"code alone .* = {code} bytes\\) is {code - 500} bytes over the cap of 500"):
        submission.build(stories, tmp_path / "c", scripts=[script], cap=500)
    with pytest.raises(sdcodec.Error, match="pass cap, not budget"):
        submission.build(stories, tmp_path / "d", budget=10**6)
    with pytest.raises(sdcodec.Error, match="is the input file"):  # an output may not name an input
        (tmp_path / "e").mkdir()
        (tmp_path / "e" / "sdc_decoder.py").write_text("print(1)\n")
        submission.build(stories, tmp_path / "e", scripts=[tmp_path / "e" / "sdc_decoder.py"])
    assert (tmp_path / "e" / "sdc_decoder.py").read_text() == "print(1)\n"


def test_encode_options_pass_through(stories, tmp_path):
    sd = sdcodec.read_safetensors(str(stories))
    imp = {"layers.0.attention.wq.weight": np.linspace(0.1, 2, 64, dtype=np.float32)}
    r = submission.build(sd, tmp_path / "s", cap=10**6, method="codebook", k=32, dim=4, importance=imp, bits=6)
    assert r["encode"]["mode"] == "fixed" and r["encode"]["method"] == "codebook" and r["encode"]["importance"] == "<dict>"
    assert "method=codebook; k=32" in sdcodec.inspect((tmp_path / "s" / "model.sdc").read_bytes())["encoder"]
    same = sdcodec.encode(sd, method="codebook", k=32, dim=4, importance=imp, bits=6)
    assert (tmp_path / "s" / "model.sdc").read_bytes() == same
    with pytest.raises(sdcodec.Error):  # an option the library refuses is refused, not dropped
        submission.build(sd, tmp_path / "t", cap=10**6, bits=6, no_such_option=1)


def test_command_line(stories, tmp_path):
    script = _script(tmp_path)
    cmd = [sys.executable, "-m", "sdcodec.submission", str(stories), "-o", str(tmp_path / "out"), "--script", str(script),
           "--asset", f"tok512.bin={MODELS / 'tok512.bin'}", "--cap", "200000"]
    p = subprocess.run(cmd + ["--set", "bits=5", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["encode"] == {"mode": "fixed", "bits": 5} and r["total"] <= 200000
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0 and "total counted" in p.stdout and "round trip: identical" in p.stdout, p.stderr
    p = subprocess.run(cmd[:-1] + ["2000", "--set", "bits=8"], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("sdcodec-submission: budget: ") and p.stderr.count("\n") == 1
    p = subprocess.run(cmd + ["--set", "bits"], capture_output=True, text=True)
    assert p.returncode == 1 and "KEY=VALUE" in p.stderr


def test_torch_state_dict(stories, decoder):
    torch = pytest.importorskip("torch")
    _, mod = decoder
    sd = {"w": torch.randn(64, 64).to(torch.bfloat16), "b": torch.randn(64)}
    blob = sdcodec.encode(sd, bits=6)
    back = mod.load(blob)
    assert back["w"].dtype == torch.bfloat16 and back["b"].dtype == torch.float32
    lib = sdcodec.decode(blob, as_torch=True)
    assert all(torch.equal(back[k], lib[k]) for k in sd)
