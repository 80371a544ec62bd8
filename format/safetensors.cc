#include "format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "format/endian.h"
#include "format/printable.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

using Json = nlohmann::json;

Status Bad(const std::string& what) { return Error(StatusCode::kCorrupt, "safetensors: " + what); }

struct Entry {
  TensorView view;
  uint64_t begin = 0, end = 0;
  bool has_dtype = false, has_shape = false;
  size_t offsets = 0;  // data_offsets values seen
};

// Reads the header as a stream of JSON events, keeping only what it needs: tensor names, dtypes, shapes,
// offsets and the metadata strings. Values of keys it does not know are skipped without being stored, so a
// 100 MB header of nested arrays costs no more memory than its tensors (a JSON document tree would cost
// ~20 bytes per input byte). Duplicate keys are refused rather than resolved one way or the other.
class HeaderReader : public nlohmann::json_sax<Json> {
 public:
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  Status status;  // the first fault found

  bool null() override { return Value("null"); }
  bool boolean(bool) override { return Value("a boolean"); }
  bool number_integer(number_integer_t) override { return Value("a negative number"); }
  bool number_unsigned(number_unsigned_t v) override {
    if (skip_ > 0) return true;
    if (state_ == kShape) return entries.back().view.shape.push_back(v), true;
    if (state_ == kOffsets) {
      Entry& e = entries.back();
      if (e.offsets == 2) return Fail("tensor '" + Name() + "' has more than two data_offsets");
      (e.offsets++ ? e.end : e.begin) = v;
      return true;
    }
    return Value("a number");
  }
  bool number_float(number_float_t, const string_t&) override { return Value("a fractional number"); }
  bool string(string_t& s) override {
    if (skip_ > 0) return true;
    if (state_ == kMetadata) {
      metadata[key_] = std::move(s);
      return true;
    }
    if (state_ == kTensor && key_ == "dtype") {
      auto dtype = ParseDTypeName(s);
      if (!dtype) {
        status = Error(StatusCode::kUnsupported,
                       "safetensors: tensor '" + Name() + "' has unknown dtype '" + Printable(s) + "'");
        return false;
      }
      entries.back().view.dtype = *dtype;
      entries.back().has_dtype = true;
      return true;
    }
    return Value("a string");
  }
  bool binary(binary_t&) override { return Value("binary"); }
  bool start_object(std::size_t) override {
    if (skip_ > 0 || (state_ == kTensor && !Known(key_))) return ++skip_, true;
    if (state_ == kTop) return state_ = key_ == "__metadata__" ? kMetadata : kTensor, true;
    if (state_ == kStart) return state_ = kTop, true;
    return Value("an object");
  }
  bool end_object() override {
    if (skip_ > 0) return --skip_, true;
    if (state_ == kTensor) {
      const Entry& e = entries.back();
      if (!e.has_dtype || !e.has_shape || e.offsets != 2)
        return Fail("tensor '" + Name() + "' lacks dtype, shape or data_offsets");
    }
    state_ = state_ == kTop ? kDone : kTop;
    return true;
  }
  bool start_array(std::size_t) override {
    if (skip_ > 0 || (state_ == kTensor && !Known(key_))) return ++skip_, true;
    if (state_ == kTensor && key_ == "shape") return state_ = kShape, entries.back().has_shape = true, true;
    if (state_ == kTensor && key_ == "data_offsets") return state_ = kOffsets, true;
    return Value("an array");
  }
  bool end_array() override {
    if (skip_ > 0) return --skip_, true;
    state_ = kTensor;
    return true;
  }
  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    if (state_ == kTop) {
      if (!names_.insert(k).second) return Fail("duplicate key '" + Printable(k) + "'");
      if (k != "__metadata__") entries.emplace_back().view.name = k;
    } else if (state_ == kMetadata) {
      if (metadata.count(k)) return Fail("__metadata__ has a duplicate key '" + Printable(k) + "'");
    } else if (state_ == kTensor && Known(k)) {
      const Entry& e = entries.back();
      const bool seen = k == "dtype" ? e.has_dtype : k == "shape" ? e.has_shape : e.offsets > 0;
      if (seen) return Fail("tensor '" + Name() + "' has a duplicate '" + k + "'");
    }
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (status.ok()) status = Bad("header is not valid JSON");
    return false;
  }

 private:
  enum State { kStart, kTop, kMetadata, kTensor, kShape, kOffsets, kDone };
  static bool Known(const std::string& k) { return k == "dtype" || k == "shape" || k == "data_offsets"; }
  std::string Name() const { return Printable(entries.back().view.name); }
  bool Fail(const std::string& what) {
    status = Bad(what);
    return false;
  }
  // A value the header's structure does not allow where it stands (unknown keys' values are skipped).
  bool Value(const char* what) {
    if (skip_ > 0) return true;
    if (state_ == kTensor && !Known(key_)) return true;
    switch (state_) {
      case kStart: return Fail("header is not a JSON object");
      case kTop:
        return Fail(key_ == "__metadata__" ? "__metadata__ is not an object"
                                           : "tensor '" + Name() + "' is not an object");
      case kMetadata: return Fail("__metadata__ value is not a string");
      case kShape: return Fail("tensor '" + Name() + "' has a shape entry that is not a non-negative integer");
      case kOffsets: return Fail("tensor '" + Name() + "' has a data offset that is not a non-negative integer");
      default: return Fail("tensor '" + Name() + "' has " + what + " where " + Printable(key_) + " belongs");
    }
  }
  State state_ = kStart;
  uint64_t skip_ = 0;  // depth inside a value that is being skipped
  std::string key_;
  std::unordered_set<std::string> names_;
};

