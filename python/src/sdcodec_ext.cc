// sdcodec._core: the C++ encoder, decoder and reports for the Python package (python/sdcodec). Tensors
// cross as (name, dtype, shape, bytes); the package turns them into numpy arrays or torch tensors. The GIL
// is released while encoding, decoding and verifying; failures raise sdcodec.Error with the library's
// one-line message.
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>

#include "capi/c_bridge.h"
#include "decoder/decoder.h"
#include "encoder/enc_input.h"
#include "encoder/encoder.h"
#include "format/safetensors.h"
#include "report/report.h"

namespace nb = nanobind;

namespace {

struct SdcError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const sdc::Status& s) {
  if (!s.ok()) throw SdcError(s.ToString());
}

using TensorIn = std::tuple<std::string, std::string, std::vector<uint64_t>, nb::bytes>;
using TensorOut = std::tuple<std::string, std::string, std::vector<uint64_t>, nb::bytes>;

// Through the C API's validator (capi/c_bridge.h): one set of rules for every caller's tensors.
sdc::TensorView View(const TensorIn& t) {
  const nb::bytes& b = std::get<3>(t);
  const std::vector<uint64_t>& shape = std::get<2>(t);
  const sdc_tensor_in in{std::get<0>(t).c_str(),
                         std::get<1>(t).c_str(),
                         static_cast<uint32_t>(shape.size()),
                         shape.data(),
                         b.c_str(),
                         b.size()};
  sdc::TensorView v;
  Check(sdc::capi::ToView(in, &v));
  return v;
}

sdc::DecodeLimits Limits(uint64_t max_tensor_bytes, uint64_t max_output_bytes) {
  const sdc_limits l{0, 0, 0, max_tensor_bytes, max_output_bytes};
  return sdc::capi::LimitsOf(&l);
}

std::unique_ptr<sdc::Decoder> Open(nb::bytes data, const sdc::DecodeLimits& limits) {
  std::vector<uint8_t> file(reinterpret_cast<const uint8_t*>(data.c_str()),
                            reinterpret_cast<const uint8_t*>(data.c_str()) + data.size());
  std::unique_ptr<sdc::Decoder> d;
  sdc::Status s;
  {
    nb::gil_scoped_release release;
    s = sdc::Decoder::Open(std::move(file), limits, &d);
  }
  Check(s);
  return d;
}

nb::bytes Encode(const std::vector<TensorIn>& tensors, const std::vector<TensorIn>& importance,
                 const std::vector<TensorIn>& hessians, const std::vector<std::pair<std::string, nb::bytes>>& assets,
                 const std::string& options_json) {
  sdc::EncodeOptions o;
  nlohmann::json j = nlohmann::json::parse(options_json, nullptr, false);
  if (j.is_discarded()) throw SdcError("invalid argument: options are not valid JSON");
  Check(sdc::EncodeOptionsFromJson(j, &o));
  sdc::SafetensorsFile in;
  std::vector<sdc::TensorView> imp, hess;
  for (const TensorIn& t : tensors) in.tensors.push_back(View(t));
  for (const TensorIn& t : importance) imp.push_back(View(t));
  for (const TensorIn& t : hessians) hess.push_back(View(t));
  Check(sdc::AddImportance(imp, &o));
  Check(sdc::AddHessians(hess, &o));
  for (const auto& [name, data] : assets)
    o.assets.push_back({name, std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(data.c_str()),
                                                   reinterpret_cast<const uint8_t*>(data.c_str()) + data.size())});
  sdc::EncodeResult r;
  sdc::Status s;
  {
    nb::gil_scoped_release release;
    s = sdc::Encode(in, o, &r);
  }
  Check(s);
  return nb::bytes(reinterpret_cast<const char*>(r.file.data()), r.file.size());
}

