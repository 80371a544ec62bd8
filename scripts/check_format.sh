#!/usr/bin/env bash
# Formatting check: clang-format (.clang-format) over the C, C++ and CUDA sources git tracks. Prints the
# files that differ from their formatted text and how many lines would change; exits 1 if any would.
#
#   bash scripts/check_format.sh            every tracked source
#   bash scripts/check_format.sh FILE...    only these (what the pre-commit hook passes)
#   bash scripts/check_format.sh --fix ...  rewrite the files in place instead
#
# scripts/test.sh runs it (SDC_CHECK_FORMAT=0 skips it); the one-time pass over the tree is committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
fix=0
if [ "${1:-}" = "--fix" ]; then fix=1; shift; fi
command -v clang-format >/dev/null || { echo "check_format: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
if (($#)); then
  files=()
  for f in "$@"; do case "$f" in *.c|*.cc|*.h|*.hpp|*.cu|*.cuh) files+=("$f") ;; esac; done
else
  mapfile -t files < <(git ls-files '*.c' '*.cc' '*.h' '*.hpp' '*.cu' '*.cuh')
fi
((${#files[@]})) || exit 0
if ((fix)); then
  clang-format -i --style=file "${files[@]}"
  exit 0
fi
bad=0 lines=0
for f in "${files[@]}"; do
  n=$(clang-format --style=file "$f" | diff "$f" - | grep -c '^<' || true)
  if ((n)); then
    echo "check_format: $f: $n lines differ from clang-format's"
    bad=$((bad + 1)) lines=$((lines + n))
  fi
done
if ((bad)); then
  echo "check_format: $bad of ${#files[@]} files, $lines lines; 'bash scripts/check_format.sh --fix FILE...' rewrites them"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted as .clang-format says"
