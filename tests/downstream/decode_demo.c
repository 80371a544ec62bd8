/* A downstream program built against an installed sdcodec (tests/downstream/run.sh): decodes every tensor
 * and asset of an .sdc file through the C API and prints one line each,
 *   tensor NAME DTYPE DIMxDIM... NBYTES FNV1A64
 *   asset NAME SIZE FNV1A64
 * which run.sh compares with the CLI's own decoding of the same file. Exit status 1 with the library's
 * one-line message on any failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sdcodec/sdcodec.h"
#include "sdcodec/version.h"

static uint64_t fnv1a64(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static int fail(const char* what) {
  fprintf(stderr, "decode_demo: %s: %s\n", what, sdc_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: decode_demo FILE.sdc\n");
    return 2;
  }
  fprintf(stderr, "decode_demo: sdcodec %s, C API %d\n", SDCODEC_VERSION_STRING, SDC_C_API_VERSION);
  sdc_decoder* d = NULL;
  if (sdc_decoder_open_file(argv[1], NULL, &d) != SDC_OK) return fail("open");
  int status = 0;
  for (uint32_t i = 0; i < sdc_decoder_tensor_count(d) && status == 0; ++i) {
    sdc_tensor_info info;
    if (sdc_decoder_tensor_info(d, i, &info) != SDC_OK) {
      status = fail("tensor info");
      break;
    }
    uint8_t* buf = malloc(info.nbytes ? info.nbytes : 1);
    if (!buf) {
      fprintf(stderr, "decode_demo: out of memory\n");
      status = 1;
      break;
    }
    if (sdc_decoder_decode_tensor(d, i, buf, info.nbytes) != SDC_OK) {
      status = fail(info.name);
    } else {
      printf("tensor %s %s ", info.name, info.dtype);
      for (uint32_t r = 0; r < info.rank; ++r) printf(r ? "x%" PRIu64 : "%" PRIu64, info.shape[r]);
      printf(" %" PRIu64 " %016" PRIx64 "\n", info.nbytes, fnv1a64(buf, info.nbytes));
    }
    free(buf);
  }
  for (uint32_t i = 0; i < sdc_decoder_asset_count(d) && status == 0; ++i) {
    const char* name = NULL;
    uint8_t* data = NULL;
    size_t size = 0;
    if (sdc_decoder_asset(d, i, &name, &data, &size) != SDC_OK) {
      status = fail("asset");
      break;
    }
    printf("asset %s %zu %016" PRIx64 "\n", name, size, fnv1a64(data, size));
    sdc_free(data);
  }
  sdc_decoder_free(d);
  return status;
}
