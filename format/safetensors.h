// safetensors reading and writing (https://github.com/huggingface/safetensors, format as of v0.4).
// The reader validates the header the way the reference implementation does: 8-byte little-endian header
// length capped at 100,000,000 bytes, a JSON object (no NUL byte, no duplicate key), known dtypes,
// overflow-checked shape x dtype sizes, and data offsets that are in order, non-overlapping and cover the
// data buffer exactly. Its memory is proportional to the tensors it finds, not to the header's size.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"
#include "format/types.h"

namespace sdc {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  std::span<const uint8_t> data;  // little-endian element bytes, numel * DTypeSize(dtype)
};

struct SafetensorsFile {
  std::vector<TensorView> tensors;              // in data-offset order
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

// Views point into `bytes`, which must outlive the result.
Status ParseSafetensors(std::span<const uint8_t> bytes, SafetensorsFile* out);

// A tensor as the header describes it: name, dtype, shape and its size in bytes.
struct TensorHeader {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  uint64_t bytes = 0;
};

// The 8-byte header length and the JSON header (padded by spaces to a multiple of 8 bytes, as the
// reference writer does) for tensors whose data follow in this order, contiguously: a writer can stream
// the data after it one tensor at a time.
Status SafetensorsHeader(const std::vector<TensorHeader>& tensors, const std::map<std::string, std::string>& metadata,
                         std::vector<uint8_t>* out);

// Serialises tensors in the given order (offsets assigned contiguously) with the header padded by spaces
// to a multiple of 8 bytes, as the reference writer does.
Status SerializeSafetensors(const std::vector<TensorView>& tensors, const std::map<std::string, std::string>& metadata,
                            std::vector<uint8_t>* out);

}  // namespace sdc
