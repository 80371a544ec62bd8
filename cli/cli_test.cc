// cli/: the built `sdcodec` binary, run as a user would. Success paths exit 0 and produce files the library
// agrees with; every failure exits non-zero with exactly one line on stderr; the input is never overwritten.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "encoder/enc_options.h"
#include "format/file_io.h"
#include "format/rans_codec.h"
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
  // `prefix`: shell commands to run first in the same shell (a ulimit).
  RunResult Sdcodec(const std::string& args, const std::string& prefix = "") const {
    RunResult r;
    const std::string out = Path(".stdout"), err = Path(".stderr");
    const std::string cmd = prefix + "'" + SDCODEC_BIN + "' " + args + " >'" + out + "' 2>'" + err + "' </dev/null";
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

// Everything in `dir` (relative names, sorted), to show that a refused command changed nothing.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string n = fs::relative(e.path(), dir).string();
    if (n[0] != '.' || n.rfind(".sdcodec-tmp-", 0) == 0) names.push_back(n);  // .stdout/.stderr are ours
  }
  std::sort(names.begin(), names.end());
  return names;
}

// decode is all or nothing (issue 14, findings 2, 3 and 8): an asset named like the output or the input, an
// output that is a FIFO, or any failure after some outputs were written leaves every destination as it was
// (an existing output untouched, no asset written, no temporary file, no assets directory made).
TEST_F(Cli, DecodeIsAllOrNothing) {
  const std::string model = "'" + Path("model.safetensors") + "'";
  WriteBytes(Path("tok.json"), std::vector<uint8_t>{'{', '}'});
  ASSERT_EQ(Sdcodec("encode " + model + " -o '" + Path("m.sdc") + "' -q --asset model.safetensors='" +
                    Path("tok.json") + "' --asset m.sdc='" + Path("tok.json") + "'")
                .code,
            0);
  fs::create_directory(Path("out"));
  WriteBytes(Path("out/model.safetensors"), std::vector<uint8_t>{'o', 'l', 'd'});
  const std::vector<uint8_t> input = Bytes(Path("m.sdc"));
  std::vector<std::string> before = Listing(dir_);
  // The tokenizer beside the model, named like it: refused before anything is written.
  ExpectOneLineFailure(
      "decode '" + Path("m.sdc") + "' -o '" + Path("out/model.safetensors") + "' --assets-dir '" + Path("out") + "'",
      "same file");
  EXPECT_EQ(Bytes(Path("out/model.safetensors")), (std::vector<uint8_t>{'o', 'l', 'd'}));
  EXPECT_EQ(Listing(dir_), before);
  // An asset named like the input, unpacked beside it.
  ExpectOneLineFailure("decode '" + Path("m.sdc") + "' -o '" + Path("x.safetensors") + "' --assets-dir '" + dir_ + "'",
                       "refusing to overwrite the input");
  EXPECT_EQ(Bytes(Path("m.sdc")), input);
  EXPECT_EQ(Listing(dir_), before);
  // A FIFO (or a device node) would be replaced by a regular file.
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0644), 0);
  before = Listing(dir_);
  ExpectOneLineFailure("decode '" + Path("m.sdc") + "' -o '" + Path("fifo") + "'", "not a regular file");
  EXPECT_TRUE(fs::is_fifo(Path("fifo")));
  // A failure after the tensors were written (the last asset's hash): nothing is left anywhere.
  const std::vector<uint8_t> bad =
      test::Rewrite(input, [](test::FileParts& p) { p.manifest.sections.back()->xxh64 ^= 1; });
  WriteBytes(Path("bad.sdc"), bad);
  before = Listing(dir_);
  ExpectOneLineFailure("decode '" + Path("bad.sdc") + "' -o '" + Path("out/model.safetensors") + "' --assets-dir '" +
                           Path("new-assets") + "'",
                       "checksum mismatch");
  EXPECT_EQ(Bytes(Path("out/model.safetensors")), (std::vector<uint8_t>{'o', 'l', 'd'}));
  EXPECT_EQ(Listing(dir_), before);
  // And the same decode of the good file writes all of it.
  ASSERT_EQ(Sdcodec("decode '" + Path("m.sdc") + "' -o '" + Path("out/model.safetensors") + "' --assets-dir '" +
                    Path("new-assets") + "'")
                .code,
            0);
  EXPECT_EQ(Bytes(Path("new-assets/model.safetensors")), (std::vector<uint8_t>{'{', '}'}));
  EXPECT_EQ(Bytes(Path("new-assets/m.sdc")), (std::vector<uint8_t>{'{', '}'}));
  SafetensorsFile decoded;
  const std::vector<uint8_t> out = Bytes(Path("out/model.safetensors"));
  EXPECT_TRUE(ParseSafetensors(out, &decoded).ok());
}

