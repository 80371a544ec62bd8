"""The proving ground (bench/lm, bench/seeds.py): corpus splits, tokenizers, tiny deterministic training, the
lmeval contract (scores, Hessians, sensitivities), tensor roles in a real .sdc, and seeds.py end to end on toy
models. Full-size training and the full seeds run are benchmarks, not tests."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

# jax, tokenizers and optax come from scripts/setup.sh; a missing one fails here rather than skipping silently.
from lm import build, corpus, store, zoo  # noqa: E402
from lm import model as M  # noqa: E402
from lm import tokenizer as tokz  # noqa: E402


@pytest.fixture(scope="module")
def splits():
    return corpus.load_splits()


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Toy versions of two specs (shared depth with per-loop deltas; factorised embedding), built twice from
    empty caches: the second build must give the same bytes."""
    specs = {"pg-shared": build.tiny(zoo.SPECS["pg-shared"]),
             "pg-fact": build.tiny(zoo.Spec(M.ModelConfig(vocab=512, dim=64, hidden=96, unique_blocks=1, loops=2,
                                                          factor_rank=16), zoo.SPECS["pg-shared"].train, "factorised"))}
    dirs = []
    for i in range(2):
        cache = tmp_path_factory.mktemp(f"cache{i}")
        out = tmp_path_factory.mktemp(f"models{i}")
        mp = pytest.MonkeyPatch()
        mp.setenv("SDC_PG_CACHE", str(cache))
        for name, spec in specs.items():
            build.build(name, spec, out, log=lambda s: None)
        mp.undo()
        dirs.append(out)
    return dirs


def test_corpus_splits_are_by_document_and_large_enough(splits):
    sizes = {s: sum(len(d.encode()) for d in docs) for s, docs in splits.items()}
    assert sizes["train"] + sizes["calib"] + sizes["heldout"] >= 4_000_000, sizes
    assert sizes["heldout"] >= 100_000 and sizes["calib"] >= 50_000 and sizes["heldout2"] >= 100_000, sizes
    prose = corpus.prose_documents()
    assert len(prose) == 1189 and prose[0][0] == "Genesis 1" and prose[0][1].startswith("In the beginning God")
    # Every chapter is in exactly one prose split, decided by its name alone.
    seen = {s: set(docs) for s, docs in splits.items()}
    for name, text in prose:
        s = corpus.split_of("prose", name)
        assert text in seen[s] and all(text not in seen[o] for o in ("train", "calib", "heldout") if o != s)
    assert not any(ch.isdigit() for ch in prose[0][1].split("\n")[0][:3])   # verse numbers removed


def test_tokenizer_spells_every_byte_and_is_deterministic(splits):
    docs = splits["train"][:40]
    t1, t2 = tokz.train(docs, 300), tokz.train(docs, 300)
    assert t1.to_str() == t2.to_str()
    text = "Thou shalt — naïve café ✓\n\tvim :help"
    ids = tokz.encode(t1, text)                       # raises if the tokens do not spell the text's bytes
    assert tokz.token_bytes(t1)[ids].sum() == len(text.encode())
    assert t1.decode(ids.tolist()) == text
    assert tokz.train(docs, 256).get_vocab_size() == 256
    with pytest.raises(ValueError):
        tokz.train(docs, 100)


def test_tiny_training_is_deterministic(tiny_models):
    a, b = tiny_models
    for name in ("pg-shared", "pg-fact"):
        assert (a / name / "model.safetensors").read_bytes() == (b / name / "model.safetensors").read_bytes()
        card = json.loads((a / name / "card.json").read_text())
        assert card["stats"]["tokens_seen"] == 4 * 2 * 32 and card["stats"]["train_flops"] > 0


def test_score_windows_cover_the_heldout_text(tiny_models):
    lm = zoo.load("pg-shared", tiny_models[0])
    s = lm.score(lm.weights())
    T = lm.cfg.ctx
    ids = zoo._split_ids(lm.assets()["tokenizer.json"], "heldout")
    assert len(s.chunk_bits) == (len(ids) - 1) // T
    assert s.chunk_bytes.sum() >= 100_000 - T * 4
    assert np.all(s.chunk_bits > 0) and 0 < s.bpb < 10
    # Zeroing the weights gives the uniform distribution: exactly log2(V) bits per token.
    w0 = {k: np.zeros_like(v) for k, v in lm.weights().items()}
    s0 = lm.score(w0)
    n_tok = len(s0.chunk_bits) * T
    assert s0.chunk_bits.sum() == pytest.approx(n_tok * np.log2(lm.cfg.vocab), rel=1e-5)


