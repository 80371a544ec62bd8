#include "format/rans_codec.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <string>

#include "format/endian.h"

namespace sdc {
namespace {

constexpr uint64_t kLow = uint64_t{1} << 31;  // the state lives in [kLow, kLow << 32)
constexpr int kMaxPrecision = 24;
constexpr int kEscape = 12;                   // Rice quotients from here on are sent verbatim
__extension__ typedef unsigned __int128 u128;  // GCC and Clang

int CeilLog2(uint64_t v) { return v <= 1 ? 0 : 64 - std::countl_zero(v - 1); }

// The largest precision a stream of n symbols may use: more than ~2n slots buys no accuracy (the counts
// are already exact) and would let a hostile stream make the decoder build tables far larger than its data.
int MaxPrecision(uint64_t n) { return std::min(kMaxPrecision, CeilLog2(n) + 1); }

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
  uint64_t words = 0;  // 32-bit words after the state, padding included
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

Plan MakePlan(std::span<const uint64_t> histogram, int symbol_bytes) {
  Plan p;
  const size_t alphabet = std::min(histogram.size(), size_t{1} << (8 * symbol_bytes));
  uint64_t n = 0;
  for (size_t v = 0; v < alphabet; ++v)
    if (histogram[v]) p.symbols.push_back(static_cast<uint32_t>(v)), p.counts.push_back(histogram[v]), n += histogram[v];
  if (n == 0) return p;
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
    const uint64_t size = 1 + (bits.bits + 7) / 8 + (s == 1 ? 0 : 8 + 4 * words);
    if (p.size != 0 && size > p.size) ++misses;
    else p.size = size, p.words = words, p.precision = precision, p.freqs = std::move(freqs), misses = 0;
  }
  return p;
}

// Codes the symbols in reverse (the decoder reads forward) and returns the final state.
template <int kBytes>
uint64_t EncodeWords(std::span<const uint8_t> raw, const Plan& p, std::vector<uint32_t>* words) {
  std::vector<uint32_t> freq(size_t{1} << (8 * kBytes)), cum(freq.size());
  for (size_t i = 0, c = 0; i < p.symbols.size(); c += p.freqs[i++]) freq[p.symbols[i]] = p.freqs[i], cum[p.symbols[i]] = c;
  const int precision = p.precision;
  uint64_t x = kLow;
  for (size_t i = raw.size() / kBytes; i-- > 0;) {
    const uint32_t s = kBytes == 1 ? raw[i] : LoadLE16(&raw[2 * i]);
    const uint64_t f = freq[s];
    if (x >= (f << (63 - precision))) {  // the step would leave [2^31, 2^63): shed 32 bits first
      words->push_back(static_cast<uint32_t>(x));
      x >>= 32;
    }
    x = ((x / f) << precision) + x % f + cum[s];
  }
  return x;
}

struct BitReader {
  std::span<const uint8_t> data;
  size_t pos;  // of the next byte to load
  uint64_t acc = 0;
  int n = 0;  // bits in acc
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
    SDC_CHECK(t->cum[i + 1] < total, StatusCode::kCorrupt, "rans: frequencies exceed the total " + std::to_string(total));
  }
  t->cum[s] = static_cast<uint32_t>(total);
  SDC_CHECK(br.acc == 0, StatusCode::kCorrupt, "rans: table padding bits are not zero");
  for (size_t i = 0; i < s && s > 1; ++i)
    t->entry.push_back(t->cum[i] | uint64_t{t->cum[i + 1] - t->cum[i]} << 24 | uint64_t{t->symbols[i]} << 48);
  return Status::Ok();
}

template <int kBytes>
Status DecodeSymbols(const DecodeTable& t, uint64_t x, const uint8_t* in, const uint8_t* end, uint8_t* out,
                     uint64_t n, const uint8_t** stop) {
  constexpr uint32_t k24 = (1u << 24) - 1;
  const uint32_t mask = (uint32_t{1} << t.precision) - 1;
  const int precision = t.precision, shift = t.shift;
  const uint64_t* entry = t.entry.data();
  const uint16_t* bucket = t.bucket.data();
  for (uint64_t k = 0; k < n; ++k) {
    const uint32_t slot = static_cast<uint32_t>(x) & mask, b = slot >> shift;
    uint64_t e = entry[bucket[b]];
    if ((e & k24) + (e >> 24 & k24) <= slot)  // the bucket holds several symbols: search those it can hold
      e = *(std::upper_bound(entry + bucket[b] + 1, entry + bucket[b + 1] + 1, slot,
                             [](uint32_t v, uint64_t f) { return v < (f & k24); }) - 1);
    if constexpr (kBytes == 1) out[k] = static_cast<uint8_t>(e >> 48);
    else StoreLE16(out + 2 * k, static_cast<uint16_t>(e >> 48));
    x = (e >> 24 & k24) * (x >> precision) + slot - (e & k24);
    if (x < kLow) {
      SDC_CHECK(in < end, StatusCode::kCorrupt,
                "rans: words exhausted after " + std::to_string(k + 1) + " of " + std::to_string(n) + " symbols");
      x = (x << 32) | LoadLE32(in);
      in += 4;
    }
  }
  SDC_CHECK(x == kLow, StatusCode::kCorrupt, "rans: final state does not match the initial state");
  *stop = in;
  return Status::Ok();
}

}  // namespace

