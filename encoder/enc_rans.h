// The encoder half of the rANS section codec (codecs Rans8 and Rans16). The stream format, normative for
// both halves, is the comment of format/rans_codec.h (quoted in spec/format.md §5.1); the decoder half
// lives there, so the decoder library carries no encoding code.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sdc {

// How many interleaved states our streams of n symbols use: rans::kLanes from 2^18 symbols on (codecs
// Rans8x4 / Rans16x4: faster decoding for 8 * (kLanes - 1) more bytes, a negligible share of such a
// stream), else 1 (Rans8 / Rans16).
int RansLanesFor(uint64_t symbols);

// raw.size() must be a multiple of symbol_bytes (1 or 2), `lanes` 1, rans::kLanes or 0 (RansLanesFor the
// symbol count); otherwise returns an empty vector.
std::vector<uint8_t> RansEncode(std::span<const uint8_t> raw, int symbol_bytes, int lanes = 0);

// Exactly RansEncode(..., lanes).size() for any data with this histogram (histogram[v] = count of symbol v;
// entries at or beyond 2^(8*symbol_bytes) are ignored), computed without encoding.
uint64_t RansEncodedSize(std::span<const uint64_t> histogram, int symbol_bytes, int lanes = 0);

}  // namespace sdc
