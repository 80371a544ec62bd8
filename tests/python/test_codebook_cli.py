"""The codebook method, --target-snr, residuals and importance through the CLI, checked with independent
tools (the official safetensors reader, numpy)."""
import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from conftest import run


def weight_snr(a, b):
    sig = sum(float(np.sum(a[k].astype(np.float64) ** 2)) for k in a if a[k].dtype.kind == "f")
    err = sum(float(np.sum((a[k].astype(np.float64) - b[k]) ** 2)) for k in a if a[k].dtype.kind == "f")
    return 10 * np.log10(sig / err)


@pytest.mark.parametrize("extra", [["--k", "256", "--dim", "4"],
                                   ["--k", "64", "--dim", "8", "--codebooks", "2"],
                                   ["--k", "300", "--dim", "2", "--per-tensor-banks"],
                                   ["--k", "256", "--dim", "4", "--residuals", "0.01", "--lambda", "0.1"]])
def test_codebook_round_trip(sdcodec, stories, tmp_path, extra):
    sdc, out = tmp_path / "m.sdc", tmp_path / "m.safetensors"
    run(sdcodec, "encode", stories, "-o", sdc, "--method", "codebook", "--quiet", *extra)
    run(sdcodec, "verify", sdc)
    run(sdcodec, "decode", sdc, "-o", out)
    a, b = load_file(str(stories)), load_file(str(out))
    assert a.keys() == b.keys()
    assert weight_snr(a, b) > 5.0
    report = json.loads(run(sdcodec, "inspect", sdc, "--json").stdout)
    assert sum(report["roles"].values()) == os.path.getsize(sdc)
    coded = [t for t in report["tensors"] if t["representation"] == "codebook"]
    assert coded, "no tensor used the codebook representation"
    m = int(extra[extra.index("--codebooks") + 1]) if "--codebooks" in extra else 1
    # Shared banks are stored once; per-tensor banks once per coded tensor.
    assert len(report["banks"]) == (m * len(coded) if "--per-tensor-banks" in extra else m)
    if "--residuals" in extra:
        assert all(t["params"]["residuals"] > 0 for t in coded)


def test_codebook_is_deterministic_across_threads(sdcodec, stories, tmp_path):
    args = ["--method", "codebook", "--k", "64", "--dim", "4", "--codebooks", "2", "--quiet"]
    run(sdcodec, "encode", stories, "-o", tmp_path / "a.sdc", "--threads", "1", *args)
    run(sdcodec, "encode", stories, "-o", tmp_path / "b.sdc", "--threads", "2", *args)
    assert (tmp_path / "a.sdc").read_bytes() == (tmp_path / "b.sdc").read_bytes()


@pytest.mark.parametrize("target", [15.0, 25.0, 35.0])
def test_target_snr_is_met(sdcodec, stories, tmp_path, target):
    sdc, out = tmp_path / "m.sdc", tmp_path / "m.safetensors"
    run(sdcodec, "encode", stories, "-o", sdc, "--target-snr", target, "--quiet")
    run(sdcodec, "decode", sdc, "-o", out)
    assert weight_snr(load_file(str(stories)), load_file(str(out))) >= target


def test_codebook_budget_is_never_exceeded(sdcodec, stories, tmp_path):
    for budget in (90_000, 140_000):
        sdc = tmp_path / f"{budget}.sdc"
        run(sdcodec, "encode", stories, "-o", sdc, "--budget", budget, "--method", "codebook", "--k", "256",
            "--dim", "4", "--residuals", "0", "0.005", "--quiet")
        assert os.path.getsize(sdc) <= budget
        run(sdcodec, "verify", sdc)


def test_importance_moves_error_to_unimportant_columns(sdcodec, tmp_path):
    """Heavy importance on the first half of the columns must make their error smaller than the rest's."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((64, 128)).astype(np.float32)
    src, imp = tmp_path / "w.safetensors", tmp_path / "imp.safetensors"
    save_file({"w": w}, str(src))
    col = np.ones(128, dtype=np.float32)
    col[:64] = 100.0
    save_file({"w": col}, str(imp))
    errs = {}
    for name, extra in (("plain", []), ("weighted", ["--importance", str(imp)])):
        sdc, out = tmp_path / f"{name}.sdc", tmp_path / f"{name}.safetensors"
        run(sdcodec, "encode", src, "-o", sdc, "--bits", "3", "--quiet", *extra)
        run(sdcodec, "decode", sdc, "-o", out)
        e = (load_file(str(out))["w"] - w) ** 2
        errs[name] = (e[:, :64].mean(), e[:, 64:].mean())
    assert errs["weighted"][0] < errs["plain"][0]


def test_bad_importance_shape_is_one_line(sdcodec, tmp_path):
    src, imp = tmp_path / "w.safetensors", tmp_path / "imp.safetensors"
    save_file({"w": np.ones((8, 16), np.float32)}, str(src))
    save_file({"w": np.ones(5, np.float32)}, str(imp))
    p = run(sdcodec, "encode", src, "-o", tmp_path / "x.sdc", "--importance", imp, "--bits", "4", check=False)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and "importance" in p.stderr
