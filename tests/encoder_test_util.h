// Helpers shared by the encoder's tests: owned tensors viewed as a SafetensorsFile, Gaussian tensors, and a
// section's raw bytes read independently of the decoder (zstd through libzstd directly; rANS through the
// container's reader, which format/rans_codec_test.cc checks on its own).
#pragma once

#include <gtest/gtest.h>
#include <zstd.h>

#include <map>
#include <string>
#include <vector>

#include "decoder/dec_container.h"
#include "format/safetensors.h"
#include "tests/test_util.h"

namespace sdc::test {

struct Owned {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;
};

inline SafetensorsFile View(const std::vector<Owned>& ts, std::map<std::string, std::string> metadata = {}) {
  SafetensorsFile f;
  for (const Owned& t : ts) f.tensors.push_back({t.name, t.dtype, t.shape, t.data});
  f.metadata = std::move(metadata);
  return f;
}

inline Owned GaussianTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, uint64_t seed,
                            double sigma = 1.0) {
  return {name, dtype, shape, FloatsAs(dtype, Gaussian(Numel(shape), seed, sigma))};
}

// The raw bytes of section i, its stored hash checked on the way.
inline std::vector<uint8_t> SectionRaw(const Container& c, uint32_t i) {
  const fb::Section& s = c.section(i);
  const std::span<const uint8_t> stored = c.StoredBytes(i);
  EXPECT_EQ(Hash(stored), s.xxh64()) << "section " << i;
  if (s.codec() == fb::Codec::Raw) return std::vector<uint8_t>(stored.begin(), stored.end());
  std::vector<uint8_t> raw(s.raw_size());
  if (s.codec() != fb::Codec::Zstd) {
    Status st = c.ReadSection(i, &raw);
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(raw.size(), s.raw_size()) << "section " << i;
    return raw;
  }
  const size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
  EXPECT_FALSE(ZSTD_isError(n)) << "section " << i;
  EXPECT_EQ(n, s.raw_size()) << "section " << i;
  return raw;
}

}  // namespace sdc::test
