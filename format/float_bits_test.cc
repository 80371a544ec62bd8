// format/float_bits.h: the bit-exact half/bfloat16 conversions of spec §7, checked exhaustively where the
// domain is small and against independent oracles (GCC's _Float16, a distance-comparison bf16 rounding)
// elsewhere.
#include "format/float_bits.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tests/test_util.h"

namespace sdc {
namespace {

using test::Bits;
using test::FromBits;

bool IsHalfNaN(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }
bool IsBf16NaN(uint16_t b) { return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0; }

// The spec's NaN rules, used where an oracle's NaN payload handling is not specified.
uint16_t SpecHalfNaN(float f) {
  const uint32_t x = Bits(f);
  return static_cast<uint16_t>(((x >> 16) & 0x8000u) | 0x7e00u | (((x & 0x7fffffffu) >> 13) & 0x3ffu));
}
uint16_t SpecBf16NaN(float f) { return static_cast<uint16_t>((Bits(f) >> 16) | 0x40u); }

// Floats where half rounding is delicate: every half value, the midpoints between neighbours (ties), one
// float ulp either side of each, and the overflow and underflow thresholds.
std::vector<float> HalfEdgeFloats() {
  std::vector<float> v;
  for (uint32_t h = 0; h < 0x7c00u; ++h) {
    const double a = test::RefHalfToFloat(static_cast<uint16_t>(h));
    const double b = h + 1 == 0x7c00u ? 65536.0 : test::RefHalfToFloat(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((a + b) / 2);  // exact: midpoints of halves fit in binary32
    for (float f : {static_cast<float>(a), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      v.push_back(f);
      v.push_back(-f);
    }
  }
  for (float f : {65504.0f, 65519.0f, 65519.996f, 65520.0f, 65536.0f, 1e30f, std::numeric_limits<float>::max(),
                  std::ldexp(1.0f, -24), std::ldexp(1.0f, -25), std::nextafter(std::ldexp(1.0f, -25), 1.0f),
                  std::ldexp(1.5f, -25), std::ldexp(1.0f, -26), std::ldexp(1.0f, -14),
                  std::nextafter(std::ldexp(1.0f, -14), 0.0f), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(), 0.0f, INFINITY}) {
    v.push_back(f);
    v.push_back(-f);
  }
  return v;
}

// HalfToFloat is exact for all 65536 patterns: it agrees with _Float16 on every non-NaN, keeps NaN payloads
// as the spec says (no quieting), and FloatToHalf takes every non-NaN value back to its own pattern.
TEST(FloatBits, HalfExhaustiveRoundTrip) {
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    const uint16_t hh = static_cast<uint16_t>(h);
    const float f = HalfToFloat(hh);
    if (IsHalfNaN(hh)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      ASSERT_EQ(Bits(f), ((h & 0x8000u) << 16) | 0x7f800000u | ((h & 0x3ffu) << 13)) << std::hex << h;
      ASSERT_TRUE(IsHalfNaN(FloatToHalf(f))) << std::hex << h;
      ASSERT_EQ(FloatToHalf(f), hh | 0x0200u) << "NaN comes back quiet, payload kept " << std::hex << h;
      continue;
    }
    ASSERT_EQ(Bits(f), Bits(test::RefHalfToFloat(hh))) << std::hex << h;
    ASSERT_EQ(FloatToHalf(f), hh) << std::hex << h;
  }
}

// FloatToHalf rounds to nearest even exactly as GCC's _Float16 conversion on the delicate values.
TEST(FloatBits, FloatToHalfMatchesFloat16OnEdges) {
  for (float f : HalfEdgeFloats())
    ASSERT_EQ(FloatToHalf(f), test::RefFloatToHalf(f)) << f << " " << std::hex << Bits(f);
}

// Spot values of the rounding rules, so a failure names the rule.
TEST(FloatBits, FloatToHalfNamedCases) {
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bffu);               // largest finite
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bffu);               // below the overflow midpoint
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00u);               // the midpoint rounds (to even) to inf
  EXPECT_EQ(FloatToHalf(-1e10f), 0xfc00u);                 // overflow keeps the sign
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001u);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000u);  // tie between 0 and it: even is 0
  EXPECT_EQ(FloatToHalf(std::ldexp(1.5f, -24)), 0x0002u);  // tie between 1 and 2 ulps: even is 2
  EXPECT_EQ(FloatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001u);
  EXPECT_EQ(FloatToHalf(std::nextafter(std::ldexp(1.0f, -14), 0.0f)), 0x0400u);  // rounds up to the smallest normal
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00u);                 // tie, even mantissa stays
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02u);             // tie, odd mantissa rounds up
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000u);
  EXPECT_EQ(FloatToHalf(INFINITY), 0x7c00u);
  EXPECT_EQ(FloatToHalf(-INFINITY), 0xfc00u);
}

