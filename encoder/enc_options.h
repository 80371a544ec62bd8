// Encode options: the settings of one encode, and the one table that names them for every interface. The CLI
// (`sdcodec encode --help` is generated from the table), the C API's options JSON and the Python package's
// keyword arguments all go through SetEncodeOption, so each option is named, typed, range-checked and
// documented once. Inputs that are data rather than settings (importance, Hessians, assets) are fields of
// EncodeOptions filled by each interface from its own kind of input (files, arrays).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/enc_codebook.h"
#include "format/status.h"
#include "format/types.h"

namespace sdc {

enum class Method { kRaw, kScalar, kCodebook };
const char* MethodName(Method m);  // "raw", "scalar", "codebook"

struct RoleOverride {
  std::string pattern;  // fnmatch-style glob on the tensor name
  Role role;
};

struct AssetInput {
  std::string name;
  std::vector<uint8_t> data;
};

struct EncodeOptions {
  Method method = Method::kScalar;
  int bits = 6;                   // scalar bits when no budget is given
  uint32_t group_size = 0;        // 0: one scale per row
  int zstd_level = 19;            // 0: store sections uncompressed
  std::optional<DType> raw_cast;  // F16 or BF16: lossy storage of raw float tensors
  uint64_t min_quant_numel = 1024;
  uint64_t budget = 0;       // whole-file byte budget; 0: none
  uint64_t reserve = 0;      // bytes kept free under the budget (e.g. the user's code)
  double target_snr_db = 0;  // without a budget: the smallest file whose weight SNR reaches this
  std::vector<RoleOverride> roles;
  std::vector<AssetInput> assets;
  uint32_t alignment = 0;
  // Codebook method: bank shape and search. Banks are shared by every codebook-coded tensor unless
  // `per_tensor_banks` (the independent-codebook baseline of the research note). `codebook.device`
  // (Device::kCpu by default; encoder/device.h) is where k-means, assignment and beam search run.
  CodebookSearch codebook;
  bool per_tensor_banks = false;
  double lambda = 0.0;                                   // entropy penalty without a budget
  std::vector<double> lambdas = {0.0, 0.05, 0.15, 0.4};  // penalties offered to the budget allocator
  // Sparse residuals: fractions of a codebook tensor's elements whose (importance-weighted) largest errors
  // get an int8 correction; without a budget the first entry is used, with one each is a candidate.
  std::vector<double> residual_fractions = {0.0};
  // Importance per tensor name: one value (the whole tensor), one per column (input channel, e.g. the
  // diagonal of X^T X a trainer collected) or one per element. The error minimised everywhere is
  // sum(importance * err^2); tensors not listed weigh 1 per element.
  std::map<std::string, std::vector<float>> importance;
  // Tensors without importance: true weighs each row's error by 1 / its mean square (every output
  // channel's relative error counts the same); false minimises plain squared error.
  bool relative_distortion = true;
  // Loss-aware encoding (enc_hessian.h): per 2-D tensor name, H = E[x xᵀ] over the inputs that multiply its
  // columns, [cols, cols] row-major. A tensor with one is coded with error feedback through H and its error is
  // tr(ΔW H ΔWᵀ); `importance` then does not apply to it.
  std::map<std::string, std::vector<float>> hessians;
  double damping = 0.01;  // added to H's diagonal, as a fraction of its mean
  // Rate weights of the rounding offered to the allocator with each uniform step (enc_feedback.h; units of
  // step² per bit: about 0.12 is where a uniform quantizer's error and rate trade at high rate).
  std::vector<double> rate_lambdas = {0.0, 0.06, 0.12, 0.25};
  bool act_order = true;  // quantize columns in order of decreasing diag H
  bool feedback = true;   // error feedback through H (false: nearest rounding; H only weighs the error)
  // Factor on the error of an embedding given a Hessian (a tied embedding, used as the head too), when it has
  // no measured sensitivity: 4 is one more bit's worth (6 dB), as the records give their tied embedding.
  double tied_weight = 4.0;
  // Per tensor name: a factor on its error in the allocation (the loss's sensitivity to it; default 1).
  std::map<std::string, double> sensitivity;
  // Called with a one-line message as each tensor is processed; may be empty.
  std::function<void(const std::string&)> progress;
};

// How a value is written: on the command line (one string, or one per repetition) and in JSON.
enum class OptionType {
  kInt,         // integer in [min, max]
  kNumber,      // real number in [min, max]
  kFlag,        // true / false; on the command line a flag
  kChoice,      // one of `choices` ("a|b|c")
  kNumberList,  // reals in [min, max]; on the command line the option takes several values
  kRoleList,    // GLOB=ROLE pairs, first match wins; JSON: ["GLOB=ROLE", ...] or {"GLOB": "ROLE"}
  kNumberMap,   // {name: number in [min, max]}; on the command line a JSON file holding that object
};

struct OptionSpec {
  std::string_view name;  // the command line's spelling without "--"; JSON keys spell '-' as '_'
  OptionType type;
  double min = 0, max = 0;
  std::string_view choices;
  std::string_view help;
  // Applies a value that already passed the type and range checks.
  void (*set)(const nlohmann::json& value, EncodeOptions* o);
  // The option's value in `o` (the help text shows it for a default EncodeOptions).
  nlohmann::json (*get)(const EncodeOptions& o);
  std::string_view json_name = {};  // when the JSON key is not `name` with underscores
};

std::span<const OptionSpec> EncodeOptionTable();
// The JSON key of an option ("zstd_level").
std::string JsonKey(const OptionSpec& spec);
// Checks `value` against the option's type and range and applies it; the message names the option.
Status SetEncodeOption(const OptionSpec& spec, const nlohmann::json& value, EncodeOptions* o);
// Every key of a JSON object (null: no options); an unknown key or a value of the wrong type is an error.
Status EncodeOptionsFromJson(const nlohmann::json& options, EncodeOptions* o);
// The rules between options (a budget and a target SNR are exclusive, ...), checked by Encode too.
Status CheckEncodeOptions(const EncodeOptions& o);

}  // namespace sdc
