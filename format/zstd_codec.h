// zstd as a section codec. Decoding is exact-size: the frames must produce exactly the declared raw size,
// never more (the output buffer is that size, so a decompression bomb cannot grow it).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/status.h"

namespace sdc {

Status ZstdDecompressExact(std::span<const uint8_t> src, uint64_t raw_size, std::vector<uint8_t>* out);

// Deterministic for a given zstd version, level and input (single-threaded compression).
std::vector<uint8_t> ZstdCompress(std::span<const uint8_t> src, int level);

}  // namespace sdc
