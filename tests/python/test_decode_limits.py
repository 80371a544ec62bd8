"""The decoder's resource limits on the command line: a file declaring more than a limit is refused with
one line naming the limit, before anything sized by the file is allocated; the defaults admit it."""
import subprocess

import numpy as np
from safetensors.numpy import save_file

from conftest import run


def _zeros_file(tmp_path, sdcodec):
    # 64 MiB of zeros: zstd stores it in a few KB, so the file is a small "decompression bomb".
    src = tmp_path / "zeros.safetensors"
    save_file({"z": np.zeros((4096, 4096), np.float32)}, str(src))
    out = tmp_path / "zeros.sdc"
    run(sdcodec, "encode", src, "-o", out, "--method", "raw", "--quiet")
    assert out.stat().st_size < 64 * 1024
    return out


def test_limits_refuse_before_allocating(sdcodec, tmp_path):
    f = _zeros_file(tmp_path, sdcodec)
    for cmd in ("verify", "decode"):
        extra = ["-o", tmp_path / f"{cmd}.safetensors"] if cmd == "decode" else []
        p = run(sdcodec, cmd, f, *extra, "--max-tensor-bytes", 1 << 20, check=False)
        assert p.returncode == 1
        assert p.stderr.count("\n") == 1 and "limit" in p.stderr.lower(), p.stderr
        p = run(sdcodec, cmd, f, *extra, "--max-section-bytes", 1 << 20, check=False)
        assert p.returncode == 1 and "limit" in p.stderr.lower(), p.stderr
        assert not (tmp_path / "decode.safetensors").exists()
    # With the defaults the same file decodes.
    run(sdcodec, "verify", f)


def test_refused_file_stays_small(sdcodec, tmp_path):
    """Refusing the bomb must not cost its declared size: peak RSS well under the 64 MiB it declares.
    (ru_maxrss of children is a running maximum, so this runs in a fresh interpreter.)"""
    f = _zeros_file(tmp_path, sdcodec)
    code = ("import resource, subprocess, sys; "
            "p = subprocess.run(sys.argv[1:], capture_output=True); "
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    p = subprocess.run(["python3", "-c", code, sdcodec, "verify", str(f), "--max-tensor-bytes", str(1 << 20)],
                       capture_output=True, text=True, check=True)
    rc, kib = map(int, p.stdout.split())
    assert rc == 1
    assert kib < 32 * 1024, f"peak RSS {kib} KiB while refusing a 64 MiB tensor"


def test_limit_options_reject_bad_values(sdcodec, tmp_path):
    f = _zeros_file(tmp_path, sdcodec)
    p = run(sdcodec, "verify", f, "--max-tensor-bytes", "lots", check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
