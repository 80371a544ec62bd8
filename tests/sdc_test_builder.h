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

namespace sdc::test {

// ---- Writing -------------------------------------------------------------------------------------------

class FileBuilder {
 public:
  // Adds a section holding `raw` (compressed with zstd when codec is Zstd); returns its index.
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

// Recomputes the header hash of `file` in place (after editing header bytes 0..31 or a raw manifest).
void Rehash(std::vector<uint8_t>& file);

// Overwrites the rep_type byte of tensor `index` in a file whose manifest is stored raw, then re-hashes.
// (The object API cannot write a union type it does not know.)
void PatchRepType(std::vector<uint8_t>& file, uint32_t index, uint8_t rep_type);

}  // namespace sdc::test
