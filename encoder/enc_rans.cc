#include "encoder/enc_rans.h"

#include <algorithm>
#include <bit>
#include <functional>

#include "format/endian.h"
#include "format/rans_model.h"

namespace sdc {
namespace {

using rans::CeilLog2;
using rans::kEscape;
using rans::kLanes;
using rans::kLow;
using rans::MaxPrecision;
using rans::RiceModel;
__extension__ typedef unsigned __int128 u128;            // GCC and Clang
constexpr uint64_t kInterleaveFrom = uint64_t{1} << 18;  // RansLanesFor

// A lower bound of log2(f) * 2^32 (error < 2^-30): the mantissa in Q1.31 is squared 32 times, each
// squaring doubling the log and yielding one fraction bit. Every truncation rounds down, so the size bound
// built on it stays a bound; integer-only, so it is identical on every machine.
uint64_t Log2LowerQ32(uint32_t f) {
  const int k = 31 - std::countl_zero(f);
  uint64_t y = uint64_t{f} << (31 - k), frac = 0;  // y in [2^31, 2^32) stands for f / 2^k in [1, 2)
  for (int i = 0; i < 32; ++i) {
    y = (y * y) >> 31;
    frac <<= 1;
    if (y >= (uint64_t{1} << 32)) y >>= 1, frac |= 1;
  }
  return (uint64_t(k) << 32) | frac;
}

// Pricing needs this for every symbol at every candidate precision; most frequencies are small, so those
// come from a table built once (thread-safe static initialisation).
uint64_t Log2Lower(uint32_t f) {
  static const std::vector<uint64_t> table = [] {
    std::vector<uint64_t> t(1 << 16);
    for (uint32_t i = 1; i < t.size(); ++i) t[i] = Log2LowerQ32(i);
    return t;
  }();
  return f < table.size() ? table[f] : Log2LowerQ32(f);
}

// Frequencies summing to 2^P, each >= 1, close to minimising sum(count * log2(2^P / f)). Start from
// rounded proportional values, then move the rounding surplus or deficit one unit at a time to the symbol
// where it costs least. A unit's worth, count * log2((f+1)/f), is taken as 2*count/(2f+1) (within 4% at
// f = 1, far closer above), in integer fixed point so that the result is the same on every machine.
std::vector<uint32_t> Quantize(const std::vector<uint64_t>& counts, uint64_t n, int precision) {
  const uint64_t total = uint64_t{1} << precision;
  std::vector<uint32_t> f(counts.size());
  int64_t surplus = -static_cast<int64_t>(total);
  for (size_t i = 0; i < counts.size(); ++i) {
    f[i] = static_cast<uint32_t>(std::max<u128>(1, (u128{counts[i]} * total + n / 2) / n));
    surplus += f[i];
  }
  const int d = surplus < 0 ? 1 : -1;  // +1: add units where they gain most; -1: take where they cost least
  // A max-heap of (worth, ~index), the worth inverted when taking units: its top is the symbol to change,
  // the lowest index on ties (the pairs are distinct, so the heap implementation cannot matter).
  auto entry = [&](size_t i) {
    const u128 worth = (u128{counts[i]} << 32) / (2 * uint64_t{f[i]} + d);
    return std::pair<u128, uint32_t>(d > 0 ? worth : ~worth, ~static_cast<uint32_t>(i));
  };
  std::vector<std::pair<u128, uint32_t>> heap;
  for (size_t i = 0; i < f.size(); ++i)
    if (d > 0 || f[i] > 1) heap.push_back(entry(i));
  // Only the |surplus| best can ever be picked (one outside them never outranks an untouched one inside),
  // and there are few of those at the precisions that matter: select them first, then heap only them.
  const size_t picks = std::min<size_t>(heap.size(), static_cast<size_t>(surplus < 0 ? -surplus : surplus));
  std::nth_element(heap.begin(), heap.begin() + picks, heap.end(), std::greater<>());
  heap.resize(picks);
  std::make_heap(heap.begin(), heap.end());
  for (; surplus != 0 && !heap.empty(); surplus += d) {  // never empty: 2^P >= S
    std::pop_heap(heap.begin(), heap.end());
    const uint32_t i = ~heap.back().second;
    heap.pop_back();
    f[i] += d;
    if (d > 0 || f[i] > 1) heap.push_back(entry(i)), std::push_heap(heap.begin(), heap.end());
  }
  return f;
}

struct BitCounter {
  uint64_t bits = 0;
  void Put(uint64_t, int n) { bits += n; }
};

struct BitWriter {
  std::vector<uint8_t>* out;
  uint64_t acc = 0;
  int n = 0;
  void Put(uint64_t v, int bits) {  // v < 2^bits, bits <= 24
    acc |= v << n;
    for (n += bits; n >= 8; n -= 8, acc >>= 8) out->push_back(static_cast<uint8_t>(acc));
  }
  void Flush() {
    if (n) out->push_back(static_cast<uint8_t>(acc));
  }
};

template <class Sink>
void PutRice(Sink& sink, RiceModel& m, uint64_t v) {
  const int k = m.K();
  if (const uint64_t q = v >> k; q < kEscape) {
    sink.Put((uint64_t{1} << q) - 1, static_cast<int>(q) + 1);  // q ones, a zero
    sink.Put(v & ((uint64_t{1} << k) - 1), k);
  } else {
    sink.Put((uint64_t{1} << kEscape) - 1, kEscape);
    sink.Put(v, m.width);
  }
  m.Update(v);
}

// The table's bit string: S - 1, the S symbol gaps, then f_i - 1 for all but the last frequency. Writing
// and sizing share this function, so RansEncodedSize cannot drift from RansEncode.
template <class Sink>
void PutTable(Sink& sink, const std::vector<uint32_t>& symbols, const std::vector<uint32_t>& freqs, int precision,
              int symbol_bytes) {
  const uint64_t s = symbols.size(), alphabet = uint64_t{1} << (8 * symbol_bytes), total = uint64_t{1} << precision;
  sink.Put(s - 1, 8 * symbol_bytes);
  RiceModel gaps{(alphabet - s) / s, 8 * symbol_bytes};
  for (size_t i = 0; i < s; ++i) PutRice(sink, gaps, i ? symbols[i] - symbols[i - 1] - 1 : symbols[0]);
  RiceModel freq{(total - s) / s, precision};
  for (size_t i = 0; i + 1 < s; ++i) PutRice(sink, freq, freqs[i] - 1);
}

// Everything the encoder decides, and the exact size that follows from it.
struct Plan {
  std::vector<uint32_t> symbols;  // present, ascending
  std::vector<uint64_t> counts;
  std::vector<uint32_t> freqs;
  int precision = 0;
  int lanes = 1;       // interleaved states
  uint64_t words = 0;  // 32-bit words after the states, padding included
  uint64_t size = 0;
};

// The word-count bound W of the format comment: each coding step raises log2(state) by at most
// log2(M/f) + (M-f) / (2^31 ln 2) bits (3 > 2/ln 2 in units of 2^-32 bits), and the final state is >= 2^31.
uint64_t WordBound(const Plan& p, const std::vector<uint32_t>& freqs, int precision) {
  const uint64_t total = uint64_t{1} << precision;
  u128 bits_q32 = 0;
  for (size_t i = 0; i < freqs.size(); ++i)
    bits_q32 += u128{p.counts[i]} *
                ((u128{static_cast<uint64_t>(precision)} << 32) - Log2Lower(freqs[i]) + 3 * (total - freqs[i]));
  return static_cast<uint64_t>(bits_q32 >> 37);
}

Plan MakePlan(std::span<const uint64_t> histogram, int symbol_bytes, int lanes) {
  Plan p;
  const size_t alphabet = std::min(histogram.size(), size_t{1} << (8 * symbol_bytes));
  uint64_t n = 0;
  for (size_t v = 0; v < alphabet; ++v)
    if (histogram[v])
      p.symbols.push_back(static_cast<uint32_t>(v)), p.counts.push_back(histogram[v]), n += histogram[v];
  if (n == 0) return p;
  p.lanes = lanes ? lanes : RansLanesFor(n);
  // The precision trades table bits (larger frequencies) against coding loss (coarser ones). Sizes are
  // exact, so try precisions from the highest down, keeping the smallest stream (the lower precision on
  // ties); the size is unimodal in practice, so stop after two in a row fail to improve, which also skips
  // the low precisions where many symbols are forced to frequency 1 and quantizing is slowest.
  // One symbol needs no precision: no frequencies, no state, no words (a one-symbol rANS never changes state).
  const size_t s = p.symbols.size();
  for (int precision = s == 1 ? 0 : MaxPrecision(n), misses = 0; precision >= CeilLog2(s) && misses < 2; --precision) {
    std::vector<uint32_t> freqs = s == 1 ? std::vector<uint32_t>{1} : Quantize(p.counts, n, precision);
    BitCounter bits;
    PutTable(bits, p.symbols, freqs, precision, symbol_bytes);
    const uint64_t words = s == 1 ? 0 : WordBound(p, freqs, precision);
    const uint64_t size = 1 + (bits.bits + 7) / 8 + (s == 1 ? 0 : 8 * p.lanes + 4 * words);
    if (p.size != 0 && size > p.size)
      ++misses;
    else
      p.size = size, p.words = words, p.precision = precision, p.freqs = std::move(freqs), misses = 0;
  }
  return p;
}

bool ValidArguments(int symbol_bytes, int lanes) {
  return (symbol_bytes == 1 || symbol_bytes == 2) && (lanes == 0 || lanes == 1 || lanes == kLanes);
}

// Codes the symbols in reverse (the decoder reads forward), symbol k on lane k mod lanes, and leaves the
// lanes' final states in `x`.
template <int kBytes>
void EncodeWords(std::span<const uint8_t> raw, const Plan& p, std::vector<uint32_t>* words, uint64_t* x) {
  std::vector<uint32_t> freq(size_t{1} << (8 * kBytes)), cum(freq.size());
  for (size_t i = 0, c = 0; i < p.symbols.size(); c += p.freqs[i++])
    freq[p.symbols[i]] = p.freqs[i], cum[p.symbols[i]] = c;
  const int precision = p.precision;
  std::fill(x, x + p.lanes, kLow);
  for (size_t i = raw.size() / kBytes; i-- > 0;) {
    const uint32_t s = kBytes == 1 ? raw[i] : LoadLE16(&raw[2 * i]);
    const uint64_t f = freq[s];
    uint64_t& state = x[i & (p.lanes - 1)];  // lanes: a power of two
    if (state >= (f << (63 - precision))) {  // the step would leave [2^31, 2^63): shed 32 bits first
      words->push_back(static_cast<uint32_t>(state));
      state >>= 32;
    }
    state = ((state / f) << precision) + state % f + cum[s];
  }
}

}  // namespace

int RansLanesFor(uint64_t symbols) { return symbols >= kInterleaveFrom ? kLanes : 1; }

uint64_t RansEncodedSize(std::span<const uint64_t> histogram, int symbol_bytes, int lanes) {
  if (!ValidArguments(symbol_bytes, lanes)) return 0;
  return MakePlan(histogram, symbol_bytes, lanes).size;
}

std::vector<uint8_t> RansEncode(std::span<const uint8_t> raw, int symbol_bytes, int lanes) {
  if (!ValidArguments(symbol_bytes, lanes) || raw.size() % symbol_bytes != 0) return {};
  std::vector<uint64_t> histogram(size_t{1} << (8 * symbol_bytes));
  const size_t n = raw.size() / symbol_bytes;
  for (size_t i = 0; i < n; ++i) ++histogram[symbol_bytes == 1 ? raw[i] : LoadLE16(&raw[2 * i])];
  const Plan p = MakePlan(histogram, symbol_bytes, lanes);
  std::vector<uint8_t> out;
  if (n == 0) return out;
  out.push_back(static_cast<uint8_t>(p.precision));
  BitWriter bits{&out};
  PutTable(bits, p.symbols, p.freqs, p.precision, symbol_bytes);
  bits.Flush();
  if (p.symbols.size() == 1) return out;
  std::vector<uint32_t> words;
  words.reserve(p.words);
  uint64_t x[kLanes];
  if (symbol_bytes == 1)
    EncodeWords<1>(raw, p, &words, x);
  else
    EncodeWords<2>(raw, p, &words, x);
  // The bound makes words.size() > p.words impossible; max() keeps even a broken bound decodable.
  const size_t table_bytes = out.size();
  out.resize(table_bytes + 8 * p.lanes + 4 * std::max<uint64_t>(p.words, words.size()));  // zero-filled: padding
  uint8_t* w = out.data() + table_bytes;
  for (int j = 0; j < p.lanes; ++j, w += 8) StoreLE64(w, x[j]);
  for (size_t i = words.size(); i-- > 0; w += 4) StoreLE32(w, words[i]);
  return out;
}

}  // namespace sdc
