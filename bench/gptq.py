"""Full-Hessian GPTQ as the 2026-04 parameter-golf records run it (`gptq_quantize_weight`), in numpy.

Per weight matrix W [rows, cols] with H = E[x xᵀ] over the inputs that multiply its columns:
  1. dead columns (diag H = 0) get H_ii = 1 and their weights are zeroed (their inputs are always 0);
  2. damping: H += 0.01 · mean(diag H) · I;
  3. act-order: columns sorted by diag H, descending (stable sort, so equal diagonals keep their order);
  4. U = the upper Cholesky factor of H⁻¹ (H⁻¹ = Uᵀ U);
  5. one scale per row s = k · std(row) / qmax, stored as fp16 ("SDClip": no clip search; std with Bessel's
     correction as torch.std computes it), qmax = 2^(b−1) − 1;
  6. columns in blocks of 128: q_j = clamp(round(w_j / s), −qmax, qmax); the error e_j = (w_j − q_j s) / U_jj is
     fed to the later columns of the block at once (w_k −= e_j U_jk), and to the columns after the block in one
     matrix product at the block's end (the lazy batch update of the GPTQ paper).

The factorisations run in float64 (numpy has no float32 Cholesky inverse; float64 is at least as accurate as the
records' float32 torch), the column loop in float32 as theirs does.
"""

from __future__ import annotations

import numpy as np

DAMP = 0.01
BLOCK = 128


def qmax_of(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def sdclip_scale(w: np.ndarray, k: float, bits: int) -> np.ndarray:
    """The records' per-row scale: fp16(max(k · std(row) / qmax, 1e-10)). A row of zeros gets scale 0 (1e-10 is
    below fp16's smallest subnormal) and codes 0."""
    std = np.std(np.asarray(w, dtype=np.float32), axis=1, ddof=1, dtype=np.float32) if w.shape[1] > 1 \
        else np.zeros(w.shape[0], np.float32)
    s = np.maximum(np.float32(k) * std / np.float32(qmax_of(bits)), np.float32(1e-10))
    return s.astype(np.float16)


def prepare_hessian(H: np.ndarray | None, cols: int, damp: float = DAMP) -> tuple[np.ndarray, np.ndarray]:
    """(damped float64 H, dead-column mask). No H (a tensor nobody measured) is the identity: GPTQ then has no
    correlations to exploit and reduces to rounding to nearest with the same scales."""
    if H is None:
        H = np.eye(cols)
    H = np.array(H, dtype=np.float64)
    if H.shape != (cols, cols):
        raise ValueError(f"Hessian shape {H.shape} does not match {cols} columns")
    if not np.all(np.isfinite(H)):
        raise ValueError("Hessian has NaN or inf entries")
    H = 0.5 * (H + H.T)
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    H[np.diag_indices(cols)] += damp * float(np.mean(np.diag(H)))
    return H, dead


def inverse_cholesky_upper(H: np.ndarray) -> np.ndarray:
    """Upper U with Uᵀ U = H⁻¹ (torch: cholesky(cholesky_inverse(cholesky(H)), upper=True))."""
    L = np.linalg.cholesky(H)
    Linv = np.linalg.solve(L, np.eye(len(H)))      # L⁻¹ (triangular; solve is exact enough and always present)
    Hinv = Linv.T @ Linv
    return np.linalg.cholesky(0.5 * (Hinv + Hinv.T)).T


def gptq_quantize(w: np.ndarray, H: np.ndarray | None, scale: np.ndarray, bits: int, block: int = BLOCK,
                  act_order: bool = True, damp: float = DAMP) -> np.ndarray:
    """int8 codes [rows, cols] of w for the given fp16 per-row scale (see the module docstring)."""
    w = np.asarray(w, dtype=np.float32)
    rows, cols = w.shape
    qmax = qmax_of(bits)
    Hd, dead = prepare_hessian(H, cols, damp)
    perm = np.argsort(-np.diag(Hd), kind="stable") if act_order else np.arange(cols)
    inv_perm = np.argsort(perm)
    # Transposed working copy: column j of W is the contiguous row j of Wt (the loop touches one column at a time).
    Wt = np.ascontiguousarray(w[:, perm].T)
    Wt[dead[perm]] = 0.0
    U = inverse_cholesky_upper(Hd[np.ix_(perm, perm)]).astype(np.float32)
    sf = scale.astype(np.float32)
    live = sf > 0
    safe = np.where(live, sf, np.float32(1.0))
    Qt = np.zeros((cols, rows), dtype=np.int8)
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        Wb = Wt[i1:i2].copy()
        Ub = U[i1:i2, i1:i2]
        Err = np.zeros((i2 - i1, rows), dtype=np.float32)
        for j in range(i2 - i1):
            q = np.where(live, np.clip(np.round(Wb[j] / safe), -qmax, qmax), np.float32(0.0))
            Qt[i1 + j] = q.astype(np.int8)
            err = (Wb[j] - q * sf) / Ub[j, j]
            Err[j] = err
            Wb[j + 1:] -= Ub[j, j + 1:, None] * err[None, :]
        if i2 < cols:
            Wt[i2:] -= U[i1:i2, i2:].T @ Err
    Q = Qt.T
    return np.ascontiguousarray(Q[:, inv_perm])


def rtn_quantize(w: np.ndarray, scale: np.ndarray, bits: int) -> np.ndarray:
    """Round to nearest with the same scales (what GPTQ improves on)."""
    qmax = qmax_of(bits)
    sf = scale.astype(np.float32)
    safe = np.where(sf > 0, sf, np.float32(1.0))[:, None]
    q = np.clip(np.round(np.asarray(w, np.float32) / safe), -qmax, qmax)
    q[sf == 0] = 0
    return q.astype(np.int8)


def dequantize_rows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * scale.astype(np.float32)[:, None]


def h_weighted_error(dw: np.ndarray, H: np.ndarray | None) -> float:
    """tr(ΔW H ΔWᵀ): to first order the loss increase the error ΔW causes (‖ΔW‖² without H)."""
    d = np.asarray(dw, dtype=np.float64)
    if H is None:
        return float(np.sum(d * d))
    return float(np.sum((d @ np.asarray(H, dtype=np.float64)) * d))


# k grid of the "tuned k" variant: the records' k were tuned for int6; at 3-5 bits the error-optimal range of a
# uniform quantizer is much narrower (about 1.7-3.5 std for a Gaussian, wider for heavy tails).
K_GRID = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 11.5, 12.85, 13.0, 14.0, 16.0)


def gptq_best_k(w: np.ndarray, H: np.ndarray | None, bits: int,
                grid=K_GRID) -> tuple[float, np.ndarray, np.ndarray]:
    """(k, codes, fp16 scale) of the k in `grid` whose GPTQ result has the least H-weighted error (first on
    ties)."""
    best = None
    for k in grid:
        s = sdclip_scale(w, k, bits)
        q = gptq_quantize(w, H, s, bits)
        e = h_weighted_error(np.asarray(w, np.float32) - dequantize_rows(q, s), H)
        if best is None or e < best[0]:
            best = (e, k, q, s)
    return best[1], best[2], best[3]
