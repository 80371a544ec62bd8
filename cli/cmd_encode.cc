#include <unistd.h>

#include <cstdio>
#include <map>

#include <omp.h>

#include "cli/commands.h"
#include "encoder/device.h"
#include "encoder/enc_input.h"
#include "encoder/encoder.h"
#include "format/file_io.h"

namespace sdc::cli {
namespace {

struct EncodeArgs {
  std::string input, output, method = "scalar", raw_dtype = "keep";
  int bits = 6, zstd_level = 19, threads = 0;
  uint32_t group = 0, alignment = 0;
  uint64_t min_numel = 1024, budget = 0, reserve = 0;
  std::vector<std::string> assets, roles;
  bool quiet = false;
  // codebook method
  uint32_t k = 256, dim = 8;
  int codebooks = 1, kmeans_iters = 15, beam = 4;
  uint64_t seed = 1;
  double lambda = 0.0;
  bool per_tensor_banks = false;
  std::vector<double> residuals;
  double target_snr = 0;
  std::string distortion = "relative";
  std::string importance;
  std::string device = "auto";
};

// Splits "A=B" at the first '='.
bool SplitPair(const std::string& s, std::string* a, std::string* b) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) return false;
  *a = s.substr(0, eq);
  *b = s.substr(eq + 1);
  return true;
}

Status BuildOptions(const EncodeArgs& a, EncodeOptions* o, std::vector<std::string>* inputs) {
  o->method = a.method == "raw" ? Method::kRaw : a.method == "codebook" ? Method::kCodebook : Method::kScalar;
  o->codebook.k = a.k;
  o->codebook.dim = a.dim;
  o->codebook.codebooks = a.codebooks;
  o->codebook.group_size = a.group;
  o->codebook.kmeans_iterations = a.kmeans_iters;
  o->codebook.beam = a.beam;
  o->codebook.seed = a.seed;
  o->lambda = a.lambda;
  o->per_tensor_banks = a.per_tensor_banks;
  SDC_CHECK(a.method != "codebook" || a.group % a.dim == 0, StatusCode::kInvalidArgument,
            "--group must be a multiple of --dim for the codebook method");
  o->bits = a.bits;
  o->group_size = a.group;
  o->zstd_level = a.zstd_level;
  if (a.raw_dtype == "f16") o->raw_cast = DType::kF16;
  if (a.raw_dtype == "bf16") o->raw_cast = DType::kBF16;
  o->min_quant_numel = a.min_numel;
  o->budget = a.budget;
  o->reserve = a.reserve;
  o->alignment = a.alignment;
  for (const std::string& r : a.roles) {
    std::string pattern, role;
    SDC_CHECK(SplitPair(r, &pattern, &role), StatusCode::kInvalidArgument, "--role wants PATTERN=ROLE, got '" + r + "'");
    auto parsed = ParseRoleName(role);
    SDC_CHECK(parsed.has_value(), StatusCode::kInvalidArgument,
              "--role: unknown role '" + role + "' (embedding, head, attention, mlp, norm, other)");
    o->roles.push_back({pattern, *parsed});
  }
  if (!a.residuals.empty()) o->residual_fractions = a.residuals;
  o->target_snr_db = a.target_snr;
  o->relative_distortion = a.distortion == "relative";
  SDC_CHECK(a.target_snr == 0 || a.budget == 0, StatusCode::kInvalidArgument, "give --budget or --target-snr, not both");
  if (!a.importance.empty()) {
    std::vector<uint8_t> bytes;
    SafetensorsFile imp;
    SDC_RETURN_IF_ERROR(ReadFile(a.importance, &bytes).WithContext("--importance"));
    SDC_RETURN_IF_ERROR(ParseSafetensors(bytes, &imp).WithContext("--importance " + a.importance));
    for (const TensorView& t : imp.tensors) {
      std::vector<float> v;
      SDC_CHECK(ToFiniteFloats(t, &v), StatusCode::kInvalidArgument,
                "--importance: tensor '" + t.name + "' must hold finite F32, F16 or BF16 values");
      o->importance[t.name] = std::move(v);
    }
    inputs->push_back(a.importance);
  }
  std::map<std::string, bool> seen;
  for (const std::string& s : a.assets) {
    AssetInput asset;
    std::string path;
    SDC_CHECK(SplitPair(s, &asset.name, &path), StatusCode::kInvalidArgument, "--asset wants NAME=PATH, got '" + s + "'");
    SDC_CHECK(!seen[asset.name], StatusCode::kInvalidArgument, "--asset: duplicate name '" + asset.name + "'");
    seen[asset.name] = true;
    SDC_RETURN_IF_ERROR(ReadFile(path, &asset.data).WithContext("--asset " + asset.name));
    inputs->push_back(path);
    o->assets.push_back(std::move(asset));
  }
  return Status::Ok();
}