// FloatToHalf agrees with _Float16 on a million random bit patterns and a million values in half's range;
// NaNs become quiet NaNs with the sign and top payload bits kept.
TEST(FloatBits, FloatToHalfMatchesFloat16Random) {
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 2'000'000; ++i) {
    float f;
    if (i % 2 == 0) {
      f = FromBits(static_cast<uint32_t>(rng()));
    } else {  // exponents that land near half's normal and subnormal range
      const int e = static_cast<int>(rng() % 48) - 30;
      f = std::ldexp(static_cast<float>(rng() % (1u << 24)) / (1u << 24) + 1.0f, e) * ((rng() & 1) ? -1.0f : 1.0f);
    }
    if (std::isnan(f)) {
      ASSERT_EQ(FloatToHalf(f), SpecHalfNaN(f)) << std::hex << Bits(f);
      continue;
    }
    ASSERT_EQ(FloatToHalf(f), test::RefFloatToHalf(f)) << f << " " << std::hex << Bits(f);
  }
}

// Bf16ToFloat is a 16-bit shift, and FloatToBf16 takes every bf16 value back to its pattern (all 65536).
TEST(FloatBits, Bf16ExhaustiveRoundTrip) {
  for (uint32_t b = 0; b <= 0xffffu; ++b) {
    const uint16_t bb = static_cast<uint16_t>(b);
    const float f = Bf16ToFloat(bb);
    ASSERT_EQ(Bits(f), b << 16);
    if (IsBf16NaN(bb)) {
      ASSERT_EQ(FloatToBf16(f), bb | 0x40u) << std::hex << b;
      continue;
    }
    ASSERT_EQ(FloatToBf16(f), bb) << std::hex << b;
  }
}

// FloatToBf16 is round to nearest even: checked against the distance-comparison oracle on every tie and
// its neighbours (one per bf16 value), the overflow boundary, and two million random floats.
TEST(FloatBits, FloatToBf16MatchesOracle) {
  std::vector<float> values;
  for (uint32_t b = 0; b < 0x7f80u; ++b) {
    const uint32_t mid = (b << 16) | 0x8000u;  // exactly halfway to the next bf16
    for (uint32_t x : {b << 16, mid, mid - 1, mid + 1, (b << 16) | 0xffffu}) {
      values.push_back(FromBits(x));
      values.push_back(FromBits(x | 0x80000000u));
    }
  }
  std::mt19937_64 rng(99);
  for (int i = 0; i < 2'000'000; ++i) values.push_back(FromBits(static_cast<uint32_t>(rng())));
  for (float f : values) {
    if (std::isnan(f)) {
      ASSERT_EQ(FloatToBf16(f), SpecBf16NaN(f)) << std::hex << Bits(f);
      ASSERT_TRUE(IsBf16NaN(FloatToBf16(f)));
      continue;
    }
    ASSERT_EQ(FloatToBf16(f), test::RefFloatToBf16(f)) << f << " " << std::hex << Bits(f);
  }
  // The largest float rounds up to inf (its lower half is above the midpoint); the sign survives.
  EXPECT_EQ(FloatToBf16(std::numeric_limits<float>::max()), 0x7f80u);
  EXPECT_EQ(FloatToBf16(-std::numeric_limits<float>::max()), 0xff80u);
  EXPECT_EQ(FloatToBf16(FromBits(0x7f7f7fffu)), 0x7f7fu);  // just below the midpoint stays finite
  EXPECT_EQ(FloatToBf16(FromBits(0x7f7f8000u)), 0x7f80u);  // the midpoint: odd mantissa rounds up, to inf
  // A signalling NaN whose payload lies only in the low 16 bits still comes out a NaN (quiet bit set).
  EXPECT_EQ(FloatToBf16(FromBits(0x7f800001u)), 0x7fc0u);
  EXPECT_EQ(FloatToBf16(FromBits(0xff800001u)), 0xffc0u);
}

}  // namespace
}  // namespace sdc
