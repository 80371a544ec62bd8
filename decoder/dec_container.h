// A validated, read-only view of an .sdc file: header parsed, manifest hash checked and manifest verified
// (FlatBuffers Verifier, then every semantic rule of spec/format.md, "Validation"), all before anything
// sized by the file is allocated. Section payload checksums are checked when a section is read.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/header.h"
#include "format/limits.h"
#include "format/rans_model.h"
#include "format/status.h"
#include "sdc_generated.h"

namespace sdc {

class Container {
 public:
  // `file` must outlive the container.
  Container() = default;
  Container(Container&&) = default;
  Container& operator=(Container&&) = default;
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  static Status Open(std::span<const uint8_t> file, const DecodeLimits& limits, Container* out);

  const fb::Manifest& manifest() const { return *manifest_; }
  const FileHeader& header() const { return header_; }
  const DecodeLimits& limits() const { return limits_; }
  uint64_t file_size() const { return file_.size(); }
  // First byte after the manifest; section offsets count from here.
  uint64_t data_start() const { return kHeaderSize + header_.manifest_stored_size; }
  uint64_t padding_bytes() const { return padding_bytes_; }
  uint32_t section_count() const { return manifest_->sections() ? manifest_->sections()->size() : 0; }
  const fb::Section& section(uint32_t i) const { return *manifest_->sections()->Get(i); }

  // The stored bytes of section i, checksum not yet verified.
  std::span<const uint8_t> StoredBytes(uint32_t i) const;
  Status VerifySectionChecksum(uint32_t i) const;
  // Checks the section's XXH64, then decodes it into exactly raw_size bytes.
  Status ReadSection(uint32_t i, std::vector<uint8_t>* raw) const;

 private:
  static Status OpenUnguarded(std::span<const uint8_t> file, const DecodeLimits& limits, Container* out);
  Status CheckSections();
  Status CheckReferences();

  std::span<const uint8_t> file_;
  std::vector<uint8_t> manifest_buf_;  // the manifest (decoded when stored compressed)
  const fb::Manifest* manifest_ = nullptr;
  FileHeader header_;
  DecodeLimits limits_;
  uint64_t padding_bytes_ = 0;
};

// The tensor's shape (an absent vector is a 0-d tensor).
std::vector<uint64_t> ShapeOf(const fb::Tensor& t);

// Name of a section kind / codec / representation as used in messages and reports.
const char* SectionKindName(fb::SectionKind kind);
const char* CodecName(fb::Codec codec);
const char* RepresentationName(fb::Representation rep);

// The rANS codecs (spec §5.1) as symbol width (1 or 2 bytes) and state count (1 or rans::kLanes): one table
// for the decoder, which reads the pair from a codec, and the encoders, which write the codec for a pair.
struct RansCodec {
  fb::Codec codec;
  int symbol_bytes, lanes;
};
inline constexpr RansCodec kRansCodecs[] = {{fb::Codec::Rans8, 1, 1},
                                            {fb::Codec::Rans16, 2, 1},
                                            {fb::Codec::Rans8x4, 1, rans::kLanes},
                                            {fb::Codec::Rans16x4, 2, rans::kLanes}};
// The entry of `codec`, or nullptr when it is not a rANS codec.
inline const RansCodec* FindRansCodec(fb::Codec codec) {
  for (const RansCodec& r : kRansCodecs)
    if (r.codec == codec) return &r;
  return nullptr;
}
// The codec of a stream with this width and state count (both valid).
inline fb::Codec RansCodecFor(int symbol_bytes, int lanes) {
  for (const RansCodec& r : kRansCodecs)
    if (r.symbol_bytes == symbol_bytes && r.lanes == lanes) return r.codec;
  return fb::Codec::Raw;  // unreachable for valid arguments
}

}  // namespace sdc
