"""Calibration for loss-aware encoding: the Hessians E[x xᵀ] of every layer's inputs, and per-tensor loss
sensitivities.

    hessians = sdcodec.calibrate(model, batches)                      # torch: hooks on every nn.Linear
    sens = sdcodec.sensitivities(loss_fn, weights, hessians)          # any framework: loss_fn(weights) -> float
    blob = sdcodec.encode(weights, budget=..., hessians=hessians, sensitivity=sens)

Why: to first order a model's loss grows with tr(ΔW H ΔWᵀ) for each 2-D weight W (H over its inputs), not with
‖ΔW‖²; and by a factor that differs from tensor to tensor (how much the loss feels that layer's output error).
The encoder rounds with error feedback through H and spends bytes where sensitivity × tr(ΔW H ΔWᵀ) falls most.

Costs: calibrate() is one forward pass per batch plus, per linear layer and batch, an [in, in] product of the
layer's inputs (float64); sensitivities() evaluates the loss 1 + 2·probes times per tensor (default probes=2:
five forward passes over the calibration data per tensor); fisher_sensitivities() needs only the mean squared
gradient of each tensor over the calibration batches, one backward pass per batch for all tensors together
(on the proving ground: 18-32 s against 7-29 min for the probes, bench/results/sensitivity_proxies.md).
"""
import numpy as np


class HessianAccumulator:
    """Running H = E[x xᵀ] per name, accumulated in float64 over every row of every x added."""

    def __init__(self):
        self._sum, self._count = {}, {}

    def add(self, name, x):
        """x: [..., in] (numpy, or anything np.asarray takes); every leading index is one sample."""
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(-1, x.shape[-1])
        self.add_moment(name, x.T @ x, x.shape[0])

    def add_moment(self, name, xtx, count):
        """A precomputed Σ x xᵀ over `count` samples (e.g. computed on a GPU in float64)."""
        xtx = np.asarray(xtx, dtype=np.float64)
        if name in self._sum:
            if self._sum[name].shape != xtx.shape:
                raise ValueError(f"Hessian '{name}': inputs of width {xtx.shape[0]} after {self._sum[name].shape[0]}")
            self._sum[name] += xtx
            self._count[name] += count
        else:
            self._sum[name] = xtx.copy()
            self._count[name] = count

    def hessians(self):
        """{name: float32 [in, in]}: the mean over every sample added (the --hessians format)."""
        return {k: (s / max(self._count[k], 1)).astype(np.float32) for k, s in self._sum.items()}


def calibrate(model, batches, heads=None, forward=None):
    """Hessians of a torch model: H = E[x xᵀ] of the input of every torch.nn.Linear, named as its weight is in
    model.state_dict(), over every batch (run as model(batch), or forward(model, batch), under no_grad).

    heads: {weight name: module} for weights applied as a bare matmul rather than through nn.Linear — a tied
    embedding used as the output head, say {"tok_embeddings.weight": model.norm}: that module's output is the
    hidden state the head multiplies, so its E[h hᵀ] is that weight's Hessian. A weight used several times (a
    looped block) gets the mean over all its uses."""
    import torch

    acc = HessianAccumulator()
    names = {id(p): n for n, p in model.named_parameters()}
    for n, b in model.named_buffers():
        names.setdefault(id(b), n)
    hooks = []

    def tap(weight_name):
        def hook(module, inputs, output=None):
            x = (inputs[0] if output is None else output).detach()
            x = x.reshape(-1, x.shape[-1]).to(torch.float64)
            acc.add_moment(weight_name, (x.T @ x).cpu().numpy(), x.shape[0])
        return hook

    try:
        for module in model.modules():
            if isinstance(module, torch.nn.Linear) and id(module.weight) in names:
                hooks.append(module.register_forward_pre_hook(tap(names[id(module.weight)])))
        for weight_name, module in (heads or {}).items():
            h = tap(weight_name)
            hooks.append(module.register_forward_hook(lambda m, i, o, h=h: h(m, i, o)))
        with torch.no_grad():
            for batch in batches:
                forward(model, batch) if forward else model(batch)
    finally:
        for h in hooks:
            h.remove()
    return acc.hessians()


