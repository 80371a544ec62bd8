#include "format/header.h"

#include <cstring>
#include <string>

#include <xxhash.h>

#include "format/endian.h"

namespace sdc {

// Layout: magic[8] | major u16 | minor u16 | manifest_codec u8 | reserved[3] = 0 |
//         manifest_stored_size u64 | manifest_raw_size u64 | xxh64 u64 (of bytes 0..31 + stored manifest)
void EncodeHeader(const FileHeader& h, uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out, kMagic, 8);
  StoreLE16(out + 8, h.major);
  StoreLE16(out + 10, h.minor);
  out[12] = static_cast<uint8_t>(h.manifest_codec);
  StoreLE64(out + 16, h.manifest_stored_size);
  StoreLE64(out + 24, h.manifest_raw_size);
  StoreLE64(out + 32, h.xxh64);
}

uint64_t HeaderHash(std::span<const uint8_t> header_prefix, std::span<const uint8_t> stored_manifest) {
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, 0);
  XXH64_update(state, header_prefix.data(), header_prefix.size());
  XXH64_update(state, stored_manifest.data(), stored_manifest.size());
  const uint64_t h = XXH64_digest(state);
  XXH64_freeState(state);
  return h;
}

Status ParseHeader(std::span<const uint8_t> file, FileHeader* out) {
  SDC_CHECK(file.size() >= kHeaderSize, StatusCode::kCorrupt,
            "header: truncated file (" + std::to_string(file.size()) + " bytes, the header alone is 40)");
  const uint8_t* p = file.data();
  SDC_CHECK(std::memcmp(p, kMagic, 8) == 0, StatusCode::kCorrupt, "header: bad magic (not an .sdc file)");
  FileHeader h;
  h.major = LoadLE16(p + 8);
  h.minor = LoadLE16(p + 10);
  SDC_CHECK(h.major == kFormatMajor, StatusCode::kUnsupported,
            "header: format major version " + std::to_string(h.major) + " (this decoder reads version " +
                std::to_string(kFormatMajor) + ")");
  SDC_CHECK(p[12] <= static_cast<uint8_t>(ManifestCodec::kZstd), StatusCode::kUnsupported,
            "header: unknown manifest codec " + std::to_string(p[12]));
  h.manifest_codec = static_cast<ManifestCodec>(p[12]);
  SDC_CHECK(p[13] == 0 && p[14] == 0 && p[15] == 0, StatusCode::kCorrupt, "header: reserved bytes are not zero");
  h.manifest_stored_size = LoadLE64(p + 16);
  h.manifest_raw_size = LoadLE64(p + 24);
  h.xxh64 = LoadLE64(p + 32);
  SDC_CHECK(h.manifest_stored_size <= file.size() - kHeaderSize, StatusCode::kCorrupt,
            "header: manifest (" + std::to_string(h.manifest_stored_size) + " bytes) extends past the end of the file");
  SDC_CHECK(h.manifest_codec != ManifestCodec::kRaw || h.manifest_raw_size == h.manifest_stored_size,
            StatusCode::kCorrupt, "header: raw manifest with differing stored and raw sizes");
  *out = h;
  return Status::Ok();
}

}  // namespace sdc
