// The decoder half of the C API (include/sdcodec/sdcodec.h): links the decoder and reports only.
#include <cstdlib>
#include <cstring>
#include <string>

#include "capi/c_bridge.h"
#include "capi/c_error.h"
#include "decoder/decoder.h"
#include "include/sdcodec/sdcodec.h"
#include "report/report.h"

struct sdc_decoder {
  std::unique_ptr<sdc::Decoder> d;
  std::vector<std::string> dtype_names;  // keeps tensor_info's strings alive
};

namespace sdc::capi {

namespace {
thread_local std::string last_error;

// The C codes are StatusCode's values (format/status.h), kept equal by the static_asserts below.
int Code(StatusCode c) { return static_cast<int>(c); }
static_assert(static_cast<int>(StatusCode::kInvalidArgument) == SDC_E_INVALID_ARGUMENT);
static_assert(static_cast<int>(StatusCode::kIoError) == SDC_E_IO);
static_assert(static_cast<int>(StatusCode::kCorrupt) == SDC_E_CORRUPT);
static_assert(static_cast<int>(StatusCode::kChecksumMismatch) == SDC_E_CHECKSUM);
static_assert(static_cast<int>(StatusCode::kLimitExceeded) == SDC_E_LIMIT_EXCEEDED);
static_assert(static_cast<int>(StatusCode::kUnsupported) == SDC_E_UNSUPPORTED);
static_assert(static_cast<int>(StatusCode::kBudget) == SDC_E_BUDGET);
static_assert(static_cast<int>(StatusCode::kInternal) == SDC_E_INTERNAL);

int Wrap(std::unique_ptr<Decoder> d, sdc_decoder** out) {
  auto* h = new (std::nothrow) sdc_decoder;
  if (!h) return Report(Error(StatusCode::kInternal, "out of memory"));
  h->d = std::move(d);
  *out = h;
  return SDC_OK;
}
}  // namespace

DecodeLimits LimitsOf(const sdc_limits* l) {
  DecodeLimits out;
  if (!l) return out;
  if (l->max_manifest_bytes) out.max_manifest_bytes = l->max_manifest_bytes;
  if (l->max_sections) out.max_sections = l->max_sections;
  if (l->max_section_bytes) out.max_section_raw_bytes = l->max_section_bytes;
  if (l->max_tensor_bytes) out.max_tensor_bytes = l->max_tensor_bytes;
  if (l->max_output_bytes) out.max_total_output_bytes = l->max_output_bytes;
  return out;
}

int Report(const Status& s) {
  if (s.ok()) return SDC_OK;
  last_error = s.ToString();
  return Code(s.code());
}

Status ToView(const sdc_tensor_in& t, TensorView* v) {
  SDC_CHECK(t.name && t.dtype && (t.shape || t.rank == 0) && (t.data || t.nbytes == 0) && t.rank <= SDC_MAX_RANK,
            StatusCode::kInvalidArgument, "tensor entry with a null field or rank above 8");
  auto dtype = ParseDTypeName(t.dtype);
  SDC_CHECK(dtype.has_value(), StatusCode::kInvalidArgument,
            "tensor '" + std::string(t.name) + "': unknown dtype '" + t.dtype + "'");
  v->name = t.name;
  v->dtype = *dtype;
  v->shape.assign(t.shape, t.shape + t.rank);
  uint64_t n = DTypeSize(*dtype);
  for (uint64_t d : v->shape)
    SDC_CHECK(!__builtin_mul_overflow(n, d, &n), StatusCode::kInvalidArgument,
              "tensor '" + v->name + "': shape overflows");
  SDC_CHECK(n == t.nbytes, StatusCode::kInvalidArgument,
            "tensor '" + v->name + "': " + std::to_string(t.nbytes) + " bytes for a shape of " + std::to_string(n));
  v->data = std::span<const uint8_t>(static_cast<const uint8_t*>(t.data), t.nbytes);
  return Status::Ok();
}

}  // namespace sdc::capi

using sdc::capi::Report;

