#!/usr/bin/env python3
"""A trainer's round trip with the sdcodec package: stories260K (../shared/models) loaded into a small
PyTorch Llama, its state_dict encoded to a byte budget, decoded and loaded back, and bits per byte measured
before and after — once with the default (relative) error weighting and once with importance collected
from activations (the mean square of each linear layer's input, per input channel: the diagonal of XᵀX / n,
which is what the squared error of that layer's output weighs each weight column by).

    python3 examples/train_roundtrip.py [--budget 110000] [--method scalar|codebook] [--backend auto|torch|numpy]

Needs the sdcodec package (pip install .) and, for the PyTorch path, torch. Without torch (or with
--backend numpy) the same steps run on bench/llama2c_eval.py's numpy forward pass: the state dict is a dict
of numpy arrays, activations are recorded at the same matrix products, and the decoded arrays are scored
by the same evaluation; the table says which ran. Prints one table.
"""
import argparse
import pathlib
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the numpy path below still runs
    torch = F = None

import sdcodec

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import llama2c_eval  # noqa: E402  (the reference numpy model, tokenizer and evaluation text)


class Llama(torch.nn.Module if torch is not None else object):
    """llama2.c's model in torch, parameters under the converter's tensor names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, hd, kv = cfg.dim, cfg.hidden_dim, cfg.kv_dim
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)  # noqa: E731
        self.tok_embeddings = torch.nn.Embedding(cfg.vocab_size, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(cfg.n_layers):
            block = torch.nn.Module()
            block.attention = torch.nn.Module()
            block.attention.wq, block.attention.wk, block.attention.wv, block.attention.wo = lin(d, d), lin(d, kv), lin(d, kv), lin(d, d)
            block.feed_forward = torch.nn.Module()
            block.feed_forward.w1, block.feed_forward.w2, block.feed_forward.w3 = lin(d, hd), lin(hd, d), lin(d, hd)
            block.attention_norm = torch.nn.Module()
            block.attention_norm.weight = torch.nn.Parameter(torch.ones(d))
            block.ffn_norm = torch.nn.Module()
            block.ffn_norm.weight = torch.nn.Parameter(torch.ones(d))
            self.layers.append(block)
        self.norm = torch.nn.Module()
        self.norm.weight = torch.nn.Parameter(torch.ones(d))
        hs = cfg.head_size
        freq = 1.0 / torch.pow(torch.tensor(llama2c_eval.ROPE_THETA, dtype=torch.float32),
                               torch.arange(0, hs, 2, dtype=torch.float32) / hs)
        self.register_buffer("freq", freq, persistent=False)
        self.classifier_input = None  # set on each forward: what the tied head multiplies

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * w

    def rope(self, x):
        t = torch.arange(x.shape[1], dtype=torch.float32)[:, None] * self.freq[None, :]  # [T, hs/2]
        cos, sin = torch.cos(t)[None, :, None, :], torch.sin(t)[None, :, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

    def forward(self, tokens):
        c = self.cfg
        B, T = tokens.shape
        x = self.tok_embeddings(tokens)
        for blk in self.layers:
            h = self.rms(x, blk.attention_norm.weight)
            q = self.rope(blk.attention.wq(h).view(B, T, c.n_heads, c.head_size))
            k = self.rope(blk.attention.wk(h).view(B, T, c.n_kv_heads, c.head_size))
            v = blk.attention.wv(h).view(B, T, c.n_kv_heads, c.head_size)
            rep = c.n_heads // c.n_kv_heads
            k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)
            o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
            x = x + blk.attention.wo(o.transpose(1, 2).reshape(B, T, c.dim))
            h = self.rms(x, blk.ffn_norm.weight)
            x = x + blk.feed_forward.w2(F.silu(blk.feed_forward.w1(h)) * blk.feed_forward.w3(h))
        self.classifier_input = self.rms(x, self.norm.weight)
        return self.classifier_input @ self.tok_embeddings.weight.T


def bits_per_byte(model, tokens, nbytes):
    with torch.no_grad():
        logits = model(torch.from_numpy(tokens[:, :-1]))
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(tokens[:, 1:]).reshape(-1),
                              reduction="sum")
    return float(nll) / np.log(2) / nbytes


def collect_importance(model, tokens):
    """Per linear weight: mean of x² over every position, per input channel (one value per weight column);
    for the tied embedding, the same statistic of the classifier's input."""
    sums, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            def hook(m, inp, out, key=name + ".weight"):
                x = inp[0].detach().reshape(-1, inp[0].shape[-1])
                sums[key] = sums.get(key, 0) + (x * x).mean(0)
            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.from_numpy(tokens))
    for h in hooks:
        h.remove()
    x = model.classifier_input.reshape(-1, model.cfg.dim)
    sums["tok_embeddings.weight"] = (x * x).mean(0)
    return {k: v.numpy().astype(np.float32) for k, v in sums.items()}


class TorchBackend:
    """The state_dict of a torch module; activations from forward hooks; decoded with as_torch=True."""
    name = "torch"

    def __init__(self, state, ev):
        self.cfg = llama2c_eval.config_from_state(state)
        self.model = Llama(self.cfg)
        self.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
        self.model.eval()
        self.ev = ev
        self.base = bits_per_byte(self.model, ev.tokens, ev.nbytes)
        assert abs(self.base - ev.ref_bpb) < 1e-3, (self.base, ev.ref_bpb)  # the torch model is the reference model

    def state_dict(self):
        return self.model.state_dict()

    def importance(self, calib):
        return collect_importance(self.model, calib)

    def bpb_after(self, blob):
        restored = Llama(self.cfg)
        restored.load_state_dict(sdcodec.decode(blob, as_torch=True), strict=True)
        restored.eval()
        return bits_per_byte(restored, self.ev.tokens, self.ev.nbytes)


