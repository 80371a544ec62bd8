// The safetensors reader, and a write-back of whatever it accepted that must parse to the same tensors.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdc::SafetensorsFile f;
  if (!sdc::ParseSafetensors(std::span<const uint8_t>(data, size), &f).ok()) return 0;
  std::vector<uint8_t> out;
  if (!sdc::SerializeSafetensors(f.tensors, f.metadata, &out).ok()) return 0;  // e.g. non-UTF-8 names
  sdc::SafetensorsFile g;
  if (!sdc::ParseSafetensors(out, &g).ok() || g.tensors.size() != f.tensors.size()) __builtin_trap();
  return 0;
}
