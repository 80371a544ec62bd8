// The encoder half of the C API: sdc_encode.
#include <cstdlib>
#include <cstring>

#include "capi/c_bridge.h"
#include "capi/c_error.h"
#include "encoder/enc_input.h"
#include "encoder/encoder.h"
#include "include/sdcodec/sdcodec.h"

using sdc::capi::Report;
using sdc::capi::ToView;

extern "C" int sdc_encode(const sdc_tensor_in* tensors, size_t n, const sdc_tensor_in* importance,
                          size_t n_importance, const char* options_json, uint8_t** out, size_t* out_size) {
  if (!out || !out_size || (!tensors && n) || (!importance && n_importance))
    return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  sdc::EncodeOptions o;
  if (options_json) {
    nlohmann::json j = nlohmann::json::parse(options_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "options are not valid JSON"));
    if (int rc = Report(sdc::EncodeOptionsFromJson(j, &o))) return rc;
  }
  sdc::SafetensorsFile in;
  for (size_t i = 0; i < n; ++i) {
    sdc::TensorView v;
    if (int rc = Report(ToView(tensors[i], &v))) return rc;
    in.tensors.push_back(std::move(v));
  }
  for (size_t i = 0; i < n_importance; ++i) {
    sdc::TensorView v;
    if (int rc = Report(ToView(importance[i], &v))) return rc;
    std::vector<float> values;
    if (!sdc::ToFiniteFloats(v, &values))
      return Report(sdc::Error(sdc::StatusCode::kInvalidArgument,
                               "importance '" + v.name + "' must hold finite F32, F16 or BF16 values"));
    o.importance[v.name] = std::move(values);
  }
  sdc::EncodeResult r;
  if (int rc = Report(sdc::Encode(in, o, &r))) return rc;
  *out = static_cast<uint8_t*>(std::malloc(r.file.empty() ? 1 : r.file.size()));
  if (!*out) return Report(sdc::Error(sdc::StatusCode::kInternal, "out of memory"));
  std::memcpy(*out, r.file.data(), r.file.size());
  *out_size = r.file.size();
  return SDC_OK;
}
