// Header, manifest and every validation rule of Container::Open on arbitrary bytes. Its libFuzzer build
// mutates with fuzz/mutate_bytes.cc, which recomputes every hash after each mutation.
#include <cstddef>
#include <cstdint>

#include "decoder/dec_container.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdc::Container c;
  (void)sdc::Container::Open(std::span<const uint8_t>(data, size), sdc::DecodeLimits(), &c);
  return 0;
}
