#!/usr/bin/env bash
# Every test: set up and build (Release), run the GoogleTest suites and the fuzz-corpus replays through
# ctest, rebuild and rerun them all under AddressSanitizer + UndefinedBehaviorSanitizer, build the decoder
# alone (it must link without the encoder, and nm must find no encoder symbol in it: scripts/
# check_decoder_symbols.sh), check that every build reconstructs the same bytes
# (scripts/cross_build_check.sh), run the Python tests, and a libFuzzer smoke run per target.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
jobs=$(nproc)

echo "== ctest (Release)"
ctest --test-dir build --output-on-failure -j "$jobs"
if [ -x build/tests/sdc_cuda_compare_tests ]; then
  echo "== CUDA path: built; the GPU-against-CPU tests say why they skip (or run, on a GPU machine):"
  build/tests/sdc_cuda_compare_tests 2>&1 | grep -iE "^no CUDA device|^\[  (PASSED|SKIPPED|FAILED) \] [0-9]" | sort -u || true
else
  echo "== CUDA path: not built (no nvcc)"
fi

echo "== ctest (ASan + UBSan, Debug)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSDC_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== decoder-only build"
cmake -S . -B build-decoder -DCMAKE_BUILD_TYPE=Release -DSDC_BUILD_ENCODER=OFF >/dev/null
cmake --build build-decoder -j "$jobs" >/dev/null
ctest --test-dir build-decoder --output-on-failure -j "$jobs"
echo "== decoder-only means decoder-only: no encoder symbol in the decoder libraries or the decoder-only binary"
bash scripts/check_decoder_symbols.sh build build-decoder

echo "== determinism across builds (gcc -O3 / clang -O0, OpenMP on / off)"
bash scripts/cross_build_check.sh

echo "== pytest"
python3 -m pytest -q tests/python

echo "== fuzz smoke (libFuzzer, 60 s per target, when clang is present)"
bash fuzz/smoke.sh 60
