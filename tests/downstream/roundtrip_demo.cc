// A downstream C++ program built against an installed sdcodec with the encoder (tests/downstream/run.sh):
// encodes a 64 x 256 float32 tensor at 8 bits through the header-only C++ API (sdcodec/sdcodec.hpp),
// decodes it back and checks what a user relies on: the same name, dtype and shape, a weight SNR that 8
// bits give (above 30 dB), and the same bytes from a second encode. Prints one line; exit status 1 on any
// failure.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sdcodec/sdcodec.hpp"
#include "sdcodec/version.h"

int main() {
  const uint64_t rows = 64, cols = 256;
  std::vector<float> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::sin(0.37f * static_cast<float>(i)) * (1.0f + (i % 7));
  const std::vector<sdcodec::TensorRef> in = {{"layers.0.mlp.w1.weight", "F32", {rows, cols}, w.data(), w.size() * 4}};
  std::vector<uint8_t> file, again;
  sdcodec::Status s = sdcodec::Encode(in, {}, R"({"bits": 8})", &file);
  if (s.ok()) s = sdcodec::Encode(in, {}, R"({"bits": 8})", &again);
  sdcodec::Decoder dec;
  if (s.ok()) s = sdcodec::Decoder::Open(file, &dec);
  sdcodec::Tensor t;
  if (s.ok()) s = dec.DecodeTensor(0, &t);
  if (!s.ok()) {
    std::fprintf(stderr, "roundtrip_demo: %s\n", s.message().c_str());
    return 1;
  }
  bool ok = dec.tensor_count() == 1 && t.info.name == in[0].name && t.info.dtype == "F32" &&
            t.info.shape == in[0].shape && t.data.size() == w.size() * 4 && file == again;
  double signal = 0, noise = 0;
  for (size_t i = 0; i < w.size() && ok; ++i) {
    float v;
    std::memcpy(&v, t.data.data() + 4 * i, 4);
    signal += static_cast<double>(w[i]) * w[i];
    noise += (static_cast<double>(v) - w[i]) * (static_cast<double>(v) - w[i]);
  }
  const double snr_db = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
  ok = ok && snr_db > 30;
  std::printf("roundtrip_demo: sdcodec %s, %zu bytes for %zu weights, SNR %.1f dB, same bytes twice: %s\n",
              SDCODEC_VERSION_STRING, file.size(), w.size(), snr_db, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
