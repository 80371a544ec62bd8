// libFuzzer's own byte-level mutations, followed by FixHashes: the file's hashes always match its bytes, so
// a mutation is judged by the checks behind the hashes. Linked into the libFuzzer builds of fuzz_container
// and fuzz_decode only (the replayers have no libFuzzer).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz/fix_hashes.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// SDC_FUZZ_PLAIN=1 leaves the hashes as mutated: the same binary then measures what hash fixing adds (coverage
// with and without it, in the campaign notes).
static const bool kPlain = [] {
  const char* v = std::getenv("SDC_FUZZ_PLAIN");
  return v != nullptr && v[0] == '1';
}();

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (kPlain) return size;
  std::vector<uint8_t> file(data, data + size);
  sdc::fuzz::FixHashes(&file);
  if (file.size() > max_size) return size;  // a recompressed manifest grew: keep the plain mutation
  std::memcpy(data, file.data(), file.size());
  return file.size();
}
