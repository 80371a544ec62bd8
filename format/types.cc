#include "format/types.h"

#include "sdc_generated.h"

namespace sdc {

static_assert(static_cast<int>(fb::DType::F8E5M2) == static_cast<int>(DType::kF8E5M2));
static_assert(static_cast<int>(fb::DType::MAX) + 1 == kDTypeCount);
static_assert(static_cast<int>(fb::Role::Other) == static_cast<int>(Role::kOther));
static_assert(static_cast<int>(fb::Role::MAX) + 1 == kRoleCount);

namespace {
struct DTypeInfo {
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[kDTypeCount] = {
    {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I8", 1},   {"U8", 1},      {"I16", 2},     {"U16", 2},
    {"I32", 4}, {"U32", 4}, {"I64", 8},  {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};
constexpr const char* kRoles[kRoleCount] = {"embedding", "head", "attention", "mlp", "norm", "other"};
}  // namespace

size_t DTypeSize(DType t) { return kDTypes[static_cast<int>(t)].size; }
const char* DTypeName(DType t) { return kDTypes[static_cast<int>(t)].name; }

std::optional<DType> ParseDTypeName(std::string_view name) {
  for (int i = 0; i < kDTypeCount; ++i)
    if (name == kDTypes[i].name) return static_cast<DType>(i);
  return std::nullopt;
}

const char* RoleName(Role r) { return kRoles[static_cast<int>(r)]; }

std::optional<Role> ParseRoleName(std::string_view name) {
  for (int i = 0; i < kRoleCount; ++i)
    if (name == kRoles[i]) return static_cast<Role>(i);
  return std::nullopt;
}

}  // namespace sdc
