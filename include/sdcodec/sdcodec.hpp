// sdcodec's stable C++ API: a header-only layer over the C API (sdcodec/sdcodec.h), so that a program sees
// value types and RAII handles while the library's ABI stays the C one. Link sdc_c_decoder (decoding only,
// no encoder code) or sdc_c (adds sdcodec::Encode).
//
//   #include "sdcodec/sdcodec.hpp"
//   sdcodec::Decoder dec;
//   sdcodec::Status s = sdcodec::Decoder::OpenFile("model.sdc", &dec);
//   if (!s.ok()) std::cerr << s.message() << "\n";      // "corrupt: section 3: offset 812 + size 40 ..."
//   sdcodec::Tensor t;
//   for (uint32_t i = 0; i < dec.tensor_count(); ++i) s = dec.DecodeTensor(i, &t);  // t.info.name, t.data
//
// Conventions: every operation that can fail returns a Status (its code is one of the C API's SDC_E_*
// values, its message the library's one line); nothing throws except std::bad_alloc from this header's own
// std::string / std::vector members. Tensor data are little-endian elements of the tensor's dtype
// (safetensors spelling: "F32", "BF16", "I64", ...). Stability: additions only within SDC_C_API_VERSION 1.
// (The library's internal C++ classes, decoder/decoder.h and encoder/encoder.h, are not a stable API.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sdcodec/sdcodec.h"

namespace sdcodec {

class Status {
 public:
  Status() = default;
  Status(int code, std::string message) : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == SDC_OK; }
  int code() const { return code_; }  // SDC_OK or SDC_E_*
  const std::string& message() const { return message_; }

 private:
  int code_ = SDC_OK;
  std::string message_;
};

namespace detail {
inline Status FromC(int rc) { return rc == SDC_OK ? Status() : Status(rc, sdc_last_error()); }
}  // namespace detail

// Bounds on what a file may make the decoder allocate; 0 keeps the library's default for that bound.
using Limits = sdc_limits;

struct TensorInfo {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "F64", "I8".."U64", "BOOL", "F8_E4M3", "F8_E5M2"
  std::string role;   // "embedding", "head", "attention", "mlp", "norm", "other"
  std::vector<uint64_t> shape;
  uint64_t nbytes = 0;
};

struct Tensor {
  TensorInfo info;
  std::vector<uint8_t> data;  // info.nbytes little-endian bytes
};

struct Asset {
  std::string name;
  std::vector<uint8_t> data;
};

