"""The Python package: round trips of every dtype (bf16 included), budgets, importance, inspect equal to the
CLI's, errors with the decoder's message, the GIL released, file helpers, torch tensors when torch is there."""
import json
import threading

import numpy as np
import pytest

from conftest import run

sdcodec = pytest.importorskip("sdcodec")


def _model(seed=0):
    rng = np.random.default_rng(seed)
    return {"layers.0.mlp.w": (rng.standard_normal((96, 128)) * 0.05).astype(np.float32),
            "layers.0.attn.w": (rng.standard_normal((64, 96)) * 0.05).astype(np.float16),
            "norm.weight": np.ones(96, np.float32), "step": np.array(7, np.int64)}


def test_round_trip_every_dtype():
    rng = np.random.default_rng(1)
    ts = {f"t_{d}": rng.integers(-50, 50, (3, 5)).astype(d) for d in
          ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")}
    ts["b"] = np.array([True, False, True])
    ts["f64"] = rng.standard_normal((4, 4))
    ts["scalar"] = np.float32(2.5) * np.ones((), np.float32)
    ts["empty"] = np.zeros((0, 3), np.float32)
    ts["f32"] = rng.standard_normal((8, 8)).astype(np.float32)
    back = sdcodec.decode(sdcodec.encode(ts, method="raw"))
    assert list(back) == list(ts)
    for n, v in ts.items():
        assert back[n].dtype == v.dtype and back[n].shape == v.shape, n
        assert back[n].tobytes() == np.ascontiguousarray(v).tobytes(), n


def _write_safetensors(path, tensors):
    """A safetensors file written here by hand (not by the library): {name: (dtype, shape, bytes)}."""
    header, off = {}, 0
    for n, (d, shape, b) in tensors.items():
        header[n] = {"dtype": d, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(b for _, _, b in tensors.values()))


def test_bf16_and_f8_without_torch(tmp_path, sdcodec_bin):
    """BF16 and F8 tensors from a safetensors file (numpy has neither dtype): stored as such, decoded as exact
    float32 / uint16 bits / uint8 bits, written back to safetensors byte for byte as the CLI does."""
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 0x7f7f, (16, 64)).astype(np.uint16)
    f8 = rng.integers(0, 256, (3, 5)).astype(np.uint8)
    src = tmp_path / "in.safetensors"
    _write_safetensors(src, {"w": ("BF16", bits.shape, bits.tobytes()), "e4": ("F8_E4M3", f8.shape, f8.tobytes()),
                             "e5": ("F8_E5M2", f8.shape, f8[::-1].tobytes())})
    out = tmp_path / "m.sdc"
    sdcodec.encode_file(src, out, method="raw")
    rep = sdcodec.inspect(out.read_bytes())
    assert {t["name"]: t["dtype"] for t in rep["tensors"]} == {"w": "BF16", "e4": "F8_E4M3", "e5": "F8_E5M2"}
    back = sdcodec.load(out)
    assert back["w"].dtype == np.float32 and back["w"].tobytes() == (bits.astype(np.uint32) << 16).view(np.float32).tobytes()
    assert sdcodec.load(out, bf16="bits")["w"].tobytes() == bits.tobytes()
    assert back["e4"].dtype == np.uint8 and back["e4"].shape == (3, 5) and back["e4"].tobytes() == f8.tobytes()
    assert back["e5"].tobytes() == f8[::-1].tobytes()
    assert {n: a.tobytes() for n, a in sdcodec.read_safetensors(src).items()} == {n: a.tobytes() for n, a in back.items()}
    st = tmp_path / "back.safetensors"
    sdcodec.decode_file(out, st)
    cli = tmp_path / "cli.safetensors"
    run(sdcodec_bin, "decode", out, "-o", cli)
    assert st.read_bytes() == cli.read_bytes()
    # a quantized BF16 tensor comes back as BF16 too
    q = sdcodec.encode_file(src, tmp_path / "q.sdc", bits=4)
    assert q < out.stat().st_size and sdcodec.load(tmp_path / "q.sdc", bf16="bits")["w"].dtype == np.uint16


