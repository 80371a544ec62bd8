#!/usr/bin/env bash
# Decoder-only means decoder-only (issue 15 item 4): the decoder libraries of the full build and the
# decoder-only sdcodec binary define no symbol that the encoder's libraries define (everything compiled
# from encoder/, the codec encode halves encoder/enc_zstd.cc and encoder/enc_rans.cc included), and no codec
# encode function (RansEncode*, ZstdCompress*) at all. Prints what it compared; exits non-zero on any overlap.
#   check_decoder_symbols.sh [FULL_BUILD_DIR (build)] [DECODER_ONLY_BUILD_DIR (build-decoder)]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
full=${1:-$root/build}
dec=${2:-$root/build-decoder}
encoder_libs=("$full/encoder/libsdc_encoder.a" "$full/libsdc_codec_encode.a")
decoder_objs=("$full/format/libsdc_format.a" "$full/decoder/libsdc_decoder.a" "$full/report/libsdc_report.a"
              "$full/capi/libsdc_c_decoder.a" "$dec/sdcodec")
for f in "${encoder_libs[@]}" "${decoder_objs[@]}"; do
  [ -f "$f" ] || { echo "check_decoder_symbols: $f is missing (build both first)"; exit 1; }
done
# Strong definitions (text, data, bss, read-only), mangled so that overloads compare exactly. On the decoder
# side local ones count too: a decoder-only build with shared libraries hides every symbol of the static archives
# it links into sdcodec (visibility preset hidden), so a linked-in encoder function shows as local there. Names
# with internal linkage mangle differently (_ZL..., _GLOBAL__N_), so they never match an encoder's global name.
strong() { nm --defined-only -P "$@" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ {print $1}' | sort -u; }
defined() { nm --defined-only -P "$@" 2>/dev/null | awk '$2 ~ /^[TDBRtdbr]$/ {print $1}' | sort -u; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
strong "${encoder_libs[@]}" >"$tmp/encoder"
status=0
for f in "${decoder_objs[@]}"; do
  defined "$f" >"$tmp/decoder"
  both=$(comm -12 "$tmp/encoder" "$tmp/decoder" | c++filt)
  codec=$(nm -C "$f" 2>/dev/null | grep -E "sdc::(RansEncode|ZstdCompress)" || true)
  echo "check_decoder_symbols: ${f#"$root"/}: $(wc -l <"$tmp/decoder") symbols defined, $(printf '%s' "$both" | grep -c . || true) of the encoder's $(wc -l <"$tmp/encoder"), $(printf '%s' "$codec" | grep -c . || true) codec encode functions"
  if [ -n "$both$codec" ]; then
    printf '%s\n%s\n' "$both" "$codec" | sed '/^$/d; s/^/  /'
    status=1
  fi
done
# And no object compiled from encoder/ sits in a decoder library.
for f in "${decoder_objs[@]}"; do
  [[ $f == *.a ]] || continue
  while read -r src; do
    if ar t "$f" | grep -qx "$(basename "$src").o"; then echo "  ${f#"$root"/} holds $src"; status=1; fi
  done < <(cd "$root" && find encoder -name '*.cc' -o -name '*.cu')
done
exit $status
