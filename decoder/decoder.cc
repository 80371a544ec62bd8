#include "decoder/decoder.h"

#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "decoder/dec_codebook.h"
#include "decoder/dec_raw.h"
#include "decoder/dec_scalar.h"
#include "format/checksum.h"
#include "format/file_io.h"
#include "format/printable.h"

namespace sdc {
namespace {

// body(i) for every i in [0, n), side by side on the OpenMP threads (tensors are independent: each reads
// its own sections and writes its own output). The failure returned is that of the smallest i that fails,
// so the message does not depend on the thread count; once one fails, larger indices are skipped. Only that
// failure is kept (not a Status per index: a manifest may list 2^20 tensors). Each body runs under Guarded
// (no exception crosses the parallel region).
template <class Body>
Status ParallelFor(uint32_t n, Body&& body) {
  Status first;
  std::atomic<uint32_t> first_index{n};
#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
  for (int64_t k = 0; k < static_cast<int64_t>(n); ++k) {
    const uint32_t i = static_cast<uint32_t>(k);
    if (i > first_index.load(std::memory_order_relaxed)) continue;
    Status s = Guarded([&] { return body(i); });
    if (s.ok()) continue;
#pragma omp critical(sdc_parallel_for)
    if (i < first_index.load(std::memory_order_relaxed)) {
      first = std::move(s);
      first_index.store(i, std::memory_order_relaxed);
    }
  }
  return first;
}

Status ReconstructRawRep(const Container& c, const fb::Tensor& t, std::vector<uint8_t>* out) {
  const fb::RawRep* rep = t.rep_as_RawRep();
  std::vector<uint8_t> stored;
  SDC_RETURN_IF_ERROR(c.ReadSection(rep->data(), &stored));
  const DType sd = static_cast<DType>(rep->stored_dtype()), td = static_cast<DType>(t.dtype());
  if (sd == td) {
    *out = std::move(stored);
    return Status::Ok();
  }
  out->assign(stored.size() / DTypeSize(sd) * DTypeSize(td), 0);
  return ReconstructRaw(stored, sd, td, *out);
}

Status ReconstructScalarRep(const Container& c, const fb::Tensor& t, std::vector<uint8_t>* out) {
  const fb::ScalarRep* rep = t.rep_as_ScalarRep();
  std::vector<uint8_t> scales, codes;
  SDC_RETURN_IF_ERROR(c.ReadSection(rep->scales(), &scales));
  SDC_RETURN_IF_ERROR(c.ReadSection(rep->codes(), &codes));
  ScalarLayout layout;
  layout.rows = RowsOf(ShapeOf(t));
  layout.bits = rep->bits();
  layout.group_size = rep->group_size();
  layout.scale_dtype = static_cast<DType>(rep->scale_dtype());
  const DType td = static_cast<DType>(t.dtype());
  out->assign(layout.rows.numel() * DTypeSize(td), 0);
  return DequantizeScalar(layout, scales, codes, td, *out);
}

Status ReconstructCodebookRep(const Container& c, const fb::Tensor& t, std::vector<uint8_t>* out) {
  const fb::CodebookRep* rep = t.rep_as_CodebookRep();
  const uint32_t m = rep->banks()->size();
  std::vector<std::vector<float>> entries(m);
  std::vector<BankView> banks(m);
  bool wide = false;
  for (uint32_t i = 0; i < m; ++i) {
    const fb::Bank& b = *c.manifest().banks()->Get(rep->banks()->Get(i));
    std::vector<uint8_t> raw;
    SDC_RETURN_IF_ERROR(c.ReadSection(b.data(), &raw));
    SDC_RETURN_IF_ERROR(DecodeBankEntries(raw, static_cast<DType>(b.entry_dtype()), &entries[i])
                            .WithContext("bank " + std::to_string(rep->banks()->Get(i))));
    banks[i] = {entries[i], b.k()};
    wide = wide || b.k() > 256;
  }
  std::vector<float> coefficients(rep->coefficients()->begin(), rep->coefficients()->end());
  std::vector<uint8_t> scales;
  SDC_RETURN_IF_ERROR(c.ReadSection(rep->scales(), &scales));
  std::vector<std::vector<uint8_t>> streams(m);
  std::vector<std::span<const uint8_t>> indices(m);
  for (uint32_t i = 0; i < m; ++i) {
    SDC_RETURN_IF_ERROR(c.ReadSection(rep->indices()->Get(i), &streams[i]));
    indices[i] = streams[i];
  }
  ResidualView residual;
  std::vector<uint8_t> positions, values;
  if (const fb::SparseResidual* r = rep->residual()) {
    SDC_RETURN_IF_ERROR(c.ReadSection(r->positions(), &positions));
    SDC_RETURN_IF_ERROR(c.ReadSection(r->values(), &values));
    residual = {r->count(), positions, values, r->step()};
  }
  CodebookLayout layout;
  layout.rows = RowsOf(ShapeOf(t));
  layout.dim = rep->dim();
  layout.group_size = rep->group_size();
  layout.scale_dtype = static_cast<DType>(rep->scale_dtype());
  layout.index_bytes = wide ? 2 : 1;
  const DType td = static_cast<DType>(t.dtype());
  out->assign(layout.rows.numel() * DTypeSize(td), 0);
  return DequantizeCodebook(layout, banks, coefficients, scales, indices, rep->residual() ? &residual : nullptr, td,
                            *out);
}

std::string TensorWho(const fb::Tensor& t) { return "tensor '" + Printable(t.name()->string_view()) + "'"; }

}  // namespace

Status ReconstructUnchecked(const Container& c, uint32_t index, std::vector<uint8_t>* out) {
  const fb::Tensor& t = *c.manifest().tensors()->Get(index);
  Status s;
  switch (t.rep_type()) {
    case fb::Representation::RawRep: s = ReconstructRawRep(c, t, out); break;
    case fb::Representation::ScalarRep: s = ReconstructScalarRep(c, t, out); break;
    case fb::Representation::CodebookRep: s = ReconstructCodebookRep(c, t, out); break;
    default: s = Error(StatusCode::kUnsupported, "unknown representation"); break;
  }
  return s.ok() ? s : s.WithContext(TensorWho(t));
}

Status ReconstructTensor(const Container& c, uint32_t index, std::vector<uint8_t>* out) {
  SDC_RETURN_IF_ERROR(ReconstructUnchecked(c, index, out));
  const fb::Tensor& t = *c.manifest().tensors()->Get(index);
  SDC_CHECK(Xxh64(*out) == t.xxh64(), StatusCode::kChecksumMismatch,
            TensorWho(t) + ": XXH64 of the reconstruction does not match");
  return Status::Ok();
}

Status Decoder::Open(std::vector<uint8_t> file, const DecodeLimits& limits, std::unique_ptr<Decoder>* out) {
  return Guarded([&] {
    std::unique_ptr<Decoder> d(new Decoder());
    d->file_ = std::move(file);
    SDC_RETURN_IF_ERROR(Container::Open(d->file_, limits, &d->container_));
    *out = std::move(d);
    return Status::Ok();
  });
}

Status Decoder::OpenFile(const std::string& path, const DecodeLimits& limits, std::unique_ptr<Decoder>* out) {
  return Guarded([&] {
    std::vector<uint8_t> file;
    SDC_RETURN_IF_ERROR(ReadFile(path, &file));
    return Open(std::move(file), limits, out);
  });
}

uint32_t Decoder::tensor_count() const {
  const auto* t = container_.manifest().tensors();
  return t ? t->size() : 0;
}

uint32_t Decoder::asset_count() const {
  const auto* a = container_.manifest().assets();
  return a ? a->size() : 0;
}

Status Decoder::DecodeTensor(uint32_t index, DecodedTensor* out) const {
  SDC_CHECK(index < tensor_count(), StatusCode::kInvalidArgument, "tensor index out of range");
  return Guarded([&] {
    const fb::Tensor& t = *container_.manifest().tensors()->Get(index);
    DecodedTensor d;
    d.name = t.name()->str();
    d.dtype = static_cast<DType>(t.dtype());
    d.shape = ShapeOf(t);
    d.role = static_cast<Role>(t.role());
    SDC_RETURN_IF_ERROR(ReconstructTensor(container_, index, &d.data));
    *out = std::move(d);
    return Status::Ok();
  });
}

Status Decoder::DecodeTensors(uint32_t first, uint32_t count, std::vector<DecodedTensor>* out) const {
  SDC_CHECK(first <= tensor_count() && count <= tensor_count() - first, StatusCode::kInvalidArgument,
            "tensor range out of range");
  return Guarded([&] {
    std::vector<DecodedTensor> ts(count);
    SDC_RETURN_IF_ERROR(ParallelFor(count, [&](uint32_t i) { return DecodeTensor(first + i, &ts[i]); }));
    *out = std::move(ts);
    return Status::Ok();
  });
}

int DecodeThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

Status Decoder::DecodeAsset(uint32_t index, DecodedAsset* out) const {
  SDC_CHECK(index < asset_count(), StatusCode::kInvalidArgument, "asset index out of range");
  return Guarded([&] {
    const fb::Asset& a = *container_.manifest().assets()->Get(index);
    DecodedAsset d;
    d.name = a.name()->str();
    SDC_RETURN_IF_ERROR(container_.ReadSection(a.data(), &d.data).WithContext("asset '" + Printable(d.name) + "'"));
    *out = std::move(d);
    return Status::Ok();
  });
}

Status Decoder::DecodeAll(std::vector<DecodedTensor>* tensors, std::vector<DecodedAsset>* assets) const {
  return Guarded([&] {
    std::vector<DecodedTensor> ts;
    SDC_RETURN_IF_ERROR(DecodeTensors(0, tensor_count(), &ts));
    std::vector<DecodedAsset> as(asset_count());
    for (uint32_t i = 0; i < as.size(); ++i) SDC_RETURN_IF_ERROR(DecodeAsset(i, &as[i]));
    *tensors = std::move(ts);
    *assets = std::move(as);
    return Status::Ok();
  });
}

Status Decoder::VerifyBanks() const {
  return Guarded([&] {
    if (const auto* banks = container_.manifest().banks())
      for (uint32_t i = 0; i < banks->size(); ++i) {
        std::vector<uint8_t> raw;
        std::vector<float> entries;
        SDC_RETURN_IF_ERROR(container_.ReadSection(banks->Get(i)->data(), &raw));
        SDC_RETURN_IF_ERROR(DecodeBankEntries(raw, static_cast<DType>(banks->Get(i)->entry_dtype()), &entries)
                                .WithContext("bank " + std::to_string(i)));
      }
    return Status::Ok();
  });
}

Status Decoder::Verify() const {
  return Guarded([&] {
    // Every section's hash first (banks no tensor uses included), then every tensor and asset in full.
    SDC_RETURN_IF_ERROR(
        ParallelFor(container_.section_count(), [&](uint32_t i) { return container_.VerifySectionChecksum(i); }));
    SDC_RETURN_IF_ERROR(VerifyBanks());
    SDC_RETURN_IF_ERROR(ParallelFor(tensor_count(), [&](uint32_t i) {
      DecodedTensor t;
      return DecodeTensor(i, &t);
    }));
    for (uint32_t i = 0; i < asset_count(); ++i) {
      DecodedAsset a;
      SDC_RETURN_IF_ERROR(DecodeAsset(i, &a));
    }
    return Status::Ok();
  });
}

}  // namespace sdc
