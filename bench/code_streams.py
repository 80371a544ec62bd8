#!/usr/bin/env python3
"""Issue 13, items 3-4: do context models or a library coder pay on sdcodec's code streams? Encodes models
with build/sdcodec (scalar method, byte budgets), takes every code stream of the files (scalar codes, rANS-
coded codebook indices; streams under 1 KiB skipped), and codes the same streams with sdcodec's rANS (one
and four states), zstd-19, brotli-11 and htscodecs (CRAM 3.1: rANS 4x16 order 0 / order 1, its 32-way SIMD
variant, adaptive arithmetic order 0 / order 1; order 1 conditions each code on the previous one in the
row-major stream, i.e. its left neighbour in the row). Bytes summed over streams, and decode speed
(symbols / s, one thread, best of --repeat) measured by build/bench/sdc_code_streams_bench in one process.

Usage:
  python3 bench/code_streams.py [--model NAME=FILE.safetensors:BUDGET]... [--repeat 5] [--out FILE.md]

Default: MiniLM (work/minilm/model.safetensors, scripts/main.sh fetches it) at 16,000,000 and 8,000,000 bytes.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import brotli
from bench_common import REPO, write_atomic

BENCH = REPO / "build" / "bench" / "sdc_code_streams_bench"
SDCODEC = REPO / "build" / "sdcodec"
ORDER = ["sdcodec_rans_x1", "sdcodec_rans_x4", "zstd19", "brotli11", "hts_rans4x16_o0", "hts_rans4x16_o0_x32",
         "hts_rans4x16_o1", "hts_rans4x16_o1_x32", "hts_arith_o0", "hts_arith_o1"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="NAME=FILE.safetensors:BUDGET")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "code_streams.md")
    a = ap.parse_args()
    if not BENCH.is_file():
        sys.exit(f"code_streams: {BENCH} missing (needs libhtscodecs-dev; scripts/setup.sh installs it)")
    models = []
    for spec in a.model:
        name, rest = spec.split("=", 1)
        path, budget = rest.rsplit(":", 1)
        models.append((name, path, int(budget)))
    if not models:
        minilm = REPO / "work" / "minilm" / "model.safetensors"
        if not minilm.is_file():
            sys.exit("code_streams: no --model and no MiniLM (run scripts/main.sh first)")
        models = [("MiniLM", str(minilm), 16_000_000), ("MiniLM", str(minilm), 8_000_000)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, budget in models:
            sdc = Path(tmp) / f"{name}-{budget}.sdc"
            subprocess.run([SDCODEC, "encode", path, "-o", sdc, "--quiet", "--method", "scalar", "--budget",
                            str(budget)], check=True)
            dump = Path(tmp) / f"{name}-{budget}"
            dump.mkdir()
            out = subprocess.run([BENCH, "--repeat", str(a.repeat), "--dump", dump, sdc], check=True,
                                 capture_output=True, text=True).stdout
            totals = {k: [0, 0.0] for k in ORDER}
            symbols = streams = 0
            for line in out.splitlines():
                f = line.split("\t")
                section, width, n = f[1], int(f[3]), int(f[4])
                symbols, streams = symbols + n, streams + 1
                for item in f[5:]:
                    coder, value = item.split("=")
                    nbytes, seconds = value.split("/")
                    if float(seconds) < 0:
                        sys.exit(f"code_streams: {coder} failed on section {section} of {sdc.name}")
                    totals[coder][0] += int(nbytes)
                    totals[coder][1] += float(seconds)
                raw = (dump / f"{section}.{'u16' if width == 2 else 'u8'}").read_bytes()
                totals["brotli11"][0] += len(brotli.compress(raw, quality=11))
            rows.append((name, budget, sdc.stat().st_size, streams, symbols, totals))
            print(f"{name} at {budget:,}: {streams} streams, {symbols:,} symbols", flush=True)
    lines = [
        "# Code streams: sdcodec's rANS against context models, htscodecs, zstd and brotli",
        "",
        f"- command: `python3 bench/code_streams.py {shlex.join(sys.argv[1:])}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; decode times are one thread, best of {a.repeat}, output checked",
        "- streams: every scalar code stream (and rANS-coded index stream) of at least 1 KiB in the file "
        "`sdcodec encode --method scalar --budget B` makes; each coder codes the raw stream itself",
        "- brotli-11: bytes only (Python's brotli; no decode time)",
        "",
    ]
    for name, budget, size, streams, symbols, totals in rows:
        base = totals["sdcodec_rans_x1"][0]
        lines += [f"## {name}, budget {budget:,} ({size:,}-byte file; {streams} streams, {symbols:,} symbols, "
                  f"{8 * base / symbols:.3f} bits a symbol with sdcodec's rANS)", "",
                  "| coder | bytes | vs sdcodec rANS | decode M symbols/s |", "|---|---:|---:|---:|"]
        for coder in ORDER:
            nbytes, seconds = totals[coder]
            speed = f"{symbols / seconds / 1e6:.0f}" if seconds > 0 else "–"
            lines.append(f"| {coder} | {nbytes:,} | {nbytes / base - 1:+.2%} | {speed} |")
        lines.append("")
    text = "\n".join(lines)
    write_atomic(a.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
