"""The submission kit: everything a byte cap counts, built and counted in one step.

    from sdcodec import submission
    report = submission.build(model.state_dict(), "sub/", scripts=["train_gpt.py"],
                              assets={"tok.model": open("tok.model", "rb").read()})
    print(submission.report_text(report))
    # in the submission:  from sdc_decoder import load;  model.load_state_dict(load("model.sdc"))

Under a cap such as parameter golf's 16,000,000 bytes, the code that loads the weights counts too. build()
writes into `out_dir`:
  model.sdc       the artifact (weights, plus assets such as the tokenizer), fitted to cap - code bytes;
  sdc_decoder.py  one minified file, numpy + zstandard only (torch to return tensors), made mechanically
                  from the reference decoder (spec/reference_decoder.py) and the loader
                  (sdcodec/decoder_loader.py): load(path) gives back a torch state_dict, every hash checked;
  submission.json the byte report (schema sdcodec.submission/1, spec/format.md §13.4).
Code counts as raw bytes on disk (what parameter golf counts) or, with count_code="lzma" / "zlib" / "zstd",
as those compressed bytes (for a submission that ships its code compressed). Encode options pass through
unchanged (method, k, importance, hessians, ...): a fixed setting (`bits` or `target_snr`) is encoded as
given and checked against the room left; otherwise the artifact is fitted to it (`budget` = cap - code,
`reserve` kept free). What cannot fit is refused with the exact overshoot, and no file is written then.
Unless check=False, the artifact is decoded by the written decoder and by the library, and the two must give
identical tensors and assets.

Command line: python3 -m sdcodec.submission MODEL.safetensors -o DIR --script train.py --asset tok=tok.bin
"""
import argparse
import importlib.util
import json
import lzma
import os
import re
import sys
import tempfile
import zlib
from importlib import resources

import numpy as np

from . import Error, decode, encode_file, inspect, minify, read_safetensors, save

DEFAULT_CAP = 16_000_000
ARTIFACT, DECODER, REPORT = "model.sdc", "sdc_decoder.py", "submission.json"
SCHEMA = "sdcodec.submission/1"
_SMALLEST = re.compile(r"the smallest encoding takes (\d+) bytes")


def _compressed_size(data, how):
    if how == "raw":
        return len(data)
    if how == "zlib":
        return len(zlib.compress(data, 9))
    if how == "lzma":
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    if how == "zstd":
        import zstandard
        return len(zstandard.ZstdCompressor(level=22).compress(data))
    raise Error(f"invalid argument: count_code must be raw, zlib, lzma or zstd, not '{how}'")


def decoder_source():
    """The single-file decoder's text: the installed reference decoder and loader, joined and minified."""
    pkg = resources.files(__package__)
    return minify.join(pkg.joinpath("_reference_decoder.py").read_text(),
                       pkg.joinpath("decoder_loader.py").read_text())


