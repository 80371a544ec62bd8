#include "report/report_html.h"

#include "format/printable.h"
#include "report/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

// One colour per role and per part, the same in every report so pages can be compared by eye.
const std::map<std::string, std::string> kRoleColour = {
    {"embedding", "#4e79a7"}, {"head", "#a0cbe8"},   {"attention", "#f28e2b"}, {"mlp", "#59a14f"},
    {"norm", "#b6992d"},      {"other", "#9c755f"},  {"banks", "#e15759"},     {"assets", "#b07aa1"},
    {"manifest", "#79706e"},  {"header", "#bab0ac"}, {"padding", "#d7d7d7"}};

std::string PartColour(const std::string& part) {
  if (part.rfind("indices", 0) == 0) return "#4e79a7";
  if (part == "scales") return "#f28e2b";
  if (part == "codes") return "#59a14f";
  if (part.rfind("residual", 0) == 0) return "#e15759";
  return "#9c755f";  // raw data
}

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Bytes(uint64_t b) {
  std::string s = std::to_string(b), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// The file's bytes by role as one stacked bar; with a budget the bar spans the budget and the rest is "left".
std::string RoleBar(const Json& j) {
  const double file = j["file_bytes"].get<double>();
  const double span = j["budget"].is_null() ? file : std::max(file, j["budget"]["bytes"].get<double>());
  const double width = 960;
  std::string svg = "<svg class=\"bar\" width=\"960\" height=\"40\" viewBox=\"0 0 960 40\" role=\"img\" "
                    "aria-label=\"bytes by role\">";
  std::string legend = "<ul class=\"legend\">";
  double x = 0;
  for (const auto& [role, bytes] : j["roles"].items()) {
    const double b = bytes.get<double>();
    if (b <= 0) continue;
    const double w = width * b / span;
    const auto colour = kRoleColour.count(role) ? kRoleColour.at(role) : "#999";
    svg += "<rect x=\"" + Fmt("%.2f", x) + "\" y=\"0\" width=\"" + Fmt("%.2f", w) + "\" height=\"40\" fill=\"" +
           colour + "\"><title>" + HtmlEscape(role) + ": " + Bytes(static_cast<uint64_t>(b)) + " bytes</title></rect>";
    legend += "<li><span class=\"sw\" style=\"background:" + colour + "\"></span>" + HtmlEscape(role) + " " +
              Bytes(static_cast<uint64_t>(b)) + " B (" + Fmt("%.1f", 100.0 * b / file) + "%)</li>";
    x += w;
  }
  if (span > file) {
    svg += "<rect x=\"" + Fmt("%.2f", x) + "\" y=\"0\" width=\"" + Fmt("%.2f", width - x) +
           "\" height=\"40\" fill=\"none\" stroke=\"#888\" stroke-dasharray=\"4 3\"><title>left: " +
           Bytes(static_cast<uint64_t>(span - file)) + " bytes</title></rect>";
    legend +=
        "<li><span class=\"sw left\"></span>left of budget " + Bytes(static_cast<uint64_t>(span - file)) + " B</li>";
  }
  return svg + "</svg>" + legend + "</ul>";
}

// The representation with the setting that decides its rate (bits, bank shape, stored dtype): a budget
// encoding mixes these per tensor, so the bare name would hide where the bytes went.
std::string ReprLabel(const Json& t) {
  const std::string repr = t["representation"].get<std::string>();
  const Json& p = t["params"];
  if (repr == "scalar") return "scalar " + std::to_string(p["bits"].get<int>()) + "b";
  if (repr == "codebook") {
    std::string ks;
    for (const Json& k : p["k"]) ks += (ks.empty() ? "" : "+") + std::to_string(k.get<uint64_t>());
    std::string label = "codebook k" + ks + " d" + std::to_string(p["dim"].get<int>());  // one k per bank
    if (p["residuals"].get<uint64_t>() > 0) label += " +res";
    return label;
  }
  return "raw " + p["stored_dtype"].get<std::string>();
}

// One row per tensor, largest first: a bar of its stored bytes split into parts, plus its share of banks.
std::string TensorBars(const Json& j) {
  std::vector<const Json*> ts;
  for (const Json& t : j["tensors"]) ts.push_back(&t);
  std::stable_sort(ts.begin(), ts.end(), [](const Json* a, const Json* b) {
    return (*a)["stored_bytes"].get<uint64_t>() > (*b)["stored_bytes"].get<uint64_t>();
  });
  double most = 1;
  for (const Json* t : ts) most = std::max(most, (*t)["stored_bytes"].get<double>() + (*t)["bank_share"].get<double>());
  const double width = 420, row = 18;
  const bool banks = !j["banks"].empty();
  std::string out = "<table class=\"tensors\"><thead><tr><th>tensor</th><th>role</th><th>repr</th><th>params</th>"
                    "<th>bytes</th>" +
                    std::string(banks ? "<th>bank share</th>" : "") +
                    "<th>b/w</th><th>SNR dB</th><th>bytes by part</th></tr></thead><tbody>";
  for (const Json* tp : ts) {
    const Json& t = *tp;
    std::string svg = "<svg width=\"" + Fmt("%.0f", width) + "\" height=\"" + Fmt("%.0f", row - 4) + "\">";
    double x = 0;
    for (const auto& [part, bytes] : t["parts"].items()) {
      const double w = width * bytes.get<double>() / most;
      svg += "<rect x=\"" + Fmt("%.2f", x) + "\" y=\"0\" width=\"" + Fmt("%.2f", w) + "\" height=\"" +
             Fmt("%.0f", row - 4) + "\" fill=\"" + PartColour(part) + "\"><title>" + HtmlEscape(part) + ": " +
             Bytes(bytes.get<uint64_t>()) + " bytes</title></rect>";
      x += w;
    }
    if (t["bank_share"].get<double>() > 0) {
      const double w = width * t["bank_share"].get<double>() / most;
      svg += "<rect x=\"" + Fmt("%.2f", x) + "\" y=\"0\" width=\"" + Fmt("%.2f", w) + "\" height=\"" +
             Fmt("%.0f", row - 4) + "\" fill=\"#e15759\" fill-opacity=\"0.35\"><title>share of bank bytes: " +
             Fmt("%.0f", t["bank_share"].get<double>()) + "</title></rect>";
    }
    svg += "</svg>";
    const std::string snr = t["snr_db"].is_null() ? "lossless" : Fmt("%.2f", t["snr_db"].get<double>());
    out += "<tr><td class=\"name\">" + HtmlEscape(ShownName(t, "name")) + "</td><td>" +
           HtmlEscape(t["role"].get<std::string>()) + "</td><td>" + HtmlEscape(ReprLabel(t)) +
           "</td><td class=\"num\">" + Bytes(t["numel"].get<uint64_t>()) + "</td><td class=\"num\">" +
           Bytes(t["stored_bytes"].get<uint64_t>()) + "</td><td class=\"num\">" +
           (banks ? Fmt("%.0f", t["bank_share"].get<double>()) + "</td><td class=\"num\">" : "") +
           Fmt("%.3f", t["bits_per_weight"].get<double>()) + "</td><td class=\"num\">" + snr + "</td><td>" + svg +
           "</td></tr>";
  }
  return out + "</tbody></table>";
}

// Each bank: its bytes, shape, and which tensors draw how many index symbols from it.
std::string BankTable(const Json& j) {
  if (j["banks"].empty()) return "<p>No codebook banks in this file.</p>";
  std::string out =
      "<table class=\"banks\"><thead><tr><th>bank</th><th>k</th><th>dim</th><th>entries</th><th>bytes</th>"
      "<th>symbols</th><th>used by</th></tr></thead><tbody>";
  for (const Json& b : j["banks"]) {
    std::string users;
    int count = 0;
    for (const Json& t : j["tensors"])
      if (t["representation"] == "codebook")
        for (const Json& id : t["params"]["banks"])
          if (id == b["index"]) {
            if (count++ < 12) users += (users.empty() ? "" : ", ") + HtmlEscape(ShownName(t, "name"));
            break;
          }
    if (count > 12) users += ", … (" + std::to_string(count) + " tensors)";
    out += "<tr><td>" + std::to_string(b["index"].get<int>()) + "</td><td class=\"num\">" +
           Bytes(b["k"].get<uint64_t>()) + "</td><td class=\"num\">" + std::to_string(b["dim"].get<int>()) +
           "</td><td>" + HtmlEscape(b["entry_dtype"].get<std::string>()) + "</td><td class=\"num\">" +
           Bytes(b["stored_bytes"].get<uint64_t>()) + "</td><td class=\"num\">" +
           Bytes(static_cast<uint64_t>(b["symbols"].get<double>())) + "</td><td>" + users + "</td></tr>";
  }
  return out + "</tbody></table>";
}

const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555;margin:0 0 12px} .bar{display:block;border:1px solid #ccc}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0}
.sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}
.sw.left{border:1px dashed #888}
table{border-collapse:collapse} th,td{padding:1px 8px;text-align:left;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0} .num{text-align:right;font-variant-numeric:tabular-nums}
td.name{font-family:ui-monospace,monospace;font-size:12px} .banks td:last-child{white-space:normal;max-width:640px}
</style>)";

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string InspectHtml(const Json& j, const std::string& title) {
  const uint64_t file = j["file_bytes"].get<uint64_t>();
  const Json& tot = j["totals"];
  std::string meta = Bytes(file) + " bytes; " + Bytes(tot["params"].get<uint64_t>()) + " parameters at " +
                     Fmt("%.3f", tot["bits_per_weight"].get<double>()) + " bits/weight (tensor bytes only); format " +
                     j["format_version"].get<std::string>();
  if (!j["budget"].is_null())
    meta += "; budget " + Bytes(j["budget"]["bytes"].get<uint64_t>()) + ", left " + j["budget"]["left"].dump();
  const std::string shown_title = Printable(title);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                    HtmlEscape(shown_title) + " — sdcodec inspect</title>" + kStyle + "</head><body>\n";
  out += "<h1>" + HtmlEscape(shown_title) + "</h1><p class=\"meta\">" + HtmlEscape(meta) +
         "<br>encoder: " + HtmlEscape(ShownName(j, "encoder")) + "</p>\n";
  out += "<h2>Bytes by role</h2>\n" + RoleBar(j) + "\n";
  out += "<h2>Tensors (largest first)</h2>\n<ul class=\"legend\">";
  for (const char* p : {"indices", "scales", "codes", "residual", "data"})
    out += std::string("<li><span class=\"sw\" style=\"background:") + PartColour(p) + "\"></span>" + p + "</li>";
  out += "<li><span class=\"sw\" style=\"background:#e15759;opacity:.35\"></span>share of bank bytes</li></ul>\n";
  out += TensorBars(j) + "\n<h2>Codebook banks</h2>\n" + BankTable(j) + "\n";
  out += "<p class=\"meta\">Schema " + HtmlEscape(j["schema"].get<std::string>()) +
         "; every figure is from the file's manifest and section table.</p>\n</body></html>\n";
  return out;
}

}  // namespace sdc
