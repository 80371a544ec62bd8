// The encoder half of zstd as a section codec; decoding is format/zstd_codec.h.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sdc {

// One frame with its content size and without a checksum (sections carry their own XXH64). Deterministic
// for a given zstd version, level and input (single-threaded compression). Empty on failure.
std::vector<uint8_t> ZstdCompress(std::span<const uint8_t> src, int level);

}  // namespace sdc
