#!/usr/bin/env python3
"""Issue 14's attacks, each run against one or two builds of the CLI: what happens (exit status, the
line on stderr, and what the command left behind). The files are crafted with every hash right
(tests/python/sdc_files.py), as an attacker would. Device-node attacks use a node made in a temporary
directory (never /dev/null). Prints a Markdown table; --out writes it too.

    python3 bench/attack_table.py --sdcodec build/sdcodec --baseline /tmp/old/sdcodec --out table.md
"""
import argparse
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

import numpy as np
import zstandard

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from sdc_files import S, T, craft, ref, tensor  # noqa: E402


def u8(name, n, section):
    return tensor(name, [n], 5, 1, T(("I", section), ("B", 5)))


def frame(descriptor, fields, content):
    return b"\x28\xb5\x2f\xfd" + bytes([descriptor, *fields]) + (1 | len(content) << 3).to_bytes(3, "little") + content


def sh(exe, args, cwd, prefix=""):
    cmd = prefix + f"'{exe}' " + " ".join(f"'{a}'" for a in args)
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=cwd)
    err = p.stderr.decode(errors="backslashreplace").strip().splitlines()
    status = p.returncode if p.returncode >= 0 else f"signal {-p.returncode}"
    if p.returncode in (134, 139):
        status = f"{p.returncode} (abort)" if p.returncode == 134 else "139 (segfault)"
    return status, (err[-1] if err else ""), p.stdout


def cell(s):
    return s.replace("|", "/").replace("\n", " ")[:120]


def attacks(d):
    """-> [(finding, attack, command args, setup(), check(stdout) -> extra text)]"""
    v07 = b"\x27\xb5\x2f\xfd\x00\x00" + b"\x40\x00\x03abc" + b"\xc0\x00\x00"
    small = zstandard.ZstdCompressor().compress(b"0123456789abcdef")
    two = bytes([1, 1, 0x0E, 0, 0]) + struct.pack("<Q", 1 << 31)
    one = bytes([0, 0, 0x0E, 0])
    f = {}

    def put(name, data):
        f[name] = d / name
        f[name].write_bytes(data)
        return f[name]

    raw1 = lambda name: [S(name), None, ("B", 5), ("B", 5), None, ("B", 1), T(("I", 0), ("B", 5)), None]
    put("nonutf8.sdc", craft([(0, 0, b"\1", 1), (3, 0, b"x", 1)], [raw1(b"w\xff")], (), [(b"t\xfe", 1)]))
    put("escape.sdc", craft([(0, 0, b"\1", 1)], [raw1(b"\x1b[31mred\x1b[0m")]))
    put("assets.sdc", craft([(0, 0, b"\1", 1), (3, 0, b"ASSET", 5)], [raw1(b"w")], (), [(b"model.safetensors", 1)]))
    put("self.sdc", craft([(0, 0, b"\1", 1), (3, 0, b"ASSET", 5)], [raw1(b"w")], (), [(b"self.sdc", 1)]))
    put("window28.sdc", craft([(0, 1, frame(0, [0x90], b"abc"), 3)], [u8("t", 3, 0)]))
    put("v07.sdc", craft([(0, 1, v07, 3)], [u8("t", 3, 0)]))
    put("zbomb.sdc", craft([(0, 1, small, 4 << 30)], [u8("t", 4 << 30, 0)]))
    put("rbomb.sdc", craft([(0, 2, two, 1 << 30)], [u8("t", 1 << 30, 0)]))
    put("big4g.sdc", craft([(0, 2, one, 4 << 30)], [u8("t", 4 << 30, 0)]))
    for name in (b"../x", b"..", b"n" * 256):
        put(f"asset_{len(f)}.sdc", craft([(0, 0, b"\1", 1), (3, 0, b"A", 1)], [raw1(b"w")], (), [(name, 1)]))
    put("bank.sdc", craft([(0, 0, b"\1", 1), (4, 0, np.array([0, np.nan], "<f4").tobytes(), 8)], [raw1(b"w")],
                          [T(("I", 1), ("I", 1), ("B", 2), None)]))
    put("budget.sdc", craft_with_budget((1 << 63) + 5))
    tok = d / "tok.json"
    tok.write_bytes(b"{}")
    st = d / "st.safetensors"
    h = b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    nul = h + b"\0" + b"garbage"
    nul += b" " * (-len(nul) % 8)
    (d / "nul.safetensors").write_bytes(struct.pack("<Q", len(nul)) + nul + b"\1")
    st.write_bytes(struct.pack("<Q", len(h + b"      ")) + h + b"      " + b"\1")
    os.mknod(d / "node", 0o20644, os.makedev(1, 3))  # a character device (the same as /dev/null), here
    (d / "out").mkdir()
    D = lambda *a: [str(x) for x in a]
    return [
        ("1", "inspect --json, non-UTF-8 tensor/asset names", D("inspect", "--json", f["nonutf8.sdc"]), None),
        ("1", "compare --json, non-UTF-8 names", D("compare", "--json", f["nonutf8.sdc"], f["nonutf8.sdc"]), None),
        ("2", "asset 'model.safetensors', decode -o out/model.safetensors --assets-dir out",
         D("decode", f["assets.sdc"], "-o", d / "out" / "model.safetensors", "--assets-dir", d / "out"),
         lambda: "out/model.safetensors holds: " + ("the asset bytes" if (d / "out" / "model.safetensors").exists() and
                                                     (d / "out" / "model.safetensors").read_bytes() == b"ASSET" else
                                                     "safetensors" if (d / "out" / "model.safetensors").exists() else
                                                     "nothing")),
        ("2", "asset named like the input, --assets-dir = the input's directory",
         D("decode", f["self.sdc"], "-o", d / "x.safetensors", "--assets-dir", d),
         lambda: "input " + ("overwritten" if f["self.sdc"].read_bytes() == b"ASSET" else "intact")),
        ("3", "-o a character device node (made in a temp dir)", D("decode", f["assets.sdc"], "-o", d / "node"),
         lambda: "node is " + ("still a device" if (d / "node").is_char_device() else "now a regular file")),
        ("4", "zstd window 2^28 (frame of 3 bytes)", D("verify", f["window28.sdc"]), None),
        ("5", "legacy zstd v0.7 frame", D("verify", f["v07.sdc"]), None),
        ("6", "zstd bomb: small frame, raw_size 4 GiB", D("verify", f["zbomb.sdc"]), None),
        ("6", "rANS bomb: two-symbol table, raw_size 1 GiB", D("verify", f["rbomb.sdc"]), None),
        ("6", "valid 4 GiB tensor (4-byte rANS stream), verify under ulimit -v 1 GiB", D("verify", f["big4g.sdc"]),
         "ulimit -v 1048576; "),
        ("6", "same, decode under ulimit -v 1 GiB", D("decode", f["big4g.sdc"], "-o", d / "big.safetensors"),
         "ulimit -v 1048576; "),
        ("8", "asset '../x': decode --assets-dir",
         D("decode", f[[k for k in f if k.startswith("asset_")][0]], "-o", d / "p.safetensors", "--assets-dir", d / "a"),
         lambda: "left behind: " + (", ".join(p.name for p in [d / "p.safetensors", d / "x"] if p.exists()) or "nothing")),
        ("9", "unused bank with a NaN entry: decode", D("decode", f["bank.sdc"], "-o", d / "b.safetensors"), None),
        ("10", "budget 2^63 + 5: inspect", D("inspect", f["budget.sdc"]), "stdout:budget"),
        ("10", "tensor named ESC[31mred: inspect", D("inspect", f["escape.sdc"]), "stdout:esc"),
        ("10", "safetensors header with NUL + garbage: encode", D("encode", d / "nul.safetensors", "-o", d / "n.sdc", "-q"),
         None),
        ("8", "encode --asset ../../x=tok.json", D("encode", st, "-o", d / "e.sdc", "-q", "--asset", f"../../x={tok}"),
         None),
        ("8", "encode --asset ..=tok.json", D("encode", st, "-o", d / "e2.sdc", "-q", "--asset", f"..={tok}"), None),
    ]


