#!/usr/bin/env bash
# Determinism across builds: the reconstruction of every artifact is the same bytes whichever compiler,
# optimisation level and threading built the decoder. Builds a decoder-only sdcodec with clang -O0 and
# OpenMP off (gcc -O0 when clang is absent) into build-clang-o0, then decodes artifacts of every
# representation — stories260K encoded five ways by build/sdcodec (gcc -O3, OpenMP) and the valid files of
# the fuzz seed corpus — with build/sdcodec at 1 and 2 threads, build-decoder/sdcodec (gcc -O3 decoder-only)
# and the -O0 build, and requires byte-identical safetensors from all four (each decode also checks every
# tensor against the XXH64 the encoder recorded). Prints one line per artifact; exits non-zero on any
# difference. Needs build/ and build-decoder/ (scripts/test.sh makes both).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if command -v clang++ >/dev/null; then cc=clang cxx=clang++; else cc=gcc cxx=g++; fi
CC=$cc CXX=$cxx cmake -S . -B build-clang-o0 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DSDC_BUILD_ENCODER=OFF -DSDC_OPENMP=OFF -DSDC_BUILD_TESTS=OFF >/dev/null
cmake --build build-clang-o0 -j "$(nproc)" --target sdcodec >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
enc=build/sdcodec
python3 tools/llama2c_to_safetensors.py ../shared/models/stories260K.bin "$tmp/stories.safetensors" >/dev/null
"$enc" encode "$tmp/stories.safetensors" -o "$tmp/stories-scalar.sdc" --quiet --budget 150000
"$enc" encode "$tmp/stories.safetensors" -o "$tmp/stories-groups.sdc" --quiet --bits 4 --group 32
"$enc" encode "$tmp/stories.safetensors" -o "$tmp/stories-shared.sdc" --quiet --method codebook --k 256 --dim 4
"$enc" encode "$tmp/stories.safetensors" -o "$tmp/stories-pertensor.sdc" --quiet --method codebook --k 64 --dim 2 \
  --per-tensor-banks
"$enc" encode "$tmp/stories.safetensors" -o "$tmp/stories-additive.sdc" --quiet --method codebook --k 64 --dim 4 \
  --codebooks 2 --residuals 0.01 --lambda 0.05
# stories260K's tensors are below the decoder's threshold for parallel loops (65,536 elements): a larger
# model makes the OpenMP builds really split rows between threads.
python3 - "$tmp/large.safetensors" <<'PY'
import sys, numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(11)
save_file({"mlp.w": (rng.standard_t(5, (384, 512)) * 0.02).astype(np.float32),
           "attn.w": (rng.standard_normal((512, 256)) * 0.05).astype(np.float16)}, sys.argv[1])
PY
"$enc" encode "$tmp/large.safetensors" -o "$tmp/large-scalar.sdc" --quiet --bits 5
"$enc" encode "$tmp/large.safetensors" -o "$tmp/large-additive.sdc" --quiet --method codebook --k 256 --dim 4 \
  --codebooks 2 --residuals 0.01
files=("$tmp"/stories-*.sdc "$tmp"/large-*.sdc)
for f in fuzz/corpus/decode/*.sdc; do "$enc" verify "$f" >/dev/null 2>&1 && files+=("$f"); done
status=0
printf '%-28s %8s  %-16s  %s\n' artifact tensors "sha256 (first 16)" "gcc-O3 1 thread / 2 threads / gcc-O3 decoder-only / $cxx-O0 no OpenMP"
for f in "${files[@]}"; do
  name=$(basename "$f")
  OMP_NUM_THREADS=1 build/sdcodec decode "$f" -o "$tmp/a.st" 2>/dev/null
  OMP_NUM_THREADS=2 build/sdcodec decode "$f" -o "$tmp/b.st" 2>/dev/null
  build-decoder/sdcodec decode "$f" -o "$tmp/c.st" 2>/dev/null
  build-clang-o0/sdcodec decode "$f" -o "$tmp/d.st" 2>/dev/null
  sums=$(sha256sum "$tmp"/{a,b,c,d}.st | cut -c1-16 | sort -u | wc -l)
  tensors=$(python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; print(len([k for k in json.loads(b[8:8+n]) if k!='__metadata__']))" "$tmp/a.st")
  verdict=identical; [ "$sums" = 1 ] || { verdict=DIFFERENT; status=1; }
  printf '%-28s %8s  %-16s  %s\n' "$name" "$tensors" "$(sha256sum "$tmp/a.st" | cut -c1-16)" "$verdict"
  rm -f "$tmp"/{a,b,c,d}.st
done
[ $status = 0 ] && echo "cross-build determinism: every reconstruction identical across 4 builds" || echo "cross-build determinism: FAILED"
exit $status
