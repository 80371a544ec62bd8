// The fixed 40-byte file header that precedes the manifest (spec/format.md, "File header").
#pragma once

#include <cstdint>
#include <span>

#include "format/status.h"

namespace sdc {

constexpr uint8_t kMagic[8] = {0x89, 'S', 'D', 'C', '\r', '\n', 0x1a, '\n'};
constexpr uint16_t kFormatMajor = 1;  // incompatible changes bump this; decoders reject other majors
constexpr uint16_t kFormatMinor = 1;  // additive changes; any minor of a known major is read (1: interleaved rANS)
constexpr size_t kHeaderSize = 40;

enum class ManifestCodec : uint8_t { kRaw = 0, kZstd = 1 };

struct FileHeader {
  uint16_t major = kFormatMajor;
  uint16_t minor = kFormatMinor;
  ManifestCodec manifest_codec = ManifestCodec::kRaw;
  uint64_t manifest_stored_size = 0;  // bytes of the manifest in the file, right after the header
  uint64_t manifest_raw_size = 0;     // bytes of the FlatBuffers manifest after decoding
  uint64_t xxh64 = 0;                 // XXH64 of header bytes 0..31 followed by the stored manifest
};

// Bytes of the header covered by FileHeader::xxh64 (everything before the hash itself).
constexpr size_t kHeaderHashedPrefix = 32;

// Writes the header; `xxh64` must already be HeaderHash() of the other fields and the manifest.
void EncodeHeader(const FileHeader& header, uint8_t out[kHeaderSize]);

// XXH64 over header bytes 0..31 and the stored manifest: one hash covers every header field (the minor
// version too) and the manifest, so no byte before the first section can change unnoticed.
uint64_t HeaderHash(std::span<const uint8_t> header_prefix, std::span<const uint8_t> stored_manifest);

// Parses and checks the header against the whole file: magic, version, codec, reserved bytes, and that
// the stored manifest fits inside the file.
Status ParseHeader(std::span<const uint8_t> file, FileHeader* out);

}  // namespace sdc
