// Whole-file reads and atomic writes (temporary file in the same directory, fsync, rename), so a reader
// never sees a half-written artifact and a failed write leaves any earlier file intact.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"

namespace sdc {

Status ReadFile(const std::string& path, std::vector<uint8_t>* out, uint64_t max_bytes = UINT64_MAX);

// Writes `bytes` to `path` atomically. Refuses when `path` names the same file as any of `inputs`.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes,
                       std::span<const std::string> inputs = {});

}  // namespace sdc
