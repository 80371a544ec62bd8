#include "encoder/enc_options.h"

#include <cmath>

#include "encoder/device.h"

namespace sdc {

const char* MethodName(Method m) {
  switch (m) {
    case Method::kRaw: return "raw";
    case Method::kCodebook: return "codebook";
    default: return "scalar";
  }
}

namespace {

using Json = nlohmann::json;

constexpr double kU32 = 4294967295.0;
constexpr double kU63 = 9223372036854775807.0;  // the largest byte count a budget can name

// Setter and getter of an option that is one field of EncodeOptions, converted by JSON's own rules (the value
// has passed the option's type and range checks already).
#define SDC_FIELD(expr)                                                                        \
  [](const Json& v, EncodeOptions* o) { o->expr = v.get<std::decay_t<decltype(o->expr)>>(); }, \
      [](const EncodeOptions& o) { return Json(o.expr); }

Method ParseMethod(const std::string& s) {
  return s == "raw" ? Method::kRaw : s == "codebook" ? Method::kCodebook : Method::kScalar;
}

// Splits "GLOB=ROLE" at the first '='.
bool SplitRole(const std::string& s, RoleOverride* out) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  auto role = ParseRoleName(s.substr(eq + 1));
  if (!role) return false;
  *out = {s.substr(0, eq), *role};
  return true;
}

const OptionSpec kTable[] = {
    {"method", OptionType::kChoice, 0, 0, "raw|scalar|codebook", "Codec for large float tensors",
     [](const Json& v, EncodeOptions* o) { o->method = ParseMethod(v.get<std::string>()); },
     [](const EncodeOptions& o) { return Json(MethodName(o.method)); }},
    {"bits", OptionType::kInt, 2, 8, {}, "Scalar bits per weight when no budget is given", SDC_FIELD(bits)},
    {"group",
     OptionType::kInt,
     0,
     kU32,
     {},
     "Scales per this many elements of a row (0: one per row)",
     [](const Json& v, EncodeOptions* o) { o->group_size = o->codebook.group_size = v.get<uint32_t>(); },
     [](const EncodeOptions& o) { return Json(o.group_size); }},
    {"zstd-level",
     OptionType::kInt,
     0,
     22,
     {},
     "zstd level for sections (0: store uncompressed)",
     SDC_FIELD(zstd_level)},
    {"raw-dtype", OptionType::kChoice, 0, 0, "keep|f16|bf16",
     "Store raw float tensors as f16/bf16 (lossy) or keep them exact",
     [](const Json& v, EncodeOptions* o) {
       const std::string s = v.get<std::string>();
       o->raw_cast = s == "f16" ? std::optional(DType::kF16) : s == "bf16" ? std::optional(DType::kBF16) : std::nullopt;
     },
     [](const EncodeOptions& o) {
       return Json(!o.raw_cast ? "keep" : *o.raw_cast == DType::kF16 ? "f16" : "bf16");
     }},
    {"min-numel",
     OptionType::kInt,
     0,
     kU63,
     {},
     "Float tensors with fewer elements are stored raw",
     SDC_FIELD(min_quant_numel)},
    {"budget",
     OptionType::kInt,
     0,
     kU63,
     {},
     "Fit the whole file into this many bytes (chooses bits per tensor; 0: no budget)",
     SDC_FIELD(budget)},
    {"reserve", OptionType::kInt, 0, kU63, {}, "Bytes of the budget to leave free (e.g. for code)", SDC_FIELD(reserve)},
    {"distortion", OptionType::kChoice, 0, 0, "relative|absolute",
     "Error the allocator minimises for tensors without importance: relative (per row) or absolute",
     [](const Json& v, EncodeOptions* o) { o->relative_distortion = v.get<std::string>() == "relative"; },
     [](const EncodeOptions& o) { return Json(o.relative_distortion ? "relative" : "absolute"); }},
    {"target-snr",
     OptionType::kNumber,
     0,
     1000,
     {},
     "Without a budget: the smallest file whose weight SNR reaches this many dB (0: off)",
     SDC_FIELD(target_snr_db)},
    {"role",
     OptionType::kRoleList,
     0,
     0,
     {},
     "Override the inferred role, GLOB=ROLE (first match wins); repeatable",
     [](const Json& v, EncodeOptions* o) {
       o->roles.clear();
       if (v.is_object()) {
         for (const auto& [glob, role] : v.items())
           SplitRole(glob + "=" + role.get<std::string>(), &o->roles.emplace_back());
       } else {
         for (const Json& s : v) SplitRole(s.get<std::string>(), &o->roles.emplace_back());
       }
     },
     [](const EncodeOptions& o) {
       Json a = Json::array();
       for (const RoleOverride& r : o.roles) a.push_back(r.pattern + "=" + RoleName(r.role));
       return a;
     },
     "roles"},
    {"alignment",
     OptionType::kInt,
     0,
     kU32,
     {},
     "Align section offsets to this power of two (0: packed)",
     SDC_FIELD(alignment)},
    {"k", OptionType::kInt, 1, 65536, {}, "Codebook: entries per bank", SDC_FIELD(codebook.k)},
    {"dim", OptionType::kInt, 1, 16, {}, "Codebook: sub-vector length", SDC_FIELD(codebook.dim)},
    {"codebooks",
     OptionType::kInt,
     1,
     8,
     {},
     "Codebook: additive codebooks per tensor (M)",
     SDC_FIELD(codebook.codebooks)},
    {"per-tensor-banks",
     OptionType::kFlag,
     0,
     0,
     {},
     "Codebook: one bank set per tensor instead of shared banks",
     SDC_FIELD(per_tensor_banks)},
    {"lambda",
     OptionType::kNumber,
     0,
     1e6,
     {},
     "Codebook: entropy penalty without a budget (0: nearest entry)",
     SDC_FIELD(lambda)},
    {"kmeans-iters",
     OptionType::kInt,
     1,
     1000,
     {},
     "Codebook: k-means iterations",
     SDC_FIELD(codebook.kmeans_iterations)},
    {"beam", OptionType::kInt, 1, 64, {}, "Codebook: beam width of the additive code search", SDC_FIELD(codebook.beam)},
    {"residuals",
     OptionType::kNumberList,
     0,
     0.5,
     {},
     "Codebook: fractions of elements given sparse int8 corrections (with a budget each is a candidate)",
     SDC_FIELD(residual_fractions)},
    {"seed",
     OptionType::kInt,
     0,
     18446744073709551615.0,
     {},
     "Codebook: random seed (same seed, same bytes)",
     SDC_FIELD(codebook.seed)},
    {"damping",
     OptionType::kNumber,
     0,
     1,
     {},
     "With Hessians: added to H's diagonal as a fraction of its mean (raised tenfold while H stays singular)",
     SDC_FIELD(damping)},
    {"act-order",
     OptionType::kFlag,
     0,
     0,
     {},
     "With Hessians: quantize columns in order of decreasing diag H (off: in stored order)",
     SDC_FIELD(act_order)},
    {"feedback",
     OptionType::kFlag,
     0,
     0,
     {},
     "With Hessians: feed each rounding error back through H (GPTQ); off: nearest rounding, H only weighs the error",
     SDC_FIELD(feedback)},
    {"tied-weight",
     OptionType::kNumber,
     0,
     1e6,
     {},
     "With Hessians: factor on the error of an embedding that has one (a tied head) and no --sensitivity entry",
     SDC_FIELD(tied_weight)},
    {"rate-lambdas",
     OptionType::kNumberList,
     0,
     100,
     {},
     "With Hessians and a budget: rate weights of the feedback rounding offered with each step (0: error only)",
     SDC_FIELD(rate_lambdas)},
    {"sensitivity",
     OptionType::kNumberMap,
     0,
     1e30,
     {},
     "Per tensor name: a factor on its error in the allocation (the loss's sensitivity to it; default 1); on the "
     "command line a JSON file {name: factor}",
     SDC_FIELD(sensitivity)},
    {"device", OptionType::kChoice, 0, 0, "auto|cpu|cuda",
     "Codebook: where k-means and code search run: auto (a GPU when present, else the CPU), cpu, cuda",
     [](const Json& v, EncodeOptions* o) { ParseDevice(v.get<std::string>(), &o->codebook.device); },
     [](const EncodeOptions& o) { return Json(DeviceName(o.codebook.device)); }},
};

#undef SDC_FIELD

bool InChoices(std::string_view choices, const std::string& s) {
  size_t at = 0;
  while (at <= choices.size()) {
    const size_t bar = std::min(choices.find('|', at), choices.size());
    if (choices.substr(at, bar - at) == s) return true;
    at = bar + 1;
  }
  return false;
}

std::string Range(const OptionSpec& s) {
  auto num = [](double x) {
    if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<int64_t>(x));
    std::string t = std::to_string(x);
    return t.substr(0, t.find_last_not_of('0') + 1);
  };
  return num(s.min) + ".." + (s.max >= kU63 ? std::string("2^63-1") : num(s.max));
}

