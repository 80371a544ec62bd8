// The GPU encoder path without a GPU: device selection, and the k-means loop, assignment and beam
// search as the CUDA build runs them, with the kernels emulated on the CPU (gpu_emulation.h), compared
// with the CPU encoder. What differs from a GPU run is only where the kernels execute.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "decoder/dec_codebook.h"
#include "decoder/decoder.h"
#include "encoder/cuda/gpu_emulation.h"
#include "encoder/cuda/test_support.h"
#include "encoder/device.h"
#include "encoder/enc_codebook.h"
#include "encoder/enc_kmeans.h"
#include "encoder/encoder.h"

namespace sdc {
namespace {

// What stands for the CUDA device in these tests: its kernels emulated on the CPU, passed explicitly
// (CodebookSearch::gpu) rather than switched on globally.
const gpu::EmulatedGpu kEmulated;

TEST(Device, ParsesNames) {
  Device d;
  EXPECT_TRUE(ParseDevice("auto", &d) && d == Device::kAuto);
  EXPECT_TRUE(ParseDevice("cpu", &d) && d == Device::kCpu);
  EXPECT_TRUE(ParseDevice("cuda", &d) && d == Device::kCuda);
  EXPECT_FALSE(ParseDevice("gpu", &d));
  EXPECT_STREQ(DeviceName(Device::kCuda), "cuda");
}

TEST(Device, ResolvesToTheCpuWithoutAGpu) {
  Device d = Device::kCuda;
  std::string note;
  ASSERT_TRUE(ResolveDevice(Device::kCpu, &d, &note).ok());
  EXPECT_EQ(d, Device::kCpu);
  ASSERT_TRUE(ResolveDevice(Device::kAuto, &d, &note).ok());
  if (d == Device::kCuda)
    GTEST_SKIP() << "a CUDA device is present (" << note << "): the no-GPU behaviour is not observable";
  EXPECT_EQ(d, Device::kCpu);
  const std::string reason = BuiltWithCuda() ? "no CUDA device: " : "this build has no CUDA support";
  EXPECT_EQ(note.rfind("CPU (" + reason, 0), 0u) << note;
  const Status s = ResolveDevice(Device::kCuda, &d, &note);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(reason), std::string::npos) << s.ToString();
}

TEST(Device, EmulationStandsInForAGpu) {
  Device d;
  std::string note;
  ASSERT_TRUE(ResolveDevice(Device::kCuda, &d, &note, &kEmulated).ok());
  EXPECT_EQ(d, Device::kCuda);
  EXPECT_NE(note.find("emulation"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// Assignment.

TEST(GpuPath, AssignmentAgreesWithTheCpuBeyondTheTolerance) {
  for (size_t d : {1, 4, 8, 17}) {
    const size_t n = 3000, k = 64;
    const std::vector<float> x = gputest::Gaussian(n * d, 100 + d), c = gputest::Gaussian(k * d, 200 + d);
    const std::vector<float> pen = gputest::Gaussian(k, 300 + d, 0.3f, 1.0f);
    for (bool use_pen : {false, true}) {
      std::span<const float> p = use_pen ? std::span<const float>(pen) : std::span<const float>();
      std::vector<uint32_t> cpu(n), emu(n);
      std::vector<float> cpu_d2(n), emu_d2(n);
      ASSERT_TRUE(AssignNearestOn(Placement::Cpu(), x, d, c, p, cpu, cpu_d2).ok());
      gpu::AssignNearestEmulated(x, d, c, p, emu, emu_d2);
      const gputest::Ambiguity amb = gputest::FindAmbiguous(x, d, c, p);
      EXPECT_EQ(gputest::UnambiguousMismatches(cpu, emu, amb), 0u) << "d " << d << " penalty " << use_pen;
      EXPECT_LT(amb.count, n / 10) << "the tolerance leaves most points decided";
      for (size_t i = 0; i < n; ++i)
        if (cpu[i] == emu[i]) {
          ASSERT_EQ(cpu_d2[i], emu_d2[i]) << "distances are the same exact sum";
        }
    }
  }
}

TEST(GpuPath, PenaltyThroughTheDispatcherMatchesAPaddedCoordinate) {
  // AssignNearestOn(CPU, penalty) is the CPU encoder's padded-coordinate call, exactly.
  const size_t d = 8, n = 1000, k = 32;
  const std::vector<float> x = gputest::Gaussian(n * d, 1), c = gputest::Gaussian(k * d, 2),
                           pen = gputest::Gaussian(k, 3, 0.5f, 1.0f);
  std::vector<float> xp(n * (d + 1), 0.0f), cp(k * (d + 1));
  for (size_t i = 0; i < n; ++i) std::copy(x.begin() + i * d, x.begin() + (i + 1) * d, xp.begin() + i * (d + 1));
  for (size_t j = 0; j < k; ++j) {
    std::copy(c.begin() + j * d, c.begin() + (j + 1) * d, cp.begin() + j * (d + 1));
    cp[j * (d + 1) + d] = pen[j];
  }
  std::vector<uint32_t> a(n), b(n);
  std::vector<float> da(n), db(n);
  ASSERT_TRUE(AssignNearestOn(Placement::Cpu(), x, d, c, pen, a, da).ok());
  AssignNearest(xp, d + 1, cp, b, db);
  EXPECT_EQ(a, b);
  EXPECT_EQ(da, db);
}

// ---------------------------------------------------------------------------------------------------------
// k-means.

TEST(GpuPath, KMeansSeedingIsTheCpus) {
  // With no iterations the result is the seeding (every seed is a data point, so no cluster is empty).
  const size_t d = 8, n = 5000;
  const std::vector<float> x = gputest::Gaussian(n * d, 7), w = gputest::Gaussian(n, 8, 0.2f, 1.0f);
  for (auto init : {KMeansOptions::Init::kPlusPlus, KMeansOptions::Init::kRandom})
    for (bool weighted : {false, true}) {
      KMeansOptions o;
      o.k = 40;
      o.iterations = 0;
      o.seed = 99;
      o.init = init;
      std::span<const float> ws = weighted ? std::span<const float>(w) : std::span<const float>();
      KMeansResult cpu, emu;
      ASSERT_TRUE(KMeans(x, d, ws, o, &cpu).ok());
      ASSERT_TRUE(gpu::KMeansEmulated(x, d, ws, o, &emu).ok());
      EXPECT_EQ(cpu.centroids, emu.centroids);
    }
}

TEST(GpuPath, KMeansEqualsTheCpuOnSeparatedData) {
  // Clusters far apart: no assignment is ambiguous, so every iteration matches and so does every bit.
  const size_t d = 8, n = 6000;
  const std::vector<float> x = gputest::Clustered(n, d, 24, 100.0f, 17), w = gputest::Gaussian(n, 18, 0.2f, 1.0f);
  for (bool weighted : {false, true}) {
    KMeansOptions o;
    o.k = 24;
    o.iterations = 10;
    std::vector<double> cpu_mse, emu_mse;
    std::span<const float> ws = weighted ? std::span<const float>(w) : std::span<const float>();
    KMeansResult cpu, emu;
    o.progress = [&](int, double m) { cpu_mse.push_back(m); };
    ASSERT_TRUE(KMeans(x, d, ws, o, &cpu).ok());
    o.progress = [&](int, double m) { emu_mse.push_back(m); };
    ASSERT_TRUE(gpu::KMeansEmulated(x, d, ws, o, &emu).ok());
    EXPECT_EQ(cpu.centroids, emu.centroids);
    EXPECT_EQ(cpu.assign, emu.assign);
    EXPECT_EQ(cpu.mse, emu.mse);
    EXPECT_EQ(cpu.iterations_run, emu.iterations_run);
    EXPECT_EQ(cpu_mse, emu_mse);
  }
}

TEST(GpuPath, KMeansIsCloseToTheCpuOnGaussianData) {
  // Unstructured data: near-ties may be broken differently, after which the runs drift apart a little.
  const size_t d = 8, n = 20000;
  const std::vector<float> x = gputest::Gaussian(n * d, 27);
  KMeansOptions o;
  o.k = 128;
  o.iterations = 12;
  KMeansResult cpu, emu, emu2;
  ASSERT_TRUE(KMeans(x, d, {}, o, &cpu).ok());
  ASSERT_TRUE(gpu::KMeansEmulated(x, d, {}, o, &emu).ok());
  ASSERT_TRUE(gpu::KMeansEmulated(x, d, {}, o, &emu2).ok());
  EXPECT_NEAR(emu.mse, cpu.mse, 0.01 * cpu.mse);
  EXPECT_EQ(emu.centroids, emu2.centroids) << "deterministic";
  EXPECT_EQ(emu.assign, emu2.assign);
  // The returned assignment is the nearest centroid (up to the tolerance) of the returned centroids.
  std::vector<uint32_t> nearest(n);
  AssignNearest(x, d, emu.centroids, nearest, {});
  EXPECT_EQ(gputest::UnambiguousMismatches(nearest, emu.assign, gputest::FindAmbiguous(x, d, emu.centroids)), 0u);
}

TEST(GpuPath, KMeansFillsEmptyClustersLikeTheCpu) {
  // Few distinct points, many clusters: re-seeding and the final filling run (k < n, duplicates).
  const size_t d = 3;
  std::vector<float> x;
  for (int r = 0; r < 50; ++r)
    for (int p = 0; p < 12; ++p)
      for (size_t t = 0; t < d; ++t) x.push_back(static_cast<float>(p * 10 + t));
  KMeansOptions o;
  o.k = 20;
  o.iterations = 5;
  KMeansResult cpu, emu;
  ASSERT_TRUE(KMeans(x, d, {}, o, &cpu).ok());
  ASSERT_TRUE(gpu::KMeansEmulated(x, d, {}, o, &emu).ok());
  EXPECT_EQ(cpu.centroids, emu.centroids);
  EXPECT_EQ(cpu.assign, emu.assign);
  EXPECT_EQ(cpu.mse, emu.mse);
}

TEST(GpuPath, KMeansRejectsWhatTheCpuRejects) {
  KMeansOptions o;
  o.k = 2;
  KMeansResult r;
  const std::vector<float> bad = {1.0f, NAN, 2.0f, 3.0f};
  EXPECT_EQ(gpu::KMeansEmulated(bad, 2, {}, o, &r).ToString(), KMeans(bad, 2, {}, o, &r).ToString());
  const std::vector<float> ok = {1, 2, 3, 4, 5, 6};
  const std::vector<float> w = {0, 0, 0};
  EXPECT_EQ(gpu::KMeansEmulated(ok, 2, w, o, &r).ToString(), KMeans(ok, 2, w, o, &r).ToString());
  EXPECT_FALSE(gpu::KMeansEmulated(ok, 4, {}, o, &r).ok());
}

// ---------------------------------------------------------------------------------------------------------
// Codebook training and coding through the encoder's own entry points, device kCuda emulated.

struct Tensor {
  std::vector<float> w;
  RowLayout rows;
};

Tensor MakeTensor(uint64_t rows, uint64_t cols, uint64_t seed) {
  Tensor t;
  t.w = gputest::Gaussian(rows * cols, seed, 0.02f);
  t.rows.rows = rows;
  t.rows.cols = cols;
  return t;
}

// Squared error of the decoder's reconstruction (F32 output) of the codes.
double Sse(const CodebookInput& in, const BankSet& b, const CodebookCodes& c) {
  std::vector<BankView> views;
  for (const auto& e : b.entries) views.push_back({e, b.k});
  std::vector<std::span<const uint8_t>> streams(c.indices.begin(), c.indices.end());
  std::vector<uint8_t> out(in.w.size() * 4);
  const Status s = DequantizeCodebook(c.layout, views, c.coefficients, c.scales, streams, nullptr, DType::kF32, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  double sse = 0;
  for (size_t i = 0; i < in.w.size(); ++i) {
    float v;
    std::memcpy(&v, out.data() + 4 * i, 4);
    sse += (static_cast<double>(in.w[i]) - v) * (static_cast<double>(in.w[i]) - v);
  }
  return sse;
}

TEST(GpuPath, BeamCodingIsBitIdenticalToTheCpu) {
  // EncodeWithBanks with M >= 2 and beam >= 2 runs the beam search everywhere: the GPU kernel's arithmetic
  // gives the CPU's codes, coefficients and scales exactly, with and without the entropy penalty.
  const Tensor t = MakeTensor(64, 96, 5);
  const CodebookInput in{t.w, t.rows};
  CodebookSearch s;
  s.dim = 8;
  s.k = 32;
  s.codebooks = 3;
  s.beam = 4;
  s.kmeans_iterations = 6;
  BankSet banks;
  ASSERT_TRUE(TrainBanks(std::span<const CodebookInput>(&in, 1), s, &banks).ok());
  for (double lambda : {0.0, 0.2}) {
    CodebookCodes cpu, emu;
    s.device = Device::kCpu;
    ASSERT_TRUE(EncodeWithBanks(in, banks, s, lambda, &cpu).ok());
    {
      s.gpu = &kEmulated;
      s.device = Device::kCuda;
      ASSERT_TRUE(EncodeWithBanks(in, banks, s, lambda, &emu).ok());
    }
    EXPECT_EQ(cpu.indices, emu.indices) << "lambda " << lambda;
    EXPECT_EQ(cpu.coefficients, emu.coefficients);
    EXPECT_EQ(cpu.scales, emu.scales);
  }
}

TEST(GpuPath, GreedyCodingWithPenaltyIsCloseToTheCpu) {
  // M = 1: nearest entry with the penalty coordinate; differences only at near-ties.
  const Tensor t = MakeTensor(128, 128, 6);
  const CodebookInput in{t.w, t.rows};
  CodebookSearch s;
  s.dim = 4;
  s.k = 64;
  s.codebooks = 1;
  s.kmeans_iterations = 6;
  BankSet banks;
  ASSERT_TRUE(TrainBanks(std::span<const CodebookInput>(&in, 1), s, &banks).ok());
  for (double lambda : {0.0, 0.3}) {
    CodebookCodes cpu, emu;
    s.device = Device::kCpu;
    ASSERT_TRUE(EncodeWithBanks(in, banks, s, lambda, &cpu).ok());
    {
      s.gpu = &kEmulated;
      s.device = Device::kCuda;
      ASSERT_TRUE(EncodeWithBanks(in, banks, s, lambda, &emu).ok());
    }
    size_t differ = 0;
    for (size_t v = 0; v < cpu.indices[0].size(); ++v) differ += cpu.indices[0][v] != emu.indices[0][v];
    EXPECT_LE(differ, cpu.indices[0].size() / 200) << "lambda " << lambda;
    const double e_cpu = Sse(in, banks, cpu), e_emu = Sse(in, banks, emu);
    EXPECT_NEAR(e_emu, e_cpu, 0.002 * e_cpu);
  }
}

TEST(GpuPath, TrainedBanksAreAsGoodAsTheCpus) {
  const Tensor t = MakeTensor(96, 256, 9);
  const CodebookInput in{t.w, t.rows};
  CodebookSearch s;
  s.dim = 8;
  s.k = 64;
  s.codebooks = 2;
  s.kmeans_iterations = 8;
  BankSet cpu, emu;
  s.device = Device::kCpu;
  ASSERT_TRUE(TrainBanks(std::span<const CodebookInput>(&in, 1), s, &cpu).ok());
  {
    s.gpu = &kEmulated;
    s.device = Device::kCuda;
    ASSERT_TRUE(TrainBanks(std::span<const CodebookInput>(&in, 1), s, &emu).ok());
  }
  s.device = Device::kCpu;
  CodebookCodes cc, ce;
  ASSERT_TRUE(EncodeWithBanks(in, cpu, s, 0.0, &cc).ok());
  ASSERT_TRUE(EncodeWithBanks(in, emu, s, 0.0, &ce).ok());
  const double e_cpu = Sse(in, cpu, cc), e_emu = Sse(in, emu, ce);
  EXPECT_NEAR(e_emu, e_cpu, 0.02 * e_cpu);
}

TEST(GpuPath, WholeEncodeOnTheEmulatedGpuDecodesExactly) {
  // An artifact made on the (emulated) GPU path is an ordinary file: it verifies and decodes without any
  // device, bit-exactly against the encoder's recorded hashes.
  const Tensor a = MakeTensor(64, 128, 12), b = MakeTensor(32, 256, 13);
  std::vector<uint8_t> ab(a.w.size() * 4), bb(b.w.size() * 4);
  std::memcpy(ab.data(), a.w.data(), ab.size());
  std::memcpy(bb.data(), b.w.data(), bb.size());
  SafetensorsFile f;
  f.tensors.push_back({"a.weight", DType::kF32, {64, 128}, ab});
  f.tensors.push_back({"b.weight", DType::kF32, {32, 256}, bb});
  EncodeOptions o;
  o.method = Method::kCodebook;
  o.min_quant_numel = 0;
  o.codebook.k = 32;
  o.codebook.codebooks = 2;
  o.codebook.kmeans_iterations = 4;
  o.lambda = 0.1;
  EncodeResult cpu, emu;
  ASSERT_TRUE(Encode(f, o, &cpu).ok());
  {
    o.codebook.gpu = &kEmulated;
    o.codebook.device = Device::kCuda;
    const Status s = Encode(f, o, &emu);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  for (const EncodeResult* r : {&cpu, &emu}) {
    std::unique_ptr<Decoder> dec;
    ASSERT_TRUE(Decoder::Open(r->file, DecodeLimits(), &dec).ok());
    EXPECT_TRUE(dec->Verify().ok());
  }
  for (size_t i = 0; i < cpu.tensors.size(); ++i)
    EXPECT_NEAR(emu.tensors[i].sse, cpu.tensors[i].sse, 0.05 * cpu.tensors[i].sse) << cpu.tensors[i].name;
}

}  // namespace
}  // namespace sdc
