"""sdcodec: store the weights of compact neural networks in few bytes and give them back exactly.

    import sdcodec
    blob = sdcodec.encode(model.state_dict(), budget=16_000_000, importance={...})
    tensors = sdcodec.decode(blob)                       # {name: numpy array}
    model.load_state_dict(sdcodec.decode(blob, as_torch=True))
    report = sdcodec.inspect(blob)                       # same schema as `sdcodec inspect --json`

Tensors are numpy arrays or torch tensors (any device; they are copied to the CPU); names, shapes and
dtypes come back exactly. bfloat16 travels as bfloat16: torch bf16 tensors (or numpy arrays of
ml_dtypes.bfloat16, or a .safetensors file's BF16 tensors) are stored as BF16 and come back as
torch.bfloat16 with as_torch=True, as float32 (exact) by default, or as their raw uint16 bits with
bf16="bits". The 8-bit floats (F8_E4M3, F8_E5M2) come back as their uint8 bits (torch.float8_e4m3fn /
float8_e5m2 with as_torch=True). Errors raise sdcodec.Error (a ValueError) carrying the library's one-line
message. Encoding, decoding and verifying run without the GIL.

Files: encode_file(tensors_or_safetensors_path, out) and decode_file(path[, out_safetensors]) write
atomically (a temporary file in the target's directory, renamed into place) and refuse an output path that
names their input; load(path) decodes a file; save(data, path) writes bytes atomically.
"""
import json
import os
import tempfile

import numpy as np

from . import _core
from .calibration import HessianAccumulator, calibrate, fisher_sensitivities, sensitivities, squared_gradients

Error = _core.Error

__all__ = ["Error", "HessianAccumulator", "calibrate", "fisher_sensitivities", "sensitivities", "squared_gradients", "encode", "decode", "inspect", "verify", "encode_file", "decode_file", "load", "save",
           "read_safetensors"]

_NP_TO_SDC = {"float32": "F32", "float16": "F16", "float64": "F64", "int8": "I8", "uint8": "U8", "int16": "I16",
              "uint16": "U16", "int32": "I32", "uint32": "U32", "int64": "I64", "uint64": "U64", "bool": "BOOL",
              "bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2"}  # (the last three: ml_dtypes)
_SDC_TO_NP = {v: k for k, v in _NP_TO_SDC.items() if k not in ("bfloat16", "float8_e4m3fn", "float8_e5m2")}
_TORCH_BITS = {"bfloat16": ("BF16", "int16"), "float8_e4m3fn": ("F8_E4M3", "uint8"), "float8_e5m2": ("F8_E5M2", "uint8")}


def _as_entry(name, value):
    """(name, dtype, shape, bytes) for a numpy array or torch tensor."""
    if type(value).__module__.startswith("torch"):
        import torch
        t = value.detach().to("cpu").contiguous()
        bits = _TORCH_BITS.get(str(t.dtype).replace("torch.", ""))
        if bits is not None:  # dtypes numpy lacks: their bit patterns
            return (name, bits[0], list(t.shape), t.view(getattr(torch, bits[1])).numpy().tobytes())
        value = t.numpy()
    a = np.asarray(value)
    if not a.flags.c_contiguous:  # (np.ascontiguousarray would also turn 0-d arrays into 1-d ones)
        a = a.copy(order="C")
    dtype = _NP_TO_SDC.get(a.dtype.name)
    if dtype is None:
        raise Error(f"invalid argument: tensor '{name}': dtype {a.dtype} is not supported")
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return (name, dtype, list(a.shape), a.tobytes())


def encode(tensors, budget=None, importance=None, assets=None, hessians=None, **options):
    """Encodes a mapping name -> array/tensor (a state_dict) to .sdc bytes.

    budget: whole-file byte budget (manifest, banks and assets included); reserve=BYTES keeps some free.
    importance: name -> weights (one value, one per column/input channel, or one per element); the encoder
      minimises the importance-weighted squared error, e.g. with the diagonal of X^T X per input channel.
    assets: name -> bytes (a tokenizer, a config), stored losslessly and counted in the budget.
    hessians: name -> square [in, in] matrix H = E[x xᵀ] over the inputs of that 2-D weight (calibrate() makes
      them): loss-aware coding with error feedback through H, each row's error measured as ΔW_r H ΔW_rᵀ
      (relative to the row's mean square by default; sensitivity={name: a} from sensitivities() makes it a·tr(ΔW H ΔWᵀ)).
    options: the encode options, the CLI's names with underscores (listed below, from the same table as
      `sdcodec encode --help`); an unknown name or a value out of range raises sdcodec.Error.
    """
    return _encode_entries([_as_entry(n, v) for n, v in tensors.items()], budget, importance, assets, options,
                           hessians)


