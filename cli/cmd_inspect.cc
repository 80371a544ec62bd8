#include <cstdio>

#include "cli/commands.h"
#include "cli/limit_options.h"
#include "decoder/decoder.h"
#include "format/file_io.h"
#include "format/printable.h"
#include "report/report.h"
#include "report/report_html.h"

namespace sdc::cli {
namespace {

struct InspectArgs {
  std::string input, html;
  bool json = false;
  DecodeLimits limits;
};

}  // namespace

void AddInspect(CLI::App& app, Run* run) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* c = app.add_subcommand("inspect", "Report the bytes of an .sdc file by section, tensor and role");
  c->add_option("input", a->input, "Input .sdc file")->required()->check(CLI::ExistingFile);
  c->add_flag("--json", a->json, "Print the report as JSON (schema sdcodec.inspect/1)");
  c->add_option("--html", a->html, "Also write the report as one self-contained HTML page (written atomically)");
  AddLimitOptions(c, &a->limits);
  c->callback([run, a] {
    *run = [a] {
      // Structure is validated on open; payload hashes are verify's job.
      std::unique_ptr<Decoder> d;
      if (Status s = Decoder::OpenFile(a->input, a->limits, &d); !s.ok())
        return Fail(s.WithContext(Printable(a->input)));
      const InspectReport report(d->container());
      if (!a->html.empty()) {
        const std::string page = InspectHtml(report.ToJson(), a->input);
        const std::vector<std::string> inputs{a->input};
        if (Status s =
                WriteFileAtomic(a->html, std::span(reinterpret_cast<const uint8_t*>(page.data()), page.size()), inputs);
            !s.ok())
          return Fail(s);
      }
      // Written entry by entry: a file of a million tensors never becomes one JSON tree in memory.
      const auto out = [](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); };
      if (a->json)
        report.WriteJson(out);
      else
        report.WriteText(out);
      return 0;
    };
  });
}

}  // namespace sdc::cli
