// The code streams of real .sdc files (scalar codes, codebook indices) coded by sdcodec's rANS and by the
// htscodecs library (CRAM 3.1's codecs, Debian libhtscodecs-dev): bytes and decode speed on the same
// streams, for issue 13's question whether context modelling or a library coder pays. Used by
// bench/code_streams.py, which adds brotli-11 and writes the table.
//
//   sdc_code_streams_bench [--dump DIR] [--repeat N] FILE.sdc...
//
// One line per stream, tab-separated: file, section, kind, symbol bytes, symbols, then for each coder
// "name=bytes/decode_seconds" (decode: best of N, output checked against the input). Coders: sdcodec rANS
// with 1 and 4 states (the stream as our encoder codes it today, re-encoded so that every stream counts,
// whichever codec the file chose), zstd-19, htscodecs rANS 4x16 order 0 and order 1 (4-way and its 32-way
// SIMD decoder), and its adaptive arithmetic coder order 0 and order 1. 2-byte index streams go to
// htscodecs with its STRIPE transform (bytes split into two streams), as CRAM does for 16-bit data.
#include <htscodecs/arith_dynamic.h>
#include <htscodecs/rANS_static4x16.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "decoder/dec_container.h"
#include "encoder/enc_rans.h"
#include "encoder/enc_zstd.h"
#include "format/file_io.h"
#include "format/rans_codec.h"
#include "format/rans_model.h"
#include "format/zstd_codec.h"

namespace {

using Bytes = std::vector<uint8_t>;

double BestSeconds(int repeat, const std::function<bool()>& decode) {
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!decode()) return -1;  // decoded wrongly or failed: reported as a negative time
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct Result {
  std::string name;
  size_t bytes;
  double seconds;
};

// A htscodecs coder: compress with `compress`, decode with `uncompress` into a buffer of the raw size.
Result Hts(const std::string& name, const Bytes& raw, int repeat,
           const std::function<unsigned char*(unsigned char*, unsigned, unsigned*)>& compress,
           const std::function<unsigned char*(unsigned char*, unsigned, unsigned char*, unsigned*)>& uncompress) {
  unsigned size = 0;
  unsigned char* c = compress(const_cast<unsigned char*>(raw.data()), static_cast<unsigned>(raw.size()), &size);
  if (!c) return {name, 0, -1};
  Bytes stored(c, c + size), out(raw.size());
  std::free(c);
  const double s = BestSeconds(repeat, [&] {
    unsigned n = static_cast<unsigned>(out.size());
    return uncompress(stored.data(), static_cast<unsigned>(stored.size()), out.data(), &n) && n == raw.size() &&
           out == raw;
  });
  return {name, stored.size(), s};
}

std::vector<Result> Measure(const Bytes& raw, int width, int repeat) {
  std::vector<Result> r;
  for (int lanes : {1, sdc::rans::kLanes}) {
    const Bytes stored = sdc::RansEncode(raw, width, lanes);
    Bytes out;
    const double s = BestSeconds(
        repeat, [&] { return sdc::RansDecodeExact(stored, width, lanes, raw.size(), &out).ok() && out == raw; });
    r.push_back({"sdcodec_rans_x" + std::to_string(lanes), stored.size(), s});
  }
  const Bytes z = sdc::ZstdCompress(raw, 19);
  Bytes zout;
  r.push_back({"zstd19", z.size(), BestSeconds(repeat, [&] {
                 return sdc::ZstdDecompressExact(z, raw.size(), &zout).ok() && zout == raw;
               })});
  const int stripe = width == 2 ? RANS_ORDER_STRIPE | (2 << 8) : 0;
  for (int order : {0, 1})
    for (int x32 : {0, RANS_ORDER_X32}) {
      const int o = order | x32 | stripe;
      r.push_back(Hts(
          "hts_rans4x16_o" + std::to_string(order) + (x32 ? "_x32" : ""), raw, repeat,
          [&](unsigned char* in, unsigned n, unsigned* size) { return rans_compress_4x16(in, n, size, o); },
          [](unsigned char* in, unsigned n, unsigned char* out, unsigned* size) {
            return rans_uncompress_to_4x16(in, n, out, size);
          }));
    }
  for (int order : {0, 1}) {
    const int o = order | stripe;
    r.push_back(Hts(
        "hts_arith_o" + std::to_string(order), raw, repeat,
        [&](unsigned char* in, unsigned n, unsigned* size) { return arith_compress(in, n, size, o); },
        [](unsigned char* in, unsigned n, unsigned char* out, unsigned* size) {
          return arith_uncompress_to(in, n, out, size);
        }));
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dump;
  int repeat = 5;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dump" && i + 1 < argc)
      dump = argv[++i];
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::atoi(argv[++i]);
    else
      files.push_back(a);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: sdc_code_streams_bench [--dump DIR] [--repeat N] FILE.sdc...\n");
    return 2;
  }
  for (const std::string& path : files) {
    Bytes file;
    sdc::Container c;
    if (sdc::Status s = sdc::ReadFile(path, &file); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), s.ToString().c_str());
      return 1;
    }
    if (sdc::Status s = sdc::Container::Open(file, sdc::DecodeLimits(), &c); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), s.ToString().c_str());
      return 1;
    }
    for (uint32_t i = 0; i < c.section_count(); ++i) {
      const sdc::fb::SectionKind kind = c.section(i).kind();
      if (kind != sdc::fb::SectionKind::Codes && kind != sdc::fb::SectionKind::Indices) continue;
      Bytes raw;
      if (sdc::Status s = c.ReadSection(i, &raw); !s.ok() || raw.size() < 1024) continue;
      // Codes are bytes; an index stream's width shows only in a rANS codec's name, so others are skipped.
      const sdc::fb::Codec codec = c.section(i).codec();
      const bool wide = codec == sdc::fb::Codec::Rans16 || codec == sdc::fb::Codec::Rans16x4;
      if (kind == sdc::fb::SectionKind::Indices && !wide && codec != sdc::fb::Codec::Rans8 &&
          codec != sdc::fb::Codec::Rans8x4)
        continue;
      const int width = wide ? 2 : 1;
      if (!dump.empty()) {
        const std::string name = dump + "/" + std::to_string(i) + (width == 2 ? ".u16" : ".u8");
        if (FILE* f = std::fopen(name.c_str(), "wb")) {
          std::fwrite(raw.data(), 1, raw.size(), f);
          std::fclose(f);
        }
      }
      std::printf("%s\t%u\t%s\t%d\t%zu", path.c_str(), i, kind == sdc::fb::SectionKind::Codes ? "codes" : "indices",
                  width, raw.size() / width);
      for (const Result& r : Measure(raw, width, repeat))
        std::printf("\t%s=%zu/%.6f", r.name.c_str(), r.bytes, r.seconds);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return 0;
}
