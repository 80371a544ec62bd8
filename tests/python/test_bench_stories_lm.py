"""stories260K as a bench/lmeval.py LanguageModel (bench/llama2c_eval.py Stories260K): per-window scores that add
up to the existing bits-per-byte measure, calibration Hessians E[x xᵀ] from a separate sample, the tokenizer
asset. Small samples keep it quick."""
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import llama2c_eval as le  # noqa: E402
from lmeval import paired_difference  # noqa: E402

if not le.DEFAULT_LLAMA2C.exists():
    pytest.skip(f"{le.DEFAULT_LLAMA2C} not present", allow_module_level=True)


@pytest.fixture(scope="module")
def lm():
    return le.Stories260K(heldout=(6, 48, 1234), calib=(4, 40, 99))


def test_score_is_per_window_and_matches_bits_per_byte(lm):
    w = lm.weights()
    s = lm.score(w)
    assert s.chunk_bits.shape == s.chunk_bytes.shape == (6,)
    assert s.chunk_bytes.dtype == np.int64 and np.all(s.chunk_bytes > 0)
    assert s.bpb == pytest.approx(le.bits_per_byte(w, lm.tokens), rel=1e-12)
    # each window is one sequence
    one = le.token_nll_bits(w, lm.tokens[2:3]).sum()
    assert s.chunk_bits[2] == pytest.approx(one, rel=1e-9)
    assert paired_difference(s, lm.score(lm.weights())) == (0.0, 0.0)


def test_a_damaged_model_scores_worse_with_a_small_paired_error(lm):
    ref = lm.score(lm.weights())
    w = lm.weights()
    rng = np.random.default_rng(0)
    for k in w:
        if w[k].ndim == 2:
            w[k] = w[k] + rng.standard_normal(w[k].shape).astype(np.float32) * 0.3 * w[k].std()
    d, se = paired_difference(ref, lm.score(w))
    assert d > 0 and se < d


def test_hessians_are_second_moments_of_each_linear_input(lm):
    H = lm.hessians()
    st = lm.weights()
    assert set(H) == {n for n, t in st.items() if t.ndim == 2}
    for name, h in H.items():
        assert h.dtype == np.float32 and h.shape == (st[name].shape[1],) * 2
        assert np.allclose(h, h.T, atol=1e-6)
        assert np.linalg.eigvalsh(h.astype(np.float64)).min() > -1e-5
    # recompute two of them from the calibration sample directly
    toks = le.sample(le.Model(st), *lm.calib)
    m = le.Model(st)
    x = m.rmsnorm(m.emb[toks], m.rms_att[0]).reshape(-1, 64).astype(np.float64)
    assert np.allclose(H["layers.0.attention.wq.weight"], x.T @ x / len(x), rtol=1e-4, atol=1e-7)
    assert np.array_equal(H["layers.0.attention.wq.weight"], H["layers.0.attention.wv.weight"])
    final = []
    m.logits(toks, tap=lambda n, v: final.append(v) if n == "tok_embeddings.weight" else None)
    f = final[0].reshape(-1, 64).astype(np.float64)
    assert np.allclose(H["tok_embeddings.weight"], f.T @ f / len(f), rtol=1e-4, atol=1e-7)


def test_calibration_text_is_separate_from_the_held_out_text(lm):
    calib = le.sample(le.Model(lm.weights()), *lm.calib)
    assert not np.array_equal(calib[:, :10], lm.tokens[:4, :10])
    with pytest.raises(ValueError):
        le.Stories260K(heldout=(2, 16, 5), calib=(2, 16, 5))


def test_assets_and_roles(lm):
    assert lm.assets() == {"tokenizer": le.DEFAULT_TOKENIZER.read_bytes()}
    assert lm.roles() == {}
    assert lm.name == "stories260K"