int RunEncode(const EncodeArgs& a) {
  if (a.threads > 0) omp_set_num_threads(a.threads);
  EncodeOptions o;
  std::vector<std::string> inputs{a.input};
  if (Status s = BuildOptions(a, &o, &inputs); !s.ok()) return Fail(s);
  const bool show = !a.quiet && isatty(STDERR_FILENO);
  // Device for the codebook work (k-means, assignment, beam search); other methods never use it, so auto
  // probes for a GPU only for codebook encodes, while an explicit cuda is always checked. Auto says what it
  // chose: at once on a terminal, else just before the summary, so that a failure stays one line.
  Device requested = Device::kAuto;
  ParseDevice(a.device, &requested);
  o.codebook.device = Device::kCpu;
  std::string device_line;
  if (o.method == Method::kCodebook || requested == Device::kCuda) {
    std::string note;
    if (Status s = ResolveDevice(requested, &o.codebook.device, &note); !s.ok()) return Fail(s);
    if (requested == Device::kAuto && !a.quiet) device_line = "sdcodec: encoding on " + note + "\n";
    if (show) std::fputs(device_line.c_str(), stderr), device_line.clear();
  }
  if (show)
    o.progress = [](const std::string& msg) {
      std::fprintf(stderr, "\r\033[Kencoding %s", msg.c_str());
      std::fflush(stderr);
    };
  std::vector<uint8_t> bytes;
  if (Status s = ReadFile(a.input, &bytes); !s.ok()) return Fail(s);
  SafetensorsFile in;
  if (Status s = ParseSafetensors(bytes, &in); !s.ok()) return Fail(s.WithContext(a.input));
  EncodeResult r;
  Status s = Encode(in, o, &r);
  if (show) std::fprintf(stderr, "\r\033[K");
  if (!s.ok()) return Fail(s);
  if (Status w = WriteFileAtomic(a.output, r.file, inputs); !w.ok()) return Fail(w);
  std::fputs(device_line.c_str(), stderr);
  uint64_t params = 0;
  double sse = 0, signal = 0;
  for (const TensorSummary& t : r.tensors) params += t.numel, sse += t.sse, signal += t.signal;
  if (!a.quiet)
    std::fprintf(stderr, "sdcodec: wrote %s: %zu bytes, %zu tensors, %llu params, %.3f bits/weight, SNR %s\n",
                 a.output.c_str(), r.file.size(), r.tensors.size(), static_cast<unsigned long long>(params),
                 params ? 8.0 * r.file.size() / params : 0.0,
                 sse == 0 ? "lossless" : (std::to_string(10.0 * std::log10(signal / sse)) + " dB").c_str());
  return 0;
}

}  // namespace

void AddEncode(CLI::App& app, Run* run) {
  auto a = std::make_shared<EncodeArgs>();
  CLI::App* c = app.add_subcommand("encode", "Encode a safetensors file into an .sdc artifact");
  c->add_option("input", a->input, "Input .safetensors file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", a->output, "Output .sdc file (written atomically)")->required();
  c->add_option("--method", a->method, "Codec for large float tensors")
      ->check(CLI::IsMember({"raw", "scalar", "codebook"}))
      ->capture_default_str();
  c->add_option("--bits", a->bits, "Scalar bits per weight when no budget is given")
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  c->add_option("--group", a->group, "Scales per this many elements of a row (0: one per row)")->capture_default_str();
  c->add_option("--zstd-level", a->zstd_level, "zstd level for sections (0: store uncompressed)")
      ->check(CLI::Range(0, 22))
      ->capture_default_str();
  c->add_option("--raw-dtype", a->raw_dtype, "Store raw float tensors as f16/bf16 (lossy) or keep them exact")
      ->check(CLI::IsMember({"keep", "f16", "bf16"}))
      ->capture_default_str();
  c->add_option("--min-numel", a->min_numel, "Float tensors with fewer elements are stored raw")->capture_default_str();
  c->add_option("--budget", a->budget, "Fit the whole file into this many bytes (chooses bits per tensor)");
  c->add_option("--reserve", a->reserve, "Bytes of the budget to leave free (e.g. for code)");
  c->add_option("--distortion", a->distortion,
                 "Error the allocator minimises for tensors without --importance: relative (per row) or absolute")
      ->check(CLI::IsMember({"relative", "absolute"}))
      ->capture_default_str();
  c->add_option("--target-snr", a->target_snr, "Without a budget: the smallest file whose weight SNR reaches this (dB)")
      ->check(CLI::PositiveNumber);
  c->add_option("--asset", a->assets, "Opaque file to store, NAME=PATH (tokenizer, config); repeatable");
  c->add_option("--role", a->roles, "Override the inferred role, GLOB=ROLE; repeatable");
  c->add_option("--alignment", a->alignment, "Align section offsets to this power of two (0: packed)");
  c->add_option("--threads", a->threads, "OpenMP threads (0: all cores)");
  c->add_option("--k", a->k, "Codebook: entries per bank")->check(CLI::Range(1, 65536))->capture_default_str();
  c->add_option("--dim", a->dim, "Codebook: sub-vector length")->check(CLI::Range(1, 16))->capture_default_str();
  c->add_option("--codebooks", a->codebooks, "Codebook: additive codebooks per tensor (M)")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  c->add_flag("--per-tensor-banks", a->per_tensor_banks, "Codebook: one bank set per tensor instead of shared banks");
  c->add_option("--lambda", a->lambda, "Codebook: entropy penalty without a budget (0: nearest entry)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("--kmeans-iters", a->kmeans_iters, "Codebook: k-means iterations")->check(CLI::Range(1, 1000))->capture_default_str();
  c->add_option("--beam", a->beam, "Codebook: beam width of the additive code search")->check(CLI::Range(1, 64))->capture_default_str();
  c->add_option("--residuals", a->residuals,
                 "Codebook: fractions of elements given sparse int8 corrections (with --budget each is a candidate)")
      ->check(CLI::Range(0.0, 0.5));
  c->add_option("--importance", a->importance,
                "safetensors of per-tensor importance (1 value, 1 per column, or 1 per element), same names")
      ->check(CLI::ExistingFile);
  c->add_option("--seed", a->seed, "Codebook: random seed (same seed, same bytes)")->capture_default_str();
  c->add_option("--device", a->device,
                "Codebook: where k-means and code search run: auto (a GPU when present, else the CPU), cpu, cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  c->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  c->callback([run, a] { *run = [a] { return RunEncode(*a); }; });
}

}  // namespace sdc::cli