std::pair<std::vector<TensorOut>, std::vector<std::pair<std::string, nb::bytes>>> Decode(nb::bytes data,
                                                                                         uint64_t max_tensor_bytes,
                                                                                         uint64_t max_output_bytes) {
  auto d = Open(data, Limits(max_tensor_bytes, max_output_bytes));
  std::vector<sdc::DecodedTensor> tensors;
  std::vector<sdc::DecodedAsset> assets;
  sdc::Status s;
  {
    nb::gil_scoped_release release;
    s = d->DecodeAll(&tensors, &assets);
  }
  Check(s);
  std::pair<std::vector<TensorOut>, std::vector<std::pair<std::string, nb::bytes>>> out;
  for (sdc::DecodedTensor& t : tensors) {
    out.first.emplace_back(t.name, sdc::DTypeName(t.dtype), t.shape,
                           nb::bytes(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
    std::vector<uint8_t>().swap(t.data);  // keep the peak near one copy of the model
  }
  for (const sdc::DecodedAsset& a : assets)
    out.second.emplace_back(a.name, nb::bytes(reinterpret_cast<const char*>(a.data.data()), a.data.size()));
  return out;
}

std::string Inspect(nb::bytes data) {
  return sdc::DumpJson(sdc::InspectJson(Open(data, sdc::DecodeLimits())->container()));
}

void Verify(nb::bytes data, uint64_t max_tensor_bytes, uint64_t max_output_bytes) {
  auto d = Open(data, Limits(max_tensor_bytes, max_output_bytes));
  sdc::Status s;
  {
    nb::gil_scoped_release release;
    s = d->Verify();
  }
  Check(s);
}

// A safetensors file's tensors as (name, dtype, shape, bytes) and its metadata, validated by the C++ reader.
std::pair<std::vector<TensorOut>, std::map<std::string, std::string>> ParseSafetensors(nb::bytes data) {
  sdc::SafetensorsFile f;
  Check(
      sdc::ParseSafetensors(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.c_str()), data.size()), &f));
  std::pair<std::vector<TensorOut>, std::map<std::string, std::string>> out;
  for (const sdc::TensorView& t : f.tensors)
    out.first.emplace_back(t.name, sdc::DTypeName(t.dtype), t.shape,
                           nb::bytes(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
  out.second = f.metadata;
  return out;
}

nb::bytes SerializeSafetensors(const std::vector<TensorIn>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::vector<sdc::TensorView> views;
  for (const TensorIn& t : tensors) views.push_back(View(t));
  std::vector<uint8_t> out;
  Check(sdc::SerializeSafetensors(views, metadata, &out));
  return nb::bytes(reinterpret_cast<const char*>(out.data()), out.size());
}

// The encode option table (encoder/enc_options.h) as (key, help, default as JSON): the package's docs and
// keyword checks come from the same table as the CLI's help.
std::vector<std::tuple<std::string, std::string, std::string>> OptionTable() {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  const sdc::EncodeOptions defaults;
  for (const sdc::OptionSpec& spec : sdc::EncodeOptionTable()) {
    std::string help(spec.help);
    if (spec.type == sdc::OptionType::kChoice) help += " {" + std::string(spec.choices) + "}";
    out.emplace_back(sdc::JsonKey(spec), help, spec.get(defaults).dump());
  }
  return out;
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "sdcodec's C++ core; use the sdcodec package";
  nb::exception<SdcError>(m, "Error", PyExc_ValueError);
  m.def("encode", &Encode, nb::arg("tensors"), nb::arg("importance"), nb::arg("hessians"), nb::arg("assets"),
        nb::arg("options_json"));
  m.def("decode", &Decode, nb::arg("data"), nb::arg("max_tensor_bytes") = 0, nb::arg("max_output_bytes") = 0);
  m.def("inspect", &Inspect, nb::arg("data"));
  m.def("parse_safetensors", &ParseSafetensors, nb::arg("data"));
  m.def("serialize_safetensors", &SerializeSafetensors, nb::arg("tensors"), nb::arg("metadata"));
  m.def("option_table", &OptionTable);
  m.def("verify", &Verify, nb::arg("data"), nb::arg("max_tensor_bytes") = 0, nb::arg("max_output_bytes") = 0);
}
