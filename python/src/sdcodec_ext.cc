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

#include "capi/encode_options.h"
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

sdc::TensorView View(const TensorIn& t) {
  sdc::TensorView v;
  v.name = std::get<0>(t);
  auto dtype = sdc::ParseDTypeName(std::get<1>(t));
  if (!dtype) throw SdcError("invalid argument: tensor '" + v.name + "': unknown dtype '" + std::get<1>(t) + "'");
  v.dtype = *dtype;
  v.shape = std::get<2>(t);
  const nb::bytes& b = std::get<3>(t);
  v.data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.c_str()), b.size());
  uint64_t n = sdc::DTypeSize(v.dtype);
  for (uint64_t d : v.shape)
    if (__builtin_mul_overflow(n, d, &n)) throw SdcError("invalid argument: tensor '" + v.name + "': shape overflows");
  if (n != b.size())
    throw SdcError("invalid argument: tensor '" + v.name + "': " + std::to_string(b.size()) + " bytes for a shape of " +
                   std::to_string(n));
  return v;
}

sdc::DecodeLimits Limits(uint64_t max_tensor_bytes, uint64_t max_output_bytes) {
  sdc::DecodeLimits l;
  if (max_tensor_bytes) l.max_tensor_bytes = max_tensor_bytes;
  if (max_output_bytes) l.max_total_output_bytes = max_output_bytes;
  return l;
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
                 const std::vector<std::pair<std::string, nb::bytes>>& assets, const std::string& options_json) {
  sdc::EncodeOptions o;
  nlohmann::json j = nlohmann::json::parse(options_json, nullptr, false);
  if (j.is_discarded()) throw SdcError("invalid argument: options are not valid JSON");
  Check(sdc::EncodeOptionsFromJson(j, &o));
  sdc::SafetensorsFile in;
  for (const TensorIn& t : tensors) in.tensors.push_back(View(t));
  for (const TensorIn& t : importance) {
    std::vector<float> v;
    if (!sdc::ToFiniteFloats(View(t), &v))
      throw SdcError("invalid argument: importance '" + std::get<0>(t) + "' must hold finite float values");
    o.importance[std::get<0>(t)] = std::move(v);
  }
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

std::pair<std::vector<TensorOut>, std::vector<std::pair<std::string, nb::bytes>>> Decode(
    nb::bytes data, uint64_t max_tensor_bytes, uint64_t max_output_bytes) {
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

std::string Inspect(nb::bytes data) { return sdc::DumpJson(sdc::InspectJson(Open(data, sdc::DecodeLimits())->container())); }

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
  Check(sdc::ParseSafetensors(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.c_str()), data.size()), &f));
  std::pair<std::vector<TensorOut>, std::map<std::string, std::string>> out;
  for (const sdc::TensorView& t : f.tensors)
    out.first.emplace_back(t.name, sdc::DTypeName(t.dtype), t.shape,
                           nb::bytes(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
  out.second = f.metadata;
  return out;
}

nb::bytes SerializeSafetensors(const std::vector<TensorIn>& tensors, const std::map<std::string, std::string>& metadata) {
  std::vector<sdc::TensorView> views;
  for (const TensorIn& t : tensors) views.push_back(View(t));
  std::vector<uint8_t> out;
  Check(sdc::SerializeSafetensors(views, metadata, &out));
  return nb::bytes(reinterpret_cast<const char*>(out.data()), out.size());
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "sdcodec's C++ core; use the sdcodec package";
  nb::exception<SdcError>(m, "Error", PyExc_ValueError);
  m.def("encode", &Encode, nb::arg("tensors"), nb::arg("importance"), nb::arg("assets"), nb::arg("options_json"));
  m.def("decode", &Decode, nb::arg("data"), nb::arg("max_tensor_bytes") = 0, nb::arg("max_output_bytes") = 0);
  m.def("inspect", &Inspect, nb::arg("data"));
  m.def("parse_safetensors", &ParseSafetensors, nb::arg("data"));
  m.def("serialize_safetensors", &SerializeSafetensors, nb::arg("tensors"), nb::arg("metadata"));
  m.def("verify", &Verify, nb::arg("data"), nb::arg("max_tensor_bytes") = 0, nb::arg("max_output_bytes") = 0);
}
