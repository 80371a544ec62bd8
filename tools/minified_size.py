#!/usr/bin/env python3
"""Prints a Python file's size as written and minified (python-minifier through python/sdcodec/minify.py,
module-level names kept): what it would cost inside a size-capped artifact. Usage: minified_size.py FILE.py
(The submission kit's decoder, which may also rename module-level names: tools/minify_decoder.py.)"""
import sys

from minify_decoder import load_minify

if __name__ == "__main__":
    src = open(sys.argv[1]).read()
    small = load_minify().minify(src)
    compile(small, sys.argv[1], "exec")  # the minified text is still a valid program
    print(f"{sys.argv[1]}: {len(src.encode())} bytes as written, {len(small.encode())} bytes minified")
