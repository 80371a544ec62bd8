// Structure-aware: the same full decode as fuzz_decode (fuzz/decode_one.h), fed by a mutator that edits
// manifest fields (fuzz/mutate_manifest.cc: sizes, offsets, kinds, shapes, names, representations) and
// recomputes every hash, so inputs reach the semantic rules of spec §9 steps D-H rather than the parser.
#include "fuzz/decode_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdc::fuzz::DecodeOne(data, size);
  return 0;
}
