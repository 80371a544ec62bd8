// The documented rule that infers a tensor's role from its name (spec/format.md, "Roles"). Roles only
// drive reports and default policy; they never change how a tensor is reconstructed.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "format/types.h"

namespace sdc {

Role InferRole(std::string_view name, std::span<const uint64_t> shape);

}  // namespace sdc
