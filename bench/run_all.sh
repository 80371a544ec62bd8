#!/usr/bin/env bash
# Regenerates every benchmark table and plot in bench/results/ and bench/README.md:
#   rate-distortion of sdcodec (scalar, per-tensor VQ, shared banks) against the users' recipes on
#   stories260K (weight SNR, bits per byte after the round trip) and all-MiniLM-L6-v2 (weight SNR);
#   bytes at matched bits per byte against the top parameter-golf record's pipeline (bench/loss_aware.py; its lrzip
#   variant needs Debian's lrzip, installed here when missing); the record pipeline's time on a 36 M-parameter shape
#   (full run only); the scalar codec against the parameter-golf int8 baseline; k-means against faiss-cpu (1 and 2 threads);
#   the research notes' falsification tests on the proving-ground language models (bench/seeds.py);
#   CPU against GPU encodes when a GPU is present; then the SVG plots and the README.
# Usage: bench/run_all.sh [--quick]   (--quick: stories260K only, no MiniLM download or encodes)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh >/dev/null
python3 -c "import faiss, brotli" 2>/dev/null || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q faiss-cpu brotli
if ! command -v lrzip >/dev/null; then  # bench-only: the record pipeline's per-group lrzip variant
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq lrzip >/dev/null; } || echo "run_all: lrzip not installed; its variant is skipped" >&2
fi
export OMP_WAIT_POLICY=passive
if [ "${1:-}" = "--quick" ]; then
  python3 bench/rate_distortion.py --quick
  python3 bench/loss_aware.py
else
  [ -f work/minilm/model.safetensors ] || bash scripts/main.sh >/dev/null  # fetches MiniLM into work/minilm
  python3 bench/rate_distortion.py --full
  python3 bench/loss_aware.py
  python3 bench/gptq_timing.py
fi
python3 bench/scalar_vs_baseline.py
# The research notes' falsifiers on the committed proving-ground models (bench/lm/; `python3 -m lm.build` in
# bench/ retrains them, from its cache when code and configs are unchanged).
python3 bench/seeds.py --allow-missing ${1:+--quick}
python3 bench/kmeans_vs_faiss.py --bench build/bench/sdc_kmeans_bench --threads 1,2 --repeat 3
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then bash bench/gpu_vs_cpu.sh > bench/results/gpu_vs_cpu.md; fi
python3 bench/plot_results.py
