#include "report/report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "decoder/dec_codebook.h"
#include "format/tensor_layout.h"
#include "format/types.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

struct SectionOwner {
  std::string owner = "?";
  std::string part = "?";
};

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
    for (uint32_t i = 0; i < r->indices()->size(); ++i) parts.push_back({"indices" + std::to_string(i), r->indices()->Get(i)});
    if (r->residual()) {
      parts.push_back({"residual_positions", r->residual()->positions()});
      parts.push_back({"residual_values", r->residual()->values()});
    }
    return parts;
  }
  const fb::ScalarRep* r = t.rep_as_ScalarRep();
  return {{"scales", r->scales()}, {"codes", r->codes()}};
}

}  // namespace

Json InspectJson(const Container& c) {
  const fb::Manifest& m = c.manifest();
  const uint64_t file = c.file_size();
  std::vector<SectionOwner> owners(c.section_count());
  Json tensors = Json::array();
  std::vector<uint64_t> role_bytes(kRoleCount, 0);
  uint64_t params = 0, tensor_bytes = 0, section_bytes = 0;
  for (uint32_t i = 0; i < c.section_count(); ++i) section_bytes += c.section(i).stored_size();

  // Banks are shared: their bytes form a role of their own; each tensor's "bank_share" is informative, the
  // bank's bytes split by the number of index symbols each tensor draws from it.
  Json banks = Json::array();
  uint64_t bank_bytes = 0;
  std::vector<double> bank_symbols(m.banks() ? m.banks()->size() : 0, 0.0);
  if (m.tensors())
    for (const fb::Tensor* t : *m.tensors())
      if (const fb::CodebookRep* r = t->rep_as_CodebookRep()) {
        const RowLayout rl = RowsOf(ShapeOf(*t));
        for (uint32_t b : *r->banks()) bank_symbols[b] += static_cast<double>(rl.rows * VectorsPerRow(rl.cols, r->dim()));
      }
  if (m.banks()) {
    for (uint32_t i = 0; i < m.banks()->size(); ++i) {
      const fb::Bank* b = m.banks()->Get(i);
      owners[b->data()] = {"bank:" + std::to_string(i), "bank"};
      bank_bytes += c.section(b->data()).stored_size();
      banks.push_back({{"index", i},
                       {"k", b->k()},
                       {"dim", b->dim()},
                       {"entry_dtype", DTypeName(static_cast<DType>(b->entry_dtype()))},
                       {"stored_bytes", c.section(b->data()).stored_size()},
                       {"symbols", bank_symbols[i]}});
    }
  }
  if (m.tensors()) {
    for (const fb::Tensor* t : *m.tensors()) {
      uint64_t numel = 1;
      for (uint64_t d : ShapeOf(*t)) numel *= d;
      Json parts = Json::object();
      uint64_t stored = 0;
      for (const auto& [part, index] : TensorParts(*t)) {
        owners[index] = {t->name()->str(), part};
        parts[part] = c.section(index).stored_size();
        stored += c.section(index).stored_size();
      }
      const std::string role = RoleName(static_cast<Role>(t->role()));
      role_bytes[static_cast<int>(t->role())] += stored;
      double share = 0;
      if (const fb::CodebookRep* r = t->rep_as_CodebookRep()) {
        const RowLayout rl = RowsOf(ShapeOf(*t));
        for (uint32_t b : *r->banks())
          share += bank_symbols[b] > 0 ? c.section(m.banks()->Get(b)->data()).stored_size() *
                                             static_cast<double>(rl.rows * VectorsPerRow(rl.cols, r->dim())) /
                                             bank_symbols[b]
                                       : 0.0;
      }
      params += numel;
      tensor_bytes += stored;
      const double snr = t->snr_db();
      tensors.push_back({{"name", t->name()->str()},
                         {"shape", ShapeOf(*t)},
                         {"dtype", DTypeName(static_cast<DType>(t->dtype()))},
                         {"role", role},
                         {"role_source", t->role_source() ? "user" : "inferred"},
                         {"representation", RepresentationName(t->rep_type())},
                         {"params", TensorParams(m, *t)},
                         {"numel", numel},
                         {"stored_bytes", stored},
                         {"parts", parts},
                         {"bank_share", share},
                         {"bits_per_weight", numel ? 8.0 * static_cast<double>(stored) / numel : 0.0},
                         {"snr_db", std::isfinite(snr) ? Json(snr) : Json(nullptr)}});
    }
  }
  Json assets = Json::array();
  uint64_t asset_bytes = 0;
  if (m.assets()) {
    for (const fb::Asset* a : *m.assets()) {
      const fb::Section& s = c.section(a->data());
      owners[a->data()] = {"asset:" + a->name()->str(), "asset"};
      asset_bytes += s.stored_size();
      assets.push_back({{"name", a->name()->str()}, {"stored_bytes", s.stored_size()}, {"raw_bytes", s.raw_size()}});
    }
  }
  Json sections = Json::array();
  for (uint32_t i = 0; i < c.section_count(); ++i) {
    const fb::Section& s = c.section(i);
    sections.push_back({{"index", i},
                        {"kind", SectionKindName(s.kind())},
                        {"codec", CodecName(s.codec())},
                        {"offset", c.data_start() + s.offset()},
                        {"stored_bytes", s.stored_size()},
                        {"raw_bytes", s.raw_size()},
                        {"percent", Percent(s.stored_size(), file)},
                        {"owner", owners[i].owner},
                        {"part", owners[i].part}});
  }
  const uint64_t manifest = c.header().manifest_stored_size;
  Json roles = Json::object();
  for (int r = 0; r < kRoleCount; ++r) roles[RoleName(static_cast<Role>(r))] = role_bytes[r];
  roles["banks"] = bank_bytes;
  roles["assets"] = asset_bytes;
  roles["manifest"] = manifest;
  roles["header"] = kHeaderSize;
  roles["padding"] = c.padding_bytes();

  Json j;
  j["schema"] = "sdcodec.inspect/1";
  j["file_bytes"] = file;
  j["format_version"] = std::to_string(c.header().major) + "." + std::to_string(c.header().minor);
  j["encoder"] = m.encoder() ? m.encoder()->str() : "";
  j["budget_bytes"] = m.budget_bytes() ? Json(m.budget_bytes()) : Json(nullptr);
  j["budget"] = m.budget_bytes() ? Json{{"bytes", m.budget_bytes()},
                                        {"used", file},
                                        {"left", static_cast<int64_t>(m.budget_bytes()) - static_cast<int64_t>(file)}}
                                 : Json(nullptr);
  j["manifest"] = {{"codec", c.header().manifest_codec == ManifestCodec::kZstd ? "zstd" : "raw"},
                   {"stored_bytes", manifest},
                   {"raw_bytes", c.header().manifest_raw_size}};
  j["parts"] = {{"header", kHeaderSize}, {"manifest", manifest}, {"sections", section_bytes}, {"padding", c.padding_bytes()}};
  j["sections"] = sections;
  j["tensors"] = tensors;
  j["banks"] = banks;
  j["assets"] = assets;
  j["roles"] = roles;
  j["totals"] = {{"params", params},
                 {"tensor_bytes", tensor_bytes},
                 {"bits_per_weight", params ? 8.0 * static_cast<double>(tensor_bytes) / params : 0.0}};
  return j;
}