def test_hessians_follow_the_contract(tiny_models):
    for name in ("pg-shared", "pg-fact"):
        lm = zoo.load(name, tiny_models[0])
        w = lm.weights()
        H = lm.hessians()
        assert set(H) == {k for k, v in w.items() if v.ndim == 2}
        for k, h in H.items():
            assert h.dtype == np.float32 and h.shape == (w[k].shape[1],) * 2, k
            assert np.allclose(h, h.T, atol=1e-6 * np.abs(h).max())
            assert np.linalg.eigvalsh(h.astype(np.float64)).min() > -1e-4 * np.abs(h).max(), k
        if name == "pg-shared":
            # q, k and v multiply the same normed input at every loop: one matrix, accumulated over the loops.
            assert np.array_equal(H["blocks.0.attn.wq.weight"], H["blocks.0.attn.wk.weight"])
            # A per-loop delta_a sees its loop's input only, so the shared weight's H is the mean of theirs.
            loops = [H[f"blocks.0.loops.{l}.attn.wq.delta_a"] for l in range(lm.cfg.loops)]
            assert np.allclose(np.mean(loops, axis=0), H["blocks.0.attn.wq.weight"], rtol=1e-4, atol=1e-6)
        else:
            assert H["tok_emb.weight"].shape == (lm.cfg.factor_rank,) * 2
    # Cached: a second call returns the same matrices.
    assert all(np.array_equal(H[k], v) for k, v in lm.hessians().items())


def test_calibration_loss_and_fisher(tiny_models):
    lm = zoo.load("pg-shared", tiny_models[0])
    w = lm.weights()
    loss = lm.calib_loss(w)
    assert 0 < loss < np.log(lm.cfg.vocab) + 1
    g, f = lm.gradients(w), lm.fisher(w)
    assert set(g) == set(w) == set(f)
    assert all(f[k].shape == w[k].shape and np.all(f[k] >= 0) for k in w)
    # A small step against the gradient lowers the calibration loss.
    step = {k: w[k] - 1e-2 * g[k] / max(np.abs(g[k]).max(), 1e-12) for k in w}
    assert lm.calib_loss(step) < loss


