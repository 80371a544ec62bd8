// format/safetensors.h: the reader and writer — round trips for every dtype and shape kind, the writer's
// header layout, and each malformed header the reader must refuse (safetensors v0.4 rules).
#include "format/safetensors.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "format/endian.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

// A safetensors file from a literal JSON header and `data_size` data bytes.
std::vector<uint8_t> RawFile(const std::string& header, size_t data_size = 0) {
  uint8_t length[8];
  StoreLE64(length, header.size());
  const std::vector<uint8_t> data = test::RandomBytes(data_size, 5);
  return test::Concat(
      {length, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(header.data()), header.size()), data});
}

struct Owned {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;
};

// Every dtype, with 0-d, 1-d, 2-d, 3-d and empty shapes, survives Serialize -> Parse with names, dtypes,
// shapes, bytes and metadata intact.
TEST(Safetensors, RoundTripEveryDtypeAndShape) {
  const std::vector<std::vector<uint64_t>> shapes = {{}, {5}, {2, 3}, {2, 1, 3}, {0}, {3, 0}, {0, 4}};
  std::vector<Owned> owned;
  for (int d = 0; d < kDTypeCount; ++d)
    for (size_t s = 0; s < shapes.size(); ++s) {
      const DType dt = static_cast<DType>(d);
      owned.push_back({std::string(DTypeName(dt)) + "_" + std::to_string(s), dt, shapes[s],
                       test::RandomBytes(test::Numel(shapes[s]) * DTypeSize(dt), d * 100 + s)});
    }
  std::vector<TensorView> views;
  for (const Owned& o : owned) views.push_back({o.name, o.dtype, o.shape, o.data});
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "a \"quoted\" value\n"}};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(SerializeSafetensors(views, metadata, &bytes).ok());

  SafetensorsFile parsed;
  Status s = ParseSafetensors(bytes, &parsed);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(parsed.metadata, metadata);
  ASSERT_EQ(parsed.tensors.size(), owned.size());
  std::map<std::string, const TensorView*> by_name;
  for (const TensorView& t : parsed.tensors) by_name[t.name] = &t;
  for (const Owned& o : owned) {
    ASSERT_TRUE(by_name.count(o.name)) << o.name;
    const TensorView& t = *by_name[o.name];
    EXPECT_EQ(t.dtype, o.dtype) << o.name;
    EXPECT_EQ(t.shape, o.shape) << o.name;
    EXPECT_EQ(std::vector<uint8_t>(t.data.begin(), t.data.end()), o.data) << o.name;
  }
  // Parsed tensors come in data-offset order.
  for (size_t i = 1; i < parsed.tensors.size(); ++i)
    EXPECT_LE(parsed.tensors[i - 1].data.data(), parsed.tensors[i].data.data());
}

// The writer pads the JSON header with spaces to a multiple of 8 and lays data out in the given order.
TEST(Safetensors, WriterLayout) {
  std::vector<uint8_t> a = {1, 2, 3, 4}, b = {9, 8};
  std::vector<TensorView> views = {{"z", DType::kF32, {1}, a}, {"a", DType::kU8, {2}, b}};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(SerializeSafetensors(views, {}, &bytes).ok());
  const uint64_t n = LoadLE64(bytes.data());
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 6);
  EXPECT_EQ(bytes[8], '{');
  EXPECT_EQ(std::vector<uint8_t>(bytes.end() - 6, bytes.end()), (std::vector<uint8_t>{1, 2, 3, 4, 9, 8}));
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + n);
  EXPECT_EQ(header.find("__metadata__"), std::string::npos) << "no metadata key when there is none";
  SafetensorsFile parsed;
  ASSERT_TRUE(ParseSafetensors(bytes, &parsed).ok());
  ASSERT_EQ(parsed.tensors.size(), 2u);
  EXPECT_EQ(parsed.tensors[0].name, "z");  // offset order, not key order
}

// The header is written without a JSON document tree, and is byte for byte what dumping that tree gives
// (how it was written before, so decoded files do not change): keys sorted, "__metadata__" in its place
// among them, names escaped as nlohmann escapes them.
TEST(Safetensors, HeaderTextIsTheJsonDump) {
  const std::vector<std::string> names = {
      "b", "A", "_a", "__a", "__metadata_", "__metadata__x", "z\"q\\\n\x01", "caf\xc3\xa9", "layers.0.attn.wq"};
  for (bool with_metadata : {false, true}) {
    std::vector<TensorHeader> tensors;
    nlohmann::json tree = nlohmann::json::object();
    const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"k\t", "v\""}};
    if (with_metadata) tree["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::vector<uint64_t> shape = i % 3 == 0 ? std::vector<uint64_t>{} : std::vector<uint64_t>{i, 2};
      const uint64_t bytes = (i % 3 == 0 ? 1 : 2 * i) * 4;
      tensors.push_back({names[i], DType::kF32, shape, bytes});
      tree[names[i]] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
      offset += bytes;
    }
    std::vector<uint8_t> out;
    ASSERT_TRUE(SafetensorsHeader(tensors, with_metadata ? metadata : std::map<std::string, std::string>{}, &out).ok());
    std::string expect = tree.dump();
    expect.append((8 - expect.size() % 8) % 8, ' ');
    EXPECT_EQ(std::string(out.begin() + 8, out.end()), expect);
    EXPECT_EQ(LoadLE64(out.data()), expect.size());
  }
}

