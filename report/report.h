// Byte reports of an .sdc file (schema "sdcodec.inspect/1", spec/format.md section 13). Everything here
// reads the manifest and section sizes only; nothing is decoded, so inspecting is cheap and the numbers
// are exact: parts, sections and roles each add up to the file size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoder/dec_container.h"

namespace sdc {

// The inspect report of one file. The constructor makes one pass over the manifest for what the report
// sums up (totals, bytes by role, bank use, each section's owner); the per-section and per-tensor entries
// are made when asked for, so the CLI can write a report of a million tensors one entry at a time instead
// of holding a JSON tree of a kilobyte or more per tensor.
class InspectReport {
 public:
  explicit InspectReport(const Container& c);  // `c` must outlive the report
  nlohmann::ordered_json ToJson() const;
  // Exactly DumpJson(ToJson(), 2) + "\n" and InspectText(ToJson()), handed to `sink` piece by piece.
  void WriteJson(const std::function<void(std::string_view)>& sink) const;
  void WriteText(const std::function<void(std::string_view)>& sink) const;

 private:
  struct Owner {
    enum Kind : uint8_t { kNone, kTensor, kBank, kAsset } kind = kNone;
    uint32_t index = 0;
  };
  uint32_t tensor_count() const;
  nlohmann::ordered_json Summary() const;
  nlohmann::ordered_json TensorEntry(uint32_t i) const;
  nlohmann::ordered_json SectionEntry(uint32_t i) const;

  const Container& c_;
  std::vector<Owner> owners_;         // per section
  std::vector<double> bank_symbols_;  // index symbols drawn from each bank by all tensors
  std::vector<uint64_t> role_bytes_;
  uint64_t params_ = 0, tensor_bytes_ = 0, bank_bytes_ = 0, asset_bytes_ = 0;
};

nlohmann::ordered_json InspectJson(const Container& c);  // InspectReport(c).ToJson()

// Names in .sdc files are bytes, JSON strings are UTF-8 (spec §13): PutName sets j[key] to the name with
// every byte outside UTF-8 replaced by U+FFFD and, only when that lost something, j[key + "_hex"] to the
// bytes in hex. NameBytes reads the bytes back; ShownName gives them escaped for a terminal or a page.
void PutName(nlohmann::ordered_json& j, const std::string& key, std::string_view bytes);
std::string NameBytes(const nlohmann::ordered_json& j, const std::string& key);
std::string ShownName(const nlohmann::ordered_json& j, const std::string& key);

// Serialises a report; never throws (a string that is somehow not UTF-8 is written with U+FFFD).
std::string DumpJson(const nlohmann::ordered_json& j, int indent = -1);

// The human-readable report: per-tensor table, assets, totals by role.
std::string InspectText(const nlohmann::ordered_json& report);

}  // namespace sdc
