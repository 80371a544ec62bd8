// The inspect report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.
// A stacked bar of the file's bytes by role (against the budget when one was given), one bar per tensor
// split into its parts (indices, scales, residuals, codes, raw data) with bits/weight and SNR, and the
// codebook banks with how many index symbols each tensor draws from them. Built from InspectJson's output
// only, so it shows exactly what `inspect --json` says.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sdc {

std::string InspectHtml(const nlohmann::ordered_json& report, const std::string& title);

// Text safe inside HTML elements and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace sdc
