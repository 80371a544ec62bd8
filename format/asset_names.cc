#include "format/asset_names.h"

namespace sdc {

std::string AssetNameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxAssetNameBytes)
    return "is " + std::to_string(name.size()) + " bytes, more than " + std::to_string(kMaxAssetNameBytes);
  if (name == "." || name == "..") return "is a directory name";
  for (char c : name) {
    if (c == '/' || c == '\\') return std::string("contains '") + c + "'";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return "contains a control character";
  }
  return "";
}

}  // namespace sdc