def sensitivities(loss, weights, hessians=None, names=None, snr_db=25.0, probes=2, seed=0):
    """Per tensor, the loss's increase per unit of error: a_t = [L(W+Δ) + L(W−Δ) − 2 L(W)] / (2 tr(Δ H Δᵀ)),
    averaged over `probes` random Gaussian Δ scaled to `snr_db` below the tensor (tr(W H Wᵀ) / tr(Δ H Δᵀ)).
    The two-sided difference cancels the gradient's term, leaving the curvature along Δ; with a Hessian H the
    error is H-weighted (what the encoder measures for that tensor), else plain (H = I).

    loss: weights -> float (e.g. mean cross-entropy on calibration text; never the held-out text);
    weights: {name: array}; names: the tensors to probe (default: every one with a Hessian, else every 2-D one).
    Returns {name: a_t} for encode(sensitivity=...), none below 1 % of the median (noise can make a small
    curvature read negative). Deterministic for a given seed."""
    hessians = hessians or {}
    weights = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
    if names is None:
        names = [k for k in weights if k in hessians] or [k for k, v in weights.items() if v.ndim == 2]
    base = float(loss(weights))
    out = {}
    for i, name in enumerate(names):
        w = weights[name].astype(np.float64)
        h = np.asarray(hessians[name], dtype=np.float64) if name in hessians else None
        flat = w.reshape(-1, w.shape[-1]) if w.ndim >= 2 else w.reshape(1, -1)

        def measure(d, flat=flat, h=h):
            d = d.reshape(flat.shape)
            return float(np.einsum("ij,jk,ik->", d, h, d)) if h is not None else float(np.sum(d * d))

        signal = measure(flat)
        if signal <= 0:
            out[name] = 0.0
            continue
        rng = np.random.default_rng([seed, i])
        total = 0.0
        for _ in range(probes):
            z = rng.standard_normal(flat.shape)
            d = z * np.sqrt(signal * 10.0 ** (-snr_db / 10.0) / measure(z))
            err = measure(d)
            d = d.reshape(w.shape)
            up = float(loss({**weights, name: (w + d).astype(np.float32)}))
            down = float(loss({**weights, name: (w - d).astype(np.float32)}))
            total += (up + down - 2.0 * base) / (2.0 * err)
        out[name] = total / probes
    # A curvature that noise drove to or below zero would let the allocator starve that tensor: no tensor is
    # rated below 1 % of the median of the positive ones.
    positive = sorted(v for v in out.values() if v > 0)
    floor = 0.01 * positive[len(positive) // 2] if positive else 0.0
    return {k: max(v, floor) for k, v in out.items()}


def squared_gradients(model, batches, loss_fn):
    """{name: E[g ⊙ g]} for every parameter of a torch model that gets a gradient, the mean over `batches` of
    each batch gradient squared element-wise (float64 accumulation), named as in model.named_parameters() (a
    tied weight once, under its first name). loss_fn(model, batch) -> the batch's scalar loss, a mean over its
    tokens. One forward and one backward pass per batch; the model's gradients are cleared before each. For
    fisher_sensitivities(..., tokens_per_batch=tokens in each batch)."""
    acc, n = {}, 0
    for batch in batches:
        model.zero_grad(set_to_none=True)
        loss_fn(model, batch).backward()
        for name, p in model.named_parameters():
            if p.grad is not None:
                g = p.grad.detach().double()
                acc[name] = acc[name] + g * g if name in acc else g * g
        n += 1
    model.zero_grad(set_to_none=True)
    return {k: (v / max(n, 1)).cpu().numpy() for k, v in acc.items()}


def fisher_sensitivities(squares, weights, hessians=None, tokens_per_batch=1):
    """Per tensor, the loss's increase per unit of error from the diagonal Fisher: with F = E[g ⊙ g], the mean
    over calibration batches of each gradient squared element-wise, an error Δ of equal variance everywhere
    raises the loss by about ½ Σ F Δ² (Gauss-Newton), against the encoder's measured error tr(Δ H Δᵀ) (rows ×
    tr H per unit variance) or Σ Δ² without a Hessian:  a_t = ½ · tokens_per_batch · Σ F / (rows · tr H).

    squares: {name: array like the weight}, E[g²] of the mean loss over each batch's tokens (squared_gradients()
    for a torch model; any framework: the mean of each batch gradient squared); tokens_per_batch: the tokens each
    of those losses averaged, which puts a_t on the loss's own scale (as sensitivities() measures it), else a_t
    is right up to one factor common to every tensor, which is all the allocation needs when every quantized
    tensor has one. Returns {name: a_t} for encode(sensitivity=...), for every name with a squared gradient.
    Cost: the backward passes that made `squares`. Why it suffices: on the proving ground it ranks
    tensors as the probes do (bench/results/sensitivity_proxies.md)."""
    hessians = hessians or {}
    out = {}
    for name, f in squares.items():
        f = np.asarray(f, dtype=np.float64)
        w = np.asarray(weights[name])
        if f.size != w.size:
            raise ValueError(f"squared gradient '{name}': {f.size} elements for a weight of {w.size}")
        rows = w.size // w.shape[-1] if w.ndim >= 1 and w.shape[-1] else 1
        if name in hessians:
            per_unit = rows * float(np.trace(np.asarray(hessians[name], dtype=np.float64)))
        else:
            per_unit = float(w.size)
        out[name] = 0.5 * tokens_per_batch * float(f.sum()) / per_unit if per_unit > 0 else 0.0
    return out
