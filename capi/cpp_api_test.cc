// The C++ façade (include/sdcodec/sdcodec.hpp): encode a small model with importance and an option set,
// open, read infos, decode every tensor, verify, inspect; errors come back as Status with the message.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sdcodec/sdcodec.hpp"

static int failures = 0;
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

int main() {
  const int R = 96, C = 64;
  std::vector<float> w(R * C), imp(C, 1.0f);
  for (int i = 0; i < R * C; ++i) w[i] = 0.05f * static_cast<float>(std::sin(i * 0.71));
  for (int c = 0; c < 8; ++c) imp[c] = 50.0f;
  const uint16_t bf16[4] = {0x3f80, 0xbf80, 0x4000, 0x0000};
  std::vector<sdcodec::TensorRef> tensors = {{"layers.0.attention.wq.weight", "F32", {R, C}, w.data(), w.size() * 4},
                                             {"norm.weight", "BF16", {4}, bf16, sizeof bf16}};
  std::vector<sdcodec::TensorRef> importance = {
      {"layers.0.attention.wq.weight", "F32", {C}, imp.data(), imp.size() * 4}};
  std::vector<uint8_t> file;
  sdcodec::Status s = sdcodec::Encode(tensors, importance, R"({"bits": 4, "distortion": "absolute"})", &file);
  CHECK(s.ok());
  sdcodec::Decoder dec;
  CHECK(!dec.is_open());
  CHECK(sdcodec::Decoder::Open(file, &dec).ok() && dec.is_open());
  CHECK(dec.tensor_count() == 2 && dec.asset_count() == 0);
  std::vector<sdcodec::Tensor> all;
  CHECK(dec.DecodeAll(&all).ok() && all.size() == 2);
  if (all.size() == 2) {
    CHECK(all[0].info.name == "layers.0.attention.wq.weight" && all[0].info.dtype == "F32");
    CHECK(all[0].info.role == "attention" && all[0].info.shape == std::vector<uint64_t>({96, 64}));
    CHECK(all[0].data.size() == w.size() * 4);
    double err = 0, sig = 0;
    for (int i = 0; i < R * C; ++i) {
      float b;
      std::memcpy(&b, all[0].data.data() + 4 * i, 4);
      err += (b - w[i]) * double(b - w[i]), sig += w[i] * double(w[i]);
    }
    CHECK(10 * std::log10(sig / err) > 15.0);
    CHECK(all[1].info.dtype == "BF16" && all[1].data.size() == 8 && std::memcmp(all[1].data.data(), bf16, 8) == 0);
  }
  CHECK(dec.Verify().ok());
  std::string json;
  CHECK(dec.InspectJson(&json).ok() && json.find("\"schema\":\"sdcodec.inspect/1\"") != std::string::npos);
  sdcodec::Decoder moved = std::move(dec);
  CHECK(moved.is_open() && !dec.is_open() && moved.tensor_count() == 2);  // NOLINT(bugprone-use-after-move): on purpose

  // Errors: a Status with the code and the library's message; the decoder left as it was.
  sdcodec::TensorInfo info;
  s = moved.Info(7, &info);
  CHECK(s.code() == SDC_E_INVALID_ARGUMENT && s.message().find("out of range") != std::string::npos);
  std::vector<uint8_t> bad = file;
  bad.resize(bad.size() - 5);
  sdcodec::Decoder other;
  s = sdcodec::Decoder::Open(bad, &other);
  CHECK(!s.ok() && !s.message().empty() && !other.is_open());
  s = sdcodec::Encode(tensors, {}, R"({"budget": 10})", &file);
  CHECK(s.code() == SDC_E_BUDGET && !s.message().empty());
  s = sdcodec::Encode({{"x", "F32", {3}, w.data(), 8}}, {}, "", &file);
  CHECK(s.code() == SDC_E_INVALID_ARGUMENT && s.message().find("'x'") != std::string::npos);
  std::printf("cpp_api_test: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
