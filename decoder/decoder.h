// The decoder façade: open an .sdc file from memory or disk, reconstruct tensors bit-exactly, read assets,
// or verify everything. Every failure is a Status naming the section, tensor or asset; nothing throws (an
// allocation failure is kLimitExceeded, format/status.h's Guarded).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoder/dec_container.h"
#include "format/limits.h"
#include "format/status.h"
#include "format/types.h"

namespace sdc {

struct DecodedTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  Role role = Role::kOther;
  std::vector<uint8_t> data;  // little-endian elements of dtype
};

struct DecodedAsset {
  std::string name;
  std::vector<uint8_t> data;
};

class Decoder {
 public:
  // Takes the file's bytes; validates header, manifest and layout before returning.
  static Status Open(std::vector<uint8_t> file, const DecodeLimits& limits, std::unique_ptr<Decoder>* out);
  static Status OpenFile(const std::string& path, const DecodeLimits& limits, std::unique_ptr<Decoder>* out);

  const Container& container() const { return container_; }
  uint32_t tensor_count() const;
  uint32_t asset_count() const;

  // Reads the tensor's sections (checksums checked), reconstructs it and checks its XXH64.
  Status DecodeTensor(uint32_t index, DecodedTensor* out) const;
  // Tensors [first, first + count), decoded side by side (OpenMP; at most DecodeThreads() in memory at
  // once besides `out`); a failure is the first failing tensor's in manifest order, for any thread count.
  Status DecodeTensors(uint32_t first, uint32_t count, std::vector<DecodedTensor>* out) const;
  Status DecodeAsset(uint32_t index, DecodedAsset* out) const;
  // All tensors and assets, in manifest order.
  Status DecodeAll(std::vector<DecodedTensor>* tensors, std::vector<DecodedAsset>* assets) const;
  // Every bank's section (hash) and entries (finite), used by a tensor or not. DecodeTensor checks the banks
  // a tensor uses; `sdcodec decode` calls this too, so that it has checked every section when it succeeds.
  Status VerifyBanks() const;
  // Every check decoding makes, keeping nothing: each tensor is dropped once its hash is confirmed.
  Status Verify() const;

 private:
  Decoder() = default;
  std::vector<uint8_t> file_;
  Container container_;
};

// How many tensors DecodeTensors decodes at once: the OpenMP threads (1 without OpenMP).
int DecodeThreads();

// Reconstructs tensor `index` of a validated container into its output bytes and checks the tensor hash.
Status ReconstructTensor(const Container& c, uint32_t index, std::vector<uint8_t>* out);
// The same without the tensor-hash check (spec §9 step 24): what the tensor's sections say. The fuzzers'
// hash-fixing mutator uses it to give a mutated file the tensor hashes that make it valid.
Status ReconstructUnchecked(const Container& c, uint32_t index, std::vector<uint8_t>* out);

}  // namespace sdc