uint64_t RansEncodedSize(std::span<const uint64_t> histogram, int symbol_bytes) {
  if (symbol_bytes != 1 && symbol_bytes != 2) return 0;
  return MakePlan(histogram, symbol_bytes).size;
}

std::vector<uint8_t> RansEncode(std::span<const uint8_t> raw, int symbol_bytes) {
  if ((symbol_bytes != 1 && symbol_bytes != 2) || raw.size() % symbol_bytes != 0) return {};
  std::vector<uint64_t> histogram(size_t{1} << (8 * symbol_bytes));
  const size_t n = raw.size() / symbol_bytes;
  for (size_t i = 0; i < n; ++i) ++histogram[symbol_bytes == 1 ? raw[i] : LoadLE16(&raw[2 * i])];
  const Plan p = MakePlan(histogram, symbol_bytes);
  std::vector<uint8_t> out;
  if (n == 0) return out;
  out.push_back(static_cast<uint8_t>(p.precision));
  BitWriter bits{&out};
  PutTable(bits, p.symbols, p.freqs, p.precision, symbol_bytes);
  bits.Flush();
  if (p.symbols.size() == 1) return out;
  std::vector<uint32_t> words;
  words.reserve(p.words);
  const uint64_t x = symbol_bytes == 1 ? EncodeWords<1>(raw, p, &words) : EncodeWords<2>(raw, p, &words);
  // The bound makes words.size() > p.words impossible; max() keeps even a broken bound decodable.
  const size_t table_bytes = out.size();
  out.resize(table_bytes + 8 + 4 * std::max<uint64_t>(p.words, words.size()));  // zero-filled: the padding
  uint8_t* w = out.data() + table_bytes;
  StoreLE64(w, x);
  w += 8;
  for (size_t i = words.size(); i-- > 0; w += 4) StoreLE32(w, words[i]);
  return out;
}

Status RansDecodeExact(std::span<const uint8_t> stored, int symbol_bytes, uint64_t raw_size,
                       std::vector<uint8_t>* out) {
  SDC_CHECK(symbol_bytes == 1 || symbol_bytes == 2, StatusCode::kInvalidArgument,
            "rans: symbol width " + std::to_string(symbol_bytes) + " is not 1 or 2");
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
            "rans: precision " + std::to_string(t.precision) + " exceeds " + std::to_string(MaxPrecision(n)) +
                " for " + std::to_string(n) + " symbols");
  BitReader br{stored, 1};
  SDC_RETURN_IF_ERROR(GetTable(br, symbol_bytes, n, &t));
  const size_t s = t.symbols.size(), left = stored.size() - br.pos;
  out->resize(raw_size);
  if (s == 1) {
    SDC_CHECK(left == 0, StatusCode::kCorrupt, "rans: bytes after a one-symbol table");
    for (uint64_t k = 0; k < n; ++k)
      for (int j = 0; j < symbol_bytes; ++j) (*out)[k * symbol_bytes + j] = static_cast<uint8_t>(t.symbols[0] >> (8 * j));
    return Status::Ok();
  }
  SDC_CHECK(left >= 8 && (left - 8) % 4 == 0, StatusCode::kCorrupt,
            "rans: " + std::to_string(left) + " bytes after the table are not a state and whole words");
  const uint8_t* in = stored.data() + br.pos;
  const uint64_t x = LoadLE64(in);
  SDC_CHECK(x >= kLow && x >> 63 == 0, StatusCode::kCorrupt, "rans: initial state out of range");
  // Buckets of 2^shift slots: 2^12 of them for bytes (fits L1), 2^16 for 16-bit symbols (fits L2).
  const int bucket_bits = std::min(t.precision, symbol_bytes == 1 ? 12 : 16);
  t.shift = t.precision - bucket_bits;
  t.bucket.resize((size_t{1} << bucket_bits) + 1);
  for (uint32_t b = 0, i = 0; b < (uint32_t{1} << bucket_bits); ++b) {
    while (t.cum[i + 1] <= (b << t.shift)) ++i;
    t.bucket[b] = static_cast<uint16_t>(i);
  }
  t.bucket.back() = static_cast<uint16_t>(s - 1);
  const uint8_t *end = stored.data() + stored.size(), *stop = nullptr;
  SDC_RETURN_IF_ERROR(symbol_bytes == 1 ? DecodeSymbols<1>(t, x, in + 8, end, out->data(), n, &stop)
                                        : DecodeSymbols<2>(t, x, in + 8, end, out->data(), n, &stop));
  SDC_CHECK(std::all_of(stop, end, [](uint8_t b) { return b == 0; }), StatusCode::kCorrupt,
            "rans: padding after the last word is not zero");
  return Status::Ok();
}

}  // namespace sdc
