#include "report/report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "decoder/dec_codebook.h"
#include "format/printable.h"
#include "format/tensor_layout.h"
#include "format/types.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

double Percent(uint64_t part, uint64_t whole) { return whole ? 100.0 * static_cast<double>(part) / whole : 0.0; }

Json TensorParams(const fb::Manifest& m, const fb::Tensor& t) {
  if (t.rep_type() == fb::Representation::RawRep)
    return {{"stored_dtype", DTypeName(static_cast<DType>(t.rep_as_RawRep()->stored_dtype()))}};
  if (t.rep_type() == fb::Representation::CodebookRep) {
    const fb::CodebookRep* r = t.rep_as_CodebookRep();
    Json banks = Json::array(), ks = Json::array();
    for (uint32_t b : *r->banks()) banks.push_back(b), ks.push_back(m.banks()->Get(b)->k());
    return {{"dim", r->dim()},
            {"banks", banks},
            {"k", ks},
            {"coefficients", std::vector<float>(r->coefficients()->begin(), r->coefficients()->end())},
            {"group_size", r->group_size()},
            {"scale_dtype", DTypeName(static_cast<DType>(r->scale_dtype()))},
            {"residuals", r->residual() ? r->residual()->count() : 0}};
  }
  const fb::ScalarRep* r = t.rep_as_ScalarRep();
  return {{"bits", r->bits()},
          {"group_size", r->group_size()},
          {"scale_dtype", DTypeName(static_cast<DType>(r->scale_dtype()))}};
}

// The (part name, section index) pairs of a tensor's representation.
std::vector<std::pair<std::string, uint32_t>> TensorParts(const fb::Tensor& t) {
  if (t.rep_type() == fb::Representation::RawRep) return {{"data", t.rep_as_RawRep()->data()}};
  if (t.rep_type() == fb::Representation::CodebookRep) {
    const fb::CodebookRep* r = t.rep_as_CodebookRep();
    std::vector<std::pair<std::string, uint32_t>> parts{{"scales", r->scales()}};
    for (uint32_t i = 0; i < r->indices()->size(); ++i)
      parts.push_back({"indices" + std::to_string(i), r->indices()->Get(i)});
    if (r->residual()) {
      parts.push_back({"residual_positions", r->residual()->positions()});
      parts.push_back({"residual_values", r->residual()->values()});
    }
    return parts;
  }
  const fb::ScalarRep* r = t.rep_as_ScalarRep();
  return {{"scales", r->scales()}, {"codes", r->codes()}};
}

uint64_t Numel(const fb::Tensor& t) {
  uint64_t numel = 1;
  for (uint64_t d : ShapeOf(t)) numel *= d;  // bounded by the limits when the file was opened
  return numel;
}

// Index symbols a codebook tensor draws from each of its banks.
double Symbols(const fb::Tensor& t, const fb::CodebookRep& r) {
  const RowLayout rl = RowsOf(ShapeOf(t));
  return static_cast<double>(rl.rows * VectorsPerRow(rl.cols, r.dim()));
}

// "  " + `text` with every line after the first indented by `indent` more spaces: a value dumped on its own,
// placed where nlohmann's pretty printer would have put it inside an enclosing object.
std::string Indented(const std::string& text, size_t indent) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '\n') out.append(indent, ' ');
  }
  return out;
}

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// The text report in three pieces, so that it can also be written one tensor at a time.
std::string TextHead(const Json& j) {
  std::string out = Format(
      "file: %llu bytes, format %s, manifest %llu bytes (%s)\n", (unsigned long long)j["file_bytes"].get<uint64_t>(),
      j["format_version"].get<std::string>().c_str(), (unsigned long long)j["manifest"]["stored_bytes"].get<uint64_t>(),
      j["manifest"]["codec"].get<std::string>().c_str());
  if (!j["encoder"].get<std::string>().empty()) out += "encoder: " + ShownName(j, "encoder") + "\n";
  out += "\ntensors:\n";
  out += Format("  %-50s %-9s %-10s %-10s %10s %7s %8s\n", "name", "role", "repr", "params", "bytes", "b/w", "SNR dB");
  return out;
}