Status CheckEntry(const Entry& e) {
  const std::string name = Printable(e.view.name);
  uint64_t numel;
  SDC_CHECK(CheckedNumel(e.view.shape, UINT64_MAX / 8, &numel), StatusCode::kCorrupt,
            "safetensors: tensor '" + name + "' shape overflows");
  SDC_CHECK(e.begin <= e.end && e.end - e.begin == numel * DTypeSize(e.view.dtype), StatusCode::kCorrupt,
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
  // nlohmann's reader takes a NUL byte for the end of its input and would accept whatever follows it.
  if (std::memchr(header.data(), 0, header.size())) return Bad("header contains a NUL byte");
  return Guarded([&] {
    HeaderReader reader;
    if (!Json::sax_parse(header.begin(), header.end(), &reader))
      return reader.status.ok() ? Bad("header is not valid JSON") : reader.status;
    for (const Entry& e : reader.entries) SDC_RETURN_IF_ERROR(CheckEntry(e));
    // Offsets must tile the data buffer: sorted, contiguous from 0, ending at its last byte. Ties (empty
    // tensors) are ordered by name, so the order never depends on the header's key order.
    std::vector<Entry>& entries = reader.entries;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.begin != b.begin) return a.begin < b.begin;
      return a.end != b.end ? a.end < b.end : a.view.name < b.view.name;
    });
    const uint64_t data_size = bytes.size() - 8 - n;
    uint64_t expect = 0;
    for (const Entry& e : entries) {
      SDC_CHECK(e.begin == expect, StatusCode::kCorrupt,
                "safetensors: tensor '" + Printable(e.view.name) + "' data does not start where the previous one ends");
      expect = e.end;
    }
    SDC_CHECK(expect == data_size, StatusCode::kCorrupt,
              "safetensors: tensors cover " + std::to_string(expect) + " bytes of a " + std::to_string(data_size) +
                  "-byte data buffer");
    SafetensorsFile result;
    const uint8_t* data = bytes.data() + 8 + n;
    result.tensors.reserve(entries.size());
    for (Entry& e : entries) {
      e.view.data = std::span<const uint8_t>(data + e.begin, e.end - e.begin);
      result.tensors.push_back(std::move(e.view));
    }
    result.metadata = std::move(reader.metadata);
    *out = std::move(result);
    return Status::Ok();
  });
}

Status SafetensorsHeader(const std::vector<TensorHeader>& tensors, const std::map<std::string, std::string>& metadata,
                         std::vector<uint8_t>* out) {
  return Guarded([&]() -> Status {
    // Written directly, not through a JSON object (about a kilobyte per tensor, a third of a gigabyte for a
    // file of 370,000 tensors): the same text nlohmann's dump() gives for {name: {data_offsets, dtype,
    // shape}} with every key in sorted order, which is how the header has always been written.
    std::vector<uint64_t> begin(tensors.size());
    uint64_t offset = 0;
    for (size_t i = 0; i < tensors.size(); ++i) begin[i] = offset, offset += tensors[i].bytes;
    std::vector<uint32_t> order(tensors.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return tensors[a].name < tensors[b].name; });
    for (size_t k = 0; k < order.size(); ++k) {
      const std::string& name = tensors[order[k]].name;
      SDC_CHECK(name != "__metadata__" && (k == 0 || tensors[order[k - 1]].name != name), StatusCode::kInvalidArgument,
                "safetensors: duplicate or reserved tensor name '" + Printable(name) + "'");
    }
    std::string header = "{";
    try {
      bool first = true, meta = metadata.empty();
      auto put = [&](const std::string& key, const std::string& value) {
        header += first ? "" : ",";
        header += Json(key).dump() + ":" + value;  // dump() escapes exactly as before; throws on bad UTF-8
        first = false;
      };
      for (uint32_t i : order) {
        const TensorHeader& t = tensors[i];
        if (!meta && std::string("__metadata__") < t.name) put("__metadata__", Json(metadata).dump()), meta = true;
        std::string value = "{\"data_offsets\":[" + std::to_string(begin[i]) + "," +
                            std::to_string(begin[i] + t.bytes) + "],\"dtype\":\"" + DTypeName(t.dtype) +
                            "\",\"shape\":[";
        for (size_t d = 0; d < t.shape.size(); ++d) value += (d ? "," : "") + std::to_string(t.shape[d]);
        put(t.name, value + "]}");
      }
      if (!meta) put("__metadata__", Json(metadata).dump());
    } catch (const nlohmann::json::exception&) {
      // .sdc names may be any bytes, safetensors' must be UTF-8.
      return Error(StatusCode::kInvalidArgument, "safetensors: a tensor or metadata name is not valid UTF-8");
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    out->assign(8, 0);
    StoreLE64(out->data(), header.size());
    out->insert(out->end(), header.begin(), header.end());
    return Status::Ok();
  });
}

Status SerializeSafetensors(const std::vector<TensorView>& tensors, const std::map<std::string, std::string>& metadata,
                            std::vector<uint8_t>* out) {
  std::vector<TensorHeader> headers;
  uint64_t bytes = 0;
  for (const TensorView& t : tensors)
    headers.push_back({t.name, t.dtype, t.shape, t.data.size()}), bytes += t.data.size();
  SDC_RETURN_IF_ERROR(SafetensorsHeader(headers, metadata, out));
  return Guarded([&] {
    out->reserve(out->size() + bytes);
    for (const TensorView& t : tensors) out->insert(out->end(), t.data.begin(), t.data.end());
    return Status::Ok();
  });
}

}  // namespace sdc
