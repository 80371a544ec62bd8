// Resource limits the decoder enforces before it allocates anything sized by the file. A file that
// declares more is refused with kLimitExceeded; the defaults admit any model we know of while keeping a
// hostile file from taking more than a bounded amount of memory (spec/format.md, "Limits").
#pragma once

#include <cstdint>

namespace sdc {

struct DecodeLimits {
  uint64_t max_manifest_bytes = 64ull << 20;  // decoded manifest
  uint64_t max_sections = 1u << 20;
  uint64_t max_tensors = 1u << 20;
  uint64_t max_assets = 1u << 16;
  uint64_t max_banks = 1u << 16;
  uint32_t max_rank = 8;
  uint64_t max_name_bytes = 4096;
  uint64_t max_section_raw_bytes = 8ull << 30;    // one decoded section
  uint64_t max_tensor_bytes = 8ull << 30;         // one reconstructed tensor
  uint64_t max_total_output_bytes = 64ull << 30;  // all tensors and assets together
};

// Memory before proof (spec §10): a codec stream's declared raw size is allocated at once only when the
// stored bytes vouch for it, i.e. it is at most 64 x the stored size + 1 MiB (more than any real weight,
// index or manifest stream compresses). A larger claim (an all-zero tensor, or a bomb) is decoded once
// without keeping the output, and allocated only if that succeeds.
constexpr uint64_t kVouchedExpansion = 64;
constexpr uint64_t kVouchedSlack = uint64_t{1} << 20;
inline bool SizeIsVouched(uint64_t stored_size, uint64_t raw_size) {
  return raw_size <= kVouchedSlack || (raw_size - kVouchedSlack) / kVouchedExpansion <= stored_size;
}

}  // namespace sdc
