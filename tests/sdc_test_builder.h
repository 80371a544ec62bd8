// A test-only .sdc writer built on the FlatBuffers object API and format/ helpers (never the encoder), and
// a way to take a file apart and put it back together with the header re-hashed. The decoder tests use it
// to make valid files and then break exactly one rule at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "format/header.h"
#include "format/types.h"
#include "sdc_generated.h"
#include "tests/test_util.h"

namespace sdc::test {

// ---- Writing -------------------------------------------------------------------------------------------

// The parts of a codebook tensor (spec §8.4) as the builder writes them; each part may use its own codec.
struct CodebookSpec {
  uint32_t dim = 4;
  std::vector<uint32_t> banks;      // indices into Manifest.banks (FileBuilder::AddBank's return values)
  std::vector<float> coefficients;  // one per bank
  DType scale_dtype = DType::kF16;
  uint32_t group_size = 0;
  std::vector<uint8_t> scales;                // rows * groups_per_row little-endian values of scale_dtype
  std::vector<std::vector<uint8_t>> indices;  // one stream per bank: u8, or u16 LE when a bank has k > 256
  bool residual = false;
  uint64_t residual_count = 0;
  std::vector<uint8_t> positions;  // LEB128 gaps (test::Leb128Gaps)
  std::vector<uint8_t> values;     // int8
  float step = 0;
  fb::Codec scales_codec = fb::Codec::Raw;
  std::vector<fb::Codec> index_codecs;  // per stream; missing entries are Raw
  fb::Codec positions_codec = fb::Codec::Raw;
  fb::Codec values_codec = fb::Codec::Raw;
};

class FileBuilder {
 public:
  // Adds a section holding `raw` (compressed with zstd, or rANS-coded with encoder/enc_rans.h's RansEncode,
  // as `codec` says); returns its index.
  uint32_t AddSection(fb::SectionKind kind, std::span<const uint8_t> raw, fb::Codec codec = fb::Codec::Raw);

  // A raw tensor. `stored` holds numel elements of `stored_dtype`; when it differs from `dtype` (an F16/BF16
  // cast) the tensor hash is computed with the reference conversions of tests/test_util.h.
  fb::TensorT& AddRawTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                            std::span<const uint8_t> stored, DType stored_dtype, fb::Codec codec = fb::Codec::Raw);
  fb::TensorT& AddRawTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                            std::span<const uint8_t> bytes) {
    return AddRawTensor(name, dtype, std::move(shape), bytes, dtype);
  }

  // A scalar tensor from given scales and codes; the tensor hash comes from the reference dequantizer.
  fb::TensorT& AddScalarTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, int bits,
                               uint32_t group_size, DType scale_dtype, std::span<const uint8_t> scales,
                               std::span<const uint8_t> codes, fb::Codec codec = fb::Codec::Raw);
  // A scalar tensor quantizing `values` (rows x cols from `shape`) with a plain absmax rule; F16 scales.
  fb::TensorT& AddQuantizedTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                  std::span<const float> values, int bits, uint32_t group_size,
                                  fb::Codec codec = fb::Codec::Raw);

  void AddAsset(const std::string& name, std::span<const uint8_t> bytes, fb::Codec codec = fb::Codec::Raw);

  // A bank of k entries of `dim` values: `entries` holds k * dim little-endian values of entry_dtype (F16 or
  // F32). Returns its index in Manifest.banks; its section is added now.
  uint32_t AddBank(std::span<const uint8_t> entries, uint32_t k, uint32_t dim, DType entry_dtype,
                   fb::Codec codec = fb::Codec::Raw);
  // The same from binary32 values, stored as entry_dtype with the reference conversions.
  uint32_t AddBankValues(std::span<const float> values, uint32_t k, uint32_t dim, DType entry_dtype,
                         fb::Codec codec = fb::Codec::Raw);
  // A codebook tensor; the tensor hash comes from the reference rule (test::RefDequantizeCodebook), which
  // must accept the spec (a failing reference is a test failure).
  fb::TensorT& AddCodebookTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                 const CodebookSpec& spec);
  // What the reference rule reconstructs for `spec` (empty when it refuses the input).
  std::vector<uint8_t> ReferenceCodebook(DType dtype, const std::vector<uint64_t>& shape,
                                         const CodebookSpec& spec) const;

  void SetAlignment(uint32_t alignment) { manifest_.alignment = alignment; }
  void SetManifestZstd(bool zstd) { manifest_zstd_ = zstd; }
  fb::ManifestT& manifest() { return manifest_; }

  // Lays the sections out (packed, or at aligned absolute offsets with zero gaps) and writes the file.
  std::vector<uint8_t> Build();

 private:
  struct Pending {
    fb::SectionKind kind;
    fb::Codec codec;
    uint64_t raw_size;
    std::vector<uint8_t> stored;
  };
  fb::ManifestT manifest_;
  std::vector<Pending> sections_;
  std::vector<RefBank> banks_;  // widened entries of each bank, for the reference rule
  bool manifest_zstd_ = false;
};

// ---- Taking files apart --------------------------------------------------------------------------------

struct FileParts {
  FileHeader header;
  fb::ManifestT manifest;
  std::vector<uint8_t> data;  // the data area: every byte after the manifest
};

// Splits a file whose header and manifest are well formed (asserts inside the test otherwise).
FileParts Split(std::span<const uint8_t> file);

// Serialises the manifest (raw, or zstd when `zstd`), writes a header with a correct hash, appends `data`.
// Section offsets are relative to the end of the manifest, so a packed file stays consistent.
std::vector<uint8_t> Join(const FileParts& parts, bool zstd = false);

// A file made of the given manifest bytes (stored raw) and data area, with a correct header hash.
std::vector<uint8_t> JoinManifestBytes(std::span<const uint8_t> manifest, std::span<const uint8_t> data);

// Split, let `edit` change the parts, Join (manifest stored raw).
std::vector<uint8_t> Rewrite(std::span<const uint8_t> file, const std::function<void(FileParts&)>& edit);

// Replaces section i's stored bytes in place (same size) and updates its xxh64 in the manifest.
void ReplaceSectionBytes(FileParts& parts, uint32_t i, std::span<const uint8_t> stored);
std::span<uint8_t> SectionBytes(FileParts& parts, uint32_t i);

// Replaces section i of a packed file (alignment 0 or 1) with `stored` bytes of any length, moving the later
// sections; updates its stored size, raw size and xxh64.
void ResizeSection(FileParts& parts, uint32_t i, std::span<const uint8_t> stored, uint64_t raw_size);

// Recomputes the header hash of `file` in place (after editing header bytes 0..31 or a raw manifest).
void Rehash(std::vector<uint8_t>& file);

// Overwrites the rep_type byte of tensor `index` in a file whose manifest is stored raw, then re-hashes.
// (The object API cannot write a union type it does not know.)
void PatchRepType(std::vector<uint8_t>& file, uint32_t index, uint8_t rep_type);

}  // namespace sdc::test