def _import_file(path):
    spec = importlib.util.spec_from_file_location("sdc_decoder_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def round_trip(artifact, decoder_path):
    """Decodes `artifact` (bytes) with the decoder file and with the library; raises Error unless every tensor
    (name, dtype, shape, bytes) and asset is identical. Returns the number of tensors compared."""
    mine, mine_assets = _import_file(decoder_path).decode_named(artifact)
    lib, lib_assets = decode(artifact, bf16="bits", with_assets=True)
    if sorted(mine) != sorted(lib) or mine_assets != lib_assets:
        raise Error("internal: the minified decoder and the library disagree on the tensor or asset names")
    for name, (_, shape, a) in mine.items():
        b = lib[name]
        if list(shape) != list(b.shape) or a.tobytes() != np.ascontiguousarray(b).tobytes():
            raise Error(f"internal: the minified decoder and the library differ on tensor '{name}'")
    return len(mine)


def _same_file(a, b):
    a, b = os.fspath(a), os.fspath(b)
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def _json_value(v):
    return v if isinstance(v, (bool, int, float, str, type(None))) or \
        (isinstance(v, list) and all(isinstance(x, (int, float, str)) for x in v)) else f"<{type(v).__name__}>"


def build(model, out_dir, scripts=(), assets=None, cap=DEFAULT_CAP, count_code="raw", check=True, **options):
    """Builds the submission in `out_dir` (created if missing) and returns the byte report (also written there).

    model: a state_dict / mapping name -> array, or the path of a .safetensors file (dtypes kept).
    scripts: paths of the user's code files that count against the cap (read, never written).
    assets: name -> bytes stored losslessly in the artifact (a tokenizer), counted in its bytes.
    options: sdcodec.encode options, passed through unchanged (`budget` is the kit's: pass `cap`).
    """
    if "budget" in options:
        raise Error("invalid argument: the kit sets the budget to cap - code bytes: pass cap, not budget")
    if not isinstance(cap, int) or cap <= 0:
        raise Error(f"invalid argument: cap must be a positive number of bytes, not {cap!r}")
    outputs = [os.path.join(out_dir, n) for n in (ARTIFACT, DECODER, REPORT)]
    inputs = [*scripts] + ([model] if isinstance(model, (str, os.PathLike)) else [])
    for i in inputs:
        for o in outputs:
            if _same_file(i, o):
                raise Error(f"invalid argument: output '{o}' is the input file '{os.fspath(i)}'")

    decoder = decoder_source().encode()
    files = [{"name": DECODER, "kind": "decoder", "bytes": len(decoder),
              "counted": _compressed_size(decoder, count_code)}]
    for path in scripts:
        with open(path, "rb") as f:
            data = f.read()
        files.append({"name": os.path.basename(path), "kind": "script", "bytes": len(data),
                      "counted": _compressed_size(data, count_code)})
    code = sum(f["counted"] for f in files)
    room = cap - code
    what = " + ".join(f"{f['kind']} {f['counted']}" for f in files)
    if room <= 0:
        raise Error(f"budget: the code alone ({what} = {code} bytes) is {-room} bytes over the cap of {cap}")

    if isinstance(model, (str, os.PathLike)) and not os.path.isfile(model):
        raise Error(f"invalid argument: model '{os.fspath(model)}' is not a file")
    os.makedirs(out_dir, exist_ok=True)
    fixed = "bits" in options or "target_snr" in options
    fd, tmp = tempfile.mkstemp(prefix=".sdcodec-", suffix=".sdc", dir=out_dir)
    os.close(fd)
    try:
        try:
            size = encode_file(model, tmp, assets=assets, **({} if fixed else {"budget": room}), **options)
        except Error as e:
            m = _SMALLEST.search(str(e))
            if not m:
                raise
            smallest = int(m.group(1))
            raise Error(f"budget: the smallest artifact takes {smallest} bytes; with the code ({what}) that is "
                        f"{smallest + code} bytes, {smallest + code - cap} over the cap of {cap}") from None
        if size > room:
            raise Error(f"budget: artifact {size} + code ({what}) = {size + code} bytes, "
                        f"{size + code - cap} over the cap of {cap}")
        with open(tmp, "rb") as f:
            artifact = f.read()
        save(decoder, outputs[1])
        tensors = round_trip(artifact, outputs[1]) if check else None
        os.replace(tmp, outputs[0])
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

    files.insert(0, {"name": ARTIFACT, "kind": "artifact", "bytes": size, "counted": size})
    total = size + code
    report = {
        "schema": SCHEMA, "cap": cap, "count_code": count_code,
        "files": files, "code_bytes": code, "artifact_room": room, "total": total, "left": cap - total,
        "artifact_roles": inspect(artifact)["roles"],
        "encode": {"mode": "fixed" if fixed else "fitted", **{k: _json_value(v) for k, v in options.items()},
                   **({} if fixed else {"budget": room})},
        "decoder": {"minifier": minify.minifier_version(), "loader": "load(file, as_torch=True, with_assets=False)"},
        "round_trip": {"checked": check, "tensors": tensors,
                       "result": "identical tensors and assets" if check else "not checked"},
    }
    save((json.dumps(report, indent=2) + "\n").encode(), outputs[2])
    return report


def report_text(r):
    """The byte report as a table."""
    lines = [f"{'file':<28}{'kind':<10}{'bytes':>12}{'counted':>12}"]
    for f in r["files"]:
        lines.append(f"{f['name']:<28}{f['kind']:<10}{f['bytes']:>12,}{f['counted']:>12,}")
    lines += [f"{'total counted':<50}{r['total']:>12,}", f"{'cap':<50}{r['cap']:>12,}",
              f"{'left':<50}{r['left']:>12,}", "",
              f"code counted as {r['count_code']} bytes; artifact {r['encode']['mode']}"
              + (f" to {r['artifact_room']:,} bytes (cap - code)" if r["encode"]["mode"] == "fitted" else ""),
              "artifact by role: " + ", ".join(f"{k} {v:,}" for k, v in r["artifact_roles"].items() if v),
              f"decoder: {r['decoder']['minifier']}; round trip: {r['round_trip']['result']}"
              + (f" ({r['round_trip']['tensors']} tensors)" if r["round_trip"]["checked"] else ""),
              f"to load: from {DECODER[:-3]} import load; model.load_state_dict(load(\"{ARTIFACT}\"))"]
    return "\n".join(lines) + "\n"


def _option(text, tensors):
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise Error(f"invalid argument: expected KEY=VALUE, got '{text}'")
    if tensors:
        return key, read_safetensors(value)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m sdcodec.submission", description=__doc__.split("\n")[0])
    p.add_argument("model", help=".safetensors file with the trained weights")
    p.add_argument("-o", "--out", required=True, help="output folder (artifact, decoder, byte report)")
    p.add_argument("--script", action="append", default=[], help="a code file that counts against the cap")
    p.add_argument("--asset", action="append", default=[], metavar="NAME=PATH", help="stored in the artifact")
    p.add_argument("--cap", type=int, default=DEFAULT_CAP, help="bytes for everything counted (16,000,000)")
    p.add_argument("--count-code", default="raw", choices=["raw", "zlib", "lzma", "zstd"])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an encode option, VALUE as JSON where it parses (bits=6, method=codebook, residuals=[0.02])")
    p.add_argument("--set-tensors", action="append", default=[], metavar="KEY=FILE.safetensors",
                   help="an encode option that takes tensors by name (importance=imp.safetensors, hessians=...)")
    p.add_argument("--no-check", action="store_true", help="skip the round trip through the written decoder")
    p.add_argument("--json", action="store_true", help="print the byte report as JSON")
    a = p.parse_args(argv)
    try:
        assets = {}
        for spec in a.asset:
            name, eq, path = spec.partition("=")
            if not eq or not name:
                raise Error(f"invalid argument: --asset wants NAME=PATH, got '{spec}'")
            with open(path, "rb") as f:
                assets[name] = f.read()
        options = dict([_option(s, False) for s in a.set] + [_option(s, True) for s in a.set_tensors])
        r = build(a.model, a.out, a.script, assets, a.cap, a.count_code, not a.no_check, **options)
    except (Error, OSError, ImportError) as e:
        print(f"sdcodec-submission: {e}", file=sys.stderr)
        return 1
    print(json.dumps(r, indent=2) if a.json else report_text(r), end="\n" if a.json else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
