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


def test_fisher_sensitivities_match_the_probes_on_a_likelihood_model():
    """Linear-Gaussian regression y = W* x + σ ε, loss = the mean negative log-likelihood: at W* the loss's
    curvature per unit of H-weighted error is ½/σ², which the probes recover exactly and the diagonal Fisher
    of batch gradients recovers up to sampling noise (it equals the Hessian in expectation here)."""
    rng = np.random.default_rng(4)
    n, batch = 40000, 4
    x = rng.standard_normal((n, 8)) @ rng.standard_normal((8, 8)) * 0.3  # correlated inputs
    sigma = {"a.weight": 0.5, "b.weight": 2.0}
    w_star = {"a.weight": rng.standard_normal((3, 8)), "b.weight": rng.standard_normal((5, 8))}
    eps = {k: rng.standard_normal((n, w.shape[0])) for k, w in w_star.items()}
    y = {k: x @ w.T + sigma[k] * eps[k] for k, w in w_star.items()}
    hess = {k: x.T @ x / n for k in w_star}

    def loss(weights):
        return sum(0.5 * np.mean(np.sum((y[k] - x @ weights[k].astype(np.float64).T) ** 2, axis=1)) / sigma[k] ** 2
                   for k in w_star)

    squared = {}
    for k in w_star:  # the gradient of each batch's mean loss at W*: −mean(ε xᵀ) / σ
        g = -np.einsum("bsi,bsj->bij", eps[k].reshape(-1, batch, eps[k].shape[1]), x.reshape(-1, batch, 8)) / batch
        squared[k] = np.mean((g / sigma[k]) ** 2, axis=0)
    fisher = sdcodec.fisher_sensitivities(squared, w_star, hess, tokens_per_batch=batch)
    probes = sdcodec.sensitivities(loss, w_star, hess)
    for k in w_star:
        assert probes[k] == pytest.approx(0.5 / sigma[k] ** 2, rel=1e-3), k
        assert fisher[k] == pytest.approx(0.5 / sigma[k] ** 2, rel=0.05), k
    # Without a Hessian the error is plain Σ Δ²; a gradient of the wrong size is refused.
    plain = sdcodec.fisher_sensitivities({"a.weight": np.ones((3, 8))}, w_star)
    assert plain["a.weight"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="squared gradient 'a.weight': 8 elements for a weight of 24"):
        sdcodec.fisher_sensitivities({"a.weight": np.ones(8)}, w_star)


def test_squared_gradients_of_a_torch_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False))
    batches = [(torch.randn(6, 4), torch.randn(6, 3)) for _ in range(3)]

    def loss_fn(m, b):
        return ((m(b[0]) - b[1]) ** 2).mean()

    g2 = sdcodec.squared_gradients(model, batches, loss_fn)
    want = 0
    for x, y in batches:  # d/dW mean((W x - y)^2) over 6 x 3 outputs = 2 (W x - y)ᵀ x / 18
        r = (x @ model[0].weight.T - y).detach().double()
        want = want + (2 * r.T @ x.double() / 18) ** 2
    np.testing.assert_allclose(g2["0.weight"], (want / 3).numpy(), rtol=1e-9)
    assert model[0].weight.grad is None  # cleared afterwards
