// The distance kernels of the CPU k-means back end (enc_kmeans_cpu.cc): portable code, and on x86
// AVX-512 and AVX2+FMA versions (enc_kmeans_simd.cc), with the run-time choice among them
// (enc_kmeans_dispatch.cc). Every kernel finds the same nearest centroid (ties to the lowest index) as the
// portable one up to float rounding of the distances; which kernel ran can change a near-tie, never the
// thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#define SDC_KMEANS_X86 1
#endif

namespace sdc::kmeans {

inline constexpr size_t kLanes = 16;  // centroids per block of the by-dimension layout; points per tile, at most
inline constexpr float kInf = std::numeric_limits<float>::infinity();

// Distances in the kernels are computed directly, sum_t (x_t - c_t)^2 in float: unlike |c|^2 - 2 x.c (the
// GEMM form), the rounding error is relative to the distance itself, so near neighbours stay ordered even
// far from the origin; and the subtractions run on the adders beside the FMAs, so it costs no more.
// Relative error bound of such a float distance (d rounded subtractions, squares and sums), with room.
inline double RelErr(size_t d) { return static_cast<double>(d + 4) * 0x1.0p-22; }

// Centroid coordinates by dimension in blocks of 16 (padding +inf), for the distances from one point to
// every centroid.
struct ByDim {
  size_t d = 0, k = 0, blocks = 0;
  std::vector<float> soa;
};

inline void MakeByDim(const float* c, size_t k, size_t d, ByDim* p) {
  p->d = d;
  p->k = k;
  p->blocks = (k + kLanes - 1) / kLanes;
  p->soa.assign(p->blocks * d * kLanes, kInf);
  for (size_t j = 0; j < k; ++j) {
    float* blk = p->soa.data() + (j / kLanes) * d * kLanes + j % kLanes;
    for (size_t t = 0; t < d; ++t) blk[t * kLanes] = c[j * d + t];
  }
}

// Tile kernels: a tile of `lanes` points stored by dimension (xt[t * lanes + l]) against centroids
// (row-major, k x d): either all of them (cand == nullptr, count = k) or the listed ones, in increasing
// index order. Output: for each lane, the centroid at the least float distance, ties to the lowest index.
// Per candidate and tile: d subtractions and d FMAs (the centroid's coordinates broadcast from memory), a
// compare and two masked moves.
using TileFn = void (*)(const float* xt, size_t d, const float* cent, const uint32_t* cand, size_t count,
                        uint32_t* idx);
struct Kernels {
  TileFn all = nullptr, list = nullptr;
  size_t lanes = 0;
};

// Portable kernels (any CPU).
Kernels GenericKernels();
// Squared float distances from one point to every centroid (q: blocks * 16 entries; padding gives +inf).
void AllDistGeneric(const float* xc, const ByDim& p, float* q);
// Writes to out the indices j (in increasing order) with q[j] <= hi; returns their number. q holds
// blocks * 16 values (padding is +inf, never listed).
size_t ListWithinGeneric(const float* q, size_t blocks, float hi, uint32_t* out);

#ifdef SDC_KMEANS_X86
// AVX-512 kernels (specialised for d <= 16) and AVX2+FMA ones: call only where the CPU has them.
Kernels Avx512Kernels(size_t d);
Kernels Avx2Kernels();
void AllDistAvx512(const float* xc, const ByDim& p, float* q);
size_t ListWithinAvx512(const float* q, size_t blocks, float hi, uint32_t* out);
#endif

// The kernels of the best instruction set this CPU has (enc_kmeans_dispatch.cc; SDC_KMEANS_ISA=avx2|generic
// forces a lower one), as the functions above.
Kernels SelectKernels(size_t d);
void AllDist(const float* xc, const ByDim& p, float* q);
size_t ListWithin(const float* q, size_t blocks, float hi, uint32_t* out);

}  // namespace sdc::kmeans