std::string TextTensorLine(const Json& t) {
  std::string repr = t["representation"].get<std::string>();
  if (repr == "scalar")
    repr += Format("/%d", t["params"]["bits"].get<int>());
  else if (repr == "codebook")
    repr = Format("vq%zux%d", t["params"]["banks"].size(), t["params"]["dim"].get<int>());
  else if (t["params"]["stored_dtype"] != t["dtype"])
    repr += "/" + t["params"]["stored_dtype"].get<std::string>();
  std::string snr = t["snr_db"].is_null() ? "lossless" : Format("%.2f", t["snr_db"].get<double>());
  return Format("  %-50s %-9s %-10s %-10llu %10llu %7.3f %8s\n", ShownName(t, "name").c_str(),
                t["role"].get<std::string>().c_str(), repr.c_str(), (unsigned long long)t["numel"].get<uint64_t>(),
                (unsigned long long)t["stored_bytes"].get<uint64_t>(), t["bits_per_weight"].get<double>(), snr.c_str());
}

std::string TextTail(const Json& j) {
  const uint64_t file = j["file_bytes"].get<uint64_t>();
  std::string out;
  if (!j["assets"].empty()) {
    out += "\nassets:\n";
    for (const Json& a : j["assets"])
      out += Format("  %-50s %10llu stored, %llu raw\n", ShownName(a, "name").c_str(),
                    (unsigned long long)a["stored_bytes"].get<uint64_t>(),
                    (unsigned long long)a["raw_bytes"].get<uint64_t>());
  }
  out += "\nbytes by role:\n";
  for (const auto& [role, bytes] : j["roles"].items())
    out += Format("  %-12s %12llu  %6.2f%%\n", role.c_str(), (unsigned long long)bytes.get<uint64_t>(),
                  file ? 100.0 * bytes.get<double>() / file : 0.0);
  out += Format("  %-12s %12llu  100.00%%\n", "total", (unsigned long long)file);
  const Json& tot = j["totals"];
  out += Format("\n%llu parameters in %llu tensor bytes: %.3f bits/weight (%.3f over the whole file)\n",
                (unsigned long long)tot["params"].get<uint64_t>(),
                (unsigned long long)tot["tensor_bytes"].get<uint64_t>(), tot["bits_per_weight"].get<double>(),
                tot["params"].get<uint64_t>() ? 8.0 * file / tot["params"].get<double>() : 0.0);
  if (!j["budget"].is_null())
    out += Format("budget: %llu bytes, used %llu, left %s\n", (unsigned long long)j["budget"]["bytes"].get<uint64_t>(),
                  (unsigned long long)j["budget"]["used"].get<uint64_t>(), j["budget"]["left"].dump().c_str());
  return out;
}

}  // namespace

void PutName(Json& j, const std::string& key, std::string_view bytes) {
  if (IsUtf8(bytes)) {
    j[key] = std::string(bytes);
    return;
  }
  j[key] = Utf8Lossy(bytes);
  j[key + "_hex"] = HexBytes(bytes);
}

std::string NameBytes(const Json& j, const std::string& key) {
  const auto hex = j.find(key + "_hex");
  if (hex == j.end()) return j.at(key).get<std::string>();
  const std::string h = hex->get<std::string>();
  std::string bytes;
  for (size_t i = 0; i + 1 < h.size(); i += 2) bytes += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return bytes;
}

std::string ShownName(const Json& j, const std::string& key) { return Printable(NameBytes(j, key)); }

