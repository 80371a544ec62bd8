// Helpers shared by the .cu files of the GPU encoder path: errors as Status, device buffers, the
// process-wide lock and the device check every entry point starts with.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "format/status.h"

namespace sdc::cuda {

inline Status Fail(const char* what, cudaError_t e) {
  return Status(StatusCode::kUnsupported, std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

#define SDC_CUDA_TRY(what, expr)                                                   \
  do {                                                                             \
    const cudaError_t sdc_cuda_e_ = (expr);                                        \
    if (sdc_cuda_e_ != cudaSuccess) return ::sdc::cuda::Fail((what), sdc_cuda_e_); \
  } while (0)

// Checks a kernel launch (configuration errors) and, with sync, its execution.
inline Status CheckLaunch(const char* what, bool sync = false) {
  SDC_CUDA_TRY(what, cudaGetLastError());
  if (sync) SDC_CUDA_TRY(what, cudaDeviceSynchronize());
  return Status::Ok();
}

// Owning device allocation of `count` T (at least one element is allocated).
template <class T>
class DevBuf {
 public:
  DevBuf() = default;
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (p_) cudaFree(p_);
  }
  Status Alloc(size_t count, const char* what) {
    if (p_ && count <= cap_) {
      count_ = count;
      return Status::Ok();
    }
    if (p_) cudaFree(p_), p_ = nullptr, cap_ = 0;
    void* p = nullptr;
    SDC_CUDA_TRY(what, cudaMalloc(&p, (count ? count : 1) * sizeof(T)));
    p_ = static_cast<T*>(p);
    cap_ = count_ = count;
    return Status::Ok();
  }
  Status Upload(const T* src, size_t count, const char* what) {
    SDC_RETURN_IF_ERROR(Alloc(count, what));
    if (count) SDC_CUDA_TRY(what, cudaMemcpy(p_, src, count * sizeof(T), cudaMemcpyHostToDevice));
    return Status::Ok();
  }
  Status Download(T* dst, size_t count, const char* what) const {
    if (count) SDC_CUDA_TRY(what, cudaMemcpy(dst, p_, count * sizeof(T), cudaMemcpyDeviceToHost));
    return Status::Ok();
  }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  size_t cap_ = 0, count_ = 0;
};

// Serialises GPU work of the whole process (one device, the legacy default stream).
std::mutex& Lock();
// Error Status unless CudaDeviceAvailable(); sets device 0 current for the calling thread.
Status Ready();

inline unsigned Blocks(size_t items, unsigned per_block) {
  return static_cast<unsigned>((items + per_block - 1) / per_block);
}

}  // namespace sdc::cuda
