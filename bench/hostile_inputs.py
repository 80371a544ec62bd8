#!/usr/bin/env python3
"""Issue 14's attacks against one or two builds of the CLI (--baseline: the build before a change), on files
crafted with every hash right (tests/python/sdc_files.py), as an attacker would make them. Two tables:
  * behaviour: each attack's exit status, stderr line and what the command left behind;
  * memory: peak RSS and CPU time (/usr/bin/time -v) of verify, decode and inspect on the bombs, a valid
    4 GiB tensor (also under a memory cap), 370,000 empty tensors and, with --minilm, a real model.
Device-node attacks use a node made in a temporary directory, never /dev/null. Prints Markdown; --out too.

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
from sdc_files import T, craft, ref, tensor, xxh64_repeated  # noqa: E402

U8 = 5


def u8(name, n, section, digest=None):
    return tensor(name, [n], U8, 1, T(("I", section), ("B", U8)))[:7] + [("Q", digest) if digest is not None else None]


def frame(descriptor, fields, content):
    """A zstd frame by hand (RFC 8878): magic, header, one last raw block."""
    return b"\x28\xb5\x2f\xfd" + bytes([descriptor, *fields]) + (1 | len(content) << 3).to_bytes(3, "little") + content


def zstd_manifest(data):
    """The same file with its manifest stored as zstd (header byte 12 = 1), the header hash recomputed."""
    stored, _ = struct.unpack_from("<QQ", data, 16)
    manifest = data[40:40 + stored]
    z = zstandard.ZstdCompressor(level=19).compress(manifest)
    h = bytearray(data[:40])
    h[12] = 1
    h[16:32] = struct.pack("<QQ", len(z), len(manifest))
    h[32:40] = struct.pack("<Q", ref.xxh64(bytes(h[:32]) + z))
    return bytes(h) + z + data[40 + stored:]


def make_files(d):
    """Every crafted input, written into d: {name: path}."""
    v07 = b"\x27\xb5\x2f\xfd\x00\x00" + b"\x40\x00\x03abc" + b"\xc0\x00\x00"  # zstd v0.7: raw block, end block
    small = zstandard.ZstdCompressor().compress(b"0123456789abcdef")
    two_symbols = bytes([1, 1, 0x0E, 0, 0]) + struct.pack("<Q", 1 << 31)  # spec 5.1: symbols 7, 8; no words
    one_symbol = bytes([0, 0, 0x0E, 0])  # P = 0, one symbol (7): "n sevens", a valid stream for any n
    # Tensor hashes are given, not computed by the reference decoder (which refuses some of these files at
    # open): each file is as valid as it can be apart from its attack, so a build that misses the attack
    # accepts it.
    w = lambda name: u8(name, 1, 0, ref.xxh64(b"\1"))
    t3 = u8(b"t", 3, 0, ref.xxh64(b"abc"))
    files = {
        "nonutf8.sdc": craft([(0, 0, b"\1", 1), (3, 0, b"x", 1)], [w(b"w\xff")], (), [(b"t\xfe", 1)], hash_tensors=False),
        "escape.sdc": craft([(0, 0, b"\1", 1)], [w(b"\x1b[31mred\x1b[0m")], hash_tensors=False),
        "asset_like_output.sdc": craft([(0, 0, b"\1", 1), (3, 0, b"ASSET", 5)], [w(b"w")], (),
                                       [(b"model.safetensors", 1)], hash_tensors=False),
        "asset_like_input.sdc": craft([(0, 0, b"\1", 1), (3, 0, b"ASSET", 5)], [w(b"w")], (),
                                      [(b"asset_like_input.sdc", 1)], hash_tensors=False),
        "window_2^28.sdc": craft([(0, 1, frame(0, [0x90], b"abc"), 3)], [t3], hash_tensors=False),
        "legacy_v07.sdc": craft([(0, 1, v07, 3)], [t3], hash_tensors=False),
        "zstd_bomb.sdc": craft([(0, 1, small, 4 << 30)], [u8(b"t", 4 << 30, 0)]),
        "rans_bomb.sdc": craft([(0, 2, two_symbols, 1 << 30)], [u8(b"t", 1 << 30, 0)]),
        "valid_4GiB.sdc": craft([(0, 2, one_symbol, 4 << 30)], [u8(b"t", 4 << 30, 0, xxh64_repeated(7, 4 << 30))],
                                hash_tensors=False),
        "empty_370k.sdc": zstd_manifest(craft([(0, 0, b"", 0)] * 370_000,
                                              [u8(b"t%d" % i, 0, i, ref.xxh64(b"")) for i in range(370_000)],
                                              hash_tensors=False)),
        "asset_dotdot_x.sdc": craft([(0, 0, b"\1", 1), (3, 0, b"A", 1)], [w(b"w")], (), [(b"../x", 1)], hash_tensors=False),
        "unused_nan_bank.sdc": craft([(0, 0, b"\1", 1), (4, 0, np.array([0, np.nan], "<f4").tobytes(), 8)], [w(b"w")],
                                     [T(("I", 1), ("I", 1), ("B", 2), None)], hash_tensors=False),
        "budget_2^64-6.sdc": craft([(0, 0, b"\1", 1)], [w(b"w")], budget=(1 << 64) - 6, hash_tensors=False),
    }
    out = {}
    for name, data in files.items():
        out[name] = d / name
        out[name].write_bytes(data)
    h = b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    for name, header in (("plain.safetensors", h), ("nul.safetensors", h + b"\0garbage")):
        header += b" " * (-len(header) % 8)
        out[name] = d / name
        out[name].write_bytes(struct.pack("<Q", len(header)) + header + b"\1")
    arrays = b"[]," * 33_000_000  # a 99 MB header of empty arrays, under a key a tensor entry does not use
    header = b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"pad":[' + arrays + b'[]]}}'
    header += b" " * (-len(header) % 8)
    out["arrays_99MB.safetensors"] = d / "arrays_99MB.safetensors"
    out["arrays_99MB.safetensors"].write_bytes(struct.pack("<Q", len(header)) + header + b"\1")
    (d / "tok.json").write_bytes(b"{}")
    return out


def run(exe, args, cwd, prefix=""):
    """-> (exit status, last stderr line of sdcodec, stdout bytes, peak RSS MiB, CPU s) under /usr/bin/time -v."""
    cmd = f"{prefix}/usr/bin/time -v '{exe}' " + " ".join(f"'{a}'" for a in args)
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=cwd)
    err = p.stderr.decode(errors="backslashreplace").splitlines()
    rss = cpu = 0.0
    for line in err:
        if "Maximum resident set size" in line:
            rss = int(line.split()[-1]) / 1024
        elif "User time" in line or "System time" in line:
            cpu += float(line.split()[-1])
    status = next((l.split(":")[-1].strip() for l in err if "Exit status" in l), "?")
    if "Command terminated by signal" in p.stderr.decode(errors="replace"):
        status = "signal " + p.stderr.decode(errors="replace").split("Command terminated by signal")[1].split()[0]
    mine = [l for l in err if l.startswith("sdcodec:") or "terminate" in l or "what()" in l]
    return status, (mine[-1] if mine else ""), p.stdout, rss, cpu


def behaviour(d, f):
    """[(finding, attack, args, shell prefix, what to report afterwards given stdout)]"""
    out = d / "out"
    look = {
        "output": lambda _: "out/model.safetensors holds " + ("the asset" if (out / "model.safetensors").exists() and
                                                            (out / "model.safetensors").read_bytes() == b"ASSET"
                                                            else "safetensors" if (out / "model.safetensors").exists()
                                                            else "nothing"),
        "input": lambda _: "the input is " + ("overwritten" if f["asset_like_input.sdc"].read_bytes() == b"ASSET"
                                            else "intact"),
        "node": lambda _: "the node is " + ("still a device" if (d / "node").is_char_device() else "a regular file now"),
        "dotdot": lambda _: "left: " + (", ".join(p.name for p in (d / "p.safetensors", d / "x") if p.exists()) or "nothing"),
        "budget": lambda out_: next((l for l in out_.decode().splitlines() if l.startswith("budget")), ""),
        "esc": lambda out_: "raw ESC in stdout" if b"\x1b" in out_ else "no raw ESC in stdout",
    }
    cap = "ulimit -v 1048576; "
    return [
        ("1", "inspect --json, non-UTF-8 tensor and asset names", ["inspect", "--json", f["nonutf8.sdc"]], "", None),
        ("1", "compare --json, the same", ["compare", "--json", f["nonutf8.sdc"], f["nonutf8.sdc"]], "", None),
        ("2", "asset model.safetensors: decode -o out/model.safetensors --assets-dir out",
         ["decode", f["asset_like_output.sdc"], "-o", out / "model.safetensors", "--assets-dir", out], "", look["output"]),
        ("2", "asset named like the input, --assets-dir its directory",
         ["decode", f["asset_like_input.sdc"], "-o", d / "x.safetensors", "--assets-dir", d], "", look["input"]),
        ("3", "decode -o a character device node (made in a temp dir)",
         ["decode", f["asset_like_output.sdc"], "-o", d / "node"], "", look["node"]),
        ("4", "zstd frame with a 2^28 window (3 bytes of content)", ["verify", f["window_2^28.sdc"]], "", None),
        ("5", "legacy zstd v0.7 frame", ["verify", f["legacy_v07.sdc"]], "", None),
        ("6", "zstd bomb: 20-byte frame, raw_size 4 GiB", ["verify", f["zstd_bomb.sdc"]], "", None),
        ("6", "rANS bomb: two-symbol table, raw_size 1 GiB", ["verify", f["rans_bomb.sdc"]], "", None),
        ("6", "valid 4 GiB tensor: verify under ulimit -v 1 GiB", ["verify", f["valid_4GiB.sdc"]], cap, None),
        ("6", "valid 4 GiB tensor: decode under ulimit -v 1 GiB", ["decode", f["valid_4GiB.sdc"], "-o", d / "big.safetensors"],
         cap, None),
        ("8", "asset ../x: decode --assets-dir a",
         ["decode", f["asset_dotdot_x.sdc"], "-o", d / "p.safetensors", "--assets-dir", d / "a"], "", look["dotdot"]),
        ("8", "encode --asset ../../x=tok.json",
         ["encode", f["plain.safetensors"], "-o", d / "e.sdc", "-q", "--asset", f"../../x={d / 'tok.json'}"], "", None),
        ("8", "encode --asset ..=tok.json",
         ["encode", f["plain.safetensors"], "-o", d / "e2.sdc", "-q", "--asset", f"..={d / 'tok.json'}"], "", None),
        ("9", "bank no tensor uses, NaN entry: decode", ["decode", f["unused_nan_bank.sdc"], "-o", d / "b.safetensors"],
         "", None),
        ("10", "encode --budget -5", ["encode", f["plain.safetensors"], "-o", d / "b5.sdc", "-q", "--budget", "-5"],
         "", None),
        ("10", "encode --threads -3", ["encode", f["plain.safetensors"], "-o", d / "t3.sdc", "-q", "--threads", "-3"],
         "", None),
        ("10", "budget 2^64 - 6: inspect", ["inspect", f["budget_2^64-6.sdc"]], "", look["budget"]),
        ("10", "tensor named ESC[31m...: inspect", ["inspect", f["escape.sdc"]], "", look["esc"]),
        ("10", "safetensors header with a NUL and garbage: encode",
         ["encode", f["nul.safetensors"], "-o", d / "n.sdc", "-q"], "", None),
    ]


def cell(s):
    return str(s).replace("|", "/").replace("\n", " ")[:130]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdcodec", default=str(ROOT / "build" / "sdcodec"))
    ap.add_argument("--baseline", help="another sdcodec build to run side by side")
    ap.add_argument("--minilm", help="an encoded MiniLM .sdc (scripts/main.sh makes work/minilm/model.sdc)")
    ap.add_argument("--cap-gib", type=int, default=6,
                    help="ulimit -v for the memory table, so that a build that needs twice the output (decode of a "
                         "4 GiB tensor before the fix) fails instead of pushing a shared machine into swap or OOM")
    ap.add_argument("--out")
    a = ap.parse_args()
    cap = f"ulimit -v {a.cap_gib << 20}; "
    builds = ([("before", os.path.abspath(a.baseline))] if a.baseline else []) + [("after", os.path.abspath(a.sdcodec))]
    beh, mem = [], []
    for label, exe in builds:
        with tempfile.TemporaryDirectory() as tmp:
            d = pathlib.Path(tmp)
            f = make_files(d)
            (d / "out").mkdir()
            os.mknod(d / "node", 0o20644, os.makedev(1, 3))  # a character device, the same as /dev/null
            for finding, what, args, prefix, after in behaviour(d, f):
                status, line, out, _, _ = run(exe, args, d, prefix)
                note = after(out) if after else ""
                beh.append((finding, what, label, status, cell(line), cell(note)))
            inputs = {"MiniLM, scripts/main.sh's 16,000,000-byte file": pathlib.Path(a.minilm).resolve()} if a.minilm else {}
            inputs.update({k: f[k] for k in ("zstd_bomb.sdc", "rans_bomb.sdc", "valid_4GiB.sdc", "empty_370k.sdc")})
            for name, path in inputs.items():
                for command in ("verify", "decode", "inspect", "inspect --json"):
                    args = command.split() + [path] + (["-o", d / "o.safetensors"] if command == "decode" else [])
                    status, line, _, rss, cpu = run(exe, args, d, cap)
                    mem.append((name, f"{path.stat().st_size:,}", command, label, f"{rss:,.0f}", f"{cpu:.2f}", status,
                                cell(line)))
                    if (d / "o.safetensors").exists():
                        (d / "o.safetensors").unlink()
            for name in ("arrays_99MB.safetensors", "nul.safetensors"):
                status, line, _, rss, cpu = run(exe, ["encode", f[name], "-o", d / "s.sdc", "-q", "--method", "raw"], d,
                                                cap)
                mem.append((name, f"{f[name].stat().st_size:,}", "encode --method raw", label, f"{rss:,.0f}",
                            f"{cpu:.2f}", status, cell(line)))
    beh.sort(key=lambda r: (int(r[0]), r[1], r[2] != "before"))
    mem.sort(key=lambda r: (r[0], r[2], r[3] != "before"))

    def table(head, rows):
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    lines = [f"`{' '.join(sys.argv)}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()} "
             f"({os.cpu_count()} CPUs, shared). Peak RSS and CPU time (user + system) from /usr/bin/time -v; the "
             f"memory table runs under ulimit -v {a.cap_gib} GiB.", "",
             "Behaviour:", ""] + table(["finding", "attack", "build", "exit", "stderr (last line)", "result"], beh) + \
            ["", "Memory:", ""] + table(["input", "bytes", "command", "build", "peak RSS MiB", "CPU s", "exit",
                                         "stderr (last line)"], mem)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
