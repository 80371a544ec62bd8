/* The decoder half of the C API from C, linked against sdc_c_decoder alone (it must link without any
 * encoder code; this test is built in decoder-only builds too): garbage, a truncated header, a missing file
 * and bad arguments each fail with their code and a one-line message, and nothing is handed out. */
#include <stdio.h>
#include <string.h>

#include "capi/c_test_check.h"
#include "sdcodec/sdcodec.h"

static int one_line(const char* s) { return s && s[0] && !strchr(s, '\n'); }

int main(void) {
  static uint8_t garbage[4096];
  for (size_t i = 0; i < sizeof garbage; ++i) garbage[i] = (uint8_t)(i * 131u + 7u);
  sdc_decoder* d = (sdc_decoder*)&failures; /* must stay untouched on failure */
  int rc = sdc_decoder_open(garbage, sizeof garbage, NULL, &d);
  CHECK(rc == SDC_E_CORRUPT || rc == SDC_E_UNSUPPORTED);
  CHECK(one_line(sdc_last_error()));
  CHECK(d == (sdc_decoder*)&failures);

  CHECK(sdc_decoder_open(garbage, 3, NULL, &d) == SDC_E_CORRUPT); /* shorter than the header */
  CHECK(one_line(sdc_last_error()));
  CHECK(sdc_decoder_open(NULL, 0, NULL, &d) == SDC_E_CORRUPT); /* empty */

  CHECK(sdc_decoder_open_file("/nonexistent/dir/model.sdc", NULL, &d) == SDC_E_IO);
  CHECK(strstr(sdc_last_error(), "/nonexistent/dir/model.sdc") != NULL);

  CHECK(sdc_decoder_open(garbage, sizeof garbage, NULL, NULL) == SDC_E_INVALID_ARGUMENT);
  CHECK(sdc_decoder_open(NULL, 10, NULL, &d) == SDC_E_INVALID_ARGUMENT);
  CHECK(sdc_decoder_tensor_count(NULL) == 0 && sdc_decoder_asset_count(NULL) == 0);
  sdc_tensor_info info;
  CHECK(sdc_decoder_tensor_info(NULL, 0, &info) == SDC_E_INVALID_ARGUMENT);
  CHECK(sdc_decoder_verify(NULL) == SDC_E_INVALID_ARGUMENT);
  sdc_decoder_free(NULL);
  sdc_free(NULL);
  printf("c_decoder_test: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