def test_roles_in_a_real_file(tiny_models, sdcodec, tmp_path):
    lm = zoo.load("pg-shared", tiny_models[0])
    src = lm.dir / "model.safetensors"
    out = tmp_path / "m.sdc"
    subprocess.run([sdcodec, "encode", src, "-o", out, "--bits", "4", "--quiet"], check=True)
    rep = json.loads(subprocess.run([sdcodec, "inspect", out, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    roles = {t["name"]: t["role"] for t in rep["tensors"]}
    want = {"tok_emb.weight": "embedding", "blocks.0.attn.wq.weight": "attention", "blocks.0.mlp.w2.weight": "mlp",
            "blocks.0.loops.1.attn_norm.weight": "norm", "blocks.0.loops.1.attn.wo.delta_b": "attention",
            "blocks.0.loops.2.mlp.w3.delta_a": "mlp", "norm.weight": "norm"}
    assert {k: roles[k] for k in want} == want
    assert set(roles) == set(lm.weights())
    fact = zoo.load("pg-fact", tiny_models[0])
    subprocess.run([sdcodec, "encode", fact.dir / "model.safetensors", "-o", tmp_path / "f.sdc", "--quiet"], check=True)
    rep = json.loads(subprocess.run([sdcodec, "inspect", tmp_path / "f.sdc", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
    roles = {t["name"]: t["role"] for t in rep["tensors"]}
    assert roles["lm_head_proj.weight"] == "head" and roles["tok_emb_in.weight"] == "embedding"


def test_hessians_file_beside_the_model_is_what_encode_reads(tiny_models, sdcodec, tmp_path):
    from safetensors.numpy import load_file
    model = (tiny_models[0] / "pg-shared" / "model.safetensors").read_bytes()
    assert build.main(["pg-shared", "--hessians", "--models-dir", str(tiny_models[0])]) == 0
    path = tiny_models[0] / "pg-shared" / "hessians.safetensors"
    assert (tiny_models[0] / "pg-shared" / "model.safetensors").read_bytes() == model   # nothing was built
    H, want = load_file(str(path)), zoo.load("pg-shared", tiny_models[0]).hessians()
    assert set(H) == set(want) and all(np.array_equal(H[k], want[k]) for k in want)
    src = tiny_models[0] / "pg-shared" / "model.safetensors"
    res = subprocess.run([sdcodec, "encode", src, "-o", tmp_path / "h.sdc", "--bits", "4", "--hessians", path,
                          "--quiet"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_build_refuses_bad_arguments(tmp_path):
    assert build.main(["no-such-model", "--models-dir", str(tmp_path)]) == 2
    assert build.main(["pg-unique", "--hessians", "--models-dir", str(tmp_path)]) == 1   # not built there
    assert build.main(["--tiny"]) == 2


def test_committed_models_beat_the_unigram_entropy():
    """Every committed model scores well below the byte-level unigram entropy of the held-out text."""
    committed = [n for n in zoo.names() if (store.MODELS_DIR / n / "model.safetensors").exists()]
    assert committed, "no committed proving-ground model"
    ent = zoo.byte_unigram_entropy(zoo.split_text("heldout"))
    lm = zoo.load(committed[0])
    assert lm.score(lm.weights()).bpb < ent - 1.0


def test_seeds_runs_on_tiny_models(tmp_path, sdcodec, monkeypatch):
    monkeypatch.setenv("SDC_PG_CACHE", str(tmp_path / "cache"))
    models = tmp_path / "models"
    names = ["pg-unique", "pg-shared", "pg-shared-v256", "pg-shared-v4096", "pg-shared-v4096f"]
    subprocess.run([sys.executable, "-m", "lm.build", "--tiny", "--models-dir", models, *names], check=True,
                   cwd=ROOT / "bench", capture_output=True, env={**__import__("os").environ})
    out = tmp_path / "seeds.md"
    res = subprocess.run([sys.executable, ROOT / "bench" / "seeds.py", "--tiny", "--models-dir", models,
                          "--sdcodec", sdcodec, "--out", out], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert "seeds.py --tiny" in text and "## Verdicts" in text
    for note, n in [("banks", 1), ("banks", 2), ("banks", 3), ("banks", 4), ("vocab", 1), ("vocab", 2),
                    ("vocab", 3), ("vocab", 4)]:
        assert f"| {note} | {n} |" in text, (note, n)
    assert (tmp_path / "seeds_vocab.svg").exists()


def test_plan_train_submit_example(tmp_path):
    """examples/plan_train_submit.py on toy sizes: plan's solved width is the widest that fits the room the code
    leaves, the trained model's artifact fits it and is close to the prediction, the kit's decoder gives back
    what the library gives, and the round trip scores near the unquantised model."""
    env = {**__import__("os").environ, "SDC_PG_CACHE": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-c", "import pathlib, sys; sys.path.insert(0, 'bench'); from lm import build, zoo; "
                    f"build.build('pg-unique', build.tiny(zoo.SPECS['pg-unique']), pathlib.Path('{tmp_path}'), "
                    "log=lambda s: None)"], cwd=ROOT, env=env, check=True)
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "plan_train_submit.py"), "--tiny", "--pilot",
                        str(tmp_path / "pg-unique"), "--vocab", "300", "--cap", "60000", "--out", str(tmp_path / "out")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["room"] == 60000 - s["code"] and s["code"] > 10000   # the decoder and the script are counted
    assert s["predicted"] <= s["room"] < s["next_predicted"] and s["next_dim"] > s["dim"] > 0
    assert s["artifact"] <= s["room"] and s["total"] == s["artifact"] + s["code"] <= 60000
    assert abs(s["artifact"] / s["predicted"] - 1) < 0.05
    assert s["round_trip"] == "identical tensors and assets"
    assert abs(s["bpb_after"] - s["bpb_before"]) < 0.05 * s["bpb_before"]
    assert (tmp_path / "out" / "submission" / "sdc_decoder.py").exists() and "bpb round trip" in p.stdout
