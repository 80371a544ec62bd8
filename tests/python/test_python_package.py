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


def test_bf16_bits_and_upcast():
    bits = np.random.default_rng(2).integers(0, 0x7f7f, (16, 64)).astype(np.uint16)
    f32 = (bits.astype(np.uint32) << 16).view(np.float32)
    try:
        import ml_dtypes  # noqa: F401
    except ImportError:
        ml_dtypes = None
    if ml_dtypes is None:
        pytest.importorskip("torch")
    import torch
    t = torch.from_numpy(f32.copy()).to(torch.bfloat16)
    blob = sdcodec.encode({"w": t}, method="raw")
    assert sdcodec.inspect(blob)["tensors"][0]["dtype"] == "BF16"
    assert sdcodec.decode(blob)["w"].tobytes() == f32.tobytes()  # exact upcast
    assert sdcodec.decode(blob, bf16="bits")["w"].tobytes() == bits.tobytes()
    back = sdcodec.decode(blob, as_torch=True)["w"]
    assert back.dtype == torch.bfloat16 and torch.equal(back, t)


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
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sdcodec-")]


def test_torch_state_dict():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(64, 32)
    blob = sdcodec.encode(lin.state_dict(), bits=8, min_numel=0)
    sd = sdcodec.decode(blob, as_torch=True)
    assert set(sd) == {"weight", "bias"} and sd["weight"].dtype == torch.float32
    lin.load_state_dict(sd)


def test_trainer_example_runs():
    """examples/train_roundtrip.py: the torch model reproduces the reference bpb (it asserts so) and the table
    has the three rows, each round trip within its budget."""
    pytest.importorskip("torch")
    import subprocess
    import sys
    from conftest import ROOT, MODELS
    if not (MODELS / "stories260K.bin").exists():
        pytest.skip("stories260K not present")
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "train_roundtrip.py"), "--budget", "120000"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    rows = [l for l in p.stdout.splitlines() if l.startswith(("float32", "budget"))]
    assert len(rows) == 3
    for r in rows[1:]:
        assert int(r.split()[-5].replace(",", "")) <= 120000