class _Recorder:
    """Stands in for a weight matrix W of llama2c_eval.Model, which computes x @ W (W = weight.T): records
    the mean of x² per input channel (a weight column) under the weight's name, then multiplies."""
    __array_ufunc__ = None  # makes numpy hand `x @ recorder` to __rmatmul__

    def __init__(self, w, key, sums):
        self.w, self.key, self.sums = w, key, sums

    def __rmatmul__(self, x):
        x2 = x.reshape(-1, x.shape[-1]).astype(np.float64)
        self.sums[self.key] = self.sums.get(self.key, 0) + (x2 * x2).mean(0)
        return x @ self.w


class _TiedHead:
    """The classifier matrix, used as x @ cls.T."""

    def __init__(self, w, key, sums):
        self.T = _Recorder(w.T, key, sums)


class NumpyBackend:
    """A dict of numpy arrays; activations recorded in bench/llama2c_eval.py's numpy forward pass."""
    name = "numpy (torch not used: bench/llama2c_eval.py's forward pass)"

    def __init__(self, state, ev):
        self.state, self.ev = state, ev
        self.base = ev.bpb(state)

    def state_dict(self):
        return self.state

    def importance(self, calib):
        m = llama2c_eval.Model(self.state)
        sums = {}
        for part, names in (("attention", ("wq", "wk", "wv", "wo")), ("feed_forward", ("w1", "w2", "w3"))):
            for n in names:
                mats = getattr(m, n)
                for i in range(m.cfg.n_layers):
                    mats[i] = _Recorder(mats[i], f"layers.{i}.{part}.{n}.weight", sums)
        head = "output.weight" if "output.weight" in self.state else "tok_embeddings.weight"
        m.cls = _TiedHead(m.cls, head, sums)
        m.logits(calib)
        return {k: v.astype(np.float32) for k, v in sums.items()}

    def bpb_after(self, blob):
        back = sdcodec.decode(blob)
        assert {k: (v.dtype, v.shape) for k, v in back.items()} == {k: (v.dtype, v.shape) for k, v in self.state.items()}
        return self.ev.bpb(back)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=int, default=110_000)
    ap.add_argument("--method", default="scalar", choices=["scalar", "codebook"])
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "numpy"],
                    help="auto: torch when it is installed, else numpy")
    ap.add_argument("--calibration-seed", type=int, default=99)
    a = ap.parse_args()
    if a.backend == "torch" and torch is None:
        ap.error("--backend torch: torch is not installed (pip install torch), or use --backend numpy")
    use_torch = torch is not None and a.backend != "numpy"
    if use_torch:
        torch.manual_seed(0)
    state = llama2c_eval.stories_state()
    ev = llama2c_eval.Evaluator(state)
    backend = (TorchBackend if use_torch else NumpyBackend)(state, ev)
    base = backend.base
    # Importance from different text than the evaluation's: sequences sampled with another seed.
    calib = llama2c_eval.sample(state, 8, 256, seed=a.calibration_seed)
    importance = backend.importance(calib)
    params = sum(np.asarray(v).size for v in state.values())
    rows = [("float32 (no compression)", 4 * params, base, None)]
    options = {"method": a.method} if a.method == "scalar" else {"method": "codebook", "k": 256, "dim": 4}
    # Activation statistics say which input channels matter within a layer; across layers their scale is not
    # comparable (a layer's output error reaches the loss through the rest of the network), so each layer's
    # per-channel importance is scaled to mean 1 and multiplied by the default per-row weight 1/mean(w_row²)
    # (every output channel's relative error counts the same): one weight per element.
    per_element = {}
    for name, col in importance.items():
        w = np.asarray(state[name], dtype=np.float64)
        row = 1.0 / np.maximum((w * w).mean(1, keepdims=True), 1e-30)
        per_element[name] = (row * (col / col.mean())[None, :]).astype(np.float32)
    for label, kwargs in (("budget, default weighting", {}),
                          ("budget, activation importance", {"importance": per_element})):
        t = time.perf_counter()
        blob = sdcodec.encode(backend.state_dict(), budget=a.budget, **options, **kwargs)
        secs = time.perf_counter() - t
        assert len(blob) <= a.budget, (len(blob), a.budget)
        rows.append((label, len(blob), backend.bpb_after(blob), secs))
    print(f"stories260K round trip through sdcodec ({a.method}, budget {a.budget:,} bytes; model run by {backend.name}); "
          f"evaluation: {ev.describe()}")
    print(f"{'':34} {'bytes':>10} {'bits/weight':>12} {'bpb':>8} {'Δbpb':>8} {'encode s':>9}")
    for label, nbytes, bpb, secs in rows:
        print(f"{label:34} {nbytes:>10,} {8 * nbytes / params:>12.3f} {bpb:>8.4f} {bpb - base:>+8.4f} "
              f"{'' if secs is None else f'{secs:9.2f}'}")


if __name__ == "__main__":
    main()
