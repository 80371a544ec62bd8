// The decoder's resource limits (format/limits.h) as command-line options of decode, verify and inspect:
// the defaults are safe for hostile files; a user decoding a model larger than they admit raises them, and
// one decoding untrusted files inside a small process lowers them.
#pragma once

#include <CLI/CLI.hpp>

#include "format/limits.h"

namespace sdc::cli {

void AddLimitOptions(CLI::App* c, DecodeLimits* limits);

}  // namespace sdc::cli
