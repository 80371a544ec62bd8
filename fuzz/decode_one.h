// What fuzz_decode and fuzz_manifest run on each input: open, verify (every section, bank, tensor and
// asset), decode each tensor and asset (which must succeed once Verify did), and render the reports and
// the safetensors header decode would write, none of which may crash or throw on any name or number.
// Limits are tighter than the defaults so a fuzzing process stays within a few hundred MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "format/safetensors.h"
#include "report/report.h"
#include "report/report_compare.h"
#include "report/report_html.h"

namespace sdc::fuzz {

inline void DecodeOne(const uint8_t* data, size_t size) {
  DecodeLimits limits;
  limits.max_section_raw_bytes = 16u << 20;
  limits.max_tensor_bytes = 16u << 20;
  limits.max_total_output_bytes = 64u << 20;
  std::unique_ptr<Decoder> d;
  if (!Decoder::Open(std::vector<uint8_t>(data, data + size), limits, &d).ok()) return;
  const InspectReport report(d->container());
  const nlohmann::ordered_json j = report.ToJson();
  std::string streamed;
  report.WriteJson([&](std::string_view s) { streamed += s; });
  if (streamed != DumpJson(j, 2) + "\n") __builtin_trap();  // the CLI's streamed report is the report
  streamed.clear();
  report.WriteText([&](std::string_view s) { streamed += s; });
  if (streamed != InspectText(j)) __builtin_trap();
  (void)InspectHtml(j, "fuzz");
  (void)CompareText(CompareJson({{"a", j}, {"b", j}}));
  std::vector<TensorHeader> headers;
  for (uint32_t i = 0; i < d->tensor_count(); ++i) {
    const fb::Tensor& t = *d->container().manifest().tensors()->Get(i);
    headers.push_back({t.name()->str(), static_cast<DType>(t.dtype()), ShapeOf(t), 0});
  }
  std::vector<uint8_t> header;
  (void)SafetensorsHeader(headers, {}, &header);
  if (!d->Verify().ok()) return;
  for (uint32_t i = 0; i < d->tensor_count(); ++i) {
    DecodedTensor t;
    if (!d->DecodeTensor(i, &t).ok()) __builtin_trap();  // Verify passed: decoding must too
  }
  for (uint32_t i = 0; i < d->asset_count(); ++i) {
    DecodedAsset a;
    if (!d->DecodeAsset(i, &a).ok()) __builtin_trap();
  }
  if (!d->VerifyBanks().ok()) __builtin_trap();
}

}  // namespace sdc::fuzz
