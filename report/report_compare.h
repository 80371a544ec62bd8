// Side-by-side comparison of inspect reports (schema "sdcodec.compare/1", spec/format.md §13.1): totals and
// bytes by role per file, and every tensor matched by name with its representation, bytes, bits/weight and
// SNR in each file and the differences from the first file. Tensors missing from a file are null there.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sdc {

// `reports`: (label, InspectJson) pairs, at least one.
nlohmann::ordered_json CompareJson(const std::vector<std::pair<std::string, nlohmann::ordered_json>>& reports);

std::string CompareText(const nlohmann::ordered_json& comparison);

}  // namespace sdc
