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

namespace {

sdc::Status Views(const sdc_tensor_in* t, size_t n, std::vector<sdc::TensorView>* out) {
  for (size_t i = 0; i < n; ++i) SDC_RETURN_IF_ERROR(ToView(t[i], &out->emplace_back()));
  return sdc::Status::Ok();
}

}  // namespace

extern "C" int sdc_encode(const sdc_tensor_in* tensors, size_t n, const sdc_tensor_in* importance, size_t n_importance,
                          const char* options_json, uint8_t** out, size_t* out_size) {
  return sdc_encode_calibrated(tensors, n, importance, n_importance, nullptr, 0, options_json, out, out_size);
}

extern "C" int sdc_encode_calibrated(const sdc_tensor_in* tensors, size_t n, const sdc_tensor_in* importance,
                                     size_t n_importance, const sdc_tensor_in* hessians, size_t n_hessians,
                                     const char* options_json, uint8_t** out, size_t* out_size) {
  if (!out || !out_size || (!tensors && n) || (!importance && n_importance) || (!hessians && n_hessians))
    return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  sdc::EncodeOptions o;
  if (options_json) {
    nlohmann::json j = nlohmann::json::parse(options_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "options are not valid JSON"));
    if (int rc = Report(sdc::EncodeOptionsFromJson(j, &o))) return rc;
  }
  sdc::SafetensorsFile in;
  std::vector<sdc::TensorView> imp, hess;
  if (int rc = Report(Views(tensors, n, &in.tensors))) return rc;
  if (int rc = Report(Views(importance, n_importance, &imp))) return rc;
  if (int rc = Report(Views(hessians, n_hessians, &hess))) return rc;
  if (int rc = Report(sdc::AddImportance(imp, &o))) return rc;
  if (int rc = Report(sdc::AddHessians(hess, &o))) return rc;
  sdc::EncodeResult r;
  if (int rc = Report(sdc::Encode(in, o, &r))) return rc;
  *out = static_cast<uint8_t*>(std::malloc(r.file.empty() ? 1 : r.file.size()));
  if (!*out) return Report(sdc::Error(sdc::StatusCode::kInternal, "out of memory"));
  std::memcpy(*out, r.file.data(), r.file.size());
  *out_size = r.file.size();
  return SDC_OK;
}
