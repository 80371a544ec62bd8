// k-means benchmark: reads n x d float32 values (raw, little-endian, row-major), runs sdc::KMeans, writes
// the k x d centroids (raw float32) and prints time, MSE, iterations and peak RSS.
//
//   sdc_kmeans_bench --input X.f32 --dim 8 [--k 4096] [--iterations 20] [--seed 1] [--init pp|random]
//                    [--threads N] [--weights W.f32] [--output C.f32] [--verbose]
//
// The last line is machine-readable:
// "RESULT seconds=... cpu_seconds=... mse=... iterations=... threads=... peak_rss_kib=..." (seconds: wall time
// of the KMeans call alone; cpu_seconds: process CPU time over the same span).
#include <omp.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "encoder/enc_kmeans.h"

namespace {

bool ReadFloats(const std::string& path, std::vector<float>* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  out->resize(static_cast<size_t>(size) / sizeof(float));
  const size_t got = std::fread(out->data(), sizeof(float), out->size(), f);
  std::fclose(f);
  return got == out->size();
}

long PeakRssKib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

int Usage() {
  std::fprintf(stderr, "usage: sdc_kmeans_bench --input X.f32 --dim D [--k K] [--iterations N] [--seed S] "
                       "[--init pp|random] [--threads T] [--weights W.f32] [--output C.f32] [--verbose]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input, output, weights_path;
  size_t dim = 0;
  int threads = 0;
  bool verbose = false;
  sdc::KMeansOptions opt;
  opt.k = 4096;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--verbose") {
      verbose = true;
      continue;
    }
    if (!(v = value())) return Usage();
    if (a == "--input")
      input = v;
    else if (a == "--output")
      output = v;
    else if (a == "--weights")
      weights_path = v;
    else if (a == "--dim")
      dim = std::strtoul(v, nullptr, 10);
    else if (a == "--k")
      opt.k = std::atoi(v);
    else if (a == "--iterations")
      opt.iterations = std::atoi(v);
    else if (a == "--seed")
      opt.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--threads")
      threads = std::atoi(v);
    else if (a == "--init") {
      if (std::strcmp(v, "pp") == 0)
        opt.init = sdc::KMeansOptions::Init::kPlusPlus;
      else if (std::strcmp(v, "random") == 0)
        opt.init = sdc::KMeansOptions::Init::kRandom;
      else
        return Usage();
    } else
      return Usage();
  }
  if (input.empty() || dim == 0) return Usage();
  if (threads > 0) omp_set_num_threads(threads);

  std::vector<float> x, w;
  if (!ReadFloats(input, &x) || x.size() % dim != 0) {
    std::fprintf(stderr, "cannot read %s as n x %zu float32\n", input.c_str(), dim);
    return 1;
  }
  if (!weights_path.empty() && !ReadFloats(weights_path, &w)) {
    std::fprintf(stderr, "cannot read %s\n", weights_path.c_str());
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double cpu0 = cpu_now();
  const auto t0 = Clock::now();
  auto last = t0;
  if (verbose)
    opt.progress = [&](int it, double mse) {
      const auto now = Clock::now();
      std::printf("  pass %2d  mse %.6e  %.3f s (+%.3f)\n", it, mse, std::chrono::duration<double>(now - t0).count(),
                  std::chrono::duration<double>(now - last).count());
      last = now;
    };
  sdc::KMeansResult res;
  const sdc::Status st = sdc::KMeans(x, dim, w, opt, &res);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu_seconds = cpu_now() - cpu0;
  if (!st.ok()) {
    std::fprintf(stderr, "kmeans: %s\n", st.ToString().c_str());
    return 1;
  }
  if (!output.empty()) {
    FILE* f = std::fopen(output.c_str(), "wb");
    if (!f || std::fwrite(res.centroids.data(), sizeof(float), res.centroids.size(), f) != res.centroids.size()) {
      std::fprintf(stderr, "cannot write %s\n", output.c_str());
      return 1;
    }
    std::fclose(f);
  }
  const int used_threads = threads > 0 ? threads : omp_get_max_threads();
  std::printf("n=%zu d=%zu k=%d iterations=%d/%d threads=%d: %.3f s (CPU %.3f s), mse %.6e, peak RSS %.1f MiB\n",
              x.size() / dim, dim, opt.k, res.iterations_run, opt.iterations, used_threads, seconds, cpu_seconds,
              res.mse, PeakRssKib() / 1024.0);
  std::printf("RESULT seconds=%.6f cpu_seconds=%.6f mse=%.9e iterations=%d threads=%d peak_rss_kib=%ld\n", seconds,
              cpu_seconds, res.mse, res.iterations_run, used_threads, PeakRssKib());
  return 0;
}
