#include <algorithm>
#include <cstdio>

#include "cli/commands.h"
#include "cli/limit_options.h"
#include "decoder/decoder.h"
#include "format/file_io.h"
#include "format/printable.h"
#include "format/safetensors.h"

namespace sdc::cli {
namespace {

struct DecodeArgs {
  std::string input, output, assets_dir;
  DecodeLimits limits;
};

// All or nothing: the tensors file and every asset go to temporary files beside their destinations and are
// renamed into place only after everything was decoded, checked and written. Tensors are streamed into the
// output one at a time, so memory holds the input file and one tensor, never the whole model twice.
Status Decode(const DecodeArgs& a, size_t* tensors, size_t* assets) {
  std::unique_ptr<Decoder> d;
  SDC_RETURN_IF_ERROR(Decoder::OpenFile(a.input, a.limits, &d).WithContext(Printable(a.input)));
  const fb::Manifest& m = d->container().manifest();
  OutputFiles out({a.input});
  size_t tensors_id;
  SDC_RETURN_IF_ERROR(out.Add(a.output, &tensors_id));
  // Asset names are valid file names (spec §6, checked when the file was opened); the output set refuses
  // one that names the tensors file or the input.
  std::vector<size_t> asset_ids(d->asset_count());
  if (!a.assets_dir.empty()) {
    SDC_RETURN_IF_ERROR(out.MakeDirectory(a.assets_dir));
    for (uint32_t i = 0; i < d->asset_count(); ++i) {
      const std::string name = m.assets()->Get(i)->name()->str();
      SDC_RETURN_IF_ERROR(
          out.Add(a.assets_dir + "/" + name, &asset_ids[i]).WithContext("asset '" + Printable(name) + "'"));
    }
  }
  std::vector<TensorHeader> headers;
  for (uint32_t i = 0; i < d->tensor_count(); ++i) {
    const fb::Tensor& t = *m.tensors()->Get(i);
    const std::vector<uint64_t> shape = ShapeOf(t);
    uint64_t numel = 1;
    for (uint64_t dim : shape) numel *= dim;  // bounded by the limits when the file was opened
    headers.push_back(
        {t.name()->str(), static_cast<DType>(t.dtype()), shape, numel * DTypeSize(static_cast<DType>(t.dtype()))});
  }
  std::map<std::string, std::string> metadata;
  if (const auto* md = m.metadata())
    for (const fb::KeyValue* kv : *md) metadata[kv->key()->str()] = kv->value()->str();
  std::vector<uint8_t> header;
  SDC_RETURN_IF_ERROR(SafetensorsHeader(headers, metadata, &header));
  headers.clear();
  SDC_RETURN_IF_ERROR(out.Write(tensors_id, header));
  // A few tensors at a time, side by side, written in manifest order: the output is streamed, and memory
  // holds at most DecodeThreads() tensors.
  const uint32_t batch = static_cast<uint32_t>(std::max(1, DecodeThreads()));
  for (uint32_t i = 0; i < d->tensor_count(); i += batch) {
    std::vector<DecodedTensor> ts;
    SDC_RETURN_IF_ERROR(
        d->DecodeTensors(i, std::min(batch, d->tensor_count() - i), &ts).WithContext(Printable(a.input)));
    for (const DecodedTensor& t : ts) SDC_RETURN_IF_ERROR(out.Write(tensors_id, t.data));
  }
  for (uint32_t i = 0; i < d->asset_count(); ++i) {
    DecodedAsset asset;
    SDC_RETURN_IF_ERROR(d->DecodeAsset(i, &asset).WithContext(Printable(a.input)));
    if (!a.assets_dir.empty()) SDC_RETURN_IF_ERROR(out.Write(asset_ids[i], asset.data));
  }
  // Banks no tensor uses: so that "every hash matches" covers every section of the file.
  SDC_RETURN_IF_ERROR(d->VerifyBanks().WithContext(Printable(a.input)));
  SDC_RETURN_IF_ERROR(out.Commit());
  *tensors = d->tensor_count();
  *assets = d->asset_count();
  return Status::Ok();
}

}  // namespace

void AddDecode(CLI::App& app, Run* run) {
  auto a = std::make_shared<DecodeArgs>();
  CLI::App* c = app.add_subcommand("decode", "Decode an .sdc file to safetensors, checking every hash");
  c->add_option("input", a->input, "Input .sdc file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", a->output, "Output .safetensors file (written atomically)")->required();
  c->add_option("--assets-dir", a->assets_dir, "Also write each asset as a file in this directory");
  AddLimitOptions(c, &a->limits);
  c->callback([run, a] {
    *run = [a] {
      size_t tensors = 0, assets = 0;
      if (Status s = Decode(*a, &tensors, &assets); !s.ok()) return Fail(s);
      std::fprintf(stderr, "sdcodec: decoded %zu tensors and %zu assets; every section and tensor hash matches\n",
                   tensors, assets);
      return 0;
    };
  });
}

}  // namespace sdc::cli
