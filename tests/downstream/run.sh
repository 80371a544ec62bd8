#!/usr/bin/env bash
# The installed package as a user meets it. For each build directory given (already built), installs it
# into a fresh prefix (cmake --install), then builds this directory's programs against that prefix twice —
# as a CMake project with find_package(sdcodec), and by hand with the flags pkg-config gives — runs them,
# and requires decode_demo's output (every tensor's name, dtype, shape, byte count and FNV-1a hash, every
# asset's) to equal the one computed from the installed CLI's `sdcodec decode` of the same file;
# roundtrip_demo runs where the install has the encoder. The test file is made by the first install that
# can encode. Prints one line per check; exits non-zero on the first failure.
#
#   bash tests/downstream/run.sh BUILD_DIR [BUILD_DIR...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/downstream"
(($#)) || { echo "usage: run.sh BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc} cxx=${CXX:-c++}

# Install every build; the first one with the encoder makes the test file.
prefixes=()
encoder_prefix=""
for b in "$@"; do
  [ -d "$b" ] || b="$root/$b"
  p="$tmp/prefix-$(basename "$b")"
  cmake --install "$b" --prefix "$p" >/dev/null
  prefixes+=("$p")
  libdir=$(dirname "$(find "$p" -name sdcodecConfig.cmake -printf '%h')")  # <libdir>/cmake/sdcodec
  libdir=$(dirname "$libdir")
  if [ -z "$encoder_prefix" ] && [ -f "$libdir/pkgconfig/sdcodec.pc" ] &&
     grep -q 'sdcodec_encoder_FOUND TRUE' "$libdir/cmake/sdcodec/sdcodecConfig.cmake"; then
    encoder_prefix=$p
  fi
  echo "installed $(basename "$b") into a fresh prefix: $(find "$p" -type f | wc -l) files" \
       "($(cd "$p" && find . -type f \( -name '*.so*' -o -name '*.a' \) | sort | xargs -n1 basename | tr '\n' ' '))"
done
[ -n "$encoder_prefix" ] || { echo "downstream: no install with the encoder among $*" >&2; exit 1; }

# The test file: float32, bfloat16 and int64 tensors (codebook, raw and pass-through) and an asset.
python3 - "$tmp/in.safetensors" "$tmp/tokenizer.bin" <<'PY'
import json, struct, sys
import numpy as np
rng = np.random.default_rng(3)
tensors = {
    "layers.0.attention.wq.weight": ("F32", rng.standard_normal((64, 128)).astype("<f4") * 0.05),
    "layers.0.mlp.w1.weight": ("F32", rng.standard_t(5, (128, 64)).astype("<f4") * 0.02),
    "norm.weight": ("F32", (1 + 0.1 * rng.standard_normal(64)).astype("<f4")),
    "tok_embeddings.weight": ("BF16", (rng.standard_normal((32, 64)).astype("<f4").view("<u4") >> 16).astype("<u2")),
    "positions": ("I64", np.arange(12, dtype="<i8").reshape(3, 4)),
}
header, blobs, off = {}, [], 0
for name, (dtype, a) in tensors.items():
    b = a.tobytes()
    header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
with open(sys.argv[2], "wb") as f:
    f.write(bytes(range(256)) * 3)
PY
"$encoder_prefix/bin/sdcodec" encode "$tmp/in.safetensors" -o "$tmp/model.sdc" --method codebook --k 64 --dim 4 \
  --asset "tokenizer.bin=$tmp/tokenizer.bin" --device cpu --quiet
mkdir "$tmp/assets"
"$encoder_prefix/bin/sdcodec" decode "$tmp/model.sdc" -o "$tmp/back.safetensors" --assets-dir "$tmp/assets" 2>/dev/null
python3 - "$tmp/back.safetensors" "$tmp/assets" >"$tmp/expected.txt" <<'PY'
import json, os, struct, sys
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8:8 + n]), data[8 + n:]
for name, t in header.items():
    if name == "__metadata__":
        continue
    s, e = t["data_offsets"]
    shape = "x".join(str(d) for d in t["shape"])
    print(f"tensor {name} {t['dtype']} {shape} {e - s} {fnv1a64(body[s:e]):016x}")
for name in sorted(os.listdir(sys.argv[2])):
    b = open(os.path.join(sys.argv[2], name), "rb").read()
    print(f"asset {name} {len(b)} {fnv1a64(b):016x}")
PY
sort -o "$tmp/expected.txt" "$tmp/expected.txt"
echo "test file: $(stat -c %s "$tmp/model.sdc") bytes, $(grep -c '^tensor' "$tmp/expected.txt") tensors," \
     "$(grep -c '^asset' "$tmp/expected.txt") asset"

check_decode() {  # label, program
  "$2" "$tmp/model.sdc" 2>"$tmp/stderr.txt" | sort >"$tmp/got.txt"
  if ! diff -u "$tmp/expected.txt" "$tmp/got.txt"; then echo "downstream: $1: decode_demo differs from sdcodec decode"; exit 1; fi
  echo "$1: decode_demo: $(head -1 "$tmp/stderr.txt" | sed 's/^decode_demo: //'); $(wc -l <"$tmp/got.txt") lines equal to sdcodec decode"
}

for p in "${prefixes[@]}"; do
  name=$(basename "$p" | sed 's/^prefix-//')
  pcdir=$(dirname "$(find "$p" -name sdcodec.pc)")
  # CMake: find_package(sdcodec) from the prefix alone.
  cmake -S "$here" -B "$tmp/cmake-$name" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" ||
    { cat "$tmp/configure.log"; exit 1; }
  cmake --build "$tmp/cmake-$name" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
  check_decode "$name, find_package" "$tmp/cmake-$name/decode_demo"
  [ ! -x "$tmp/cmake-$name/roundtrip_demo" ] || echo "$name, find_package: $("$tmp/cmake-$name/roundtrip_demo")"
  # pkg-config: plain compiler commands; a shared install is found at run time through its rpath.
  export PKG_CONFIG_PATH="$pcdir"
  rpath="-Wl,-rpath,$(pkg-config --variable=libdir sdcodec-decoder)"
  # shellcheck disable=SC2046
  $cc -std=c11 -o "$tmp/pc-decode-$name" "$here/decode_demo.c" $(pkg-config --cflags --libs sdcodec-decoder) "$rpath"
  check_decode "$name, pkg-config sdcodec-decoder" "$tmp/pc-decode-$name"
  if grep -q 'sdcodec_encoder_FOUND TRUE' "$pcdir/../cmake/sdcodec/sdcodecConfig.cmake"; then
    # shellcheck disable=SC2046
    $cxx -std=c++17 -o "$tmp/pc-roundtrip-$name" "$here/roundtrip_demo.cc" $(pkg-config --cflags --libs sdcodec) "$rpath"
    echo "$name, pkg-config sdcodec: $("$tmp/pc-roundtrip-$name")"
  fi
  unset PKG_CONFIG_PATH
done
echo "downstream: every program built against the installed packages decodes what sdcodec decodes"
