#include <cstdio>

#include "cli/commands.h"
#include "cli/limit_options.h"
#include "decoder/decoder.h"
#include "report/report.h"
#include "report/report_compare.h"

namespace sdc::cli {
namespace {

struct CompareArgs {
  std::vector<std::string> inputs;
  bool json = false;
  DecodeLimits limits;
};

int RunCompare(const CompareArgs& a) {
  std::vector<std::pair<std::string, nlohmann::ordered_json>> reports;
  for (const std::string& in : a.inputs) {
    std::unique_ptr<Decoder> d;
    if (Status s = Decoder::OpenFile(in, a.limits, &d); !s.ok()) return Fail(s.WithContext(in));
    reports.push_back({in, InspectJson(d->container())});
  }
  const nlohmann::ordered_json j = CompareJson(reports);
  if (a.json)
    std::printf("%s\n", DumpJson(j, 2).c_str());
  else
    std::printf("%s", CompareText(j).c_str());
  return 0;
}

}  // namespace

void AddCompare(CLI::App& app, Run* run) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* c =
      app.add_subcommand("compare", "Compare .sdc files side by side: bytes by role and per tensor, matched by name");
  c->add_option("inputs", a->inputs, "Two or more .sdc files (differences are from the first)")
      ->required()
      ->expected(2, 64)
      ->check(CLI::ExistingFile);
  c->add_flag("--json", a->json, "Print the comparison as JSON (schema sdcodec.compare/1)");
  AddLimitOptions(c, &a->limits);
  c->callback([run, a] { *run = [a] { return RunCompare(*a); }; });
}

}  // namespace sdc::cli
