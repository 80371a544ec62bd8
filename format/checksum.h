// All hashes in the format are XXH64 with seed 0 (the hash zstd uses for its content checksum).
#pragma once

#include <cstdint>
#include <span>

#include <xxhash.h>

namespace sdc {

inline uint64_t Xxh64(std::span<const uint8_t> bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

}  // namespace sdc
