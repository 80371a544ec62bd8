#include <cstdio>

#include "cli/commands.h"
#include "decoder/decoder.h"
#include "report/report.h"

namespace sdc::cli {
namespace {

struct InspectArgs {
  std::string input;
  bool json = false;
};

}  // namespace

void AddInspect(CLI::App& app, Run* run) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* c = app.add_subcommand("inspect", "Report the bytes of an .sdc file by section, tensor and role");
  c->add_option("input", a->input, "Input .sdc file")->required()->check(CLI::ExistingFile);
  c->add_flag("--json", a->json, "Print the report as JSON (schema sdcodec.inspect/1)");
  c->callback([run, a] {
    *run = [a] {
      // Structure is validated on open; payload hashes are verify's job.
      std::unique_ptr<Decoder> d;
      if (Status s = Decoder::OpenFile(a->input, DecodeLimits(), &d); !s.ok()) return Fail(s.WithContext(a->input));
      nlohmann::ordered_json j = InspectJson(d->container());
      if (a->json)
        std::printf("%s\n", j.dump(2).c_str());
      else
        std::printf("%s", InspectText(j).c_str());
      return 0;
    };
  });
}

}  // namespace sdc::cli
