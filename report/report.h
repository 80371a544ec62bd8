// Byte reports of an .sdc file (schema "sdcodec.inspect/1", spec/format.md section 13). Everything here
// reads the manifest and section sizes only; nothing is decoded, so inspecting is cheap and the numbers
// are exact: parts, sections and roles each add up to the file size.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "decoder/dec_container.h"

namespace sdc {

nlohmann::ordered_json InspectJson(const Container& c);

// The human-readable report: per-section table, per-tensor table, totals by role.
std::string InspectText(const nlohmann::ordered_json& report);

}  // namespace sdc
