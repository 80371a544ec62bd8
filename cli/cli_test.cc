// cli/: the built `sdcodec` binary, run as a user would. Success paths exit 0 and produce files the library
// agrees with; every failure exits non-zero with exactly one line on stderr; the input is never overwritten.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "encoder/enc_options.h"
#include "format/file_io.h"
#include "format/safetensors.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int code = -1;
  std::string out, err;
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    return n;
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> Bytes(const std::string& path) {
  const std::string s = Slurp(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

void WriteBytes(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sdc_cli_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    WriteModel(Path("model.safetensors"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Runs `sdcodec ARGS` (arguments already shell-quoted where needed), capturing both streams.
  RunResult Sdcodec(const std::string& args) const {
    RunResult r;
    const std::string out = Path(".stdout"), err = Path(".stderr");
    const std::string cmd = std::string("'") + SDCODEC_BIN + "' " + args + " >'" + out + "' 2>'" + err + "' </dev/null";
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  // A failure: non-zero exit and exactly one line on stderr.
  void ExpectOneLineFailure(const std::string& args, const char* stderr_contains = "") const {
    const RunResult r = Sdcodec(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_EQ(r.err_lines(), 1) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.empty() ? '\0' : r.err.back(), '\n') << args;
    EXPECT_NE(r.err.find(stderr_contains), std::string::npos) << args << "\nstderr: " << r.err;
  }

  void WriteModel(const std::string& path) {
    tensors_ = {
        {"layers.0.attention.wq.weight",
         DType::kF32,
         {64, 128},
         test::FloatsAs(DType::kF32, test::Gaussian(64 * 128, 1, 0.02))},
        {"layers.0.feed_forward.w1.weight",
         DType::kF16,
         {32, 64},
         test::FloatsAs(DType::kF16, test::Gaussian(32 * 64, 2, 0.02))},
        {"layers.0.attention_norm.weight", DType::kF32, {64}, test::FloatsAs(DType::kF32, test::Gaussian(64, 3))},
        {"positions", DType::kI32, {10}, test::RandomBytes(40, 4)},
        {"temperature", DType::kBF16, {}, test::FloatsAs(DType::kBF16, std::vector<float>{0.7f})},
    };
    std::vector<TensorView> views;
    for (const Tensor& t : tensors_) views.push_back({t.name, t.dtype, t.shape, t.data});
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(SerializeSafetensors(views, {{"format", "pt"}}, &bytes).ok());
    WriteBytes(path, bytes);
  }

  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<Tensor> tensors_;
  std::string dir_;
};

// encode -> verify -> inspect --json -> decode: each exits 0; the report accounts for every byte; the
// decoded safetensors parses, keeps names, dtypes, shapes and metadata, equals the library's decoding, is
// lossless where the encoder stores raw, and survives a raw re-encode/decode unchanged.
TEST_F(Cli, EncodeVerifyInspectDecode) {
  const std::string model = Path("model.safetensors"), sdc = Path("model.sdc"), out = Path("out.safetensors");
  RunResult r = Sdcodec("encode '" + model + "' -o '" + sdc + "' --bits 8 --min-numel 16 -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "-q prints nothing: " << r.err;

  r = Sdcodec("verify '" + sdc + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;

  r = Sdcodec("inspect --json '" + sdc + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  const uint64_t size = fs::file_size(sdc);
  EXPECT_EQ(j["file_bytes"].get<uint64_t>(), size);
  uint64_t parts = 0, roles = 0;
  for (const auto& [k, v] : j["parts"].items()) parts += v.get<uint64_t>();
  for (const auto& [k, v] : j["roles"].items()) roles += v.get<uint64_t>();
  EXPECT_EQ(parts, size);
  EXPECT_EQ(roles, size);
  EXPECT_EQ(j["tensors"].size(), tensors_.size());

  r = Sdcodec("inspect '" + sdc + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("layers.0.attention.wq.weight"), std::string::npos);

  r = Sdcodec("decode '" + sdc + "' -o '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<uint8_t> decoded_bytes = Bytes(out);
  SafetensorsFile decoded;
  ASSERT_TRUE(ParseSafetensors(decoded_bytes, &decoded).ok());
  EXPECT_EQ(decoded.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(decoded.tensors.size(), tensors_.size());
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::OpenFile(sdc, DecodeLimits(), &d).ok());
  std::vector<DecodedTensor> lib;
  std::vector<DecodedAsset> assets;
  ASSERT_TRUE(d->DecodeAll(&lib, &assets).ok());
  std::map<std::string, const TensorView*> by_name;
  for (const TensorView& t : decoded.tensors) by_name[t.name] = &t;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& in = tensors_[i];
    ASSERT_TRUE(by_name.count(in.name)) << in.name;
    const TensorView& t = *by_name[in.name];
    EXPECT_EQ(t.dtype, in.dtype) << in.name;
    EXPECT_EQ(t.shape, in.shape) << in.name;
    EXPECT_EQ(std::vector<uint8_t>(t.data.begin(), t.data.end()), lib[i].data) << in.name;
    if (in.shape.size() < 2) {
      EXPECT_EQ(std::vector<uint8_t>(t.data.begin(), t.data.end()), in.data) << in.name;
    }
  }

  // Decoded output round-trips: raw re-encode and decode give the same safetensors bytes.
  r = Sdcodec("encode '" + out + "' -o '" + Path("again.sdc") + "' --method raw -q");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Sdcodec("decode '" + Path("again.sdc") + "' -o '" + Path("again.safetensors") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Bytes(Path("again.safetensors")), decoded_bytes);
}

// Assets given with --asset come back byte for byte through decode --assets-dir.
TEST_F(Cli, Assets) {
  const std::vector<uint8_t> tok = test::RandomBytes(5000, 9);
  WriteBytes(Path("tokenizer.json"), tok);
  RunResult r = Sdcodec("encode '" + Path("model.safetensors") + "' -o '" + Path("m.sdc") +
                        "' --asset tokenizer.json='" + Path("tokenizer.json") + "' -q");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Sdcodec("decode '" + Path("m.sdc") + "' -o '" + Path("o.safetensors") + "' --assets-dir '" + Path("assets") +
              "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Bytes(Path("assets/tokenizer.json")), tok);
}

// Every failure exits non-zero with exactly one line on stderr: missing input, bad option values, a
// corrupt .sdc (for verify, decode and inspect), input that is not safetensors, a bad command line.
TEST_F(Cli, FailuresPrintOneLine) {
  const std::string model = "'" + Path("model.safetensors") + "'";
  ExpectOneLineFailure("encode '" + Path("missing.safetensors") + "' -o '" + Path("x.sdc") + "'",
                       "missing.safetensors");
  ExpectOneLineFailure("verify '" + Path("missing.sdc") + "'", "missing.sdc");
  ExpectOneLineFailure("decode '" + Path("missing.sdc") + "' -o '" + Path("x.safetensors") + "'");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --bits 9", "bits");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --bits two");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --method zip");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --raw-dtype f8");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --zstd-level 99");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --role 'a*=bogus'", "bogus");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --asset nonsense");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --budget 100", "budget");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --alignment 3");
  // Numbers are checked by the option table's ranges, not wrapped: a negative budget is no huge one.
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --budget -5", "budget");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --budget 5x", "not a number");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --threads -3", "threads");
  ExpectOneLineFailure("encode " + model + " -o '" + Path("x.sdc") + "' --residuals 0.9", "residuals");
  ExpectOneLineFailure("encode " + model);  // no -o
  ExpectOneLineFailure("frobnicate");
  ExpectOneLineFailure("");
  EXPECT_FALSE(fs::exists(Path("x.sdc"))) << "no output is left behind by a failed encode";

  // Not safetensors.
  const std::string text = "this is not a safetensors file, just text\n";
  WriteBytes(Path("notes.txt"), std::vector<uint8_t>(text.begin(), text.end()));
  ExpectOneLineFailure("encode '" + Path("notes.txt") + "' -o '" + Path("x.sdc") + "'", "safetensors");

  // A corrupt .sdc: one payload byte changed (only the section hash catches it), and a bad magic.
  ASSERT_EQ(Sdcodec("encode " + model + " -o '" + Path("good.sdc") + "' -q").code, 0);
  std::vector<uint8_t> bad = Bytes(Path("good.sdc"));
  bad[bad.size() - 3] ^= 0x20;
  WriteBytes(Path("bad.sdc"), bad);
  ExpectOneLineFailure("verify '" + Path("bad.sdc") + "'", "checksum mismatch");
  ExpectOneLineFailure("decode '" + Path("bad.sdc") + "' -o '" + Path("bad.safetensors") + "'", "checksum mismatch");
  EXPECT_FALSE(fs::exists(Path("bad.safetensors"))) << "no output is written for a corrupt input";
  bad = Bytes(Path("good.sdc"));
  bad[0] = 'X';
  WriteBytes(Path("magic.sdc"), bad);
  ExpectOneLineFailure("inspect '" + Path("magic.sdc") + "'", "bad magic");
  ExpectOneLineFailure("verify '" + Path("model.safetensors") + "'", "bad magic");
}

// `encode X -o X` (and any other spelling of the same file) is refused and leaves X untouched; so is
// decoding an .sdc onto itself.
TEST_F(Cli, RefusesToOverwriteTheInput) {
  const std::string model = Path("model.safetensors");
  const std::vector<uint8_t> before = Bytes(model);
  ExpectOneLineFailure("encode '" + model + "' -o '" + model + "'", "refusing to overwrite");
  ExpectOneLineFailure("encode '" + model + "' -o '" + dir_ + "/./model.safetensors'", "refusing to overwrite");
  fs::create_symlink(model, Path("link.safetensors"));
  ExpectOneLineFailure("encode '" + model + "' -o '" + Path("link.safetensors") + "'", "refusing to overwrite");
  EXPECT_EQ(Bytes(model), before);

  ASSERT_EQ(Sdcodec("encode '" + model + "' -o '" + Path("m.sdc") + "' -q").code, 0);
  const std::vector<uint8_t> sdc = Bytes(Path("m.sdc"));
  ExpectOneLineFailure("decode '" + Path("m.sdc") + "' -o '" + Path("m.sdc") + "'", "refusing to overwrite");
  EXPECT_EQ(Bytes(Path("m.sdc")), sdc);
  // Nothing but the files made above is left in the directory (no temporary files).
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "model.safetensors" || name == "link.safetensors" || name == "m.sdc" || name[0] == '.') << name;
  }
}

// A valid .sdc whose tensor name is not UTF-8 (the format does not require UTF-8, spec §6) verifies, and
// decoding it to safetensors (which needs UTF-8 JSON) fails cleanly: exit 1, one line, no output file.
TEST_F(Cli, DecodeOfANonUtf8NameFailsCleanly) {
  test::FileBuilder b;
  b.AddRawTensor("w\xff", DType::kU8, {2}, std::vector<uint8_t>{1, 2});
  WriteBytes(Path("latin1.sdc"), b.Build());
  EXPECT_EQ(Sdcodec("verify '" + Path("latin1.sdc") + "'").code, 0);
  ExpectOneLineFailure("decode '" + Path("latin1.sdc") + "' -o '" + Path("latin1.safetensors") + "'", "UTF-8");
  EXPECT_FALSE(fs::exists(Path("latin1.safetensors")));
}

// A safetensors file may name a tensor "" (any JSON key is allowed). Encoding it either fails with one
// line or writes a file that verifies; it must not write an artifact that sdcodec itself refuses.
TEST_F(Cli, EncodeNeverWritesAnUndecodableFile) {
  std::vector<uint8_t> bytes;
  const std::vector<uint8_t> data(8, 0);
  ASSERT_TRUE(SerializeSafetensors({{"", DType::kF32, {2}, data}}, {}, &bytes).ok());
  WriteBytes(Path("empty_name.safetensors"), bytes);
  const RunResult r = Sdcodec("encode '" + Path("empty_name.safetensors") + "' -o '" + Path("e.sdc") + "' -q");
  if (r.code != 0) {
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    return;
  }
  const RunResult v = Sdcodec("verify '" + Path("e.sdc") + "'");
  EXPECT_EQ(v.code, 0) << "encode wrote a file verify refuses: " << v.err;
}

// --help exits 0 with usage on stdout for the program and every subcommand.
TEST_F(Cli, HelpForEverySubcommand) {
  for (const char* args : {"--help", "-h", "encode --help", "decode --help", "verify --help", "inspect --help"}) {
    const RunResult r = Sdcodec(args);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args << ": " << r.out;
  }
  // encode's help is generated from the option table: every option, with its own help text.
  const RunResult r = Sdcodec("encode --help");
  for (const OptionSpec& spec : EncodeOptionTable()) {
    const std::string flag = "--" + std::string(spec.name);
    EXPECT_TRUE(r.out.find(flag + " ") != std::string::npos || r.out.find(flag + ",") != std::string::npos) << flag;
    EXPECT_NE(r.out.find(std::string(spec.help)), std::string::npos) << spec.name;
  }
  for (const char* option : {"--asset", "--importance", "--hessians", "--threads", "--quiet", "--no-act-order"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace sdc
