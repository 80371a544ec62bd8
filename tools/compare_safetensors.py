#!/usr/bin/env python3
"""Compares an original safetensors file with a reconstruction: same names, shapes and dtypes, and the
weight SNR (10 log10 of signal over squared error) per tensor and over all floating-point tensors
(integer tensors such as position ids must match exactly and do not enter the SNR).

Usage: compare_safetensors.py ORIGINAL RECONSTRUCTED [--per-tensor]
Exits 1 with a one-line reason if the two files do not hold the same tensors."""
import argparse
import sys

import numpy as np
from safetensors.numpy import load_file


def as_float(a):
    """Values as float64 for error sums (integer and bool tensors too)."""
    return a.astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("original")
    ap.add_argument("reconstructed")
    ap.add_argument("--per-tensor", action="store_true")
    args = ap.parse_args()
    a, b = load_file(args.original), load_file(args.reconstructed)
    if a.keys() != b.keys():
        sys.exit(f"compare: tensor names differ: {sorted(a.keys() ^ b.keys())[:5]}")
    signal = error = 0.0
    exact = 0
    for name in sorted(a):
        x, y = a[name], b[name]
        if x.shape != y.shape or x.dtype != y.dtype:
            sys.exit(f"compare: '{name}' is {x.dtype}{list(x.shape)} vs {y.dtype}{list(y.shape)}")
        exact += int(np.array_equal(x, y))
        if not np.issubdtype(x.dtype, np.floating):
            if not np.array_equal(x, y):
                sys.exit(f"compare: integer tensor '{name}' differs")
            continue
        xf, yf = as_float(x), as_float(y)
        s, e = float(np.sum(xf * xf)), float(np.sum((xf - yf) ** 2))
        signal, error = signal + s, error + e
        if args.per_tensor:
            snr = "exact" if e == 0 else f"{10 * np.log10(s / e):.2f} dB"
            print(f"  {name:50s} {snr}")
    snr = "exact" if error == 0 else f"{10 * np.log10(signal / error):.2f} dB"
    params = sum(v.size for v in a.values())
    print(f"compare: {len(a)} tensors ({exact} bit-exact), {params} params, weight SNR {snr}")


if __name__ == "__main__":
    main()
