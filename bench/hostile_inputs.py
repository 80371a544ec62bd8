#!/usr/bin/env python3
"""Peak memory and outcome of the decoder on hostile files (issue 14) and on a real model, measured with
/usr/bin/time -v: each file is made here (tests/python/sdc_files.py crafts it with every hash right, as an
attacker would), then `sdcodec verify`, `decode` and `inspect` run on it, with one or two builds side by
side (--baseline: the build before a change). Prints a Markdown table; --out writes it too.

    python3 bench/hostile_inputs.py --sdcodec build/sdcodec --baseline /tmp/old/sdcodec \\
        --minilm work/minilm/model.sdc --out bench/results/hostile_inputs.md
"""
import argparse
import os
import pathlib
import platform
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import zstandard

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from sdc_files import T, craft, ref, tensor  # noqa: E402


def u8(name, n, section):
    return tensor(name, [n], 5, 1, T(("I", section), ("B", 5)))


def zstd_manifest(data):
    """The same file with its manifest stored as zstd (header byte 12 = 1), hash recomputed."""
    stored, raw = struct.unpack_from("<QQ", data, 16)
    manifest = data[40:40 + stored]
    z = zstandard.ZstdCompressor(level=19).compress(manifest)
    h = bytearray(data[:40])
    h[12] = 1
    h[16:32] = struct.pack("<QQ", len(z), len(manifest))
    h[32:40] = struct.pack("<Q", ref.xxh64(bytes(h[:32]) + z))
    return bytes(h) + z + data[40 + stored:]


def empty_tensors(n):
    """n empty U8 tensors, each with its own empty section (every section must be claimed), zstd manifest.
    Built with the flatbuffers module would be simpler; the crafted writer is what the tests use."""
    return zstd_manifest(craft([(0, 0, b"", 0)] * n, [u8(f"t{i}", 0, i) for i in range(n)]))


def files(tmp):
    small = zstandard.ZstdCompressor().compress(b"0123456789abcdef")
    two_symbols = bytes([1, 0b00000001, 0b00001110, 0, 0]) + struct.pack("<Q", 1 << 31)
    one_symbol = bytes([0, 0, 0x0E, 0])  # P = 0, one symbol (7): "n sevens", valid for any n
    out = {
        "zstd bomb: 20-byte frame declaring 4 GiB": craft([(0, 1, small, 4 << 30)], [u8("t", 4 << 30, 0)]),
        "rANS bomb: two-symbol table declaring 1 GiB": craft([(0, 2, two_symbols, 1 << 30)], [u8("t", 1 << 30, 0)]),
        "valid 4 GiB tensor in a 4-byte rANS stream": craft([(0, 2, one_symbol, 4 << 30)], [u8("t", 4 << 30, 0)]),
        "370,000 empty tensors": empty_tensors(370_000),
    }
    paths = {}
    for i, (name, data) in enumerate(out.items()):
        paths[name] = tmp / f"hostile{i}.sdc"
        paths[name].write_bytes(data)
    return paths


def measure(exe, args, cwd, prefix=""):
    """-> (peak RSS in MiB, CPU seconds, exit status, last stderr line) of one run under /usr/bin/time -v."""
    cmd = f"{prefix}/usr/bin/time -v '{exe}' " + " ".join(f"'{a}'" for a in args)
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=cwd)
    rss = cpu = 0.0
    for line in p.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split()[-1]) / 1024
        elif "User time" in line or "System time" in line:
            cpu += float(line.split()[-1])
    mine = [l for l in p.stderr.splitlines() if l.startswith("sdcodec:") or "terminate" in l or "what()" in l]
    status = p.returncode
    if "Command terminated by signal" in p.stderr:
        status = "signal " + p.stderr.split("Command terminated by signal")[1].split()[0]
    return rss, cpu, status, (mine[-1] if mine else "")[:110]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdcodec", default=str(ROOT / "build" / "sdcodec"))
    ap.add_argument("--baseline", help="another sdcodec build to measure side by side")
    ap.add_argument("--minilm", help="an encoded MiniLM .sdc (scripts/main.sh makes work/minilm/model.sdc)")
    ap.add_argument("--cap-kib", type=int, default=1 << 20, help="ulimit -v for the memory-cap rows (KiB)")
    ap.add_argument("--out")
    a = ap.parse_args()
    builds = [("after", a.sdcodec)] + ([("before", a.baseline)] if a.baseline else [])
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        paths = files(tmp)
        if a.minilm:
            paths = {"MiniLM (scripts/main.sh's 16,000,000-byte file)": pathlib.Path(a.minilm), **paths}
        for name, path in paths.items():
            runs = [("verify", [path], ""), ("decode", [path, "-o", tmp / "out.safetensors"], ""),
                    ("inspect", [path], "")]
            if "valid 4 GiB" in name:
                runs += [(f"verify, ulimit -v {a.cap_kib}", [path], f"ulimit -v {a.cap_kib}; "),
                         (f"decode, ulimit -v {a.cap_kib}", [path, "-o", tmp / "out.safetensors"],
                          f"ulimit -v {a.cap_kib}; ")]
            for command, args, prefix in runs:
                for label, exe in builds:
                    if os.path.exists(tmp / "out.safetensors"):
                        os.unlink(tmp / "out.safetensors")
                    sub = command.split(",")[0]
                    rss, cpu, status, line = measure(exe, [sub, *args], tmp, prefix)
                    rows.append((name, f"{path.stat().st_size:,}", command, label, f"{rss:,.0f}", f"{cpu:.2f}",
                                 str(status), line.replace("|", "/")))
    head = ["file", "bytes", "command", "build", "peak RSS MiB", "CPU s", "exit", "stderr (last line)"]
    lines = [f"Peak memory on hostile files: `{' '.join(sys.argv)}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
             f" {platform.node()} ({os.cpu_count()} CPUs). Peak RSS and CPU time from /usr/bin/time -v.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
