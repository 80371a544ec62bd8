#!/usr/bin/env bash
# A fuzzing campaign measured in CPU time, not wall time (on a shared machine the two differ a lot):
#   bash fuzz/campaign.sh TARGET CPU_SECONDS [LOG]
# Runs build-fuzz/fuzz/fuzz_TARGET (make it with fuzz/smoke.sh or the cmake line there) from the seed corpus
# with the dictionary, in a fresh working corpus, until the process has used CPU_SECONDS of CPU; then stops it
# and prints one line: target, CPU seconds, executions, and the last cov/ft/corpus figures. Every minute of CPU
# it appends "cpu_s <libFuzzer's last status line>" to LOG (default /tmp/campaign_TARGET.log), so coverage can
# be read at any CPU time. SDC_FUZZ_PLAIN=1 in the environment turns off hash fixing (fuzz/mutate_bytes.cc)
# for a comparison. Findings land in fuzz/crashes/TARGET/; exits non-zero on one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/fuzz/run_target.sh"
target=$1 budget=$2 log=${3:-/tmp/campaign_$target.log}
bin=$root/build-fuzz/fuzz/fuzz_$target
[ -x "$bin" ] || { echo "campaign: $bin not built (see fuzz/smoke.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$log"
run_fuzz_target "$root" "$target" "$work/corpus" 2>"$work.out" &
pid=$!
cpu() { ps -o times= -p "$pid" 2>/dev/null | tr -d ' ' || true; }
next=${SDC_CAMPAIGN_STEP:-60}
while kill -0 "$pid" 2>/dev/null; do
  used=$(cpu); used=${used:-0}
  if ((used >= next)); then
    echo "$used $(grep -E '^#[0-9]+' "$work.out" | tail -1)" >>"$log"
    next=$((next + ${SDC_CAMPAIGN_STEP:-60}))
  fi
  if ((used >= budget)); then kill -INT "$pid"; break; fi
  sleep 5
done
status=0
wait "$pid" || status=$?
# A stop by SIGINT is the normal end (libFuzzer exits 72 or 130 then); a finding leaves a crash- or leak- file.
if grep -qE "ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer: (deadly signal|timeout|out-of-memory))" "$work.out"; then
  keep=$(mktemp "${TMPDIR:-/tmp}/campaign_$target.XXXXXX.out"); cp "$work.out" "$keep"
  echo "campaign: fuzz_$target found a problem (exit $status); see $keep"; exit 1
fi
last=$(grep -E '^#[0-9]+' "$work.out" | tail -1)
execs=$(grep -E '^stat::number_of_executed_units' "$work.out" | awk '{print $2}')
echo "fuzz_$target: $(tail -1 "$log" | cut -d' ' -f1) CPU s, ${execs:-?} runs; last: $last"
