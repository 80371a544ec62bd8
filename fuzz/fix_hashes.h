// Hash fixing for fuzzing past the checksums. An attacker controls the whole file and recomputes every
// XXH64 after tampering; random mutations almost never do, so without this the fuzzers stop at the first
// hash check. The custom mutators (fuzz/mutators.cc) call FixHashes after each mutation, so the inputs
// libFuzzer keeps are consistent files: replayed by ctest in normal builds, they take the same paths.
#pragma once

#include <cstdint>
#include <vector>

#include "sdc_generated.h"

namespace sdc::fuzz {

// Makes every hash of `file` match its bytes, as far as the file's structure allows: each section's XXH64
// (when the manifest passes the FlatBuffers verifier), then each tensor's XXH64 from what its sections
// reconstruct (when the file opens), then the header hash. A zstd manifest is recompressed. Never fails;
// a file too broken to parse keeps its bytes (with the header hash fixed when the header parses).
void FixHashes(std::vector<uint8_t>* file);

// The manifest of a file whose header parses and whose manifest passes the FlatBuffers verifier (with its
// shapes 8-aligned, as the object API needs), unpacked (the structure-aware mutator edits it), and the data
// area after it. False otherwise.
bool Unpack(const std::vector<uint8_t>& file, fb::ManifestT* manifest, std::vector<uint8_t>* data, bool* zstd);
// Packs the manifest (zstd-compressed when `zstd`), writes the header and appends the data area; the
// hashes are left to FixHashes.
std::vector<uint8_t> Pack(const fb::ManifestT& manifest, const std::vector<uint8_t>& data, bool zstd);

}  // namespace sdc::fuzz
