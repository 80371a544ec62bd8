#!/usr/bin/env bash
# Installs everything sdcodec needs on Debian 12 and builds it into build/.
# Idempotent: packages already present are not reinstalled, and the build is incremental.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_pkgs=(cmake g++ make pkg-config libzstd-dev libxxhash-dev libflatbuffers-dev flatbuffers-compiler
          libgtest-dev libomp-dev libcli11-dev nlohmann-json3-dev python3-pip)
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

py_pkgs=(numpy safetensors pytest zstandard)
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
