#include <cstdio>

#include "cli/commands.h"
#include "cli/limit_options.h"
#include "decoder/decoder.h"

namespace sdc::cli {

void AddVerify(CLI::App& app, Run* run) {
  auto input = std::make_shared<std::string>();
  auto limits = std::make_shared<DecodeLimits>();
  CLI::App* c = app.add_subcommand("verify", "Decode everything and check every hash; write nothing");
  c->add_option("input", *input, "Input .sdc file")->required()->check(CLI::ExistingFile);
  AddLimitOptions(c, limits.get());
  c->callback([run, input, limits] {
    *run = [input, limits] {
      std::unique_ptr<Decoder> d;
      if (Status s = Decoder::OpenFile(*input, *limits, &d); !s.ok()) return Fail(s.WithContext(*input));
      if (Status s = d->Verify(); !s.ok()) return Fail(s.WithContext(*input));
      std::printf("%s: OK (%u tensors, %u assets, %u sections, %llu bytes; every hash matches)\n", input->c_str(),
                  d->tensor_count(), d->asset_count(), d->container().section_count(),
                  static_cast<unsigned long long>(d->container().file_size()));
      return 0;
    };
  });
}

}  // namespace sdc::cli