def craft_with_budget(budget):
    """A one-tensor file whose manifest has budget_bytes (craft writes no budget): manifest fields by hand."""
    from sdc_files import VT, emit, join
    def build(h):
        secs = [T(("B", 0), ("B", 0), ("Q", 0), ("Q", 1), ("Q", 1), ("Q", h))]
        t = [S(b"w"), None, ("B", 5), ("B", 5), None, ("B", 1), T(("I", 0), ("B", 5)), ("Q", ref.xxh64(b"\1"))]
        buf = bytearray(b"\0\0\0\0SDC1")
        struct.pack_into("<I", buf, 0, emit(buf, T(VT(secs), VT([T(*t)]), None, None, None, ("Q", budget), None, None)))
        buf += bytes(-(40 + len(buf)) % 8)
        return join(b"\x89SDC\r\n\x1a\n\x01" + bytes(31), bytes(buf), b"\1")
    return build(ref.xxh64(b"\1"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdcodec", default=str(ROOT / "build" / "sdcodec"))
    ap.add_argument("--baseline")
    ap.add_argument("--out")
    a = ap.parse_args()
    builds = ([("before", a.baseline)] if a.baseline else []) + [("after", a.sdcodec)]
    rows = []
    for label, exe in builds:
        with tempfile.TemporaryDirectory() as tmp:
            d = pathlib.Path(tmp)
            for finding, what, args, extra in attacks(d):
                prefix = extra if isinstance(extra, str) and extra.startswith("ulimit") else ""
                status, line, out = sh(exe, args, d, prefix)
                note = ""
                if callable(extra):
                    note = extra()
                elif extra == "stdout:budget":
                    note = next((l for l in out.decode().splitlines() if l.startswith("budget")), "")
                elif extra == "stdout:esc":
                    note = "stdout has a raw ESC byte" if b"\x1b" in out else "ESC escaped in stdout"
                rows.append((finding, what, label, str(status), cell(line), cell(note)))
    rows.sort(key=lambda r: (int(r[0]), r[1], r[2] != "before"))
    head = ["finding", "attack", "build", "exit", "stderr (last line)", "result"]
    text = "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                     ["| " + " | ".join(r) + " |" for r in rows]) + "\n"
    print(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