std::string DumpJson(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

InspectReport::InspectReport(const Container& c) : c_(c), owners_(c.section_count()) {
  const fb::Manifest& m = c.manifest();
  bank_symbols_.assign(m.banks() ? m.banks()->size() : 0, 0.0);
  role_bytes_.assign(kRoleCount, 0);
  const uint32_t tensors = m.tensors() ? m.tensors()->size() : 0;
  for (uint32_t i = 0; i < tensors; ++i) {
    const fb::Tensor& t = *m.tensors()->Get(i);
    if (const fb::CodebookRep* r = t.rep_as_CodebookRep())
      for (uint32_t b : *r->banks()) bank_symbols_[b] += Symbols(t, *r);
    uint64_t stored = 0;
    for (const auto& [part, index] : TensorParts(t)) {
      owners_[index] = {Owner::kTensor, i};
      stored += c.section(index).stored_size();
    }
    role_bytes_[static_cast<int>(t.role())] += stored;
    params_ += Numel(t);
    tensor_bytes_ += stored;
  }
  if (m.banks())
    for (uint32_t i = 0; i < m.banks()->size(); ++i) {
      owners_[m.banks()->Get(i)->data()] = {Owner::kBank, i};
      bank_bytes_ += c.section(m.banks()->Get(i)->data()).stored_size();
    }
  if (m.assets())
    for (uint32_t i = 0; i < m.assets()->size(); ++i) {
      owners_[m.assets()->Get(i)->data()] = {Owner::kAsset, i};
      asset_bytes_ += c.section(m.assets()->Get(i)->data()).stored_size();
    }
}

uint32_t InspectReport::tensor_count() const { return c_.manifest().tensors() ? c_.manifest().tensors()->size() : 0; }

Json InspectReport::TensorEntry(uint32_t i) const {
  const fb::Manifest& m = c_.manifest();
  const fb::Tensor& t = *m.tensors()->Get(i);
  const uint64_t numel = Numel(t);
  Json parts = Json::object();
  uint64_t stored = 0;
  for (const auto& [part, index] : TensorParts(t)) {
    parts[part] = c_.section(index).stored_size();
    stored += c_.section(index).stored_size();
  }
  // Banks are shared: their bytes form a role of their own; each tensor's "bank_share" is informative, the
  // bank's bytes split by the number of index symbols each tensor draws from it.
  double share = 0;
  if (const fb::CodebookRep* r = t.rep_as_CodebookRep())
    for (uint32_t b : *r->banks())
      share += bank_symbols_[b] > 0
                   ? c_.section(m.banks()->Get(b)->data()).stored_size() * Symbols(t, *r) / bank_symbols_[b]
                   : 0.0;
  const double snr = t.snr_db();
  Json entry = {{"name", ""},
                {"shape", ShapeOf(t)},
                {"dtype", DTypeName(static_cast<DType>(t.dtype()))},
                {"role", RoleName(static_cast<Role>(t.role()))},
                {"role_source", t.role_source() ? "user" : "inferred"},
                {"representation", RepresentationName(t.rep_type())},
                {"params", TensorParams(m, t)},
                {"numel", numel},
                {"stored_bytes", stored},
                {"parts", parts},
                {"bank_share", share},
                {"bits_per_weight", numel ? 8.0 * static_cast<double>(stored) / numel : 0.0},
                {"snr_db", std::isfinite(snr) ? Json(snr) : Json(nullptr)}};
  PutName(entry, "name", t.name()->string_view());
  return entry;
}

Json InspectReport::SectionEntry(uint32_t i) const {
  const fb::Manifest& m = c_.manifest();
  const fb::Section& s = c_.section(i);
  std::string owner = "?", part = "?";
  const Owner& o = owners_[i];
  if (o.kind == Owner::kTensor) {
    const fb::Tensor& t = *m.tensors()->Get(o.index);
    owner = t.name()->str();
    for (const auto& [name, index] : TensorParts(t))
      if (index == i) part = name;
  } else if (o.kind == Owner::kBank) {
    owner = "bank:" + std::to_string(o.index), part = "bank";
  } else if (o.kind == Owner::kAsset) {
    owner = "asset:" + m.assets()->Get(o.index)->name()->str(), part = "asset";
  }
  Json entry = {{"index", i},
                {"kind", SectionKindName(s.kind())},
                {"codec", CodecName(s.codec())},
                {"offset", c_.data_start() + s.offset()},
                {"stored_bytes", s.stored_size()},
                {"raw_bytes", s.raw_size()},
                {"percent", Percent(s.stored_size(), c_.file_size())},
                {"owner", ""},
                {"part", part}};
  PutName(entry, "owner", owner);
  return entry;
}

// Everything but the per-section and per-tensor entries ("sections" and "tensors" left empty), in the
// schema's key order.
Json InspectReport::Summary() const {
  const fb::Manifest& m = c_.manifest();
  const uint64_t file = c_.file_size();
  uint64_t section_bytes = 0;
  for (uint32_t i = 0; i < c_.section_count(); ++i) section_bytes += c_.section(i).stored_size();
  Json banks = Json::array();
  if (m.banks())
    for (uint32_t i = 0; i < m.banks()->size(); ++i) {
      const fb::Bank* b = m.banks()->Get(i);
      banks.push_back({{"index", i},
                       {"k", b->k()},
                       {"dim", b->dim()},
                       {"entry_dtype", DTypeName(static_cast<DType>(b->entry_dtype()))},
                       {"stored_bytes", c_.section(b->data()).stored_size()},
                       {"symbols", bank_symbols_[i]}});
    }
  Json assets = Json::array();
  if (m.assets())
    for (const fb::Asset* a : *m.assets()) {
      const fb::Section& s = c_.section(a->data());
      Json entry = {{"name", ""}, {"stored_bytes", s.stored_size()}, {"raw_bytes", s.raw_size()}};
      PutName(entry, "name", a->name()->string_view());
      assets.push_back(std::move(entry));
    }
  const uint64_t manifest = c_.header().manifest_stored_size;
  Json roles = Json::object();
  for (int r = 0; r < kRoleCount; ++r) roles[RoleName(static_cast<Role>(r))] = role_bytes_[r];
  roles["banks"] = bank_bytes_;
  roles["assets"] = asset_bytes_;
  roles["manifest"] = manifest;
  roles["header"] = kHeaderSize;
  roles["padding"] = c_.padding_bytes();

  Json j;
  j["schema"] = "sdcodec.inspect/1";
  j["file_bytes"] = file;
  j["format_version"] = std::to_string(c_.header().major) + "." + std::to_string(c_.header().minor);
  PutName(j, "encoder", m.encoder() ? m.encoder()->string_view() : "");
  j["budget_bytes"] = m.budget_bytes() ? Json(m.budget_bytes()) : Json(nullptr);
  // bytes - used, in whichever of u64 and i64 holds it: a budget may be any u64, the file is < 2^63.
  const uint64_t budget = m.budget_bytes();
  const Json left = budget >= file ? Json(budget - file) : Json(-static_cast<int64_t>(file - budget));
  j["budget"] = budget ? Json{{"bytes", budget}, {"used", file}, {"left", left}} : Json(nullptr);
  j["manifest"] = {{"codec", c_.header().manifest_codec == ManifestCodec::kZstd ? "zstd" : "raw"},
                   {"stored_bytes", manifest},
                   {"raw_bytes", c_.header().manifest_raw_size}};
  j["parts"] = {
      {"header", kHeaderSize}, {"manifest", manifest}, {"sections", section_bytes}, {"padding", c_.padding_bytes()}};
  j["sections"] = Json::array();
  j["tensors"] = Json::array();
  j["banks"] = banks;
  j["assets"] = assets;
  j["roles"] = roles;
  j["totals"] = {{"params", params_},
                 {"tensor_bytes", tensor_bytes_},
                 {"bits_per_weight", params_ ? 8.0 * static_cast<double>(tensor_bytes_) / params_ : 0.0}};
  return j;
}

Json InspectReport::ToJson() const {
  Json j = Summary();
  for (uint32_t i = 0; i < c_.section_count(); ++i) j["sections"].push_back(SectionEntry(i));
  for (uint32_t i = 0; i < tensor_count(); ++i) j["tensors"].push_back(TensorEntry(i));
  return j;
}

void InspectReport::WriteJson(const std::function<void(std::string_view)>& sink) const {
  const Json summary = Summary();
  sink("{");
  bool first = true;
  for (const auto& [key, value] : summary.items()) {
    sink(first ? "\n  " : ",\n  ");
    first = false;
    sink(Json(key).dump() + ": ");
    const bool streamed = key == "sections" || key == "tensors";
    const uint32_t n = key == "sections" ? c_.section_count() : key == "tensors" ? tensor_count() : 0;
    if (!streamed || n == 0) {
      sink(Indented(DumpJson(value, 2), 2));
      continue;
    }
    sink("[");
    for (uint32_t i = 0; i < n; ++i) {
      sink(i ? ",\n    " : "\n    ");
      sink(Indented(DumpJson(key == "sections" ? SectionEntry(i) : TensorEntry(i), 2), 4));
    }
    sink("\n  ]");
  }
  sink("\n}\n");
}

void InspectReport::WriteText(const std::function<void(std::string_view)>& sink) const {
  const Json summary = Summary();
  sink(TextHead(summary));
  for (uint32_t i = 0; i < tensor_count(); ++i) sink(TextTensorLine(TensorEntry(i)));
  sink(TextTail(summary));
}

Json InspectJson(const Container& c) { return InspectReport(c).ToJson(); }

std::string InspectText(const Json& j) {
  std::string out = TextHead(j);
  for (const Json& t : j["tensors"]) out += TextTensorLine(t);
  return out + TextTail(j);
}

}  // namespace sdc
