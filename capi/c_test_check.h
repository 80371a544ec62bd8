/* CHECK for the C API's C tests: reports a failed condition with the library's last error and counts it. */
#ifndef SDCODEC_C_TEST_CHECK_H_
#define SDCODEC_C_TEST_CHECK_H_

#include <stdio.h>

#include "sdcodec/sdcodec.h"

static int failures = 0;
#define CHECK(cond)                                                                                               \
  do {                                                                                                            \
    if (!(cond)) {                                                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, sdc_last_error()); \
      ++failures;                                                                                                 \
    }                                                                                                             \
  } while (0)

#endif /* SDCODEC_C_TEST_CHECK_H_ */
