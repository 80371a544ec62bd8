"""Full-Hessian GPTQ of the record-pipeline baseline (bench/gptq.py): it lowers the H-weighted error against
rounding to nearest, matches a direct sequential (OBQ-style) implementation, handles act-order, blocks that do not
divide the columns, singular and dead-column Hessians, and is deterministic."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import gptq  # noqa: E402


def correlated_hessian(rng, cols, n=None, strength=1.0):
    n = n or 4 * cols
    mix = np.eye(cols) + strength * rng.standard_normal((cols, cols)) / np.sqrt(cols)
    x = rng.standard_normal((n, cols)) @ mix * rng.uniform(0.2, 3.0, cols)
    return x.T @ x / n


def errors(w, H, scale, bits, **kw):
    q = gptq.gptq_quantize(w, H, scale, bits, **kw)
    r = gptq.rtn_quantize(w, scale, bits)
    eq = gptq.h_weighted_error(w - gptq.dequantize_rows(q, scale), H)
    er = gptq.h_weighted_error(w - gptq.dequantize_rows(r, scale), H)
    return q, eq, er


@pytest.mark.parametrize("rows,cols", [(64, 64), (48, 200), (33, 130), (16, 300)])
@pytest.mark.parametrize("bits,k", [(3, 2.5), (4, 3.0), (6, 12.85)])
def test_gptq_lowers_h_weighted_error_against_rounding(rows, cols, bits, k):
    rng = np.random.default_rng(rows * 1000 + cols + bits)
    H = correlated_hessian(rng, cols)
    w = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
    s = gptq.sdclip_scale(w, k, bits)
    q, eq, er = errors(w, H, s, bits)
    assert eq < 0.9 * er
    assert q.dtype == np.int8 and np.abs(q).max() <= gptq.qmax_of(bits)


def sequential_reference(w, H, scale, bits):
    """OBQ-style: one column at a time in act-order, error fed to the remaining columns through the inverse
    Hessian of the remaining columns, which is downdated explicitly after each step (no Cholesky, no blocks)."""
    w = np.asarray(w, np.float64).copy()
    cols = w.shape[1]
    Hd = H.astype(np.float64) + 0.01 * np.mean(np.diag(H)) * np.eye(cols)
    perm = np.argsort(-np.diag(Hd), kind="stable")
    W = w[:, perm]
    Hinv = np.linalg.inv(Hd[np.ix_(perm, perm)])
    s = scale.astype(np.float64)[:, None]
    qmax = gptq.qmax_of(bits)
    Q = np.zeros_like(W)
    for j in range(cols):
        Q[:, j] = np.clip(np.round(W[:, j:j + 1] / s), -qmax, qmax)[:, 0]
        err = (W[:, j] - Q[:, j] * s[:, 0]) / Hinv[j, j]
        W[:, j + 1:] -= np.outer(err, Hinv[j, j + 1:])
        Hinv = Hinv - np.outer(Hinv[:, j], Hinv[j, :]) / Hinv[j, j]
    return Q[:, np.argsort(perm)].astype(np.int8)


def test_blocked_cholesky_form_matches_the_sequential_definition():
    rng = np.random.default_rng(7)
    rows, cols, bits = 40, 150, 4
    H = correlated_hessian(rng, cols)
    w = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
    s = gptq.sdclip_scale(w, 3.0, bits)
    ref = sequential_reference(w, H, s, bits)
    for block in (128, 16, 150, 1):
        q = gptq.gptq_quantize(w, H, s, bits, block=block)
        # float32 against float64: a code may flip where a weight sits on a rounding boundary
        assert np.mean(q == ref) > 0.995, block
        e_q = gptq.h_weighted_error(w - gptq.dequantize_rows(q, s), H)
        e_r = gptq.h_weighted_error(w - gptq.dequantize_rows(ref, s), H)
        assert e_q == pytest.approx(e_r, rel=0.01)


def test_diagonal_hessian_gives_rounding_to_nearest_in_any_column_order():
    # No correlations: error feedback has nothing to move, so GPTQ must return exactly the rounded codes --
    # which also checks that act-order's permutation is undone.
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((20, 70)) * 0.1).astype(np.float32)
    H = np.diag(rng.uniform(0.1, 10.0, 70))
    s = gptq.sdclip_scale(w, 4.0, 4)
    assert np.array_equal(gptq.gptq_quantize(w, H, s, 4), gptq.rtn_quantize(w, s, 4))
    assert np.array_equal(gptq.gptq_quantize(w, None, s, 4), gptq.rtn_quantize(w, s, 4))


def test_singular_hessian_and_dead_columns_are_damped():
    rng = np.random.default_rng(11)
    rows, cols = 24, 140
    x = rng.standard_normal((10, cols))      # rank 10 < 140 columns
    x[:, [3, 77, 139]] = 0.0                 # inputs that are always zero: dead columns
    H = x.T @ x / 10
    w = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
    s = gptq.sdclip_scale(w, 3.0, 3)
    q, eq, er = errors(w, H, s, 3)
    assert np.all(q[:, [3, 77, 139]] == 0)   # the record zeroes weights whose input is always zero
    assert np.isfinite(eq) and eq <= er
    with pytest.raises(ValueError):
        gptq.gptq_quantize(w, H[:-1, :-1], s, 3)
    with pytest.raises(ValueError):
        bad = H.copy()
        bad[0, 0] = np.nan
        gptq.gptq_quantize(w, bad, s, 3)


def test_zero_rows_get_zero_codes_and_deterministic_output():
    rng = np.random.default_rng(2)
    w = (rng.standard_normal((10, 130)) * 0.05).astype(np.float32)
    w[4] = 0.0
    H = correlated_hessian(rng, 130)
    s = gptq.sdclip_scale(w, 12.85, 6)
    assert s[4] == 0
    q1 = gptq.gptq_quantize(w, H, s, 6)
    q2 = gptq.gptq_quantize(w.copy(), H.copy(), s.copy(), 6)
    assert np.all(q1[4] == 0)
    assert np.array_equal(q1, q2)


def test_sdclip_scale_is_k_times_unbiased_std_over_qmax_in_fp16():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 50)).astype(np.float32)
    s = gptq.sdclip_scale(w, 12.85, 6)
    assert s.dtype == np.float16
    expect = (np.float32(12.85) * np.std(w, axis=1, ddof=1) / 31).astype(np.float16)
    assert np.array_equal(s, expect)


def test_best_k_from_the_grid_is_no_worse_than_any_single_k():
    rng = np.random.default_rng(9)
    w = (rng.standard_normal((32, 64)) * 0.05).astype(np.float32)
    H = correlated_hessian(rng, 64)
    k, q, s = gptq.gptq_best_k(w, H, 4)
    e_best = gptq.h_weighted_error(w - gptq.dequantize_rows(q, s), H)
    for kk in (2.0, 11.5, 14.0):
        sk = gptq.sdclip_scale(w, kk, 4)
        e = gptq.h_weighted_error(w - gptq.dequantize_rows(gptq.gptq_quantize(w, H, sk, 4), sk), H)
        assert e_best <= e
    assert k in gptq.K_GRID and k < 11.5   # at 4 bits the int6-tuned k clips far too little