def test_bf16_f8_torch():
    torch = pytest.importorskip("torch")
    bits = np.random.default_rng(2).integers(0, 0x7f7f, (16, 64)).astype(np.uint16)
    f32 = (bits.astype(np.uint32) << 16).view(np.float32)
    t = torch.from_numpy(f32.copy()).to(torch.bfloat16)
    e4 = torch.randn(4, 3).to(torch.float8_e4m3fn)
    blob = sdcodec.encode({"w": t, "e4": e4}, method="raw")
    assert [x["dtype"] for x in sdcodec.inspect(blob)["tensors"]] == ["BF16", "F8_E4M3"]
    assert sdcodec.decode(blob)["w"].tobytes() == f32.tobytes()  # exact upcast
    assert sdcodec.decode(blob, bf16="bits")["w"].tobytes() == bits.tobytes()
    back = sdcodec.decode(blob, as_torch=True)
    assert back["w"].dtype == torch.bfloat16 and torch.equal(back["w"], t)
    assert back["e4"].dtype == torch.float8_e4m3fn and torch.equal(back["e4"].view(torch.uint8), e4.view(torch.uint8))
    # a quantized bf16 state dict: bf16 in, bf16 out
    q = sdcodec.decode(sdcodec.encode({"w": t}, bits=6), as_torch=True)["w"]
    assert q.dtype == torch.bfloat16 and q.shape == t.shape


def test_quantized_round_trip_matches_cli(sdcodec_bin, tmp_path):
    m = _model()
    blob = sdcodec.encode(m, bits=5)
    out = sdcodec.decode(blob)
    w = m["layers.0.mlp.w"]
    err = np.sum((out["layers.0.mlp.w"] - w) ** 2) / np.sum(w ** 2)
    assert 10 * np.log10(1 / err) > 20
    assert out["norm.weight"].tobytes() == m["norm.weight"].tobytes() and out["step"] == 7
    f = tmp_path / "m.sdc"
    sdcodec.save(blob, f)
    cli = json.loads(run(sdcodec_bin, "inspect", f, "--json").stdout)
    assert sdcodec.inspect(blob) == cli
    run(sdcodec_bin, "verify", f)
    # same input and options, same bytes
    assert sdcodec.encode(m, bits=5) == blob


def test_budget_importance_and_assets():
    m = _model()
    free = len(sdcodec.encode(m, bits=8))
    budget = free // 2
    blob = sdcodec.encode(m, budget=budget, distortion="absolute", assets={"tokenizer.json": b'{"v": 1}'})
    assert len(blob) <= budget
    back, assets = sdcodec.decode(blob, with_assets=True)
    assert assets == {"tokenizer.json": b'{"v": 1}'}
    # importance on the first 16 input channels of the MLP matrix lowers their error
    imp = np.ones(128, np.float32)
    imp[:16] = 100.0
    w = m["layers.0.mlp.w"]
    e = lambda d: float(np.sum((d["layers.0.mlp.w"][:, :16] - w[:, :16]) ** 2))
    with_imp = sdcodec.decode(sdcodec.encode(m, budget=budget, distortion="absolute", importance={"layers.0.mlp.w": imp}))
    assert e(with_imp) < e(back)
    with pytest.raises(sdcodec.Error, match="budget"):
        sdcodec.encode(m, budget=100)


def test_errors_carry_the_message():
    blob = bytearray(sdcodec.encode(_model(), bits=4))
    with pytest.raises(sdcodec.Error, match="corrupt|checksum"):
        sdcodec.decode(bytes(blob[:-3]))
    blob[len(blob) // 2] ^= 1
    with pytest.raises(sdcodec.Error) as e:
        sdcodec.verify(bytes(blob))
    assert str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, ValueError)
    with pytest.raises(sdcodec.Error, match="unknown encode option 'bitz'"):
        sdcodec.encode(_model(), bitz=3)
    with pytest.raises(sdcodec.Error, match="option 'budget' must be an integer"):
        sdcodec.encode(_model(), budget=-5)


