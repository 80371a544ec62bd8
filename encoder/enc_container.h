// Assembles an .sdc file: sections (each compressed with zstd when that is smaller), tensors and assets
// described in the manifest, header written last. The layout rules mirror decoder/dec_container.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"
#include "sdc_generated.h"
#include "sdcodec/version.h"  // SetEncoder's string starts "sdcodec " SDCODEC_VERSION_STRING

namespace sdc {

struct SectionData {
  fb::SectionKind kind = fb::SectionKind::TensorData;
  fb::Codec codec = fb::Codec::Raw;
  uint64_t raw_size = 0;
  std::vector<uint8_t> stored;
};

// Encodes raw bytes as a section with the smallest of: raw; zstd at `zstd_level` (0: not tried); and, when
// `rans_symbol_bytes` is 1 or 2, static rANS over symbols of that width (index and code streams).
SectionData MakeSection(fb::SectionKind kind, std::span<const uint8_t> raw, int zstd_level, int rans_symbol_bytes = 0);

class ContainerBuilder {
 public:
  // Returns the section index.
  uint32_t AddSection(SectionData section);
  void AddTensor(std::unique_ptr<fb::TensorT> tensor) { manifest_.tensors.push_back(std::move(tensor)); }
  void AddAsset(const std::string& name, uint32_t section);
  // Registers a bank (F16 entries) stored in `section`; returns its index in Manifest.banks.
  uint32_t AddBank(uint32_t section, uint32_t k, uint32_t dim);
  void AddMetadata(const std::string& key, const std::string& value);
  void SetEncoder(const std::string& encoder) { manifest_.encoder = encoder; }
  void SetBudget(uint64_t budget) { manifest_.budget_bytes = budget; }
  void SetAlignment(uint32_t alignment) { manifest_.alignment = alignment; }

  // Lays out the sections, serialises the manifest (zstd-compressed when smaller) and writes the file.
  Status Finish(std::vector<uint8_t>* file);

 private:
  fb::ManifestT manifest_;
  std::vector<SectionData> sections_;
};

}  // namespace sdc
