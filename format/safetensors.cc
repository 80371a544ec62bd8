#include "format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "format/endian.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

using Json = nlohmann::json;

Status Bad(const std::string& what) { return Error(StatusCode::kCorrupt, "safetensors: " + what); }

struct Entry {
  TensorView view;
  uint64_t begin, end;
};

Status ParseEntry(const std::string& name, const Json& j, Entry* e) {
  SDC_CHECK(j.is_object(), StatusCode::kCorrupt, "safetensors: tensor '" + name + "' is not an object");
  auto dt = j.find("dtype");
  auto sh = j.find("shape");
  auto off = j.find("data_offsets");
  SDC_CHECK(dt != j.end() && dt->is_string() && sh != j.end() && sh->is_array() && off != j.end() &&
                off->is_array() && off->size() == 2,
            StatusCode::kCorrupt, "safetensors: tensor '" + name + "' lacks dtype, shape or data_offsets");
  auto dtype = ParseDTypeName(dt->get<std::string>());
  SDC_CHECK(dtype.has_value(), StatusCode::kUnsupported,
            "safetensors: tensor '" + name + "' has unknown dtype '" + dt->get<std::string>() + "'");
  e->view.name = name;
  e->view.dtype = *dtype;
  for (const Json& d : *sh) {
    SDC_CHECK(d.is_number_unsigned(), StatusCode::kCorrupt,
              "safetensors: tensor '" + name + "' has a shape entry that is not a non-negative integer");
    e->view.shape.push_back(d.get<uint64_t>());
  }
  for (const Json& o : *off)
    SDC_CHECK(o.is_number_unsigned(), StatusCode::kCorrupt,
              "safetensors: tensor '" + name + "' has a data offset that is not a non-negative integer");
  e->begin = (*off)[0].get<uint64_t>();
  e->end = (*off)[1].get<uint64_t>();
  uint64_t numel;
  SDC_CHECK(CheckedNumel(e->view.shape, UINT64_MAX / 8, &numel), StatusCode::kCorrupt,
            "safetensors: tensor '" + name + "' shape overflows");
  SDC_CHECK(e->begin <= e->end && e->end - e->begin == numel * DTypeSize(*dtype), StatusCode::kCorrupt,
            "safetensors: tensor '" + name + "' data_offsets do not match shape x dtype size");
  return Status::Ok();
}

}  // namespace

Status ParseSafetensors(std::span<const uint8_t> bytes, SafetensorsFile* out) {
  if (bytes.size() < 8) return Bad("file shorter than its 8-byte header length");
  uint64_t n = LoadLE64(bytes.data());
  if (n > kSafetensorsMaxHeader) return Bad("header length " + std::to_string(n) + " exceeds 100,000,000");
  if (n > bytes.size() - 8) return Bad("header length runs past the end of the file");
  std::span<const uint8_t> header = bytes.subspan(8, n);
  if (n == 0 || header[0] != '{') return Bad("header is not a JSON object");
  Json j = Json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("header is not valid JSON");

  SafetensorsFile result;
  std::vector<Entry> entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      SDC_CHECK(it->is_object(), StatusCode::kCorrupt, "safetensors: __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        SDC_CHECK(m->is_string(), StatusCode::kCorrupt, "safetensors: __metadata__ value is not a string");
        result.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    Entry e;
    SDC_RETURN_IF_ERROR(ParseEntry(it.key(), *it, &e));
    entries.push_back(std::move(e));
  }
  // Offsets must tile the data buffer: sorted, contiguous from 0, ending at its last byte.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t data_size = bytes.size() - 8 - n;
  uint64_t expect = 0;
  for (const Entry& e : entries) {
    SDC_CHECK(e.begin == expect, StatusCode::kCorrupt,
              "safetensors: tensor '" + e.view.name + "' data does not start where the previous one ends");
    expect = e.end;
  }
  SDC_CHECK(expect == data_size, StatusCode::kCorrupt,
            "safetensors: tensors cover " + std::to_string(expect) + " bytes of a " + std::to_string(data_size) +
                "-byte data buffer");
  const uint8_t* data = bytes.data() + 8 + n;
  for (Entry& e : entries) {
    e.view.data = std::span<const uint8_t>(data + e.begin, e.end - e.begin);
    result.tensors.push_back(std::move(e.view));
  }
  *out = std::move(result);
  return Status::Ok();
}

Status SerializeSafetensors(const std::vector<TensorView>& tensors, const std::map<std::string, std::string>& metadata,
                           std::vector<uint8_t>* out) {
  Json j = Json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    SDC_CHECK(t.name != "__metadata__" && !j.contains(t.name), StatusCode::kInvalidArgument,
              "safetensors: duplicate or reserved tensor name '" + t.name + "'");
    j[t.name] = {{"dtype", DTypeName(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string header;
  try {
    header = j.dump();
  } catch (const nlohmann::json::exception&) {
    // nlohmann throws on names that are not UTF-8; .sdc names may be any bytes, safetensors' may not.
    return Error(StatusCode::kInvalidArgument, "safetensors: a tensor or metadata name is not valid UTF-8");
  }
  header.append((8 - header.size() % 8) % 8, ' ');
  out->assign(8, 0);
  StoreLE64(out->data(), header.size());
  out->insert(out->end(), header.begin(), header.end());
  out->reserve(out->size() + offset);
  for (const TensorView& t : tensors) out->insert(out->end(), t.data.begin(), t.data.end());
  return Status::Ok();
}

}  // namespace sdc
