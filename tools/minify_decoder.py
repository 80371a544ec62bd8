#!/usr/bin/env python3
"""Makes the submission kit's single-file decoder from this tree's spec/reference_decoder.py and
python/sdcodec/decoder_loader.py, as the installed kit does (sdcodec.submission.decoder_source), and prints
its size. Usage: minify_decoder.py [-o OUT.py]   (needs python-minifier; not the compiled package)"""
import argparse
import importlib.util
import lzma
import os
import pathlib
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_minify():
    spec = importlib.util.spec_from_file_location("sdc_minify", ROOT / "python" / "sdcodec" / "minify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kit_decoder():
    return load_minify().join((ROOT / "spec" / "reference_decoder.py").read_text(),
                              (ROOT / "python" / "sdcodec" / "decoder_loader.py").read_text())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-o", "--out", help="write the decoder here (atomically)")
    a = p.parse_args()
    src = (ROOT / "spec" / "reference_decoder.py").read_bytes()
    out = kit_decoder().encode()
    if a.out:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.out)) or ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(out)
        os.replace(tmp, a.out)
    print(f"spec/reference_decoder.py: {len(src)} bytes as written; the kit's decoder: {len(out)} bytes minified "
          f"({len(lzma.compress(out, preset=9 | lzma.PRESET_EXTREME))} after lzma -9e), {load_minify().minifier_version()}")


if __name__ == "__main__":
    main()
