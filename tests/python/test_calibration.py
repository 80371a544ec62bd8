"""python/sdcodec/calibration.py and loss-aware encoding through the package: Hessians, sensitivities, and the
encoder honouring both."""
import numpy as np
import pytest

import sdcodec


def test_accumulator_is_the_mean_second_moment():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 7, 3)), rng.standard_normal((11, 3))
    acc = sdcodec.HessianAccumulator()
    acc.add("w", a)
    acc.add("w", b)
    x = np.concatenate([a.reshape(-1, 3), b])
    np.testing.assert_allclose(acc.hessians()["w"], (x.T @ x / len(x)).astype(np.float32), rtol=1e-6)
    with pytest.raises(ValueError, match="width 4 after 3"):
        acc.add("w", np.ones((2, 4)))


def _quadratic_loss(w0, hess, curv):
    """L(W) = Σ_t a_t tr((W_t − W0_t) H_t (W_t − W0_t)ᵀ) + a linear term: its curvature per unit of H-error is a_t."""
    def loss(weights):
        total = 0.0
        for name, a in curv.items():
            d = weights[name].astype(np.float64) - w0[name]
            h = hess.get(name, np.eye(d.shape[-1]))
            total += a * np.einsum("ij,jk,ik->", d, h, d) + 0.3 * d.sum()
        return total
    return loss


def test_sensitivities_recover_the_curvature_per_unit_of_error():
    rng = np.random.default_rng(1)
    w0 = {"a": rng.standard_normal((6, 4)), "b": rng.standard_normal((3, 5)), "c": rng.standard_normal((4, 4))}
    x = rng.standard_normal((50, 4))
    hess = {"a": x.T @ x / 50, "c": np.diag([1.0, 4.0, 9.0, 16.0])}
    curv = {"a": 2.5, "b": 0.04, "c": 7.0}
    loss = _quadratic_loss(w0, hess, curv)
    sens = sdcodec.sensitivities(loss, w0, hess, names=["a", "b", "c"])
    for name, a in curv.items():
        assert sens[name] == pytest.approx(a, rel=1e-6), name
    assert sens == sdcodec.sensitivities(loss, w0, hess, names=["a", "b", "c"])  # deterministic
    assert set(sdcodec.sensitivities(loss, w0, hess)) == {"a", "c"}  # default: the tensors with Hessians


def test_sensitivity_steers_the_allocation():
    """The same two tensors under one budget: the one rated far more sensitive gets the better reconstruction."""
    rng = np.random.default_rng(2)
    w = {"a.weight": (rng.standard_normal((64, 64)) * 0.02).astype(np.float32),
         "b.weight": (rng.standard_normal((64, 64)) * 0.02).astype(np.float32)}
    x = rng.standard_normal((400, 64))
    hess = {k: (x.T @ x / 400).astype(np.float32) for k in w}

    def snr(blob, name):
        d = sdcodec.decode(blob)[name].astype(np.float64) - w[name]
        return float(np.einsum("ij,jk,ik->", d, hess[name], d))

    budget = 5000
    first = sdcodec.encode(w, budget=budget, hessians=hess, sensitivity={"a.weight": 100.0, "b.weight": 1.0})
    second = sdcodec.encode(w, budget=budget, hessians=hess, sensitivity={"a.weight": 1.0, "b.weight": 100.0})
    assert len(first) <= budget and len(second) <= budget
    assert snr(first, "a.weight") < snr(first, "b.weight")
    assert snr(second, "b.weight") < snr(second, "a.weight")


def test_bad_hessians_are_refused_naming_the_tensor():
    w = {"a.weight": np.zeros((8, 16), np.float32) + 0.01}
    with pytest.raises(sdcodec.Error, match="tensor 'a.weight'.*expected 16 x 16"):
        sdcodec.encode(w, bits=4, hessians={"a.weight": np.eye(8, dtype=np.float32)})
    with pytest.raises(sdcodec.Error, match="Hessian for 'b.weight': no such tensor"):
        sdcodec.encode(w, bits=4, hessians={"b.weight": np.eye(16, dtype=np.float32)})
    bad = np.eye(16, dtype=np.float32)
    bad[0, 1] = 5.0
    with pytest.raises(sdcodec.Error, match="tensor 'a.weight'.*not symmetric"):
        sdcodec.encode(w, bits=4, hessians={"a.weight": bad})
    with pytest.raises(sdcodec.Error, match="square"):
        sdcodec.encode(w, bits=4, hessians={"a.weight": np.ones((16, 8), np.float32)})


def test_calibrate_hooks_every_linear_layer():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    batches = [torch.randn(5, 4) for _ in range(3)]
    h = sdcodec.calibrate(model, batches, heads={"head.weight": model[1]})
    x = torch.cat(batches).double()
    np.testing.assert_allclose(h["0.weight"], (x.T @ x / 15).numpy(), rtol=1e-5)
    hidden = torch.relu(model[0](torch.cat(batches))).double()
    np.testing.assert_allclose(h["2.weight"], (hidden.T @ hidden / 15).detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(h["head.weight"], h["2.weight"], rtol=1e-6)