def test_options_documented_from_the_table(sdcodec_bin):
    """encode's docstring lists the same options as `sdcodec encode --help` (one table serves both)."""
    import subprocess
    cli_help = subprocess.run([str(sdcodec_bin), "encode", "--help"], capture_output=True, text=True).stdout
    for key, help_text, _ in sdcodec._core.option_table():
        assert f"      {key}: " in sdcodec.encode.__doc__
        assert help_text.split(" {")[0] in cli_help
    with pytest.raises(sdcodec.Error, match="limit"):
        sdcodec.decode(sdcodec.encode(_model(), bits=4), max_tensor_bytes=100)
    with pytest.raises(sdcodec.Error, match="not supported"):
        sdcodec.encode({"c": np.zeros(3, np.complex64)})


def test_gil_released_concurrent_decodes():
    blob = sdcodec.encode({"w": np.random.default_rng(3).standard_normal((512, 512)).astype(np.float32)}, bits=6)
    want = sdcodec.decode(blob)["w"].tobytes()
    results, ticks = [], []
    stop = threading.Event()

    def ticker():  # runs Python while decodes are in C++: it only gets the GIL if they release it
        while not stop.is_set():
            ticks.append(1)

    t = threading.Thread(target=ticker)
    t.start()
    workers = [threading.Thread(target=lambda: results.append(sdcodec.decode(blob)["w"].tobytes())) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    t.join()
    assert results == [want] * 4 and len(ticks) > 0


def test_file_helpers(tmp_path):
    m = _model()
    f = tmp_path / "m.sdc"
    n = sdcodec.encode_file(m, f, bits=6)
    assert f.stat().st_size == n
    assert sdcodec.load(f)["step"] == 7 and sdcodec.decode_file(f)["step"] == 7
    # decode_file to safetensors, and encode_file from it: the same tensors
    st = tmp_path / "m.safetensors"
    sdcodec.decode_file(f, st)
    again = tmp_path / "again.sdc"
    sdcodec.encode_file(st, again, method="raw")
    assert {k: v.tobytes() for k, v in sdcodec.load(again).items()} == {k: v.tobytes() for k, v in sdcodec.load(f).items()}
    # an output naming the input is refused, and the input is left as it was
    before = f.read_bytes()
    with pytest.raises(sdcodec.Error, match="is the input"):
        sdcodec.decode_file(f, f)
    with pytest.raises(sdcodec.Error, match="is the input"):
        sdcodec.encode_file(st, tmp_path / "." / "m.safetensors")
    (tmp_path / "link.safetensors").symlink_to(st)
    with pytest.raises(sdcodec.Error, match="is the input"):
        sdcodec.encode_file(tmp_path / "link.safetensors", st)
    assert f.read_bytes() == before
    # atomic: a write that fails leaves the old file whole and no temporary behind
    with pytest.raises(TypeError):
        sdcodec.save(object(), f)
    with pytest.raises(sdcodec.Error):
        sdcodec.encode_file(m, f, bitz=3)
    assert f.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sdcodec-")]


def test_torch_state_dict():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(64, 32)
    blob = sdcodec.encode(lin.state_dict(), bits=8, min_numel=0)
    sd = sdcodec.decode(blob, as_torch=True)
    assert set(sd) == {"weight", "bias"} and sd["weight"].dtype == torch.float32
    lin.load_state_dict(sd)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_trainer_example_runs(backend):
    """examples/train_roundtrip.py: the table has the three rows, each round trip within its budget and
    no better than float32; the torch model reproduces the reference bpb (the example asserts so)."""
    if backend == "torch":
        pytest.importorskip("torch")
    import subprocess
    import sys

    from conftest import MODELS, ROOT
    if not (MODELS / "stories260K.bin").exists():
        pytest.skip("stories260K not present")
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "train_roundtrip.py"), "--budget", "120000",
                        "--backend", backend], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert f"model run by {backend}" in p.stdout
    rows = [l for l in p.stdout.splitlines() if l.startswith(("float32", "budget"))]
    assert len(rows) == 3
    base = float(rows[0].split()[-2])
    for r in rows[1:]:
        assert int(r.split()[-5].replace(",", "")) <= 120000
        assert base <= float(r.split()[-3]) < base + 1.0