// A number of the option's kind within its range (integers: exactly representable ones only).
bool NumberFits(const OptionSpec& s, const Json& v) {
  if (s.type == OptionType::kInt || s.type == OptionType::kFlag) {
    if (v.is_number_unsigned()) {
      const double x = static_cast<double>(v.get<uint64_t>());
      return x >= s.min && x <= s.max;
    }
    if (v.is_number_integer()) {
      const int64_t x = v.get<int64_t>();
      return static_cast<double>(x) >= s.min && static_cast<double>(x) <= s.max;
    }
    return false;
  }
  if (!v.is_number()) return false;
  const double x = v.get<double>();
  return std::isfinite(x) && x >= s.min && x <= s.max;
}

}  // namespace

std::span<const OptionSpec> EncodeOptionTable() { return kTable; }

std::string JsonKey(const OptionSpec& spec) {
  if (!spec.json_name.empty()) return std::string(spec.json_name);
  std::string k(spec.name);
  for (char& c : k)
    if (c == '-') c = '_';
  return k;
}

Status SetEncodeOption(const OptionSpec& s, const Json& v, EncodeOptions* o) {
  const std::string what = "option '" + JsonKey(s) + "'";
  switch (s.type) {
    case OptionType::kInt:
    case OptionType::kNumber:
      SDC_CHECK(NumberFits(s, v), StatusCode::kInvalidArgument,
                what + " must be " + (s.type == OptionType::kInt ? "an integer" : "a number") + " in " + Range(s));
      break;
    case OptionType::kFlag:
      SDC_CHECK(v.is_boolean(), StatusCode::kInvalidArgument, what + " must be true or false");
      break;
    case OptionType::kChoice:
      SDC_CHECK(v.is_string() && InChoices(s.choices, v.get<std::string>()), StatusCode::kInvalidArgument,
                what + " must be one of " + std::string(s.choices));
      break;
    case OptionType::kNumberList:
      SDC_CHECK(v.is_array(), StatusCode::kInvalidArgument, what + " must be a list of numbers in " + Range(s));
      for (const Json& x : v)
        SDC_CHECK(NumberFits(s, x), StatusCode::kInvalidArgument, what + " must be a list of numbers in " + Range(s));
      break;
    case OptionType::kNumberMap:
      SDC_CHECK(v.is_object(), StatusCode::kInvalidArgument, what + " must map tensor names to numbers in " + Range(s));
      for (const auto& [name, x] : v.items())
        SDC_CHECK(NumberFits(s, x), StatusCode::kInvalidArgument,
                  what + ": '" + name + "' must be a number in " + Range(s));
      break;
    case OptionType::kRoleList: {
      const std::string rule = what + " wants GLOB=ROLE pairs (roles: embedding, head, attention, mlp, norm, other)";
      RoleOverride r;
      if (v.is_object()) {
        for (const auto& [glob, role] : v.items())
          SDC_CHECK(role.is_string() && SplitRole(glob + "=" + role.get<std::string>(), &r),
                    StatusCode::kInvalidArgument, rule + ", got '" + glob + "'");
      } else {
        SDC_CHECK(v.is_array(), StatusCode::kInvalidArgument, rule);
        for (const Json& x : v)
          SDC_CHECK(x.is_string() && SplitRole(x.get<std::string>(), &r), StatusCode::kInvalidArgument,
                    rule + ", got " + x.dump());
      }
      break;
    }
  }
  s.set(v, o);
  return Status::Ok();
}

