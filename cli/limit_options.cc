#include "cli/limit_options.h"

namespace sdc::cli {

void AddLimitOptions(CLI::App* c, DecodeLimits* limits) {
  const char* group = "Decoder limits (a file declaring more is refused before anything is allocated)";
  c->add_option("--max-manifest-bytes", limits->max_manifest_bytes, "Largest decoded manifest")
      ->capture_default_str()
      ->group(group);
  c->add_option("--max-sections", limits->max_sections, "Most sections")->capture_default_str()->group(group);
  c->add_option("--max-section-bytes", limits->max_section_raw_bytes, "Largest decoded section")
      ->capture_default_str()
      ->group(group);
  c->add_option("--max-tensor-bytes", limits->max_tensor_bytes, "Largest reconstructed tensor")
      ->capture_default_str()
      ->group(group);
  c->add_option("--max-output-bytes", limits->max_total_output_bytes, "All tensors and assets together")
      ->capture_default_str()
      ->group(group);
}

}  // namespace sdc::cli
