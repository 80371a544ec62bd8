"""The loader the submission kit appends to its single-file decoder (sdcodec.minify.join): an artifact back to a
torch state_dict, or numpy arrays, with nothing but that file, numpy and zstandard (and torch for tensors).

    from sdc_decoder import load
    model.load_state_dict(load("model.sdc"))              # every hash checked; ValueError on a bad file
    tensors, assets = load("model.sdc", as_torch=False, with_assets=True)

dtypes as sdcodec.decode gives them: bfloat16 as torch.bfloat16 (numpy: exact float32), the 8-bit floats as
torch float8 (numpy: their uint8 bits). Within the package it runs on the installed reference decoder.
"""
import numpy as np

from ._reference_decoder import decode_named


def load(file, as_torch=True, with_assets=False):
    """`file`: a path, or the artifact's bytes."""
    if not isinstance(file, (bytes, bytearray, memoryview)):
        with open(file, "rb") as f:
            file = f.read()
    tensors, assets = decode_named(file)
    out = {}
    for name, (dtype, _, a) in tensors.items():
        if as_torch:
            import torch
            view = {"BF16": torch.bfloat16, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}.get(dtype)
            t = torch.from_numpy((a.view(np.int16) if dtype == "BF16" else a).copy())  # (decoded arrays are read-only)
            out[name] = t.view(view) if view else t
        elif dtype == "BF16":
            out[name] = (a.astype(np.uint32) << 16).view(np.float32)  # exact: bf16 is a float32's top half
        else:
            out[name] = a
    return (out, assets) if with_assets else out
