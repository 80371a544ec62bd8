#include "report/report_compare.h"

#include "report/report.h"

#include <cstdio>
#include <map>

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

std::string Cell(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Pad(const std::string& s, size_t w, bool right) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

Json CompareJson(const std::vector<std::pair<std::string, Json>>& reports) {
  Json files = Json::array(), roles = Json::object(), tensors = Json::array();
  for (const auto& [label, r] : reports) {
    Json file = {{"label", ""},
                 {"file_bytes", r["file_bytes"]},
                 {"params", r["totals"]["params"]},
                 {"bits_per_weight", r["totals"]["bits_per_weight"]},
                 {"budget", r["budget"]},
                 {"encoder", ""}};
    PutName(file, "label", label);
    PutName(file, "encoder", NameBytes(r, "encoder"));
    files.push_back(std::move(file));
    for (const auto& [role, bytes] : r["roles"].items()) roles[role] = Json::array();
  }
  for (auto& [role, list] : roles.items())
    for (const auto& [label, r] : reports) list.push_back(r["roles"].contains(role) ? r["roles"][role] : Json(0));
  // Tensor names (their bytes) in first-seen order over the files; an index per file for matching.
  std::vector<std::string> names;
  std::vector<std::map<std::string, const Json*>> by_name(reports.size());
  for (size_t f = 0; f < reports.size(); ++f)
    for (const Json& t : reports[f].second["tensors"]) {
      const std::string n = NameBytes(t, "name");
      bool seen = false;
      for (size_t g = 0; g < f && !seen; ++g) seen = by_name[g].count(n) > 0;
      if (!seen && !by_name[f].count(n)) names.push_back(n);
      by_name[f][n] = &t;
    }
  for (const std::string& n : names) {
    Json entries = Json::array();
    for (size_t f = 0; f < reports.size(); ++f) {
      auto it = by_name[f].find(n);
      if (it == by_name[f].end()) {
        entries.push_back(nullptr);
        continue;
      }
      const Json& t = *it->second;
      entries.push_back({{"representation", t["representation"]},
                         {"stored_bytes", t["stored_bytes"]},
                         {"bank_share", t["bank_share"]},
                         {"bits_per_weight", t["bits_per_weight"]},
                         {"snr_db", t["snr_db"]}});
    }
    Json row = {{"name", ""}};
    PutName(row, "name", n);
    row["files"] = entries;
    // Differences of each later file from the first, where both hold the tensor.
    Json delta_bytes = Json::array(), delta_bpw = Json::array(), delta_snr = Json::array();
    for (size_t f = 1; f < entries.size(); ++f) {
      const bool both = !entries[0].is_null() && !entries[f].is_null();
      delta_bytes.push_back(
          both ? Json(entries[f]["stored_bytes"].get<int64_t>() - entries[0]["stored_bytes"].get<int64_t>())
               : Json(nullptr));
      delta_bpw.push_back(
          both ? Json(entries[f]["bits_per_weight"].get<double>() - entries[0]["bits_per_weight"].get<double>())
               : Json(nullptr));
      const bool snr = both && !entries[0]["snr_db"].is_null() && !entries[f]["snr_db"].is_null();
      delta_snr.push_back(snr ? Json(entries[f]["snr_db"].get<double>() - entries[0]["snr_db"].get<double>())
                              : Json(nullptr));
    }
    row["delta_bytes"] = delta_bytes;
    row["delta_bits_per_weight"] = delta_bpw;
    row["delta_snr_db"] = delta_snr;
    tensors.push_back(row);
  }
  Json j;
  j["schema"] = "sdcodec.compare/1";
  j["files"] = files;
  j["roles"] = roles;
  j["tensors"] = tensors;
  return j;
}

std::string CompareText(const Json& j) {
  const size_t n = j["files"].size();
  std::string out;
  for (size_t f = 0; f < n; ++f) {
    const Json& file = j["files"][f];
    const double params = file["params"].get<double>();
    out += "[" + std::to_string(f + 1) + "] " + ShownName(file, "label") + ": " +
           std::to_string(file["file_bytes"].get<uint64_t>()) + " bytes, " +
           Cell("%.3f", file["bits_per_weight"].get<double>()) + " bits/weight in tensors, " +
           Cell("%.3f", params > 0 ? 8.0 * file["file_bytes"].get<double>() / params : 0.0) + " over the file";
    if (!file["budget"].is_null()) out += ", budget " + std::to_string(file["budget"]["bytes"].get<uint64_t>());
    out += "\n";
  }
  out += "\nbytes by role:\n" + Pad("role", 12, false);
  for (size_t f = 0; f < n; ++f) out += Pad("[" + std::to_string(f + 1) + "]", 12, true);
  if (n > 1) out += Pad("diff", 12, true);
  out += "\n";
  for (const auto& [role, list] : j["roles"].items()) {
    out += Pad(role, 12, false);
    for (const Json& b : list) out += Pad(std::to_string(b.get<uint64_t>()), 12, true);
    if (n > 1) out += Pad(Cell("%+.0f", list[n - 1].get<double>() - list[0].get<double>()), 12, true);
    out += "\n";
  }
  out += Pad("total", 12, false);
  for (const Json& file : j["files"]) out += Pad(std::to_string(file["file_bytes"].get<uint64_t>()), 12, true);
  if (n > 1)
    out += Pad(Cell("%+.0f", j["files"][n - 1]["file_bytes"].get<double>() - j["files"][0]["file_bytes"].get<double>()),
               12, true);
  // A bank column only when some file has banks: shared against per-tensor banks is decided by it.
  bool banks = false;
  for (const Json& t : j["tensors"])
    for (const Json& e : t["files"]) banks = banks || (!e.is_null() && e["bank_share"].get<double>() > 0);
  out += "\n\ntensors (each file: representation bytes " + std::string(banks ? "bank-share " : "") +
         "b/w SNR; then the last file minus the first):\n";
  for (const Json& t : j["tensors"]) {
    out += "  " + Pad(ShownName(t, "name"), 40, false);
    for (const Json& e : t["files"]) {
      if (e.is_null()) {
        out += " | " + Pad("(absent)", banks ? 42 : 34, false);
        continue;
      }
      const std::string snr = e["snr_db"].is_null() ? "lossless" : Cell("%.2f", e["snr_db"].get<double>());
      out += " | " + Pad(e["representation"].get<std::string>(), 8, false) +
             Pad(std::to_string(e["stored_bytes"].get<uint64_t>()), 9, true) +
             (banks ? Pad(Cell("%.0f", e["bank_share"].get<double>()), 8, true) : "") +
             Pad(Cell("%.3f", e["bits_per_weight"].get<double>()), 8, true) + Pad(snr, 9, true);
    }
    if (n > 1) {
      const Json& db = t["delta_bytes"][n - 2];
      const Json& dw = t["delta_bits_per_weight"][n - 2];
      const Json& ds = t["delta_snr_db"][n - 2];
      out += " | " + (db.is_null() ? std::string("-") : Cell("%+.0f B", db.get<double>())) +
             (dw.is_null() ? std::string("") : Cell(" %+.3f b/w", dw.get<double>())) +
             (ds.is_null() ? std::string("") : Cell(" %+.2f dB", ds.get<double>()));
    }
    out += "\n";
  }
  return out;
}

}  // namespace sdc
