// A full decode from memory (fuzz/decode_one.h). Its libFuzzer build mutates with fuzz/mutate_bytes.cc,
// which recomputes every hash after each mutation, so the checks behind the hashes are reached.
#include "fuzz/decode_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdc::fuzz::DecodeOne(data, size);
  return 0;
}
