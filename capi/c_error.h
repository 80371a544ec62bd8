// The C API's one error path: a Status becomes a return code and the thread's last error message.
#pragma once

#include "format/status.h"

namespace sdc::capi {

int Report(const Status& s);  // SDC_OK for ok; otherwise stores s.ToString() and returns its code

}  // namespace sdc::capi
