// The encoder half of the rANS section codec (codecs Rans8 and Rans16). The stream format, normative for
// both halves, is the comment of format/rans_codec.h (quoted in spec/format.md §5.1); the decoder half
// lives there, so the decoder library carries no encoding code.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sdc {

// raw.size() must be a multiple of symbol_bytes (1 or 2); otherwise returns an empty vector.
std::vector<uint8_t> RansEncode(std::span<const uint8_t> raw, int symbol_bytes);

// Exactly RansEncode(...).size() for any data with this histogram (histogram[v] = count of symbol v;
// entries at or beyond 2^(8*symbol_bytes) are ignored), computed without encoding.
uint64_t RansEncodedSize(std::span<const uint64_t> histogram, int symbol_bytes);

}  // namespace sdc
