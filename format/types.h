// Element types and tensor roles. The numeric values equal those of the manifest schema (format/sdc.fbs);
// the static_asserts in types.cc keep them in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sdc {

enum class DType : uint8_t {
  kF32 = 0,
  kF16 = 1,
  kBF16 = 2,
  kF64 = 3,
  kI8 = 4,
  kU8 = 5,
  kI16 = 6,
  kU16 = 7,
  kI32 = 8,
  kU32 = 9,
  kI64 = 10,
  kU64 = 11,
  kBool = 12,
  kF8E4M3 = 13,
  kF8E5M2 = 14,
};
constexpr int kDTypeCount = 15;

size_t DTypeSize(DType t);
// safetensors spelling: "F32", "BF16", "F8_E4M3", "BOOL", ...
const char* DTypeName(DType t);
std::optional<DType> ParseDTypeName(std::string_view name);
// The types the lossy codecs accept; every other type is stored losslessly.
inline bool IsLossyCodable(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }
inline bool IsValidDType(uint8_t v) { return v < kDTypeCount; }

enum class Role : uint8_t { kEmbedding = 0, kHead = 1, kAttention = 2, kMlp = 3, kNorm = 4, kOther = 5 };
constexpr int kRoleCount = 6;

const char* RoleName(Role r);  // "embedding", "head", "attention", "mlp", "norm", "other"
std::optional<Role> ParseRoleName(std::string_view name);
inline bool IsValidRole(uint8_t v) { return v < kRoleCount; }

}  // namespace sdc
