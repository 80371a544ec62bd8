#!/usr/bin/env bash
# CPU against GPU: the same codebook encodes of all-MiniLM-L6-v2 (work/minilm/model.safetensors, made by
# scripts/main.sh) with --device cpu and --device cuda, timed, with sizes, weight SNR and whether the two
# files are byte-identical. Prints a Markdown table. Without a usable GPU (or in a build without CUDA) it
# prints "no GPU: skipped (<reason>)" and exits 0.
#
#   bash bench/gpu_vs_cpu.sh            SDC=path/to/sdcodec MODEL=path/to/model.safetensors override
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdc=${SDC:-$root/build/sdcodec}
model=${MODEL:-$root/work/minilm/model.safetensors}
[ -x "$sdc" ] || { echo "gpu_vs_cpu: $sdc is not built (bash scripts/setup.sh)" >&2; exit 1; }
[ -f "$model" ] || { echo "gpu_vs_cpu: $model is missing (bash scripts/main.sh fetches it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Which device would --device auto use? A codebook encode that quantizes nothing (every tensor under
# --min-numel is stored raw) prints the choice and costs only the file write.
line=$("$sdc" encode "$model" -o "$tmp/probe.sdc" --method codebook --min-numel 1000000000000 --zstd-level 0 \
         --device auto 2>&1 | grep -m1 '^sdcodec: encoding on' || true)
case "$line" in
  "sdcodec: encoding on GPU "*) gpu=${line#sdcodec: encoding on GPU } ;;
  *) echo "no GPU: skipped (${line#sdcodec: encoding on })"; exit 0 ;;
esac

configs=(
  "k=256 dim=8 M=1|--k 256 --dim 8 --codebooks 1"
  "k=256 dim=8 M=1 lambda=0.1|--k 256 --dim 8 --codebooks 1 --lambda 0.1"
  "k=256 dim=8 M=2 beam=4|--k 256 --dim 8 --codebooks 2 --beam 4"
  "k=4096 dim=8 M=1|--k 4096 --dim 8 --codebooks 1"
)

now() { date +%s.%N; }
# Runs one encode; prints "seconds bytes snr".
encode() {
  local out=$1; shift
  local t0 t1 summary
  t0=$(now)
  summary=$("$sdc" encode "$model" -o "$out" --method codebook "$@" 2>&1 | grep '^sdcodec: wrote')
  t1=$(now)
  local bytes snr
  bytes=$(sed -E 's/.*: ([0-9]+) bytes.*/\1/' <<<"$summary")
  snr=$(sed -E 's/.*SNR ([-0-9.]+) dB.*/\1/' <<<"$summary")
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') $bytes $snr"
}

echo "GPU: $gpu; CPU: $(nproc) threads ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "model: $model"
echo
echo "| encode | CPU s | GPU s | speed-up | CPU bytes | GPU bytes | CPU SNR dB | GPU SNR dB | same bytes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for c in "${configs[@]}"; do
  name=${c%%|*}
  read -r -a args <<<"${c#*|}"
  read -r tc bc sc < <(encode "$tmp/cpu.sdc" "${args[@]}" --device cpu)
  read -r tg bg sg < <(encode "$tmp/gpu.sdc" "${args[@]}" --device cuda)
  "$sdc" verify "$tmp/gpu.sdc" >/dev/null
  same=no
  cmp -s "$tmp/cpu.sdc" "$tmp/gpu.sdc" && same=yes
  speed=$(awk -v a="$tc" -v b="$tg" 'BEGIN{printf "%.2fx", (b > 0 ? a / b : 0)}')
  echo "| $name | $tc | $tg | $speed | $bc | $bg | $sc | $sg | $same |"
done