// Duplicate and reserved names are refused by the writer.
TEST(Safetensors, WriterRejectsDuplicateAndReservedNames) {
  std::vector<uint8_t> a = {1};
  std::vector<uint8_t> out;
  EXPECT_EQ(SerializeSafetensors({{"x", DType::kU8, {1}, a}, {"x", DType::kU8, {1}, a}}, {}, &out).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SerializeSafetensors({{"__metadata__", DType::kU8, {1}, a}}, {}, &out).code(),
            StatusCode::kInvalidArgument);
}

// Names and metadata that are not valid UTF-8 (legal in an .sdc manifest, spec §6) cannot be written as
// JSON: the writer must say so with a Status, never throw (the project's error convention, status.h).
TEST(Safetensors, WriterReportsInvalidUtf8WithAStatus) {
  std::vector<uint8_t> a = {1, 2, 3, 4};
  std::vector<uint8_t> out;
  Status s;
  EXPECT_NO_THROW(s = SerializeSafetensors({{"bad\xff", DType::kF32, {1}, a}}, {}, &out));
  EXPECT_FALSE(s.ok());
  EXPECT_NO_THROW(s = SerializeSafetensors({{"ok", DType::kF32, {1}, a}}, {{"key", "\xc3\x28"}}, &out));
  EXPECT_FALSE(s.ok());
}

// A file with no tensors at all is valid ("{}" and an empty data buffer).
TEST(Safetensors, EmptyObjectIsValid) {
  SafetensorsFile parsed;
  EXPECT_TRUE(ParseSafetensors(RawFile("{}      "), &parsed).ok());
  EXPECT_TRUE(parsed.tensors.empty());
}

struct Malformed {
  const char* what;
  std::vector<uint8_t> bytes;
  StatusCode code;
  const char* message;
};

