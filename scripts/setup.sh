#!/usr/bin/env bash
# Installs everything sdcodec needs on Debian 12 and builds it into build/.
# Idempotent: packages already present are not reinstalled, and the build is incremental.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_pkgs=(cmake g++ make pkg-config libzstd-dev libxxhash-dev libflatbuffers-dev flatbuffers-compiler
          libgtest-dev libomp-dev libcli11-dev nlohmann-json3-dev python3-pip clang-format
          bible-kjv vim-runtime    # the proving ground's text (bench/lm/corpus.py)
          libhtscodecs-dev)        # CRAM's coders, measured against ours (bench/code_streams.py)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# jax (CPU wheel, ~140 MB download), tokenizers and optax: the proving ground's language models (bench/lm/).
py_pkgs=(numpy safetensors pytest zstandard brotli python_minifier jax tokenizers optax ruff)
py_missing=()
for p in "${py_pkgs[@]}"; do python3 -c "import $p" 2>/dev/null || py_missing+=("$p"); done
if ((${#py_missing[@]})); then
  echo "setup: pip installing ${py_missing[*]}" >&2
  # Debian 12's own python3 marks itself externally managed (PEP 668); these are test and bench
  # dependencies only, so install them anyway there (older pips ignore the variable).
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "${py_missing[@]}"
fi

# The CUDA encoder path builds whenever nvcc is found (no GPU needed); the toolkit's usual home may be off PATH.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$(nproc)"

# The Python package (pip install . builds python/ with nanobind through scikit-build-core). Reinstalled
# only when its sources changed since the last install here (a hash kept in build-python/).
for p in nanobind scikit_build_core; do
  python3 -c "import $p" 2>/dev/null || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "${p//_/-}"
done
src_hash=$(cd "$root" && find CMakeLists.txt pyproject.toml cmake format decoder encoder report capi include python spec/reference_decoder.py \
             -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.fbs' -o -name '*.py' \
             -o -name '*.txt' -o -name '*.toml' -o -name '*.cmake' -o -name '*.in' \) -not -path '*/__pycache__/*' |
             LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
stamp="$root/build-python/.installed-$src_hash"
if [ ! -f "$stamp" ] || ! python3 -c "import sdcodec" 2>/dev/null; then
  echo "setup: pip installing the sdcodec Python package" >&2
  (cd "$root" && PIP_BREAK_SYSTEM_PACKAGES=1 OMP_WAIT_POLICY=passive python3 -m pip install -q --no-build-isolation ./)
  rm -f "$root"/build-python/.installed-*
  touch "$stamp"
fi