namespace {

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

}  // namespace

std::string InspectText(const Json& j) {
  const uint64_t file = j["file_bytes"].get<uint64_t>();
  std::string out;
  out += Format("file: %llu bytes, format %s, manifest %llu bytes (%s)\n", (unsigned long long)file,
                j["format_version"].get<std::string>().c_str(),
                (unsigned long long)j["manifest"]["stored_bytes"].get<uint64_t>(),
                j["manifest"]["codec"].get<std::string>().c_str());
  if (!j["encoder"].get<std::string>().empty()) out += "encoder: " + j["encoder"].get<std::string>() + "\n";
  out += "\ntensors:\n";
  out += Format("  %-50s %-9s %-10s %-10s %10s %7s %8s\n", "name", "role", "repr", "params", "bytes", "b/w", "SNR dB");
  for (const Json& t : j["tensors"]) {
    std::string repr = t["representation"].get<std::string>();
    if (repr == "scalar") repr += Format("/%d", t["params"]["bits"].get<int>());
    else if (repr == "codebook") repr = Format("vq%zux%d", t["params"]["banks"].size(), t["params"]["dim"].get<int>());
    else if (t["params"]["stored_dtype"] != t["dtype"]) repr += "/" + t["params"]["stored_dtype"].get<std::string>();
    std::string snr = t["snr_db"].is_null() ? "lossless" : Format("%.2f", t["snr_db"].get<double>());
    out += Format("  %-50s %-9s %-10s %-10llu %10llu %7.3f %8s\n", t["name"].get<std::string>().c_str(),
                  t["role"].get<std::string>().c_str(), repr.c_str(), (unsigned long long)t["numel"].get<uint64_t>(),
                  (unsigned long long)t["stored_bytes"].get<uint64_t>(), t["bits_per_weight"].get<double>(), snr.c_str());
  }
  if (!j["assets"].empty()) {
    out += "\nassets:\n";
    for (const Json& a : j["assets"])
      out += Format("  %-50s %10llu stored, %llu raw\n", a["name"].get<std::string>().c_str(),
                    (unsigned long long)a["stored_bytes"].get<uint64_t>(), (unsigned long long)a["raw_bytes"].get<uint64_t>());
  }
  out += "\nbytes by role:\n";
  for (const auto& [role, bytes] : j["roles"].items())
    out += Format("  %-12s %12llu  %6.2f%%\n", role.c_str(), (unsigned long long)bytes.get<uint64_t>(),
                  file ? 100.0 * bytes.get<double>() / file : 0.0);
  out += Format("  %-12s %12llu  100.00%%\n", "total", (unsigned long long)file);
  const Json& tot = j["totals"];
  out += Format("\n%llu parameters in %llu tensor bytes: %.3f bits/weight (%.3f over the whole file)\n",
                (unsigned long long)tot["params"].get<uint64_t>(), (unsigned long long)tot["tensor_bytes"].get<uint64_t>(),
                tot["bits_per_weight"].get<double>(),
                tot["params"].get<uint64_t>() ? 8.0 * file / tot["params"].get<double>() : 0.0);
  if (!j["budget"].is_null())
    out += Format("budget: %llu bytes, used %llu, left %lld\n", (unsigned long long)j["budget"]["bytes"].get<uint64_t>(),
                  (unsigned long long)j["budget"]["used"].get<uint64_t>(), (long long)j["budget"]["left"].get<int64_t>());
  return out;
}

}  // namespace sdc
