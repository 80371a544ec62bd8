#include <sys/stat.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/limit_options.h"
#include "decoder/decoder.h"
#include "format/file_io.h"
#include "format/safetensors.h"

namespace sdc::cli {
namespace {

struct DecodeArgs {
  std::string input, output, assets_dir;
  DecodeLimits limits;
};

// Asset names become file names only when they cannot escape the directory.
bool SafeFileName(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos && n.find('\0') == std::string::npos;
}

int RunDecode(const DecodeArgs& a) {
  std::unique_ptr<Decoder> d;
  if (Status s = Decoder::OpenFile(a.input, a.limits, &d); !s.ok()) return Fail(s.WithContext(a.input));
  std::vector<DecodedTensor> tensors;
  std::vector<DecodedAsset> assets;
  if (Status s = d->DecodeAll(&tensors, &assets); !s.ok()) return Fail(s.WithContext(a.input));
  std::vector<TensorView> views;
  for (const DecodedTensor& t : tensors) views.push_back({t.name, t.dtype, t.shape, t.data});
  std::map<std::string, std::string> metadata;
  if (const auto* md = d->container().manifest().metadata())
    for (const fb::KeyValue* kv : *md) metadata[kv->key()->str()] = kv->value()->str();
  std::vector<uint8_t> out;
  if (Status s = SerializeSafetensors(views, metadata, &out); !s.ok()) return Fail(s);
  std::vector<std::string> inputs{a.input};
  if (Status s = WriteFileAtomic(a.output, out, inputs); !s.ok()) return Fail(s);
  if (!a.assets_dir.empty()) {
    mkdir(a.assets_dir.c_str(), 0755);
    for (const DecodedAsset& asset : assets) {
      if (!SafeFileName(asset.name))
        return Fail(Error(StatusCode::kInvalidArgument, "asset name '" + asset.name + "' is not a safe file name"));
      if (Status s = WriteFileAtomic(a.assets_dir + "/" + asset.name, asset.data, inputs); !s.ok()) return Fail(s);
    }
  }
  std::fprintf(stderr, "sdcodec: decoded %zu tensors and %zu assets; every hash matches\n", tensors.size(), assets.size());
  return 0;
}

}  // namespace

void AddDecode(CLI::App& app, Run* run) {
  auto a = std::make_shared<DecodeArgs>();
  CLI::App* c = app.add_subcommand("decode", "Decode an .sdc file to safetensors, checking every hash");
  c->add_option("input", a->input, "Input .sdc file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", a->output, "Output .safetensors file (written atomically)")->required();
  c->add_option("--assets-dir", a->assets_dir, "Also write each asset as a file in this directory");
  AddLimitOptions(c, &a->limits);
  c->callback([run, a] { *run = [a] { return RunDecode(*a); }; });
}

}  // namespace sdc::cli
