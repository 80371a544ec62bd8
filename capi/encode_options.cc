#include "capi/encode_options.h"

namespace sdc {
namespace {

using Json = nlohmann::json;

template <typename T>
Status Get(const Json& v, const std::string& key, T* out) {
  try {
    *out = v.get<T>();
  } catch (const Json::exception&) {
    return Error(StatusCode::kInvalidArgument, "option '" + key + "' has the wrong type");
  }
  return Status::Ok();
}

}  // namespace

Status EncodeOptionsFromJson(const Json& j, EncodeOptions* o) {
  if (j.is_null()) return Status::Ok();
  SDC_CHECK(j.is_object(), StatusCode::kInvalidArgument, "options must be a JSON object");
  std::string distortion = "relative";
  for (const auto& [key, v] : j.items()) {
    if (key == "method") {
      std::string m;
      SDC_RETURN_IF_ERROR(Get(v, key, &m));
      SDC_CHECK(m == "raw" || m == "scalar" || m == "codebook", StatusCode::kInvalidArgument,
                "method must be raw, scalar or codebook");
      o->method = m == "raw" ? Method::kRaw : m == "codebook" ? Method::kCodebook : Method::kScalar;
    } else if (key == "bits") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->bits));
    } else if (key == "group") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->group_size));
      o->codebook.group_size = o->group_size;
    } else if (key == "zstd_level") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->zstd_level));
    } else if (key == "raw_dtype") {
      std::string r;
      SDC_RETURN_IF_ERROR(Get(v, key, &r));
      SDC_CHECK(r == "keep" || r == "f16" || r == "bf16", StatusCode::kInvalidArgument, "raw_dtype must be keep, f16 or bf16");
      if (r == "f16") o->raw_cast = DType::kF16;
      if (r == "bf16") o->raw_cast = DType::kBF16;
    } else if (key == "min_numel") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->min_quant_numel));
    } else if (key == "budget") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->budget));
    } else if (key == "reserve") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->reserve));
    } else if (key == "target_snr") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->target_snr_db));
    } else if (key == "distortion") {
      SDC_RETURN_IF_ERROR(Get(v, key, &distortion));
      SDC_CHECK(distortion == "relative" || distortion == "absolute", StatusCode::kInvalidArgument,
                "distortion must be relative or absolute");
      o->relative_distortion = distortion == "relative";
    } else if (key == "alignment") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->alignment));
    } else if (key == "roles") {
      SDC_CHECK(v.is_object(), StatusCode::kInvalidArgument, "roles must map name patterns to roles");
      for (const auto& [pattern, role] : v.items()) {
        std::string name;
        SDC_RETURN_IF_ERROR(Get(role, "roles", &name));
        auto parsed = ParseRoleName(name);
        SDC_CHECK(parsed.has_value(), StatusCode::kInvalidArgument, "unknown role '" + name + "'");
        o->roles.push_back({pattern, *parsed});
      }
    } else if (key == "k") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.k));
    } else if (key == "dim") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.dim));
    } else if (key == "codebooks") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.codebooks));
    } else if (key == "per_tensor_banks") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->per_tensor_banks));
    } else if (key == "lambda") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->lambda));
    } else if (key == "residuals") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->residual_fractions));
    } else if (key == "kmeans_iters") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.kmeans_iterations));
    } else if (key == "beam") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.beam));
    } else if (key == "seed") {
      SDC_RETURN_IF_ERROR(Get(v, key, &o->codebook.seed));
    } else if (key == "device") {
      std::string dev;
      SDC_RETURN_IF_ERROR(Get(v, key, &dev));
      SDC_CHECK(ParseDevice(dev, &o->codebook.device), StatusCode::kInvalidArgument, "device must be auto, cpu or cuda");
    } else {
      return Error(StatusCode::kInvalidArgument, "unknown encode option '" + key + "'");
    }
  }
  SDC_CHECK(o->target_snr_db == 0 || o->budget == 0, StatusCode::kInvalidArgument, "give budget or target_snr, not both");
  SDC_CHECK(o->method != Method::kCodebook || o->group_size % std::max<uint32_t>(o->codebook.dim, 1) == 0,
            StatusCode::kInvalidArgument, "group must be a multiple of dim for the codebook method");
  return Status::Ok();
}

}  // namespace sdc
