#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and runs each for SECONDS
# (default 60) from the seed corpus with the dictionary; new crashes land in fuzz/crashes/<target>/.
# Exits non-zero on any finding. Without clang++ it says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
if ! command -v clang++ >/dev/null; then echo "fuzz smoke: clang++ not found, skipped"; exit 0; fi
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSDC_BUILD_FUZZERS=ON -DSDC_BUILD_ENCODER=OFF -DSDC_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build-fuzz" -j "$(nproc)" >/dev/null
status=0
for target in container decode manifest safetensors rans; do
  work=$(mktemp -d)  # new corpus entries stay out of the repository
  mkdir -p "$root/fuzz/crashes/$target"
  if ! "$root/build-fuzz/fuzz/fuzz_$target" "$work" "$root/fuzz/corpus/$target" -dict="$root/fuzz/sdc.dict" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$root/fuzz/crashes/$target/" 2>"$work.log"; then
    echo "fuzz smoke: fuzz_$target found a problem; see $work.log"; status=1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|cov:" "$work.log" | tail -3 | sed "s/^/fuzz_$target: /"
  rm -rf "$work"
done
exit $status