encode.__doc__ += "\n    Options (default):\n" + "".join(
    f"      {key}: {help} ({default})\n" for key, help, default in _core.option_table())


def _float_entries(mapping):
    """name -> float32 entries for calibration data (importance, Hessians) given as arrays or torch tensors."""
    out = []
    for n, v in (mapping or {}).items():
        a = v.detach().to("cpu").float().numpy() if type(v).__module__.startswith("torch") else np.asarray(v)
        out.append(_as_entry(n, np.ascontiguousarray(a, dtype=np.float32)))
    return out


def _encode_entries(items, budget, importance, assets, options, hessians=None):
    if budget is not None:
        options["budget"] = int(budget)
    blobs = [(n, bytes(b)) for n, b in (assets or {}).items()]
    return _core.encode(items, _float_entries(importance), _float_entries(hessians), blobs, json.dumps(options))


def _to_array(dtype, shape, data, bf16, as_torch):
    if dtype == "BF16":
        bits = np.frombuffer(data, dtype="<u2").reshape(shape)
        if as_torch:
            import torch
            return torch.from_numpy(bits.astype(np.int16)).view(torch.bfloat16)
        if bf16 == "bits":
            return bits.copy()
        return (bits.astype(np.uint32) << 16).view(np.float32)  # exact: bf16 is the top half of a float32
    if dtype in ("F8_E4M3", "F8_E5M2"):  # numpy has no 8-bit floats: their bits
        a = np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()
        if as_torch:
            import torch
            return torch.from_numpy(a).view(torch.float8_e4m3fn if dtype == "F8_E4M3" else torch.float8_e5m2)
        return a
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


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def save(data, path):
    """Writes bytes to path atomically (a temporary file in the same directory, fsynced, then renamed):
    readers see the old file or the new one, never a part."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".sdcodec-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_safetensors(path):
    """A .safetensors file's tensors as {name: array} (every dtype; see decode for bf16 and F8), validated by
    the library's reader."""
    with open(path, "rb") as f:
        entries, _ = _core.parse_safetensors(f.read())
    return {n: _to_array(d, s, b, "float32", False) for n, d, s, b in entries}


def load(path, **kwargs):
    """decode() of an .sdc file: {name: array} (kwargs as for decode)."""
    with open(path, "rb") as f:
        return decode(f.read(), **kwargs)


def decode_file(path, out=None, **kwargs):
    """Without out: load(path). With out: the decoded tensors written to the .safetensors file `out`
    (atomically; every dtype kept, bf16 as bf16), refusing an `out` that names `path`; returns its size."""
    if out is None:
        return load(path, **kwargs)
    if _same_file(path, out):
        raise Error(f"invalid argument: output '{os.fspath(out)}' is the input file")
    with open(path, "rb") as f:
        tensors, _ = _core.decode(f.read(), kwargs.pop("max_tensor_bytes", 0), kwargs.pop("max_output_bytes", 0))
    if kwargs:
        raise TypeError(f"decode_file() got unexpected keyword arguments {sorted(kwargs)}")
    data = _core.serialize_safetensors(tensors, {})
    save(data, out)
    return len(data)


def encode_file(tensors, path, **kwargs):
    """encode() to the file `path`, written atomically; returns the number of bytes. `tensors` is a mapping
    (a state_dict) or the path of a .safetensors file (read with every dtype kept, as `sdcodec encode` does);
    a `path` that names that input file is refused."""
    if isinstance(tensors, (str, os.PathLike)):
        if _same_file(tensors, path):
            raise Error(f"invalid argument: output '{os.fspath(path)}' is the input file")
        with open(tensors, "rb") as f:
            entries, _ = _core.parse_safetensors(f.read())
        data_args = {k: kwargs.pop(k, None) for k in ("budget", "importance", "assets", "hessians")}
        data = _encode_entries(entries, data_args["budget"], data_args["importance"], data_args["assets"], kwargs,
                               data_args["hessians"])
    else:
        data = encode(tensors, **kwargs)
    save(data, path)
    return len(data)
