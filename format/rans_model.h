// What both halves of the rANS section codec share (stream format: format/rans_codec.h): the state range,
// the precision bound and the adaptive Rice model of the frequency table. The decoder reads what the
// encoder (encoder/enc_rans.cc) writes with these same definitions, so the two cannot drift apart.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>

namespace sdc::rans {

constexpr uint64_t kLow = uint64_t{1} << 31;  // the state lives in [kLow, kLow << 32)
constexpr int kMaxPrecision = 24;
constexpr int kEscape = 12;  // Rice quotients from here on are sent verbatim
constexpr int kLanes = 4;    // the states of the interleaved codecs (Rans8x4, Rans16x4)

inline int CeilLog2(uint64_t v) { return v <= 1 ? 0 : 64 - std::countl_zero(v - 1); }

// The largest precision a stream of n symbols may use: more than ~2n slots buys no accuracy (the counts
// are already exact) and would let a hostile stream make the decoder build tables far larger than its data.
inline int MaxPrecision(uint64_t n) { return std::min(kMaxPrecision, CeilLog2(n) + 1); }

// The table is coded with an adaptive Golomb-Rice code (the LOCO-I idea): the parameter k follows the mean
// of recent values, so runs of small values (gaps in a dense symbol set, frequencies of 1) cost about a bit
// each, and large ones about log2(v) + 2 bits.
struct RiceModel {
  uint64_t sum;        // of recent values, starting from the expected mean
  int width;           // bits of an escaped value
  uint64_t count = 1;  // of recent values
  int K() const { return std::min(24, CeilLog2((sum + count - 1) / count)); }  // least k: count << k >= sum
  void Update(uint64_t v) {
    sum += v;
    if (++count == 16) sum >>= 1, count = 8;  // halve the history: the mean follows the local magnitude
  }
};

}  // namespace sdc::rans
