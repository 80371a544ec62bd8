/* The C API from C: encode two tensors, open the bytes, read infos, decode, verify, inspect; then a
 * corrupted copy and bad arguments must fail with a code and a message. Exits non-zero on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi/c_test_check.h"
#include "sdcodec/sdcodec.h"

int main(void) {
  enum { R = 64, C = 48 };
  static float w[R * C];
  static int64_t ids[5] = {3, 1, 4, 1, 5};
  static float temperature = 0.7f; /* a 0-d tensor: the manifest then has no shape vector at all */
  for (int i = 0; i < R * C; ++i) w[i] = (float)sin(i * 0.37) * 0.05f;
  const uint64_t wshape[2] = {R, C}, ishape[1] = {5};
  sdc_tensor_in in[3] = {{"layers.0.mlp.w", "F32", 2, wshape, w, sizeof w},
                         {"ids", "I64", 1, ishape, ids, sizeof ids},
                         {"temperature", "F32", 0, NULL, &temperature, sizeof temperature}};
  uint8_t* file = NULL;
  size_t size = 0;
  CHECK(sdc_encode(in, 3, NULL, 0, "{\"bits\": 5, \"min_numel\": 0}", &file, &size) == SDC_OK);
  CHECK(file != NULL && size > 40);

  sdc_decoder* d = NULL;
  CHECK(sdc_decoder_open(file, size, NULL, &d) == SDC_OK);
  CHECK(sdc_decoder_tensor_count(d) == 3);
  sdc_tensor_info info;
  CHECK(sdc_decoder_tensor_info(d, 0, &info) == SDC_OK);
  CHECK(strcmp(info.name, "layers.0.mlp.w") == 0 && strcmp(info.dtype, "F32") == 0 && info.rank == 2);
  CHECK(strcmp(info.role, "mlp") == 0 && info.shape[0] == R && info.shape[1] == C && info.nbytes == sizeof w);
  static float back[R * C];
  CHECK(sdc_decoder_decode_tensor(d, 0, back, sizeof back) == SDC_OK);
  double err = 0, sig = 0;
  for (int i = 0; i < R * C; ++i) err += (back[i] - w[i]) * (double)(back[i] - w[i]), sig += w[i] * (double)w[i];
  CHECK(10 * log10(sig / err) > 20.0); /* 5-bit scalar: about 27 dB */
  int64_t ids_back[5];
  CHECK(sdc_decoder_decode_tensor(d, 1, ids_back, sizeof ids_back) == SDC_OK);
  CHECK(memcmp(ids, ids_back, sizeof ids) == 0); /* integers are stored losslessly */
  CHECK(sdc_decoder_decode_tensor(d, 1, ids_back, 3) == SDC_E_INVALID_ARGUMENT);
  CHECK(strstr(sdc_last_error(), "bytes") != NULL);
  CHECK(sdc_decoder_tensor_info(d, 2, &info) == SDC_OK); /* crashed before: the absent shape was dereferenced */
  CHECK(info.rank == 0 && info.nbytes == sizeof temperature);
  float temperature_back = 0;
  CHECK(sdc_decoder_decode_tensor(d, 2, &temperature_back, sizeof temperature_back) == SDC_OK);
  CHECK(temperature_back == temperature);
  CHECK(sdc_decoder_tensor_info(d, 3, &info) == SDC_E_INVALID_ARGUMENT);
  CHECK(sdc_decoder_verify(d) == SDC_OK);
  char* json = NULL;
  CHECK(sdc_decoder_inspect_json(d, &json) == SDC_OK);
  CHECK(json && strstr(json, "\"schema\":\"sdcodec.inspect/1\"") != NULL);
  sdc_free(json);
  sdc_decoder_free(d);

  /* A flipped byte in the middle: refused at open or by verify, with a message. */
  file[size / 2] ^= 0x40;
  d = NULL;
  int rc = sdc_decoder_open(file, size, NULL, &d);
  if (rc == SDC_OK) {
    rc = sdc_decoder_verify(d);
    sdc_decoder_free(d);
  }
  CHECK(rc != SDC_OK && strlen(sdc_last_error()) > 0);
  /* A limit below the tensor: refused before decoding. */
  file[size / 2] ^= 0x40;
  sdc_limits small = {0, 0, 0, 100, 0};
  CHECK(sdc_decoder_open(file, size, &small, &d) == SDC_E_LIMIT_EXCEEDED);
  CHECK(sdc_encode(in, 2, NULL, 0, "{\"bitz\": 5}", &file, &size) == SDC_E_INVALID_ARGUMENT);
  CHECK(strstr(sdc_last_error(), "bitz") != NULL);
  CHECK(sdc_encode(in, 2, NULL, 0, "{not json", &file, &size) == SDC_E_INVALID_ARGUMENT);
  sdc_free(file);
  printf("c_api_test: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