// An open .sdc file: header, manifest and layout validated; tensors reconstructed bit-exactly on request,
// every checksum and tensor hash checked. Movable, not copyable. Const methods may be called concurrently.
class Decoder {
 public:
  Decoder() = default;
  Decoder(Decoder&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  Decoder& operator=(Decoder&& o) noexcept {
    if (this != &o) {
      sdc_decoder_free(d_);
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  ~Decoder() { sdc_decoder_free(d_); }

  // The bytes are copied; `limits` may be null (defaults).
  static Status Open(const void* data, size_t size, Decoder* out, const Limits* limits = nullptr) {
    sdc_decoder* d = nullptr;
    Status s = detail::FromC(sdc_decoder_open(static_cast<const uint8_t*>(data), size, limits, &d));
    if (s.ok()) *out = Decoder(d);
    return s;
  }
  static Status Open(const std::vector<uint8_t>& file, Decoder* out, const Limits* limits = nullptr) {
    return Open(file.data(), file.size(), out, limits);
  }
  static Status OpenFile(const std::string& path, Decoder* out, const Limits* limits = nullptr) {
    sdc_decoder* d = nullptr;
    Status s = detail::FromC(sdc_decoder_open_file(path.c_str(), limits, &d));
    if (s.ok()) *out = Decoder(d);
    return s;
  }

  bool is_open() const { return d_ != nullptr; }
  uint32_t tensor_count() const { return sdc_decoder_tensor_count(d_); }
  uint32_t asset_count() const { return sdc_decoder_asset_count(d_); }

  Status Info(uint32_t index, TensorInfo* out) const {
    sdc_tensor_info i;
    Status s = detail::FromC(sdc_decoder_tensor_info(d_, index, &i));
    if (!s.ok()) return s;
    out->name = i.name;
    out->dtype = i.dtype;
    out->role = i.role;
    out->shape.assign(i.shape, i.shape + i.rank);
    out->nbytes = i.nbytes;
    return s;
  }

  Status DecodeTensor(uint32_t index, Tensor* out) const {
    Status s = Info(index, &out->info);
    if (!s.ok()) return s;
    out->data.resize(static_cast<size_t>(out->info.nbytes));
    return detail::FromC(sdc_decoder_decode_tensor(d_, index, out->data.data(), out->data.size()));
  }

  // Every tensor, in manifest order.
  Status DecodeAll(std::vector<Tensor>* out) const {
    out->assign(tensor_count(), Tensor());
    for (uint32_t i = 0; i < out->size(); ++i) {
      Status s = DecodeTensor(i, &(*out)[i]);
      if (!s.ok()) return s;
    }
    return Status();
  }

  Status DecodeAsset(uint32_t index, Asset* out) const {
    const char* name = nullptr;
    uint8_t* data = nullptr;
    size_t size = 0;
    Status s = detail::FromC(sdc_decoder_asset(d_, index, &name, &data, &size));
    if (!s.ok()) return s;
    out->name = name;
    out->data.assign(data, data + size);
    sdc_free(data);
    return s;
  }

  // Every check decoding makes, keeping nothing.
  Status Verify() const { return detail::FromC(sdc_decoder_verify(d_)); }

  // The byte report, schema sdcodec.inspect/1 (what `sdcodec inspect --json` prints).
  Status InspectJson(std::string* out) const {
    char* json = nullptr;
    Status s = detail::FromC(sdc_decoder_inspect_json(d_, &json));
    if (!s.ok()) return s;
    out->assign(json);
    sdc_free(json);
    return s;
  }

 private:
  explicit Decoder(sdc_decoder* d) : d_(d) {}
  sdc_decoder* d_ = nullptr;
};

// A tensor to encode: the bytes are borrowed for the duration of the call.
struct TensorRef {
  std::string name;
  std::string dtype;  // as in TensorInfo
  std::vector<uint64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;  // product of shape times the dtype's size
};

// Encodes tensors into an .sdc file (sdc_c only; decoder-only programs that never call it link without it).
// options_json: "" or a JSON object of the CLI's encode options with underscores, e.g.
// R"({"budget": 16000000, "method": "codebook"})". importance: F32/F16/BF16 tensors named like the weights
// they weigh (one value, one per column, or one per element). hessians: square [in, in] matrices E[x xᵀ]
// named like the 2-D weights whose inputs they describe (loss-aware coding; may be empty).
inline Status Encode(const std::vector<TensorRef>& tensors, const std::vector<TensorRef>& importance,
                     const std::string& options_json, std::vector<uint8_t>* out,
                     const std::vector<TensorRef>& hessians = {}) {
  auto to_c = [](const std::vector<TensorRef>& in) {
    std::vector<sdc_tensor_in> c(in.size());
    for (size_t i = 0; i < in.size(); ++i)
      c[i] = {in[i].name.c_str(), in[i].dtype.c_str(), static_cast<uint32_t>(in[i].shape.size()),
              in[i].shape.data(), in[i].data,          in[i].nbytes};
    return c;
  };
  const std::vector<sdc_tensor_in> t = to_c(tensors), imp = to_c(importance), hess = to_c(hessians);
  uint8_t* file = nullptr;
  size_t size = 0;
  Status s = detail::FromC(sdc_encode_calibrated(t.data(), t.size(), imp.data(), imp.size(), hess.data(), hess.size(),
                                                 options_json.empty() ? nullptr : options_json.c_str(), &file, &size));
  if (!s.ok()) return s;
  out->assign(file, file + size);
  sdc_free(file);
  return s;
}

}  // namespace sdcodec
