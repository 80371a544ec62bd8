/* sdcodec C API: decode (and, in full builds, encode) .sdc files from any language with a C FFI.
 *
 * Conventions
 *  - Every function that can fail returns an int: SDC_OK (0) or a status code (SDC_E_*); the reason, one
 *    line naming the section, tensor or asset, is then in sdc_last_error() (thread-local, valid until the
 *    next failing call on that thread).
 *  - Memory handed out by the library (sdc_encode's output, sdc_decoder_inspect_json's text) is released
 *    with sdc_free. Handles are released with sdc_decoder_free. Nothing aborts or throws across the API.
 *  - The decoder part links the decoder alone (libsdc_c_decoder); sdc_encode needs the encoder
 *    (libsdc_c, which has both).
 * Stability: the functions and structs here are version 1 of the C API; additions only within it. */
#ifndef SDCODEC_SDCODEC_H_
#define SDCODEC_SDCODEC_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDC_C_API_VERSION 1

/* The functions shared libraries export (they hide everything else; -DBUILD_SHARED_LIBS=ON builds). */
#if defined(__GNUC__) || defined(__clang__)
#define SDC_API __attribute__((visibility("default")))
#else
#define SDC_API
#endif

enum {
  SDC_OK = 0,
  SDC_E_INVALID_ARGUMENT = 1,
  SDC_E_IO = 2,
  SDC_E_CORRUPT = 3,
  SDC_E_CHECKSUM = 4,
  SDC_E_LIMIT_EXCEEDED = 5,
  SDC_E_UNSUPPORTED = 6,
  SDC_E_BUDGET = 7,
  SDC_E_INTERNAL = 8
};

#define SDC_MAX_RANK 8

typedef struct sdc_decoder sdc_decoder;

typedef struct {
  const char* name;  /* owned by the decoder; valid while it lives */
  const char* dtype; /* safetensors spelling: "F32", "F16", "BF16", "I64", ... */
  const char* role;  /* "embedding", "head", "attention", "mlp", "norm", "other" */
  uint32_t rank;
  uint64_t shape[SDC_MAX_RANK];
  uint64_t nbytes; /* bytes of the reconstructed tensor */
} sdc_tensor_info;

SDC_API const char* sdc_last_error(void);
SDC_API void sdc_free(void* p);

/* Limits of 0 take the decoder's defaults (format/limits.h); see spec/format.md section 10. */
typedef struct {
  uint64_t max_manifest_bytes, max_sections, max_section_bytes, max_tensor_bytes, max_output_bytes;
} sdc_limits;

/* Opens a file held in memory (copied) or on disk; validates header, manifest and layout. limits may be NULL. */
SDC_API int sdc_decoder_open(const uint8_t* data, size_t size, const sdc_limits* limits, sdc_decoder** out);
SDC_API int sdc_decoder_open_file(const char* path, const sdc_limits* limits, sdc_decoder** out);
SDC_API void sdc_decoder_free(sdc_decoder* d);

SDC_API uint32_t sdc_decoder_tensor_count(const sdc_decoder* d);
SDC_API int sdc_decoder_tensor_info(const sdc_decoder* d, uint32_t index, sdc_tensor_info* out);
/* Reconstructs tensor `index` (checksums and its hash checked) into dst, which holds exactly nbytes. */
SDC_API int sdc_decoder_decode_tensor(const sdc_decoder* d, uint32_t index, void* dst, size_t dst_size);
SDC_API uint32_t sdc_decoder_asset_count(const sdc_decoder* d);
/* Asset `index`: its name, and its bytes copied into a new buffer (release with sdc_free). */
SDC_API int sdc_decoder_asset(const sdc_decoder* d, uint32_t index, const char** name, uint8_t** data, size_t* size);
/* Every check decoding makes, keeping nothing. */
SDC_API int sdc_decoder_verify(const sdc_decoder* d);
/* The inspect report (JSON, schema sdcodec.inspect/1) as a NUL-terminated string; release with sdc_free. */
SDC_API int sdc_decoder_inspect_json(const sdc_decoder* d, char** out);

/* Encoding (full builds only). tensors: n entries; data holds numel * size(dtype) little-endian bytes.
 * options_json: NULL or a JSON object with the CLI's encode options by name, e.g.
 * {"budget": 16000000, "method": "codebook", "k": 256} (spec: python/sdcodec/__init__.py encode()).
 * importance: NULL or n_importance entries (F32, one value, one per column or one per element, matched by
 * name). The file is returned in *out (release with sdc_free). */
typedef struct {
  const char* name;
  const char* dtype;
  uint32_t rank;
  const uint64_t* shape;
  const void* data;
  size_t nbytes;
} sdc_tensor_in;

SDC_API int sdc_encode(const sdc_tensor_in* tensors, size_t n, const sdc_tensor_in* importance, size_t n_importance,
                       const char* options_json, uint8_t** out, size_t* out_size);

/* sdc_encode with calibration Hessians for loss-aware coding: hessians is NULL or n_hessians entries, each a
 * square [in, in] float matrix H = E[x xT] over the inputs that multiply the columns of the 2-D tensor it is
 * named after (the --hessians format of `sdcodec encode`). Per-tensor sensitivities go in options_json as
 * {"sensitivity": {name: factor}}. */
int sdc_encode_calibrated(const sdc_tensor_in* tensors, size_t n, const sdc_tensor_in* importance, size_t n_importance,
                          const sdc_tensor_in* hessians, size_t n_hessians, const char* options_json, uint8_t** out,
                          size_t* out_size);

#ifdef __cplusplus
}
#endif

#endif /* SDCODEC_SDCODEC_H_ */
