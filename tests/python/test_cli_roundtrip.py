"""End-to-end behaviour of the sdcodec CLI on a real model (stories260K), checked with independent tools:
the official safetensors reader and numpy."""
import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import MODELS, run


def snr_db(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return 10 * np.log10(np.sum(a * a) / np.sum((a - b) ** 2))


@pytest.mark.parametrize("bits", [3, 5, 8])
def test_scalar_round_trip_is_readable_and_accurate(sdcodec, stories, tmp_path, bits):
    sdc, out = tmp_path / "m.sdc", tmp_path / "m.safetensors"
    run(sdcodec, "encode", stories, "-o", sdc, "--bits", bits, "--quiet")
    run(sdcodec, "decode", sdc, "-o", out)
    a, b = load_file(str(stories)), load_file(str(out))
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].shape == b[name].shape and a[name].dtype == b[name].dtype
        if a[name].ndim == 1:  # norms stay exact under the default policy
            assert np.array_equal(a[name], b[name]), name
    # Roughly 6 dB per bit; a floor well under that still catches a broken quantizer.
    assert snr_db(a["layers.0.feed_forward.w1.weight"], b["layers.0.feed_forward.w1.weight"]) > 5.0 * bits - 6


def test_raw_method_is_lossless(sdcodec, stories, tmp_path):
    sdc, out = tmp_path / "m.sdc", tmp_path / "m.safetensors"
    run(sdcodec, "encode", stories, "-o", sdc, "--method", "raw", "--quiet")
    run(sdcodec, "decode", sdc, "-o", out)
    a, b = load_file(str(stories)), load_file(str(out))
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_same_input_same_bytes(sdcodec, stories, tmp_path):
    run(sdcodec, "encode", stories, "-o", tmp_path / "a.sdc", "--bits", "4", "--threads", "1", "--quiet")
    run(sdcodec, "encode", stories, "-o", tmp_path / "b.sdc", "--bits", "4", "--threads", "2", "--quiet")
    assert (tmp_path / "a.sdc").read_bytes() == (tmp_path / "b.sdc").read_bytes()


def test_inspect_json_adds_up_to_the_file_size(sdcodec, stories, tmp_path):
    sdc = tmp_path / "m.sdc"
    tok = MODELS / "tok512.bin"
    run(sdcodec, "encode", stories, "-o", sdc, "--bits", "6", "--asset", f"tokenizer={tok}", "--quiet")
    report = json.loads(run(sdcodec, "inspect", sdc, "--json").stdout)
    size = os.path.getsize(sdc)
    assert report["schema"] == "sdcodec.inspect/1"
    assert report["file_bytes"] == size
    assert sum(report["parts"].values()) == size
    assert sum(report["roles"].values()) == size
    assert report["parts"]["sections"] == sum(s["stored_bytes"] for s in report["sections"])
    assert report["roles"]["assets"] == report["assets"][0]["stored_bytes"]
    assert report["assets"][0]["raw_bytes"] == tok.stat().st_size
    assert {t["role"] for t in report["tensors"]} == {"embedding", "attention", "mlp", "norm"}


# Between the 2-bit (~61 KB) and 8-bit (~250 KB) encodings of stories260K.
BUDGETS = (80_000, 120_000, 170_000, 230_000)


@pytest.mark.parametrize("budget", BUDGETS)
def test_budget_is_never_exceeded(sdcodec, stories, tmp_path, budget):
    sdc = tmp_path / "m.sdc"
    run(sdcodec, "encode", stories, "-o", sdc, "--budget", budget, "--reserve", 1000, "--quiet")
    assert budget - 1000 - 2000 <= os.path.getsize(sdc) <= budget - 1000  # used, and within the cap
    run(sdcodec, "verify", sdc)


def test_bigger_budget_never_hurts(sdcodec, stories, tmp_path):
    errs = []
    for budget in BUDGETS:
        sdc, out = tmp_path / f"{budget}.sdc", tmp_path / f"{budget}.safetensors"
        run(sdcodec, "encode", stories, "-o", sdc, "--budget", budget, "--quiet")
        run(sdcodec, "decode", sdc, "-o", out)
        a, b = load_file(str(stories)), load_file(str(out))
        errs.append(sum(float(np.sum((a[k].astype(np.float64) - b[k]) ** 2)) for k in a))
    assert errs == sorted(errs, reverse=True), errs


def test_impossible_budget_is_one_clear_line(sdcodec, stories, tmp_path):
    p = run(sdcodec, "encode", stories, "-o", tmp_path / "m.sdc", "--budget", 20_000, check=False)
    assert p.returncode != 0
    assert len(p.stderr.strip().splitlines()) == 1 and "smallest encoding takes" in p.stderr
    assert not (tmp_path / "m.sdc").exists()


def test_every_flipped_byte_fails_verify(sdcodec, tmp_path):
    """A small artifact; each byte flipped in turn must make verify exit non-zero with one line."""
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    src = tmp_path / "small.safetensors"
    save_file({"w": rng.standard_normal((16, 64)).astype(np.float32),
               "b": rng.standard_normal(16).astype(np.float32)}, str(src))
    sdc = tmp_path / "small.sdc"
    run(sdcodec, "encode", src, "-o", sdc, "--bits", "4", "--quiet")
    data = sdc.read_bytes()
    bad = tmp_path / "bad.sdc"
    for i in range(len(data)):
        bad.write_bytes(data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:])
        p = run(sdcodec, "verify", bad, check=False)
        assert p.returncode == 1, f"flip at {i} of {len(data)} not detected"
        assert len(p.stderr.strip().splitlines()) == 1


def test_encode_refuses_to_overwrite_its_input(sdcodec, stories, tmp_path):
    copy = tmp_path / "in.safetensors"
    copy.write_bytes(stories.read_bytes())
    before = copy.read_bytes()
    p = run(sdcodec, "encode", copy, "-o", copy, check=False)
    assert p.returncode != 0 and "overwrite" in p.stderr
    assert copy.read_bytes() == before


def test_bad_inputs_give_one_line_errors(sdcodec, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all")
    for args in (["encode", junk, "-o", tmp_path / "x.sdc"], ["verify", junk], ["decode", junk, "-o", tmp_path / "y"],
                 ["inspect", tmp_path / "missing.sdc"], ["encode", junk, "-o", tmp_path / "x.sdc", "--bits", "9"]):
        p = run(sdcodec, *args, check=False)
        assert p.returncode != 0, args
        assert len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
