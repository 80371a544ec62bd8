"""sdcodec: store the weights of compact neural networks in few bytes and give them back exactly.

    import sdcodec
    blob = sdcodec.encode(model.state_dict(), budget=16_000_000, importance={...})
    tensors = sdcodec.decode(blob)                       # {name: numpy array}
    model.load_state_dict(sdcodec.decode(blob, as_torch=True))
    report = sdcodec.inspect(blob)                       # same schema as `sdcodec inspect --json`

Tensors are numpy arrays or torch tensors (any device; they are copied to the CPU). bfloat16 travels as
bfloat16: torch bf16 tensors (or numpy arrays of ml_dtypes.bfloat16) are stored as BF16 and come back as
torch.bfloat16 with as_torch=True, as float32 (exact) by default, or as their raw uint16 bits with
bf16="bits". Errors raise sdcodec.Error (a ValueError) carrying the library's one-line message. The work
runs without the GIL.
"""
import json
import os
import tempfile

import numpy as np

from . import _core

Error = _core.Error

__all__ = ["Error", "encode", "decode", "inspect", "verify", "encode_file", "decode_file", "load", "save"]

_NP_TO_SDC = {"float32": "F32", "float16": "F16", "float64": "F64", "int8": "I8", "uint8": "U8", "int16": "I16",
              "uint16": "U16", "int32": "I32", "uint32": "U32", "int64": "I64", "uint64": "U64", "bool": "BOOL",
              "bfloat16": "BF16"}
_SDC_TO_NP = {v: k for k, v in _NP_TO_SDC.items() if k != "bfloat16"}


def _as_entry(name, value):
    """(name, dtype, shape, bytes) for a numpy array or torch tensor."""
    if type(value).__module__.startswith("torch"):
        import torch
        t = value.detach().to("cpu").contiguous()
        if t.dtype == torch.bfloat16:
            return (name, "BF16", list(t.shape), t.view(torch.int16).numpy().tobytes())
        value = t.numpy()
    a = np.asarray(value)
    if not a.flags.c_contiguous:  # (np.ascontiguousarray would also turn 0-d arrays into 1-d ones)
        a = a.copy(order="C")
    dtype = _NP_TO_SDC.get(a.dtype.name)
    if dtype is None:
        raise Error(f"invalid argument: tensor '{name}': dtype {a.dtype} is not supported")
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return (name, dtype, list(a.shape), a.tobytes())


def encode(tensors, budget=None, importance=None, assets=None, **options):
    """Encodes a mapping name -> array/tensor (a state_dict) to .sdc bytes.

    budget: whole-file byte budget (manifest, banks and assets included); reserve=BYTES keeps some free.
    importance: name -> weights (one value, one per column/input channel, or one per element); the encoder
      minimises the importance-weighted squared error, e.g. with the diagonal of X^T X per input channel.
    assets: name -> bytes (a tokenizer, a config), stored losslessly and counted in the budget.
    options: the CLI's encode options with underscores: method ("scalar", "codebook", "raw"), bits, group,
      target_snr, distortion, k, dim, codebooks, per_tensor_banks, lambda, residuals, kmeans_iters, beam, seed,
      device, zstd_level, raw_dtype, min_numel, alignment, roles ({glob: role}), reserve.
    """
    if budget is not None:
        options["budget"] = int(budget)
    items = [_as_entry(n, v) for n, v in tensors.items()]
    imp = []
    for n, v in (importance or {}).items():
        a = v.detach().to("cpu").float().numpy() if type(v).__module__.startswith("torch") else np.asarray(v)
        imp.append(_as_entry(n, np.ascontiguousarray(a, dtype=np.float32)))
    blobs = [(n, bytes(b)) for n, b in (assets or {}).items()]
    return _core.encode(items, imp, blobs, json.dumps(options))


def _to_array(dtype, shape, data, bf16, as_torch):
    if dtype == "BF16":
        bits = np.frombuffer(data, dtype="<u2").reshape(shape)
        if as_torch:
            import torch
            return torch.from_numpy(bits.astype(np.int16)).view(torch.bfloat16)
        if bf16 == "bits":
            return bits.copy()
        return (bits.astype(np.uint32) << 16).view(np.float32)  # exact: bf16 is the top half of a float32
    if dtype not in _SDC_TO_NP:  # F8 and other dtypes numpy lacks: the raw bytes
        a = np.frombuffer(data, dtype=np.uint8).copy()
    else:
        a = np.frombuffer(data, dtype=np.dtype(_SDC_TO_NP[dtype]).newbyteorder("<")).reshape(shape).copy()
    if as_torch:
        import torch
        return torch.from_numpy(a)
    return a


def decode(data, as_torch=False, bf16="float32", with_assets=False, max_tensor_bytes=0, max_output_bytes=0):
    """Decodes .sdc bytes to {name: array} (or torch tensors with as_torch=True), every hash checked.
    with_assets=True returns (tensors, assets). Limits of 0 keep the decoder's safe defaults."""
    if bf16 not in ("float32", "bits"):
        raise Error("invalid argument: bf16 must be 'float32' or 'bits'")
    tensors, assets = _core.decode(bytes(data), max_tensor_bytes, max_output_bytes)
    out = {n: _to_array(d, s, b, bf16, as_torch) for n, d, s, b in tensors}
    return (out, dict(assets)) if with_assets else out


def inspect(data):
    """The byte report (schema sdcodec.inspect/1, the same as `sdcodec inspect --json`)."""
    return json.loads(_core.inspect(bytes(data)))


def verify(data, max_tensor_bytes=0, max_output_bytes=0):
    """Decodes everything and checks every hash, keeping nothing; raises Error on any problem."""
    _core.verify(bytes(data), max_tensor_bytes, max_output_bytes)


def save(data, path):
    """Writes bytes to path atomically (temporary file in the same directory, then rename)."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".sdcodec-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path, **kwargs):
    """decode() of a file."""
    with open(path, "rb") as f:
        return decode(f.read(), **kwargs)


decode_file = load


def encode_file(tensors, path, **kwargs):
    """encode() to a file, written atomically; returns the number of bytes."""
    data = encode(tensors, **kwargs)
    save(data, path)
    return len(data)