// Asset names are a format rule (spec §6): encode refuses what decode would refuse, and writes nothing.
TEST_F(Cli, EncodeRefusesAssetNamesThatAreNotFileNames) {
  WriteBytes(Path("tok.json"), std::vector<uint8_t>{'{', '}'});
  for (const char* name : {"../../x", "..", ".", "a/b", "a\\b"}) {
    ExpectOneLineFailure("encode '" + Path("model.safetensors") + "' -o '" + Path("x.sdc") + "' -q --asset '" + name +
                             "=" + Path("tok.json") + "'",
                         "asset name");
    EXPECT_FALSE(fs::exists(Path("x.sdc"))) << name;
  }
}

// Non-UTF-8 and control characters in names (finding 1 and 10): inspect and compare print them escaped
// (no raw ESC reaches the terminal), --json keeps them lossless in *_hex keys and never aborts, and so do
// error messages.
TEST_F(Cli, HostileNamesArePrintedEscaped) {
  test::FileBuilder b;
  b.AddRawTensor("w\xff", DType::kU8, {2}, std::vector<uint8_t>{1, 2});
  b.AddRawTensor("\x1b[31mred", DType::kU8, {1}, std::vector<uint8_t>{3});
  b.AddAsset("t\xfe", std::vector<uint8_t>{4});
  b.manifest().encoder = "enc\x9b\xff";
  const std::string f = Path("names.sdc");
  WriteBytes(f, b.Build());
  RunResult r = Sdcodec("inspect '" + f + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("w\\xff"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b[31mred"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "a raw ESC reached the terminal";
  r = Sdcodec("inspect --json '" + f + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["tensors"][0]["name"], "w\xef\xbf\xbd");
  EXPECT_EQ(j["tensors"][0]["name_hex"], "77ff");
  EXPECT_FALSE(j["tensors"][1].contains("name_hex")) << "valid UTF-8 (control characters are JSON-escaped)";
  EXPECT_EQ(j["tensors"][1]["name"], "\x1b[31mred");
  EXPECT_EQ(j["assets"][0]["name_hex"], "74fe");
  EXPECT_EQ(j["encoder_hex"], "656e639bff");
  EXPECT_EQ(j["sections"][0]["owner_hex"], "77ff");
  r = Sdcodec("compare --json '" + f + "' '" + f + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json c = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(c.is_discarded()) << r.out;
  EXPECT_EQ(c["tensors"][0]["name_hex"], "77ff");
  EXPECT_EQ(c["files"][0]["encoder_hex"], "656e639bff");
  r = Sdcodec("compare '" + f + "' '" + f + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  ASSERT_EQ(Sdcodec("inspect '" + f + "' --html '" + Path("names.html") + "'").code, 0);
  // An error message naming a tensor: escaped too.
  WriteBytes(Path("bad.sdc"), test::Rewrite(Bytes(f), [](test::FileParts& p) { p.manifest.tensors[1]->xxh64 ^= 1; }));
  r = Sdcodec("verify '" + Path("bad.sdc") + "'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("tensor '\\x1b[31mred'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
}

// A budget of 2^63 or more: inspect reports the exact bytes left (finding 10), which is itself above 2^63
// here (a signed 64-bit difference made it negative).
TEST_F(Cli, InspectBudgetAbove2To63) {
  test::FileBuilder b;
  b.AddRawTensor("w", DType::kU8, {2}, std::vector<uint8_t>{1, 2});
  const uint64_t budget = ~uint64_t{0} - 5;
  b.manifest().budget_bytes = budget;
  WriteBytes(Path("b.sdc"), b.Build());
  const RunResult r = Sdcodec("inspect --json '" + Path("b.sdc") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["budget"]["left"].get<uint64_t>(), budget - fs::file_size(Path("b.sdc")));
  const RunResult t = Sdcodec("inspect '" + Path("b.sdc") + "'");
  EXPECT_NE(t.out.find("left " + std::to_string(budget - fs::file_size(Path("b.sdc")))), std::string::npos) << t.out;
}

// decode checks the banks no tensor uses, as verify does, before it says every hash matches (finding 9).
TEST_F(Cli, DecodeChecksUnusedBanks) {
  test::FileBuilder b;
  b.AddRawTensor("w", DType::kU8, {2}, std::vector<uint8_t>{1, 2});
  b.AddBankValues(std::vector<float>{0, 1, std::numeric_limits<float>::quiet_NaN(), 3}, 2, 2, DType::kF32);
  WriteBytes(Path("bank.sdc"), b.Build());
  ExpectOneLineFailure("verify '" + Path("bank.sdc") + "'", "bank 0");
  ExpectOneLineFailure("decode '" + Path("bank.sdc") + "' -o '" + Path("bank.safetensors") + "'", "bank 0");
  EXPECT_FALSE(fs::exists(Path("bank.safetensors")));
}

#ifndef SDC_SANITIZED  // ASan reserves terabytes of address space: an address-space cap would stop it
// A valid file of a few hundred bytes holding a 4 GiB tensor (a one-symbol rANS stream: "4 GiB of 7s"),
// decoded under a 1 GiB address-space cap: the allocation fails, and that is one line and exit 1, not an
// escaped std::bad_alloc (finding 6).
TEST_F(Cli, OutOfMemoryIsAStatus) {
  const uint64_t n = uint64_t{4} << 30;
  const std::vector<uint8_t> stream = {0x00, 0x00, 0x0E, 0x00};  // P = 0; S - 1 = 0; symbol 7 (spec §5.1)
  std::vector<uint8_t> three;
  ASSERT_TRUE(RansDecodeExact(stream, 1, 1, 3, &three).ok());
  ASSERT_EQ(three, (std::vector<uint8_t>{7, 7, 7}));
  XXH64_state_t* h = XXH64_createState();
  XXH64_reset(h, 0);
  const std::vector<uint8_t> chunk(1 << 20, 7);
  for (uint64_t done = 0; done < n; done += chunk.size()) XXH64_update(h, chunk.data(), chunk.size());
  const uint64_t hash = XXH64_digest(h);
  XXH64_freeState(h);
  test::FileBuilder b;
  b.AddRawTensor("big", DType::kU8, {1}, std::vector<uint8_t>{7});
  WriteBytes(Path("big.sdc"), test::Rewrite(b.Build(), [&](test::FileParts& p) {
               p.manifest.tensors[0]->shape = {n};
               p.manifest.tensors[0]->xxh64 = hash;
               p.data = stream;
               fb::SectionT& s = *p.manifest.sections[0];
               s.codec = fb::Codec::Rans8;
               s.stored_size = stream.size();
               s.raw_size = n;
               s.xxh64 = test::Hash(stream);
             }));
  EXPECT_EQ(Sdcodec("inspect '" + Path("big.sdc") + "'").code, 0) << "a valid file";
  for (const std::string& args :
       {"verify '" + Path("big.sdc") + "'", "decode '" + Path("big.sdc") + "' -o '" + Path("big.safetensors") + "'"}) {
    const RunResult r = Sdcodec(args, "ulimit -v 1048576; ");
    EXPECT_EQ(r.code, 1) << args << ": " << r.err;
    EXPECT_EQ(r.err_lines(), 1) << args << ": " << r.err;
    EXPECT_NE(r.err.find("limit exceeded"), std::string::npos) << args << ": " << r.err;
    EXPECT_NE(r.err.find("out of memory"), std::string::npos) << args << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(Path("big.safetensors")));
}
#endif

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
