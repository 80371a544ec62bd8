"""plan --solve on stories260K's family: rates measured on stories260K encoded at a fixed setting, the
largest dim / hidden / layers / unique-layers for a 1-2 MB budget, then that shape really built from
stories260K's own weights (tools/llama_shape.py: blocks tiled, matrices cut or widened row by row) and
encoded at the same setting: the real file is within 2% of the prediction. Plus the command's usage errors."""
import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT, encode_each, run

spec = importlib.util.spec_from_file_location("plan_solve", ROOT / "bench" / "plan_solve.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
SHAPE, SETTINGS, _shape_args = bench.STORIES, bench.SETTINGS, bench.shape_args
# (setting, parameter solved, budget, vocab): each parameter, both scalar widths, shared codebooks, and a
# vocabulary other than the measured one (its embedding cut or widened like the other matrices).
CASES = [("b6", "layers", 1_000_000, 512), ("b4", "dim", 2_000_000, 512), ("b6", "hidden", 1_500_000, 256),
         ("b6", "unique-layers", 1_000_000, 1024), ("vq", "dim", 1_000_000, 512)]


@pytest.fixture(scope="module")
def measured(sdcodec, stories, tmp_path_factory):
    return encode_each(sdcodec, stories, SETTINGS, tmp_path_factory.mktemp("solve"))


@pytest.mark.parametrize("setting,solve,budget,vocab", CASES)
def test_solved_shape_built_and_encoded_matches(sdcodec, stories, measured, tmp_path, setting, solve, budget, vocab):
    plan, real = bench.check(sdcodec, stories, measured[setting], SETTINGS[setting], solve, budget, vocab, tmp_path)
    s = plan["solve"]
    assert s["parameter"] == solve and plan["total_bytes"] <= budget < s["next"]["total_bytes"]
    assert plan["shape"]["layers"] == (40 if solve == "unique-layers" else plan["shape"]["unique_layers"])
    assert real["totals"]["params"] == plan["params"] and len(real["tensors"]) == plan["tensors"]
    err = plan["total_bytes"] / real["file_bytes"] - 1
    assert abs(err) < 0.02, f"{solve}={s['value']}: plan {plan['total_bytes']:.0f} vs real {real['file_bytes']} ({err:+.2%})"


def test_vocab_columns_trade_head_for_trunk(sdcodec, measured):
    """Several vocabularies side by side: the smaller one leaves more of the budget to the trunk."""
    p = run(sdcodec, "plan", "--from", measured["b6"], "--vocab", "256,512,4096", *_shape_args(SHAPE, "dim"),
            "--solve", "dim", "--budget", "1500000", "--json")
    dims = [x["solve"]["value"] for x in json.loads(p.stdout)]
    assert dims[0] >= dims[1] > dims[2] and all(d % 8 == 0 for d in dims)
    text = run(sdcodec, "plan", "--from", measured["b6"], "--vocab", "256,512,4096", *_shape_args(SHAPE, "dim"),
               "--solve", "dim", "--budget", "1500000").stdout
    assert "method=scalar" in text and "predictions hold for that setting" in text
    assert f"{dims[2]} fits" in text and f"{dims[2] + 8} over" in text and "left of budget" in text


def test_usage_errors_and_refusals(sdcodec, measured, tmp_path):
    base = ["plan", "--from", measured["b6"], "--vocab", "512"]
    for args, code, says in [
        ([*_shape_args(SHAPE, "dim"), "--solve", "dim"], 2, "--solve and --budget go together"),
        ([*_shape_args(SHAPE, None), "--solve", "width", "--budget", "1e6"], 2, "--solve wants"),
        (["--layers", "5", "--heads", "8", "--solve", "dim", "--budget", "1e6"], 2, "--mlp-ratio"),
        (["--dim", "64", "--layers", "5"], 2, "--hidden is required"),
        ([*_shape_args(SHAPE, "layers"), "--solve", "layers", "--budget", "1000"], 1, "over the budget of 1000"),
        ([*_shape_args(SHAPE, "layers"), "--unique-layers", "2", "--solve", "layers", "--budget", "1e6"], 1,
         "solve unique-layers"),
    ]:
        p = run(sdcodec, *base, *args, check=False)
        assert p.returncode == code and says in p.stderr and p.stderr.count("\n") == 1, (args, p.stderr)


def test_budget_fitted_measurement_is_flagged(sdcodec, stories, tmp_path):
    """A measurement fitted to a budget is flagged: its rates belong to that model at that budget."""
    f = tmp_path / "fitted.sdc"
    run(sdcodec, "encode", stories, "-o", f, "--quiet", "--budget", "150000")
    out = run(sdcodec, "plan", "--from", f, "--vocab", "512", *_shape_args(SHAPE, None)).stdout
    assert "fitted to a budget of 150000 bytes" in out
    j = json.loads(run(sdcodec, "plan", "--from", f, "--vocab", "512", *_shape_args(SHAPE, None), "--json").stdout)[0]
    assert j["measured_budget"] == 150000 and "method=scalar" in j["measured_encoder"]


def test_llama_shape_cuts_exactly_and_widens_without_copies(stories, tmp_path):
    """The builder's cut is the trained weights themselves; widened rows hold their source row's values."""
    import numpy as np
    from safetensors.numpy import load_file
    run(sys.executable, ROOT / "tools" / "llama_shape.py", stories, tmp_path / "cut.safetensors",
        "--vocab", "256", "--dim", "64", "--blocks", "7", "--hidden", "172")
    src, cut = load_file(str(stories)), load_file(str(tmp_path / "cut.safetensors"))
    assert np.array_equal(cut["tok_embeddings.weight"], src["tok_embeddings.weight"][::2])
    assert np.array_equal(cut["layers.6.feed_forward.w2.weight"], src["layers.1.feed_forward.w2.weight"])
    run(sys.executable, ROOT / "tools" / "llama_shape.py", stories, tmp_path / "wide.safetensors",
        "--vocab", "1024", "--dim", "128", "--blocks", "1", "--hidden", "300")
    wide = load_file(str(tmp_path / "wide.safetensors"))
    w, s = wide["layers.0.feed_forward.w1.weight"], src["layers.0.feed_forward.w1.weight"]
    assert w.shape == (300, 128)
    assert np.array_equal(np.sort(w[0][:64]), np.sort(s[0]))  # row 0: a permutation of source row 0, then more
    emb = wide["tok_embeddings.weight"]
    assert len({r.tobytes() for r in emb}) == 1024  # no two rows alike, though each source row is used twice
    bad = subprocess.run([sys.executable, ROOT / "tools" / "llama_shape.py", stories, tmp_path / "x.safetensors",
                          "--vocab", "8", "--dim", "60", "--blocks", "1", "--hidden", "8"], capture_output=True, text=True)
    assert bad.returncode == 1 and "heads must divide dim" in bad.stderr
