#include <unistd.h>

#include <cmath>
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

// The settings come from the encode option table (encoder/enc_options.h): each is collected here as the
// strings the user typed and applied through SetEncodeOption, the same path as the C API's and Python's
// JSON. What is specific to the command line are the files: input, output, importance, Hessians, assets.
struct EncodeArgs {
  std::string input, output, importance, hessians;
  std::vector<std::string> assets;
  int threads = 0;
  bool quiet = false;
  std::map<std::string, std::vector<std::string>> given;  // table option name -> its value(s) as typed
  std::map<std::string, bool> flags;                      // table flags given on the command line
};

// The JSON value of a table option typed on the command line (integers stay integers, so the range check
// sees "-5" as the negative number it is).
Status ParseGiven(const OptionSpec& spec, const std::vector<std::string>& text, nlohmann::json* out) {
  auto number = [&](const std::string& s, nlohmann::json* v) -> Status {
    const std::string name = "--" + std::string(spec.name);
    nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
    SDC_CHECK(!j.is_discarded() && j.is_number(), StatusCode::kInvalidArgument, name + ": '" + s + "' is not a number");
    *v = std::move(j);
    return Status::Ok();
  };
  switch (spec.type) {
    case OptionType::kInt:
    case OptionType::kNumber: return number(text.back(), out);
    case OptionType::kNumberList:
      *out = nlohmann::json::array();
      for (const std::string& s : text) SDC_RETURN_IF_ERROR(number(s, &out->emplace_back()));
      return Status::Ok();
    case OptionType::kRoleList: *out = text; return Status::Ok();
    case OptionType::kNumberMap: {  // a JSON file holding the object
      std::vector<uint8_t> bytes;
      SDC_RETURN_IF_ERROR(ReadFile(text.back(), &bytes));
      *out = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
      SDC_CHECK(!out->is_discarded(), StatusCode::kInvalidArgument, text.back() + " is not valid JSON");
      return Status::Ok();
    }
    default: *out = text.back(); return Status::Ok();
  }
}

// Splits "A=B" at the first '='.
bool SplitPair(const std::string& s, std::string* a, std::string* b) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) return false;
  *a = s.substr(0, eq);
  *b = s.substr(eq + 1);
  return true;
}

Status BuildOptions(const EncodeArgs& a, EncodeOptions* o, std::vector<std::string>* inputs) {
  for (const OptionSpec& spec : EncodeOptionTable()) {
    const std::string name(spec.name);
    nlohmann::json v;
    if (spec.type == OptionType::kFlag) {
      if (!a.flags.count(name)) continue;
      v = a.flags.at(name);
    } else {
      auto it = a.given.find(name);
      if (it == a.given.end() || it->second.empty()) continue;
      SDC_RETURN_IF_ERROR(ParseGiven(spec, it->second, &v).WithContext("--" + name));
      if (spec.type == OptionType::kNumberMap) inputs->push_back(it->second.back());
    }
    SDC_RETURN_IF_ERROR(SetEncodeOption(spec, v, o).WithContext("--" + name));
  }
  SDC_RETURN_IF_ERROR(CheckEncodeOptions(*o));
  // Calibration files: importance and Hessians, safetensors keyed by the tensors' names.
  for (auto [path, add, what] : {std::tuple{&a.importance, &AddImportance, "--importance"},
                                 std::tuple{&a.hessians, &AddHessians, "--hessians"}}) {
    if (path->empty()) continue;
    std::vector<uint8_t> bytes;
    SafetensorsFile f;
    SDC_RETURN_IF_ERROR(ReadFile(*path, &bytes).WithContext(what));
    SDC_RETURN_IF_ERROR(ParseSafetensors(bytes, &f).WithContext(std::string(what) + " " + *path));
    SDC_RETURN_IF_ERROR(add(f.tensors, o).WithContext(what));
    inputs->push_back(*path);
  }
  std::map<std::string, bool> seen;
  for (const std::string& s : a.assets) {
    AssetInput asset;
    std::string path;
    SDC_CHECK(SplitPair(s, &asset.name, &path), StatusCode::kInvalidArgument,
              "--asset wants NAME=PATH, got '" + s + "'");
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
  const Device requested = o.codebook.device;
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

// The help line of a table option: its text, its choices or range, and its default.
std::string HelpOf(const OptionSpec& spec) {
  std::string h(spec.help);
  if (spec.type == OptionType::kChoice) h += " {" + std::string(spec.choices) + "}";
  if (spec.type == OptionType::kFlag) return h + (spec.get(EncodeOptions()).get<bool>() ? " [default: on]" : "");
  const nlohmann::json def = spec.get(EncodeOptions());
  if (!((def.is_array() || def.is_object()) && def.empty()))
    h += " [default: " + (def.is_string() ? def.get<std::string>() : def.dump()) + "]";
  return h;
}

const char* TypeName(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kInt: return "INT";
    case OptionType::kNumber: return "NUMBER";
    case OptionType::kNumberList: return "NUMBER...";
    case OptionType::kRoleList: return "GLOB=ROLE";
    case OptionType::kNumberMap: return "JSON-FILE";
    default: return "CHOICE";
  }
}

}  // namespace

void AddEncode(CLI::App& app, Run* run) {
  auto a = std::make_shared<EncodeArgs>();
  CLI::App* c = app.add_subcommand("encode", "Encode a safetensors file into an .sdc artifact");
  c->add_option("input", a->input, "Input .safetensors file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", a->output, "Output .sdc file (written atomically)")->required();
  for (const OptionSpec& spec : EncodeOptionTable()) {
    const std::string name(spec.name), flag = "--" + name;
    if (spec.type == OptionType::kFlag) {
      // --X sets it, --no-X clears it (for the flags that default to on).
      c->add_flag_function(
          flag + ",!--no-" + name, [a, name](int64_t n) { a->flags[name] = n > 0; }, HelpOf(spec));
      continue;
    }
    CLI::Option* opt = c->add_option(flag, a->given[name], HelpOf(spec))->type_name(TypeName(spec));
    // A list option takes its values after one flag (--residuals 0 0.01) and may repeat (--role A=x --role B=y);
    // any other takes one value, the last one given winning.
    if (spec.type != OptionType::kNumberList && spec.type != OptionType::kRoleList)
      opt->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  c->add_option("--importance", a->importance,
                "safetensors of per-tensor importance (1 value, 1 per column, or 1 per element), same names")
      ->check(CLI::ExistingFile);
  c->add_option(
       "--hessians", a->hessians,
       "safetensors of calibration Hessians E[x xT], one [in, in] matrix per 2-D tensor name (loss-aware coding)")
      ->check(CLI::ExistingFile);
  c->add_option("--asset", a->assets, "Opaque file to store, NAME=PATH (tokenizer, config); repeatable");
  c->add_option("--threads", a->threads, "OpenMP threads (0: all cores)")->check(CLI::Range(0, 4096));
  c->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  c->callback([run, a] { *run = [a] { return RunEncode(*a); }; });
}

}  // namespace sdc::cli