// Keys a tensor entry does not need are skipped whatever they hold (the reference reader ignores them too),
// without building them: a header of a million nested empty arrays parses as fast as its tensors.
TEST(Safetensors, UnknownKeysAreSkipped) {
  std::string nested;
  for (int i = 0; i < 1000000; ++i) nested += "[],";
  const std::string header =
      R"({"t":{"x":[[[{"a":[1,-2,"s",null,true,2.5]}]]],"dtype":"F32","shape":[2],"data_offsets":[0,8],"y":[)" +
      nested + R"([]]},"__metadata__":{"k":"v"}})";
  const std::vector<uint8_t> file = RawFile(header, 8);
  SafetensorsFile parsed;
  ASSERT_TRUE(ParseSafetensors(file, &parsed).ok());
  ASSERT_EQ(parsed.tensors.size(), 1u);
  EXPECT_EQ(parsed.tensors[0].name, "t");
  EXPECT_EQ(parsed.tensors[0].shape, (std::vector<uint64_t>{2}));
  EXPECT_EQ(parsed.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
}

// Empty tensors share an offset: their order is by name whatever the header's key order, as it was when
// the header was read into a sorted JSON object.
TEST(Safetensors, EmptyTensorsAreOrderedByName) {
  const std::string e = R"({"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
  const std::vector<uint8_t> file = RawFile(R"({"c":)" + e + R"(,"a":)" + e + R"(,"b":)" + e + "}");
  SafetensorsFile parsed;
  ASSERT_TRUE(ParseSafetensors(file, &parsed).ok());
  ASSERT_EQ(parsed.tensors.size(), 3u);
  EXPECT_EQ(parsed.tensors[0].name + parsed.tensors[1].name + parsed.tensors[2].name, "abc");
}

// Each malformed file is refused, with a message naming the problem.
TEST(Safetensors, MalformedHeadersAreRejected) {
  auto with_length = [](uint64_t n, size_t total) {
    std::vector<uint8_t> f(total, ' ');
    StoreLE64(f.data(), n);
    if (total > 8) f[8] = '{';
    return f;
  };
  const std::string t = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<Malformed> cases = {
      {"too short", {1, 2, 3, 4, 5, 6, 7}, StatusCode::kCorrupt, "shorter than its 8-byte header length"},
      {"header length > 100,000,000", with_length(100'000'001, 64), StatusCode::kCorrupt, "exceeds 100,000,000"},
      {"header length past EOF", with_length(100, 64), StatusCode::kCorrupt, "runs past the end of the file"},
      {"zero header length", with_length(0, 8), StatusCode::kCorrupt, "is not a JSON object"},
      {"not JSON", RawFile("{\"t\": nope}"), StatusCode::kCorrupt, "not valid JSON"},
      {"not an object", RawFile("[1, 2, 3]"), StatusCode::kCorrupt, "is not a JSON object"},
      {"object followed by garbage", RawFile("{} {}"), StatusCode::kCorrupt, "not valid JSON"},
      {"tensor entry not an object", RawFile(R"({"t": 5})"), StatusCode::kCorrupt, "is not an object"},
      {"missing data_offsets", RawFile(R"({"t":{"dtype":"F32","shape":[2]}})", 8), StatusCode::kCorrupt,
       "lacks dtype, shape or data_offsets"},
      {"unknown dtype", RawFile(R"({"t":{"dtype":"F128","shape":[2],"data_offsets":[0,32]}})", 32),
       StatusCode::kUnsupported, "unknown dtype 'F128'"},
      {"lower-case dtype", RawFile(R"({"t":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8),
       StatusCode::kUnsupported, "unknown dtype 'f32'"},
      {"negative shape", RawFile(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), StatusCode::kCorrupt,
       "shape entry that is not a non-negative integer"},
      {"float shape", RawFile(R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), StatusCode::kCorrupt,
       "shape entry that is not a non-negative integer"},
      {"string shape", RawFile(R"({"t":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8), StatusCode::kCorrupt,
       "shape entry that is not a non-negative integer"},
      {"negative offset", RawFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
       StatusCode::kCorrupt, "data offset that is not a non-negative integer"},
      {"shape overflows", RawFile(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
       StatusCode::kCorrupt, "shape overflows"},
      {"offsets do not match shape x dtype", RawFile(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       StatusCode::kCorrupt, "data_offsets do not match shape x dtype size"},
      {"reversed offsets", RawFile(R"({"t":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", 8), StatusCode::kCorrupt,
       "data_offsets do not match shape x dtype size"},
      {"gap between tensors",
       RawFile(
           R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})",
           12),
       StatusCode::kCorrupt, "'b' data does not start where the previous one ends"},
      {"overlapping tensors",
       RawFile(
           R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}})",
           12),
       StatusCode::kCorrupt, "'b' data does not start where the previous one ends"},
      {"data not starting at 0", RawFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       StatusCode::kCorrupt, "'t' data does not start where the previous one ends"},
      {"data not fully covered (short)", RawFile("{" + t + "}", 4), StatusCode::kCorrupt,
       "tensors cover 8 bytes of a 4-byte data buffer"},
      {"trailing bytes", RawFile("{" + t + "}", 12), StatusCode::kCorrupt,
       "tensors cover 8 bytes of a 12-byte data buffer"},
      {"__metadata__ not an object", RawFile(R"({"__metadata__":["a"]})"), StatusCode::kCorrupt,
       "__metadata__ is not an object"},
      {"__metadata__ value not a string", RawFile(R"({"__metadata__":{"a":1}})"), StatusCode::kCorrupt,
       "__metadata__ value is not a string"},
      // nlohmann's reader stops at a NUL byte and took it for the end of the header (issue 14, finding 10).
      {"NUL byte then garbage", RawFile(std::string("{" + t + "}") + '\0' + "garbage", 8), StatusCode::kCorrupt,
       "contains a NUL byte"},
      {"duplicate tensor", RawFile("{" + t + "," + t + "}", 8), StatusCode::kCorrupt, "duplicate key 't'"},
      {"duplicate __metadata__", RawFile(R"({"__metadata__":{},"__metadata__":{}})"), StatusCode::kCorrupt,
       "duplicate key '__metadata__'"},
      {"duplicate metadata key", RawFile(R"({"__metadata__":{"a":"1","a":"2"}})"), StatusCode::kCorrupt,
       "duplicate key 'a'"},
      {"duplicate dtype", RawFile(R"({"t":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
       StatusCode::kCorrupt, "duplicate 'dtype'"},
      {"three offsets", RawFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8), StatusCode::kCorrupt,
       "more than two data_offsets"},
      {"shape of arrays", RawFile(R"({"t":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8),
       StatusCode::kCorrupt, "shape entry that is not a non-negative integer"},
      {"dtype not a string", RawFile(R"({"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8), StatusCode::kCorrupt,
       "has a number where dtype belongs"},
      {"escape in a name", RawFile("{\"\\u001b[31m\": 5}"), StatusCode::kCorrupt,
       "tensor '\\x1b[31m' is not an object"},
  };
  for (const Malformed& c : cases) {
    SafetensorsFile parsed;
    Status s = ParseSafetensors(c.bytes, &parsed);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.what << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace sdc
