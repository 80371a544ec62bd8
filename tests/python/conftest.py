"""Shared fixtures: the built CLI, and stories260K (../shared/models) converted to safetensors once."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT.parent / "shared" / "models"


@pytest.fixture(scope="session")
def sdcodec():
    # SDCODEC_BIN points the tests at another build (e.g. one made in its own build directory).
    exe = pathlib.Path(os.environ.get("SDCODEC_BIN", ROOT / "build" / "sdcodec"))
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run scripts/setup.sh first (or set SDCODEC_BIN)")
    return str(exe)


@pytest.fixture(scope="session")
def sdcodec_bin(sdcodec):
    """The CLI's path, for tests whose module imports the sdcodec package under that name."""
    return sdcodec


@pytest.fixture(scope="session")
def stories(tmp_path_factory):
    src = MODELS / "stories260K.bin"
    if not src.exists():
        pytest.skip(f"{src} not present")
    out = tmp_path_factory.mktemp("stories") / "stories260K.safetensors"
    subprocess.run([sys.executable, str(ROOT / "tools" / "llama2c_to_safetensors.py"), str(src), str(out)],
                   check=True, capture_output=True)
    return out


def run(*args, check=True):
    """Runs a command, returning CompletedProcess with text output."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}): {p.stderr}")
    return p


def encode_each(sdcodec, src, settings, d):
    """{name: path of `src` encoded into directory d with each setting's arguments} for {name: arguments}."""
    out = {}
    for name, args in settings.items():
        out[name] = d / f"{name}.sdc"
        run(sdcodec, "encode", src, "-o", out[name], "--quiet", *args)
    return out
