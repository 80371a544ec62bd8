// Each sdcodec subcommand registers its options on the CLI11 app and sets `run`, which returns the exit
// code. Failures print one line, "sdcodec: <reason>", to stderr (Fail below).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "format/status.h"

namespace sdc::cli {

using Run = std::function<int()>;

void AddEncode(CLI::App& app, Run* run);
void AddDecode(CLI::App& app, Run* run);
void AddVerify(CLI::App& app, Run* run);
void AddInspect(CLI::App& app, Run* run);
void AddCompare(CLI::App& app, Run* run);
void AddPlan(CLI::App& app, Run* run);

// Prints "sdcodec: <status>" and returns the exit code for a failed status (1).
int Fail(const Status& status);

}  // namespace sdc::cli
