#include "format/rans_codec.h"

#include <algorithm>
#include <string>

#include "format/endian.h"
#include "format/limits.h"
#include "format/rans_model.h"

namespace sdc {
namespace {

using rans::kEscape;
using rans::kLanes;
using rans::kLow;
using rans::MaxPrecision;
using rans::RiceModel;

struct BitReader {
  std::span<const uint8_t> data;
  size_t pos;  // of the next byte to load
  uint64_t acc = 0;
  int n = 0;                           // bits in acc
  Status Get(int bits, uint64_t* v) {  // bits <= 24
    for (; n < bits; n += 8) {
      SDC_CHECK(pos < data.size(), StatusCode::kCorrupt, "rans: stream ends inside the table");
      acc |= uint64_t{data[pos++]} << n;
    }
    *v = acc & ((uint64_t{1} << bits) - 1);
    acc >>= bits;
    n -= bits;
    return Status::Ok();
  }
};

Status GetRice(BitReader& br, RiceModel& m, uint64_t max, const char* what, uint64_t* v) {
  const int k = m.K();
  uint64_t q = 0, bit;
  for (; q < kEscape; ++q) {
    SDC_RETURN_IF_ERROR(br.Get(1, &bit));
    if (!bit) break;
  }
  if (q == kEscape) {
    SDC_RETURN_IF_ERROR(br.Get(m.width, v));
    SDC_CHECK(*v >> k >= kEscape, StatusCode::kCorrupt, std::string("rans: needless escape in ") + what);
  } else {
    SDC_RETURN_IF_ERROR(br.Get(k, v));
    *v |= q << k;
  }
  SDC_CHECK(*v <= max, StatusCode::kCorrupt,
            std::string("rans: ") + what + " " + std::to_string(*v) + " exceeds " + std::to_string(max));
  m.Update(*v);
  return Status::Ok();
}

// The decoding tables: per present symbol its value and cumulative frequency, and one packed entry
// (cum | freq << 24 | symbol << 48, one load per decoded symbol; with two or more symbols every f and c is
// below 2^24), plus a bucket index over the top bits of the slot naming the first symbol a bucket can hold.
struct DecodeTable {
  int precision = 0;
  int shift = 0;  // slot >> shift = bucket
  std::vector<uint16_t> symbols, bucket;
  std::vector<uint32_t> cum;  // S + 1 entries, the last = 2^precision
  std::vector<uint64_t> entry;
};

// Reads and validates PutTable's bit string.
Status GetTable(BitReader& br, int symbol_bytes, uint64_t n, DecodeTable* t) {
  const uint64_t alphabet = uint64_t{1} << (8 * symbol_bytes), total = uint64_t{1} << t->precision;
  uint64_t s;
  SDC_RETURN_IF_ERROR(br.Get(8 * symbol_bytes, &s));
  ++s;
  SDC_CHECK(s <= n && s <= total, StatusCode::kCorrupt,
            "rans: " + std::to_string(s) + " symbols present, for " + std::to_string(n) + " symbols at precision " +
                std::to_string(t->precision));
  RiceModel gaps{(alphabet - s) / s, 8 * symbol_bytes};
  for (uint64_t i = 0, next = 0, gap; i < s; ++i, ++next) {  // next: the smallest value symbol i may take
    SDC_RETURN_IF_ERROR(GetRice(br, gaps, alphabet - 1, "symbol gap", &gap));
    SDC_CHECK(gap < alphabet - next, StatusCode::kCorrupt, "rans: symbol gaps run past the alphabet");
    t->symbols.push_back(static_cast<uint16_t>(next += gap));
  }
  RiceModel freq{(total - s) / s, t->precision};
  t->cum.assign(s + 1, 0);
  for (size_t i = 0; i + 1 < s; ++i) {
    uint64_t f;
    SDC_RETURN_IF_ERROR(GetRice(br, freq, total - 1, "frequency", &f));
    t->cum[i + 1] = static_cast<uint32_t>(t->cum[i] + f + 1);
    SDC_CHECK(t->cum[i + 1] < total, StatusCode::kCorrupt,
              "rans: frequencies exceed the total " + std::to_string(total));
  }
  t->cum[s] = static_cast<uint32_t>(total);
  SDC_CHECK(br.acc == 0, StatusCode::kCorrupt, "rans: table padding bits are not zero");
  for (size_t i = 0; i < s && s > 1; ++i)
    t->entry.push_back(t->cum[i] | uint64_t{t->cum[i + 1] - t->cum[i]} << 24 | uint64_t{t->symbols[i]} << 48);
  return Status::Ok();
}

// The symbol whose slot range holds `slot`, as its packed entry (raw pointers, not the table: the output
// is bytes, which may alias anything, so values read through `t` would be reloaded after every store).
inline uint64_t Lookup(const uint64_t* entry, const uint16_t* bucket, int shift, uint32_t slot) {
  constexpr uint32_t k24 = (1u << 24) - 1;
  const uint32_t b = slot >> shift;
  uint64_t e = entry[bucket[b]];
  if ((e & k24) + (e >> 24 & k24) <= slot)  // the bucket holds several symbols: search those it can hold
    e = *(std::upper_bound(entry + bucket[b] + 1, entry + bucket[b + 1] + 1, slot,
                           [](uint32_t v, uint64_t f) { return v < (f & k24); }) -
          1);
  return e;
}

// Decodes n symbols into `out`, or with kStore false only runs the state machine (the first pass over a
// stream whose declared size its bytes do not yet vouch for: every check, no output kept). Symbol k is on
// lane k mod kStates (1 or kLanes); a round decodes one symbol per lane, so the lanes' chains (two loads and
// a multiply each) overlap in the processor, while the words are still taken in symbol order.
template <int kBytes, bool kStore, int kStates>
Status DecodeSymbols(const DecodeTable& t, const uint64_t (&x)[kStates], const uint8_t* in, const uint8_t* end,
                     uint8_t* out, uint64_t n) {
  constexpr uint32_t k24 = (1u << 24) - 1;
  const uint32_t mask = (uint32_t{1} << t.precision) - 1;
  const int precision = t.precision, shift = t.shift;
  const uint64_t* entry = t.entry.data();
  const uint16_t* bucket = t.bucket.data();
  uint64_t lane[kStates];  // local, so the unrolled rounds keep the states in registers
  std::copy(x, x + kStates, lane);
  auto step = [&](uint64_t k, uint64_t& state) {  // false: no word left where one is needed
    const uint32_t slot = static_cast<uint32_t>(state) & mask;
    const uint64_t e = Lookup(entry, bucket, shift, slot);
    if constexpr (kStore && kBytes == 1)
      out[k] = static_cast<uint8_t>(e >> 48);
    else if constexpr (kStore)
      StoreLE16(out + 2 * k, static_cast<uint16_t>(e >> 48));
    state = (e >> 24 & k24) * (state >> precision) + slot - (e & k24);
    if (state < kLow) {
      if (in == end) return false;
      state = (state << 32) | LoadLE32(in);
      in += 4;
    }
    return true;
  };
  auto exhausted = [&](uint64_t k) {
    return Status(StatusCode::kCorrupt,
                  "rans: words exhausted after " + std::to_string(k + 1) + " of " + std::to_string(n) + " symbols");
  };
  uint64_t k = 0;
  for (; k + kStates <= n; k += kStates)
#pragma GCC unroll 8
    for (int j = 0; j < kStates; ++j)
      if (!step(k + j, lane[j])) return exhausted(k + j);
  for (int j = 0; k < n; ++k, ++j)
    if (!step(k, lane[j])) return exhausted(k);
  for (uint64_t state : lane)
    SDC_CHECK(state == kLow, StatusCode::kCorrupt, "rans: final state does not match the initial state");
  SDC_CHECK(std::all_of(in, end, [](uint8_t b) { return b == 0; }), StatusCode::kCorrupt,
            "rans: padding after the last word is not zero");
  return Status::Ok();
}

// `states` holds the lanes' initial states, checked.
template <bool kStore>
Status Decode(const DecodeTable& t, int symbol_bytes, std::span<const uint64_t> states, std::span<const uint8_t> words,
              uint64_t n, uint8_t* out) {
  const uint8_t *in = words.data(), *end = words.data() + words.size();
  if (states.size() == 1) {
    uint64_t x[1] = {states[0]};
    return symbol_bytes == 1 ? DecodeSymbols<1, kStore>(t, x, in, end, out, n)
                             : DecodeSymbols<2, kStore>(t, x, in, end, out, n);
  }
  uint64_t x[kLanes];
  std::copy(states.begin(), states.end(), x);
  return symbol_bytes == 1 ? DecodeSymbols<1, kStore>(t, x, in, end, out, n)
                           : DecodeSymbols<2, kStore>(t, x, in, end, out, n);
}

}  // namespace

Status RansDecodeExact(std::span<const uint8_t> stored, int symbol_bytes, int lanes, uint64_t raw_size,
                       std::vector<uint8_t>* out) {
  SDC_CHECK(symbol_bytes == 1 || symbol_bytes == 2, StatusCode::kInvalidArgument,
            "rans: symbol width " + std::to_string(symbol_bytes) + " is not 1 or 2");
  SDC_CHECK(lanes == 1 || lanes == kLanes, StatusCode::kInvalidArgument,
            "rans: " + std::to_string(lanes) + " states (1 or " + std::to_string(kLanes) + " are defined)");
  SDC_CHECK(raw_size % symbol_bytes == 0, StatusCode::kCorrupt,
            "rans: raw size " + std::to_string(raw_size) + " is not a multiple of the symbol width");
  const uint64_t n = raw_size / symbol_bytes;
  out->clear();
  if (n == 0) {
    SDC_CHECK(stored.empty(), StatusCode::kCorrupt, "rans: an empty stream must have no bytes");
    return Status::Ok();
  }
  SDC_CHECK(!stored.empty(), StatusCode::kCorrupt, "rans: empty stream for " + std::to_string(n) + " symbols");
  DecodeTable t;
  t.precision = stored[0];
  SDC_CHECK(t.precision <= MaxPrecision(n), StatusCode::kCorrupt,
            "rans: precision " + std::to_string(t.precision) + " exceeds " + std::to_string(MaxPrecision(n)) + " for " +
                std::to_string(n) + " symbols");
  BitReader br{stored, 1};
  SDC_RETURN_IF_ERROR(GetTable(br, symbol_bytes, n, &t));
  const size_t s = t.symbols.size(), left = stored.size() - br.pos;
  if (s == 1) {
    // A valid stream: one symbol, repeated n times, is what these bytes say (a one-symbol rANS has no state).
    SDC_CHECK(left == 0, StatusCode::kCorrupt, "rans: bytes after a one-symbol table");
    out->resize(raw_size);
    for (uint64_t k = 0; k < n; ++k)
      for (int j = 0; j < symbol_bytes; ++j)
        (*out)[k * symbol_bytes + j] = static_cast<uint8_t>(t.symbols[0] >> (8 * j));
    return Status::Ok();
  }
  const size_t state_bytes = 8 * static_cast<size_t>(lanes);
  SDC_CHECK(left >= state_bytes && (left - state_bytes) % 4 == 0, StatusCode::kCorrupt,
            "rans: " + std::to_string(left) + " bytes after the table are not " + std::to_string(lanes) +
                " states and whole words");
  const uint8_t* in = stored.data() + br.pos;
  uint64_t states[kLanes];
  for (int j = 0; j < lanes; ++j) {
    states[j] = LoadLE64(in + 8 * j);
    SDC_CHECK(states[j] >= kLow && states[j] >> 63 == 0, StatusCode::kCorrupt, "rans: initial state out of range");
  }
  // Buckets of 2^shift slots: 2^12 of them for bytes (fits L1), 2^16 for 16-bit symbols (fits L2).
  const int bucket_bits = std::min(t.precision, symbol_bytes == 1 ? 12 : 16);
  t.shift = t.precision - bucket_bits;
  t.bucket.resize((size_t{1} << bucket_bits) + 1);
  for (uint32_t b = 0, i = 0; b < (uint32_t{1} << bucket_bits); ++b) {
    while (t.cum[i + 1] <= (b << t.shift)) ++i;
    t.bucket[b] = static_cast<uint16_t>(i);
  }
  t.bucket.back() = static_cast<uint16_t>(s - 1);
  const std::span<const uint8_t> words = stored.subspan(br.pos + state_bytes);
  const std::span<const uint64_t> x(states, static_cast<size_t>(lanes));
  // Two symbols can code 2^30 of them in a few words: when the bytes do not vouch for the declared size,
  // decode once without keeping anything, so only a stream that really holds raw_size bytes gets them.
  if (!SizeIsVouched(stored.size(), raw_size))
    SDC_RETURN_IF_ERROR(Decode<false>(t, symbol_bytes, x, words, n, nullptr));
  out->resize(raw_size);
  return Decode<true>(t, symbol_bytes, x, words, n, out->data());
}

}  // namespace sdc
