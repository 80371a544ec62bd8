// zstd as a section codec, decoder half (the encoder half is encoder/enc_zstd.h). Decoding is exact-size
// and refuses what spec/format.md §5 leaves out: legacy (pre-RFC 8878) frames, frames needing a dictionary,
// and windows above 2^27 bytes. The declared size is allocated only once the stored bytes vouch for it
// (SizeIsVouched, format/limits.h), so a small frame claiming gigabytes costs nothing before it is refused.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/status.h"

namespace sdc {

// The largest window a frame may declare (RFC 8878 Window_Size; for a single-segment frame its content
// size): 2^27, zstd's own default limit, which no compression level exceeds.
constexpr uint64_t kZstdMaxWindow = uint64_t{1} << 27;

Status ZstdDecompressExact(std::span<const uint8_t> src, uint64_t raw_size, std::vector<uint8_t>* out);

}  // namespace sdc
