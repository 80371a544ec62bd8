// sdcodec: encode / decode / verify / inspect .sdc files.
#include <cstdio>

#include "cli/commands.h"

namespace sdc::cli {

int Fail(const Status& status) {
  std::fprintf(stderr, "sdcodec: %s\n", status.ToString().c_str());
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
  return run ? run() : 2;
}
