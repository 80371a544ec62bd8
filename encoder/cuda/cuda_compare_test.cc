// GPU against CPU (built with -DSDC_CUDA=ON; every test skips, with the reason, when no CUDA device is
// present). Checked on a device:
//  * the GPU assignment equals its CPU emulation exactly (direct kernel, and the cuBLAS path for d >= 32),
//    and the CPU encoder's assignment wherever the two best distances differ by more than the tolerance
//    of test_support.h (max(1e-5 relative, the CPU kernel's rounding bound));
//  * GPU k-means equals the emulation bit for bit, and the CPU k-means bit for bit on separated data,
//    within 1% of its MSE on unstructured data;
//  * the GPU beam search equals the CPU encoder's, bit for bit; runs are deterministic.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "encoder/cuda/gpu_emulation.h"
#include "encoder/cuda/kmeans_cuda.h"
#include "encoder/cuda/test_support.h"
#include "encoder/device.h"
#include "encoder/enc_codebook.h"
#include "encoder/enc_kmeans.h"

namespace sdc {
namespace {

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    std::string why;                                                           \
    if (!CudaDeviceAvailable(&why)) GTEST_SKIP() << "no CUDA device: " << why; \
  } while (0)

TEST(CudaCompare, DeviceReport) {
  REQUIRE_GPU();
  std::string why;
  const bool gemm = CudaGemmAvailable(&why);
  const std::string name = CudaDeviceName();
  std::printf("device: %s; cuBLAS path: %s\n", name.c_str(), gemm ? "available" : why.c_str());
  // The probe ran a kernel of this build on device 0; its name carries the compute capability.
  EXPECT_NE(name.find(" (sm_"), std::string::npos) << name;
  EXPECT_EQ(name.back(), ')') << name;
  EXPECT_TRUE(gemm || !why.empty()) << "a missing cuBLAS path says why";
  // What the encoder then does: --device auto takes this GPU and says so, --device cuda accepts it.
  Device d = Device::kCpu;
  std::string note;
  ASSERT_TRUE(ResolveDevice(Device::kAuto, &d, &note).ok());
  EXPECT_EQ(d, Device::kCuda);
  EXPECT_EQ(note, "GPU " + name);
  d = Device::kCpu;
  ASSERT_TRUE(ResolveDevice(Device::kCuda, &d, &note).ok());
  EXPECT_EQ(d, Device::kCuda);
  EXPECT_EQ(CudaGpu(), CudaGpu()) << "one back end per process";
  ASSERT_NE(CudaGpu(), nullptr);
  std::string backend_name, backend_why;
  EXPECT_TRUE(CudaGpu()->Available(&backend_name, &backend_why));
  EXPECT_EQ(backend_name, name);
}

TEST(CudaCompare, AssignmentMatchesEmulationAndCpu) {
  REQUIRE_GPU();
  for (size_t d : {1, 4, 8, 9, 16, 17, 32, 64, 100}) {
    const size_t n = 20000, k = d >= 32 ? 300 : 256;
    const std::vector<float> x = gputest::Gaussian(n * d, 10 + d), c = gputest::Gaussian(k * d, 20 + d);
    const std::vector<float> pen = gputest::Gaussian(k, 30 + d, 0.3f, 1.0f);
    for (bool use_pen : {false, true}) {
      std::span<const float> p = use_pen ? std::span<const float>(pen) : std::span<const float>();
      std::vector<uint32_t> gpu(n), emu(n), cpu(n);
      std::vector<float> gd(n), ed(n), cd(n);
      const Status s = AssignNearestCuda(x, d, c, p, gpu, gd);
      ASSERT_TRUE(s.ok()) << s.ToString();
      gpu::AssignNearestEmulated(x, d, c, p, emu, ed);
      ASSERT_TRUE(AssignNearestOn(Placement::Cpu(), x, d, c, p, cpu, cd).ok());
      EXPECT_EQ(gpu, emu) << "d " << d << " penalty " << use_pen;
      EXPECT_EQ(gd, ed);
      const gputest::Ambiguity amb = gputest::FindAmbiguous(x, d, c, p);
      EXPECT_EQ(gputest::UnambiguousMismatches(gpu, cpu, amb), 0u)
          << "d " << d << " penalty " << use_pen << " (ambiguous points: " << amb.count << ")";
    }
  }
}

TEST(CudaCompare, KMeansMatchesEmulationAndCpu) {
  REQUIRE_GPU();
  for (size_t d : {4, 8, 40}) {
    const size_t n = 50000;
    const std::vector<float> x = gputest::Gaussian(n * d, 50 + d), w = gputest::Gaussian(n, 60 + d, 0.2f, 1.0f);
    KMeansOptions o;
    o.k = 256;
    o.iterations = 10;
    for (bool weighted : {false, true}) {
      std::span<const float> ws = weighted ? std::span<const float>(w) : std::span<const float>();
      KMeansResult gpu, gpu2, emu, cpu;
      const Status s = KMeansCuda(x, d, ws, o, &gpu);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_TRUE(KMeansCuda(x, d, ws, o, &gpu2).ok());
      ASSERT_TRUE(gpu::KMeansEmulated(x, d, ws, o, &emu).ok());
      ASSERT_TRUE(KMeans(x, d, ws, o, &cpu).ok());
      EXPECT_EQ(gpu.centroids, gpu2.centroids) << "deterministic";
      EXPECT_EQ(gpu.centroids, emu.centroids) << "d " << d;
      EXPECT_EQ(gpu.assign, emu.assign);
      EXPECT_EQ(gpu.mse, emu.mse);
      EXPECT_NEAR(gpu.mse, cpu.mse, 0.01 * cpu.mse) << "d " << d;
    }
  }
  // Separated clusters: no ambiguity, so the GPU codebook is the CPU's bit for bit.
  const size_t d = 8, n = 30000;
  const std::vector<float> x = gputest::Clustered(n, d, 64, 100.0f, 70);
  KMeansOptions o;
  o.k = 64;
  o.iterations = 8;
  KMeansResult gpu, cpu;
  ASSERT_TRUE(KMeansCuda(x, d, {}, o, &gpu).ok());
  ASSERT_TRUE(KMeans(x, d, {}, o, &cpu).ok());
  EXPECT_EQ(gpu.centroids, cpu.centroids);
  EXPECT_EQ(gpu.assign, cpu.assign);
  EXPECT_EQ(gpu.mse, cpu.mse);
}

TEST(CudaCompare, BeamSearchMatchesTheCpu) {
  REQUIRE_GPU();
  const uint32_t d = 8, k = 256, M = 3, beam = 4, n = 20000;
  const std::vector<float> x = gputest::Gaussian(n * d, 80), banks = gputest::Gaussian(M * k * d, 81, 0.5f);
  const std::vector<float> alpha = {1.0f, 0.9f, 0.8f}, bits = gputest::Gaussian(M * k, 82, 1.0f, 8.0f);
  for (bool with_bits : {false, true}) {
    std::span<const float> b = with_bits ? std::span<const float>(bits) : std::span<const float>();
    std::vector<uint32_t> gpu(n * M), emu(n * M);
    BeamRequest req;
    req.x = x;
    req.d = d;
    req.k = k;
    req.m_count = M;
    req.banks = banks;
    req.alpha = alpha;
    req.beam = beam;
    req.lambda = 0.1;
    req.bits = b;
    const Status s = BeamAssignCuda(req, gpu);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(gpu::BeamAssignEmulated(req, emu).ok());
    EXPECT_EQ(gpu, emu);
  }
  // Through the encoder: device cuda and cpu give the same codes (beam path).
  std::vector<float> w = gputest::Gaussian(256 * 512, 83, 0.02f);
  CodebookInput in{w, RowLayout{256, 512}};
  CodebookSearch s;
  s.dim = 8;
  s.k = 256;
  s.codebooks = 2;
  BankSet banks_cpu;
  ASSERT_TRUE(TrainBanks(std::span<const CodebookInput>(&in, 1), s, &banks_cpu).ok());
  CodebookCodes cpu, gpu;
  ASSERT_TRUE(EncodeWithBanks(in, banks_cpu, s, 0.2, &cpu).ok());
  s.device = Device::kCuda;
  ASSERT_TRUE(EncodeWithBanks(in, banks_cpu, s, 0.2, &gpu).ok());
  EXPECT_EQ(cpu.indices, gpu.indices);
  EXPECT_EQ(cpu.coefficients, gpu.coefficients);
  EXPECT_EQ(cpu.scales, gpu.scales);
}

}  // namespace
}  // namespace sdc
