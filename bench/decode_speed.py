#!/usr/bin/env python3
"""Decode throughput (issue 13): weights per second of `sdcodec verify` (reconstruct and hash every tensor,
write nothing) and of `sdcodec decode` to a safetensors file on tmpfs, for several sdcodec binaries on the
same models in the same run. Each binary decodes the file it encoded itself (an older binary may not read a
newer format), with the same encode arguments; wall time, best of --repeat runs, so a busy machine shows as
slower, never faster.

Usage:
  python3 bench/decode_speed.py --binary before=/tmp/sdcodec-old --binary after=build/sdcodec \\
      [--model NAME=FILE.safetensors]... [--gaussian] [--encode-args '--budget 16000000'] [--repeat 7] [--out FILE.md]

Without --model: MiniLM (work/minilm/model.safetensors, fetched by scripts/main.sh) when present. --gaussian
adds 36 float32 matrices of 1,024 x 1,024 (37.7 M weights, about the records' model size), Gaussian with
per-row scales from a fixed seed (written to a temporary file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import REPO, write_atomic


def params_of(path: Path) -> int:
    """Elements of every tensor in a safetensors file (its header only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for name, h in header.items():
        if name != "__metadata__":
            count = 1
            for d in h["shape"]:
                count *= d
            total += count
    return total


def write_gaussian(path: Path) -> Path:
    import numpy as np
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    save_file({f"blocks.{i}.w": (rng.standard_normal((1024, 1024)) * rng.uniform(0.5, 2, (1024, 1)) * 0.02
                                 ).astype(np.float32) for i in range(36)}, str(path))
    return path


def best_wall(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", action="append", required=True, help="LABEL=PATH of an sdcodec binary")
    ap.add_argument("--model", action="append", default=[], help="NAME=FILE.safetensors")
    ap.add_argument("--gaussian", action="store_true", help="add 36 Gaussian 1,024 x 1,024 matrices")
    ap.add_argument("--encode-args", default="--budget 16000000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    binaries = [b.split("=", 1) for b in a.binary]
    models = [m.split("=", 1) for m in a.model]
    if not models and not a.gaussian:
        minilm = REPO / "work" / "minilm" / "model.safetensors"
        if not minilm.is_file():
            sys.exit("decode_speed: no --model and no MiniLM (run scripts/main.sh first)")
        models = [("MiniLM", str(minilm))]
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    rows = []
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        if a.gaussian:
            models.append(("Gaussian, 36 x 1,024 x 1,024", str(write_gaussian(Path(tmp) / "gaussian.safetensors"))))
        for model, path in models:
            params = params_of(Path(path))
            for label, binary in binaries:
                sdc = Path(tmp) / f"{label}.sdc"
                subprocess.run([binary, "encode", path, "-o", str(sdc), "--quiet", *shlex.split(a.encode_args)],
                               check=True)
                verify = best_wall([binary, "verify", str(sdc)], a.repeat)
                out = Path(tmp) / f"{label}.safetensors"
                decode = best_wall([binary, "decode", str(sdc), "-o", str(out)], a.repeat)
                out.unlink()
                rows.append((model, params, label, sdc.stat().st_size, verify, decode))
                print(f"{model} {label}: {sdc.stat().st_size} bytes; verify {verify:.3f} s "
                      f"({params / verify / 1e6:.0f} M weights/s); decode {decode:.3f} s "
                      f"({params / decode / 1e6:.0f} M weights/s)", flush=True)
    lines = [
        "# Decode throughput",
        "",
        f"- command: `python3 bench/decode_speed.py {shlex.join(sys.argv[1:])}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; wall time, best of {a.repeat}; decode writes to {shm}",
        f"- encode arguments: `{a.encode_args}`",
        "",
        "| model | parameters | binary | file bytes | verify s | verify M weights/s | decode s | decode M weights/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for model, params, label, size, verify, decode in rows:
        lines.append(f"| {model} | {params:,} | {label} | {size:,} | {verify:.3f} | {params / verify / 1e6:.0f} | "
                     f"{decode:.3f} | {params / decode / 1e6:.0f} |")
    text = "\n".join(lines) + "\n"
    if a.out:
        write_atomic(a.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