extern "C" {

const char* sdc_last_error(void) { return sdc::capi::last_error.c_str(); }
void sdc_free(void* p) { std::free(p); }

int sdc_decoder_open(const uint8_t* data, size_t size, const sdc_limits* limits, sdc_decoder** out) {
  if (!out || (!data && size)) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  std::unique_ptr<sdc::Decoder> d;
  // The copy of the caller's bytes is inside Guarded too: no exception may cross the C boundary.
  if (int rc = Report(sdc::Guarded([&] {
        return sdc::Decoder::Open(std::vector<uint8_t>(data, data + size), sdc::capi::LimitsOf(limits), &d);
      })))
    return rc;
  return sdc::capi::Wrap(std::move(d), out);
}

int sdc_decoder_open_file(const char* path, const sdc_limits* limits, sdc_decoder** out) {
  if (!out || !path) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  std::unique_ptr<sdc::Decoder> d;
  if (int rc = Report(sdc::Decoder::OpenFile(path, sdc::capi::LimitsOf(limits), &d))) return rc;
  return sdc::capi::Wrap(std::move(d), out);
}

void sdc_decoder_free(sdc_decoder* d) { delete d; }

uint32_t sdc_decoder_tensor_count(const sdc_decoder* d) { return d ? d->d->tensor_count() : 0; }
uint32_t sdc_decoder_asset_count(const sdc_decoder* d) { return d ? d->d->asset_count() : 0; }

int sdc_decoder_tensor_info(const sdc_decoder* d, uint32_t index, sdc_tensor_info* out) {
  if (!d || !out) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  if (index >= d->d->tensor_count())
    return Report(
        sdc::Error(sdc::StatusCode::kInvalidArgument, "tensor index " + std::to_string(index) + " out of range"));
  const sdc::fb::Tensor& t = *d->d->container().manifest().tensors()->Get(index);
  std::memset(out, 0, sizeof *out);
  out->name = t.name()->c_str();
  out->dtype = sdc::DTypeName(static_cast<sdc::DType>(t.dtype()));
  out->role = sdc::RoleName(static_cast<sdc::Role>(t.role()));
  const std::vector<uint64_t> shape = sdc::ShapeOf(t);  // absent for a 0-d tensor; elements maybe unaligned
  out->rank = static_cast<uint32_t>(shape.size());
  uint64_t n = sdc::DTypeSize(static_cast<sdc::DType>(t.dtype()));
  for (uint32_t i = 0; i < out->rank; ++i) out->shape[i] = shape[i], n *= out->shape[i];
  out->nbytes = n;  // open-time validation bounded every shape product by the limits
  return SDC_OK;
}

int sdc_decoder_decode_tensor(const sdc_decoder* d, uint32_t index, void* dst, size_t dst_size) {
  sdc_tensor_info info;
  if (int rc = sdc_decoder_tensor_info(d, index, &info)) return rc;
  if (!dst && dst_size) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null destination"));
  if (dst_size != info.nbytes)
    return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "tensor '" + std::string(info.name) + "' has " +
                                                                    std::to_string(info.nbytes) + " bytes, buffer " +
                                                                    std::to_string(dst_size)));
  sdc::DecodedTensor t;
  if (int rc = Report(d->d->DecodeTensor(index, &t))) return rc;
  if (!t.data.empty()) std::memcpy(dst, t.data.data(), t.data.size());
  return SDC_OK;
}

int sdc_decoder_asset(const sdc_decoder* d, uint32_t index, const char** name, uint8_t** data, size_t* size) {
  if (!d || !name || !data || !size) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  if (index >= d->d->asset_count())
    return Report(
        sdc::Error(sdc::StatusCode::kInvalidArgument, "asset index " + std::to_string(index) + " out of range"));
  sdc::DecodedAsset a;
  if (int rc = Report(d->d->DecodeAsset(index, &a))) return rc;
  *data = static_cast<uint8_t*>(std::malloc(a.data.empty() ? 1 : a.data.size()));
  if (!*data) return Report(sdc::Error(sdc::StatusCode::kInternal, "out of memory"));
  if (!a.data.empty()) std::memcpy(*data, a.data.data(), a.data.size());
  *size = a.data.size();
  *name = d->d->container().manifest().assets()->Get(index)->name()->c_str();
  return SDC_OK;
}

int sdc_decoder_verify(const sdc_decoder* d) {
  if (!d) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  return Report(d->d->Verify());
}

int sdc_decoder_inspect_json(const sdc_decoder* d, char** out) {
  if (!d || !out) return Report(sdc::Error(sdc::StatusCode::kInvalidArgument, "null argument"));
  std::string s;
  if (int rc = Report(sdc::Guarded([&] {
        s = sdc::DumpJson(sdc::InspectJson(d->d->container()));
        return sdc::Status::Ok();
      })))
    return rc;
  *out = static_cast<char*>(std::malloc(s.size() + 1));
  if (!*out) return Report(sdc::Error(sdc::StatusCode::kInternal, "out of memory"));
  std::memcpy(*out, s.c_str(), s.size() + 1);
  return SDC_OK;
}

}  // extern "C"
