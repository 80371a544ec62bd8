// Assembles an .sdc file: sections (each compressed with zstd when that is smaller), tensors and assets
// described in the manifest, header written last. The layout rules mirror decoder/dec_container.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"
#include "sdc_generated.h"

namespace sdc {

struct SectionData {
  fb::SectionKind kind = fb::SectionKind::TensorData;
  fb::Codec codec = fb::Codec::Raw;
  uint64_t raw_size = 0;
  std::vector<uint8_t> stored;
};

// Encodes raw bytes as a section: zstd at `zstd_level` when that is strictly smaller, else raw.
// zstd_level 0 means never compress.
SectionData MakeSection(fb::SectionKind kind, std::span<const uint8_t> raw, int zstd_level);

class ContainerBuilder {
 public:
  // Returns the section index.
  uint32_t AddSection(SectionData section);
  void AddTensor(std::unique_ptr<fb::TensorT> tensor) { manifest_.tensors.push_back(std::move(tensor)); }
  void AddAsset(const std::string& name, uint32_t section);
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
