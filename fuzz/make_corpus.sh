#!/usr/bin/env bash
# Regenerates the seed corpus from valid artifacts of every representation (raw, raw cast, scalar with and
# without groups, codebooks shared and per tensor, additive with residuals, aligned, with an asset), each
# a few KB. Needs build/sdcodec, python3 with numpy and safetensors.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdc=${SDCODEC:-$root/build/sdcodec}
corpus=$root/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Only the generated seeds are replaced: inputs merged in from fuzzing runs (hash-named files, added with
# `fuzz_X -merge=1 fuzz/corpus/X NEW_CORPUS`) stay.
mkdir -p "$corpus"/{container,decode,manifest,safetensors,rans}
rm -f "$corpus"/container/*.sdc "$corpus"/decode/*.sdc "$corpus"/manifest/*.sdc "$corpus"/safetensors/*.safetensors "$corpus"/rans/seed*
python3 - "$tmp" <<'PY'
import sys
import numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(7)
out = sys.argv[1]
save_file({"w": rng.standard_normal((8, 40)).astype(np.float32),
           "e": rng.standard_normal((16, 8)).astype(np.float16),
           "b": rng.standard_normal(8).astype(np.float32),
           "i": np.arange(5, dtype=np.int64)}, f"{out}/a.safetensors", metadata={"k": "v"})
save_file({"s": np.array(3.5, dtype=np.float32), "z": np.zeros((0, 4), np.float32)}, f"{out}/b.safetensors")
# 2^18 + 6 mostly-zero values: code streams long enough for four interleaved rANS states, yet a few KB.
w = np.zeros((2, (1 << 17) + 3), np.float32)
hit = rng.random(w.shape) < 0.01
w[hit] = rng.standard_normal(hit.sum()).astype(np.float32)
save_file({"long": w}, f"{out}/c.safetensors")
PY
printf 'tokenizer bytes' > "$tmp/asset.bin"
n=0
enc() { "$sdc" encode "$tmp/a.safetensors" -o "$tmp/$n.sdc" --quiet --min-numel 0 "$@"; n=$((n + 1)); }
enc --method raw
enc --method raw --raw-dtype f16
enc --bits 2
enc --bits 8 --group 16
enc --bits 5 --asset tok="$tmp/asset.bin" --alignment 64
enc --method codebook --k 16 --dim 4
enc --method codebook --k 300 --dim 2 --per-tensor-banks
enc --method codebook --k 16 --dim 4 --codebooks 2 --residuals 0.05 --lambda 0.1
"$sdc" encode "$tmp/b.safetensors" -o "$tmp/$n.sdc" --quiet --min-numel 0
n=$((n + 1))
"$sdc" encode "$tmp/c.safetensors" -o "$tmp/$n.sdc" --quiet --min-numel 0 --bits 2  # rans8x4
n=$((n + 1))
"$sdc" encode "$tmp/c.safetensors" -o "$tmp/$n.sdc" --quiet --min-numel 0 --method codebook --k 300 --dim 1 \
  --per-tensor-banks  # rans16x4
for f in "$tmp"/*.sdc; do cp "$f" "$corpus/container/"; cp "$f" "$corpus/decode/"; cp "$f" "$corpus/manifest/"; done
cp "$tmp"/a.safetensors "$tmp"/b.safetensors "$corpus/safetensors/"
# rANS inputs: a byte (bit 0: 16-bit symbols, bit 1: four interleaved states), 3 size bytes, then bytes
# used both as a stream and as data to round-trip.
python3 - "$corpus/rans" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(3)
for i, (w, data) in enumerate([(0, rng.integers(0, 4, 300)), (1, rng.integers(0, 3000, 200)),
                               (0, np.zeros(64, int)), (1, rng.integers(0, 65536, 64)),
                               (2, rng.integers(0, 6, 301)), (3, rng.integers(0, 700, 203))]):
    body = data.astype("<u2" if w & 1 else "u1").tobytes()
    open(f"{sys.argv[1]}/seed{i}", "wb").write(bytes([w]) + len(body).to_bytes(3, "little") + body)
PY
du -sh "$corpus"
