// sdcodec: encode / decode / verify / inspect .sdc files.
#include <cstdio>

#include "cli/commands.h"
#include "format/printable.h"

namespace sdc::cli {

int Fail(const Status& status) {
  // Names in messages are escaped where they are built; this pass catches any control byte left.
  std::fprintf(stderr, "sdcodec: %s\n", Printable(status.ToString(), /*escape_backslash=*/false).c_str());
  return 1;
}

}  // namespace sdc::cli

int main(int argc, char** argv) {
  CLI::App app{"sdcodec: store neural-network weights in few bytes and give them back exactly"};
  app.require_subcommand(1);
  sdc::cli::Run run;
#ifdef SDC_HAVE_ENCODER
  sdc::cli::AddEncode(app, &run);
#endif
  sdc::cli::AddDecode(app, &run);
  sdc::cli::AddVerify(app, &run);
  sdc::cli::AddInspect(app, &run);
  sdc::cli::AddCompare(app, &run);
  sdc::cli::AddPlan(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line: the reason, and where to look for usage.
    std::fprintf(stderr, "sdcodec: %s (see sdcodec --help)\n", e.what());
    return 2;
  }
  if (!run) return 2;
  int code = 1;
  // Nothing a subcommand throws (an allocation failure, say) may end the process without its one line.
  if (sdc::Status s = sdc::Guarded([&] {
        code = run();
        return sdc::Status::Ok();
      });
      !s.ok())
    return sdc::cli::Fail(s);
  return code;
}