Status EncodeOptionsFromJson(const Json& j, EncodeOptions* o) {
  if (j.is_null()) return Status::Ok();
  SDC_CHECK(j.is_object(), StatusCode::kInvalidArgument, "options must be a JSON object");
  for (const auto& [key, v] : j.items()) {
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : kTable)
      if (JsonKey(s) == key) spec = &s;
    SDC_CHECK(spec != nullptr, StatusCode::kInvalidArgument, "unknown encode option '" + key + "'");
    SDC_RETURN_IF_ERROR(SetEncodeOption(*spec, v, o));
  }
  return CheckEncodeOptions(*o);
}

Status CheckEncodeOptions(const EncodeOptions& o) {
  SDC_CHECK(o.bits >= 2 && o.bits <= 8, StatusCode::kInvalidArgument, "bits must be 2..8");
  SDC_CHECK(!o.raw_cast || *o.raw_cast == DType::kF16 || *o.raw_cast == DType::kBF16, StatusCode::kInvalidArgument,
            "raw cast must be F16 or BF16");
  SDC_CHECK(o.zstd_level >= 0 && o.zstd_level <= 22, StatusCode::kInvalidArgument, "zstd level must be 0..22");
  SDC_CHECK(o.target_snr_db == 0 || o.budget == 0, StatusCode::kInvalidArgument,
            "give a budget or a target SNR, not both");
  SDC_CHECK(o.budget == 0 || o.reserve < o.budget, StatusCode::kInvalidArgument, "reserve must be below the budget");
  SDC_CHECK(o.method != Method::kCodebook || o.group_size % std::max<uint32_t>(o.codebook.dim, 1) == 0,
            StatusCode::kInvalidArgument, "group must be a multiple of dim for the codebook method");
  return Status::Ok();
}

}  // namespace sdc
