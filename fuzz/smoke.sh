#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and runs each for SECONDS
# (default 60) from the seed corpus with the dictionary; new crashes land in fuzz/crashes/<target>/.
# Exits non-zero on any finding. Without clang++ it says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/fuzz/run_target.sh"
seconds=${1:-60}
if ! command -v clang++ >/dev/null; then echo "fuzz smoke: clang++ not found, skipped"; exit 0; fi
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSDC_BUILD_FUZZERS=ON -DSDC_BUILD_ENCODER=OFF -DSDC_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-fuzz" -j "$(nproc)" >/dev/null
# The targets run side by side, as many at a time as there are cores (each libFuzzer run is one process).
status=0
targets=(container decode manifest safetensors rans)
work=$(mktemp -d)  # new corpus entries stay out of the repository
trap 'rm -rf "$work"' EXIT
run_one() { run_fuzz_target "$root" "$1" "$work/$1" -max_total_time="$seconds" 2>"$work/$1.log"; }
pids=()
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  run_one "$target" & pids+=($!)
done
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  if ! wait "${pids[$i]}"; then
    status=1
    keep=$(mktemp "${TMPDIR:-/tmp}/fuzz_$target.XXXXXX.log"); cp "$work/$target.log" "$keep"
    echo "fuzz smoke: fuzz_$target found a problem; see $keep"
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|cov:" "$work/$target.log" | tail -3 | sed "s/^/fuzz_$target: /"
done
exit $status
