// Which distance kernels the CPU k-means runs (enc_kmeans_simd.h): the widest instruction set the CPU
// has, detected once per process. SDC_KMEANS_ISA=generic|avx2 lowers the choice (to test the portable
// paths); it never raises it.
#include <cstdlib>
#include <string>

#include "encoder/enc_kmeans_simd.h"

namespace sdc::kmeans {

#ifdef SDC_KMEANS_X86
namespace {

enum class Isa { kGeneric, kAvx2, kAvx512 };

Isa DetectIsa() {
  __builtin_cpu_init();
  Isa isa = Isa::kGeneric;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = Isa::kAvx2;
  if (__builtin_cpu_supports("avx512f")) isa = Isa::kAvx512;
  if (const char* env = std::getenv("SDC_KMEANS_ISA")) {
    const std::string v = env;
    if (v == "generic") isa = Isa::kGeneric;
    if (v == "avx2" && isa == Isa::kAvx512) isa = Isa::kAvx2;
  }
  return isa;
}

Isa CurrentIsa() {
  static const Isa isa = DetectIsa();
  return isa;
}

}  // namespace

Kernels SelectKernels(size_t d) {
  switch (CurrentIsa()) {
    case Isa::kAvx512: return Avx512Kernels(d);
    case Isa::kAvx2: return Avx2Kernels();
    case Isa::kGeneric: break;
  }
  return GenericKernels();
}

// The by-dimension distances and the listing have AVX-512 versions only; other CPUs run the portable ones.
void AllDist(const float* xc, const ByDim& p, float* q) {
  if (CurrentIsa() == Isa::kAvx512)
    AllDistAvx512(xc, p, q);
  else
    AllDistGeneric(xc, p, q);
}

size_t ListWithin(const float* q, size_t blocks, float hi, uint32_t* out) {
  return CurrentIsa() == Isa::kAvx512 ? ListWithinAvx512(q, blocks, hi, out) : ListWithinGeneric(q, blocks, hi, out);
}
#else
Kernels SelectKernels(size_t) { return GenericKernels(); }
void AllDist(const float* xc, const ByDim& p, float* q) { AllDistGeneric(xc, p, q); }
size_t ListWithin(const float* q, size_t blocks, float hi, uint32_t* out) {
  return ListWithinGeneric(q, blocks, hi, out);
}
#endif

}  // namespace sdc::kmeans
