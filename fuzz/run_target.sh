# Sourced by fuzz/smoke.sh and fuzz/campaign.sh: the one way this project runs a libFuzzer target.
#   run_fuzz_target ROOT TARGET WORK_CORPUS [EXTRA_FLAG...]
# Seed corpus fuzz/corpus/TARGET, the dictionary, 2 GiB RSS and 10 s per-input limits, final stats, and
# findings written to fuzz/crashes/TARGET/. libFuzzer's output goes to the caller's stderr. Call it in the
# background (`run_fuzz_target ... &`): it execs the fuzzer, so $! is the fuzzer itself (campaign.sh reads its
# CPU time).
run_fuzz_target() {
  local root=$1 target=$2 work=$3
  shift 3
  mkdir -p "$root/fuzz/crashes/$target" "$work"
  exec "$root/build-fuzz/fuzz/fuzz_$target" "$work" "$root/fuzz/corpus/$target" -dict="$root/fuzz/sdc.dict" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$root/fuzz/crashes/$target/" "$@"
}
