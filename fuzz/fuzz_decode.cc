// A full decode from memory: open, then verify (every section, bank, tensor and asset), then decode each
// tensor. Limits are tighter than the defaults so a fuzzing process stays within a few hundred MiB.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "decoder/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdc::DecodeLimits limits;
  limits.max_section_raw_bytes = 16u << 20;
  limits.max_tensor_bytes = 16u << 20;
  limits.max_total_output_bytes = 64u << 20;
  std::unique_ptr<sdc::Decoder> d;
  if (!sdc::Decoder::Open(std::vector<uint8_t>(data, data + size), limits, &d).ok()) return 0;
  if (!d->Verify().ok()) return 0;
  for (uint32_t i = 0; i < d->tensor_count(); ++i) {
    sdc::DecodedTensor t;
    if (!d->DecodeTensor(i, &t).ok()) __builtin_trap();  // Verify passed: decoding must too
  }
  return 0;
}
