#!/usr/bin/env bash
# Every test: set up and build (Release), lint the Python (ruff), run the GoogleTest suites and the
# fuzz-corpus replays through ctest, rebuild and rerun them all under AddressSanitizer +
# UndefinedBehaviorSanitizer (that build with warnings as errors), build the decoder alone (it
# must link without the encoder, and nm must find no encoder symbol in it: scripts/check_decoder_symbols.sh),
# install the library (static with the encoder, shared decoder-only) and build and run programs against the
# installs (tests/downstream), check that every build reconstructs the same bytes
# (scripts/cross_build_check.sh), run the Python tests, and a libFuzzer smoke run per target.
#   SDC_CHECK_FORMAT=0  skip the clang-format layout check (scripts/check_format.sh; on by default)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
jobs=$(nproc)
# As scripts/setup.sh: the CUDA toolkit's usual home may be off PATH (the -Werror build compiles encoder/cuda too).
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
# Each stage's header says how long the run has taken so far (CI must stay well under its time limit).
step() { echo "== [$((SECONDS / 60)) min $((SECONDS % 60)) s] $*"; }
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

step "lint: ruff (pyproject.toml [tool.ruff]); C++ formatting (clang-format, .clang-format) $([ "${SDC_CHECK_FORMAT:-1}" = 1 ] && echo on || echo "off (SDC_CHECK_FORMAT=0)")"
python3 -m ruff check .
if [ "${SDC_CHECK_FORMAT:-1}" = 1 ]; then bash scripts/check_format.sh; fi

step "ctest (Release)"
ctest --test-dir build --output-on-failure -j "$jobs"
if [ -x build/tests/sdc_cuda_compare_tests ]; then
  step "CUDA path: built; the GPU-against-CPU tests say why they skip (or run, on a GPU machine):"
  build/tests/sdc_cuda_compare_tests 2>&1 | grep -iE "^no CUDA device|^\[  (PASSED|SKIPPED|FAILED) \] [0-9]" | sort -u || true
else
  step "CUDA path: not built (no nvcc)"
fi

step "ctest (ASan + UBSan, Debug; every target built with warnings as errors)"
# Debug at -O0, not -O1: measured on 2 cores (CPU seconds), -O1 halves the sanitized tests (159 -> 53 s) but
# doubles the sanitized build (354 -> 652 s), so the stage costs about 190 CPU seconds more at -O1.
# Its libraries compile as unity builds (test binaries stay one file per unit: see tests/CMakeLists.txt): 354 ->
# 248 CPU seconds here. The other builds stay one unit per file, so a missing #include still fails there (and
# optimised unity builds let GCC 12 see more, and warn falsely, across files).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSDC_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "${launcher[@]}" >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$jobs"

# One decoder-only build serves three checks (a build of its own each cost minutes of CI): its tests, the nm
# check and, built with the C API as a shared library with warnings as errors, the installed-package test.
step "decoder-only build (shared C API library, warnings as errors)"
cmake -S . -B build-decoder -DCMAKE_BUILD_TYPE=Release -DSDC_BUILD_ENCODER=OFF -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "${launcher[@]}" >/dev/null
cmake --build build-decoder -j "$jobs" >/dev/null
ctest --test-dir build-decoder --output-on-failure -j "$jobs"
step "decoder-only means decoder-only: no encoder symbol in the decoder libraries or the decoder-only binary"
bash scripts/check_decoder_symbols.sh build build-decoder

step "installed packages: programs built against them with find_package and with pkg-config (tests/downstream)"
bash tests/downstream/run.sh build build-decoder

step "determinism across builds (gcc -O3 / clang -O0, OpenMP on / off)"
bash scripts/cross_build_check.sh

step "pytest"
python3 -m pytest -q tests/python

step "fuzz smoke (libFuzzer, 60 s per target, when clang is present)"
bash fuzz/smoke.sh 60
step "all passed"
