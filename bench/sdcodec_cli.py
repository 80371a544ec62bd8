"""Running the sdcodec command line from benchmarks: a pinned copy of the binary, encode/decode/inspect calls,
what its `inspect --json` says about a file, and which encode options this build accepts."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import scalar_vs_baseline as svb
from bench_common import WORK, BenchError, log, rel, sha256_bytes


@dataclass
class Binary:
    path: Path
    sha256: str
    provenance: str
    method_help: str
    encode_help: str = ""

    def supports(self, option: str) -> bool:
        """Whether `sdcodec encode --help` lists `option` (e.g. "--hessians"): benches work before and after an
        option lands."""
        return any(tok.strip("[],|") == option for tok in self.encode_help.split())


def snapshot_binary(src: Path, wait_s: float = 600.0) -> Binary:
    """Copy build/sdcodec (once it is present, executable, not changing, and answers --help) into work/bench/bin
    under its sha256, so a relink in the middle of the run cannot change the binary being measured."""
    deadline = time.monotonic() + wait_s
    last_err = "not found"
    while time.monotonic() < deadline:
        try:
            if src.is_file() and os.access(src, os.X_OK):
                st1 = src.stat()
                time.sleep(2.0)
                st2 = src.stat()
                if (st1.st_size, st1.st_mtime_ns) == (st2.st_size, st2.st_mtime_ns):
                    data = src.read_bytes()
                    sha = sha256_bytes(data)
                    dst = WORK / "bin" / f"sdcodec-{sha[:16]}"
                    if not dst.exists():
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        tmp = dst.with_suffix(".tmp")
                        tmp.write_bytes(data)
                        tmp.chmod(0o755)
                        tmp.replace(dst)
                    res = subprocess.run([str(dst), "encode", "--help"], capture_output=True, text=True, timeout=60)
                    if res.returncode == 0:
                        method = next((ln.strip() for ln in res.stdout.splitlines() if "--method" in ln), "?")
                        # Provenance is recorded when a binary is first copied; passing a copy back with
                        # --sdcodec (to pin one binary across runs) reuses that record.
                        side = dst.with_name(dst.name + ".provenance")
                        if side.is_file():
                            prov = side.read_text().strip()
                        else:
                            prov = f"{svb.sdcodec_provenance(src)}; sha256 {sha[:16]}…"
                            side.write_text(prov + "\n")
                        return Binary(dst, sha, f"{prov}; run from the copy {rel(dst)}", method, res.stdout)
                    last_err = f"encode --help exited {res.returncode}"
                else:
                    last_err = "binary is being rewritten"
        except (OSError, subprocess.TimeoutExpired) as e:
            last_err = str(e)
        log(f"waiting for {src} ({last_err})")
        time.sleep(10.0)
    raise BenchError(f"sdcodec binary at {src} not usable after {wait_s:.0f} s: {last_err}")


def run_cmd(cmd: list[str], timeout: float = 3600.0) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout:.0f} s", time.perf_counter() - t0
    return res.returncode, res.stdout, res.stderr, time.perf_counter() - t0


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


def inspect_json(binary: Binary, sdc: Path) -> dict:
    """`sdcodec inspect FILE --json`, parsed; a failure or unparsable output is an error, never skipped."""
    rc, out, err, _ = run_cmd([str(binary.path), "inspect", str(sdc), "--json"])
    if rc != 0:
        raise BenchError(f"inspect exit {rc}: {last_line(err)}")
    try:
        return json.loads(out)
    except ValueError as e:
        raise BenchError(f"inspect --json printed something that is not JSON ({e})") from e


def inspect_summary(info: dict) -> dict:
    """Which representation the quantized tensors got: codebook share of their params, mean scalar bits."""
    q_numel = cb_numel = sc_numel = sc_bits = 0
    for t in info.get("tensors", []):
        rep = t.get("representation", "")
        n = int(t.get("numel", 0))
        if rep == "codebook":
            q_numel += n
            cb_numel += n
        elif rep == "scalar":
            q_numel += n
            sc_numel += n
            sc_bits += n * int(t.get("params", {}).get("bits", 0))
    roles = info.get("roles", {})
    return {
        "cb_share": cb_numel / q_numel if q_numel else 0.0,
        "scalar_mean_bits": sc_bits / sc_numel if sc_numel else None,
        "bank_bytes": int(roles.get("banks", 0)),
        "n_banks": len(info.get("banks", [])),
        "encoder": info.get("encoder", ""),
    }


def roles_of(binary: Binary, safetensors: Path) -> dict[str, str]:
    """{tensor: role} as the encoder assigns them (spec/format.md §11, format/roles.cc): the one definition of the
    rule, read back from a lossless encode's `inspect --json` rather than written a second time in Python."""
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="roles.", dir=WORK) as tmp:
        sdc = Path(tmp) / "raw.sdc"
        rc, _, err, _ = run_cmd([str(binary.path), "encode", str(safetensors), "-o", str(sdc), "--method", "raw",
                                 "--quiet"])
        if rc != 0:
            raise BenchError(f"encode --method raw exit {rc}: {last_line(err)}")
        return {t["name"]: t["role"] for t in inspect_json(binary, sdc)["tensors"]}
