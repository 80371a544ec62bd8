// format/types.h, tensor_layout.h, file_io.h and status.h: dtype and role tables, the row layout of
// spec §8.1 with overflow-checked element counts, whole-file reads and atomic writes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "format/file_io.h"
#include "format/status.h"
#include "format/tensor_layout.h"
#include "format/types.h"

namespace sdc {
namespace {

// Every dtype has the size and safetensors spelling of spec §6, and names parse back; roles likewise.
TEST(Types, Tables) {
  const std::vector<std::pair<const char*, size_t>> expect = {
      {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I8", 1},   {"U8", 1},      {"I16", 2},    {"U16", 2},
      {"I32", 4}, {"U32", 4}, {"I64", 8},  {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  ASSERT_EQ(expect.size(), static_cast<size_t>(kDTypeCount));
  for (int i = 0; i < kDTypeCount; ++i) {
    const DType t = static_cast<DType>(i);
    EXPECT_STREQ(DTypeName(t), expect[i].first);
    EXPECT_EQ(DTypeSize(t), expect[i].second);
    EXPECT_EQ(ParseDTypeName(expect[i].first), t);
    EXPECT_EQ(IsLossyCodable(t), i <= 2);
  }
  EXPECT_FALSE(ParseDTypeName("f32").has_value());
  EXPECT_FALSE(IsValidDType(15));
  for (int r = 0; r < kRoleCount; ++r) EXPECT_EQ(ParseRoleName(RoleName(static_cast<Role>(r))), static_cast<Role>(r));
  EXPECT_FALSE(ParseRoleName("Embedding").has_value());
  EXPECT_FALSE(IsValidRole(6));
}

// Rows and columns (0-d is 1 x 1, 1-d is 1 x n), groups per row, and element counts that refuse overflow
// and caps, a leading zero dimension making whatever follows irrelevant.
TEST(TensorLayout, RowsGroupsAndCheckedNumel) {
  std::vector<uint64_t> s0 = {}, s1 = {7}, s3 = {2, 3, 5}, e = {3, 0};
  EXPECT_EQ(RowsOf(s0).rows, 1u);
  EXPECT_EQ(RowsOf(s0).cols, 1u);
  EXPECT_EQ(RowsOf(s1).rows, 1u);
  EXPECT_EQ(RowsOf(s1).cols, 7u);
  EXPECT_EQ(RowsOf(s3).rows, 6u);
  EXPECT_EQ(RowsOf(s3).cols, 5u);
  EXPECT_EQ(RowsOf(e).numel(), 0u);
  EXPECT_EQ(GroupsPerRow(0, 32), 0u);
  EXPECT_EQ(GroupsPerRow(100, 0), 1u);
  EXPECT_EQ(GroupsPerRow(100, 32), 4u);
  EXPECT_EQ(GroupsPerRow(96, 32), 3u);
  uint64_t n = 99;
  EXPECT_TRUE(CheckedNumel(s0, 10, &n));
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(CheckedNumel(s3, 30, &n));
  EXPECT_EQ(n, 30u);
  EXPECT_FALSE(CheckedNumel(s3, 29, &n));
  std::vector<uint64_t> overflow = {uint64_t{1} << 32, uint64_t{1} << 32};
  EXPECT_FALSE(CheckedNumel(overflow, UINT64_MAX, &n));
  std::vector<uint64_t> zero_first = {0, uint64_t{1} << 62, uint64_t{1} << 62};
  EXPECT_TRUE(CheckedNumel(zero_first, 10, &n));
  EXPECT_EQ(n, 0u);
}

// Status: ok by default, code and message kept, context prefixed only on failure.
TEST(Status, Basics) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  const Status s = Error(StatusCode::kCorrupt, "section 3: bad").WithContext("file.sdc");
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.ToString(), "corrupt: file.sdc: section 3: bad");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "sdc_io_XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// Atomic writes create or replace the file whole, leave no temporary behind, refuse to overwrite any of
// the inputs, and reads honour the size limit and refuse non-regular files.
TEST_F(FileIo, ReadWriteAtomic) {
  const std::string path = dir_ + "/a.bin";
  const std::vector<uint8_t> one = {1, 2, 3}, two(1000, 7);
  ASSERT_TRUE(WriteFileAtomic(path, one).ok());
  ASSERT_TRUE(WriteFileAtomic(path, two).ok());
  std::vector<uint8_t> got;
  ASSERT_TRUE(ReadFile(path, &got).ok());
  EXPECT_EQ(got, two);
  EXPECT_EQ(ReadFile(path, &got, 999).code(), StatusCode::kLimitExceeded);
  EXPECT_EQ(ReadFile(dir_, &got).code(), StatusCode::kIoError);
  EXPECT_EQ(ReadFile(dir_ + "/missing", &got).code(), StatusCode::kIoError);

  const std::vector<std::string> inputs = {path};
  EXPECT_EQ(WriteFileAtomic(path, one, inputs).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteFileAtomic(dir_ + "/./a.bin", one, inputs).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ReadFile(path, &got).ok());
  EXPECT_EQ(got, two) << "a refused write leaves the input untouched";
  EXPECT_EQ(WriteFileAtomic(dir_ + "/no/such/dir/x", one).code(), StatusCode::kIoError);

  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1) << "no temporary files are left";
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Several outputs: nothing appears before Commit, everything after it; a set destroyed without a Commit
// (any failure on the way) leaves the destinations and the directory as they were, its temporaries and
// the directory it made removed (issue 14, finding 8).
TEST_F(FileIo, OutputFilesAreAllOrNothing) {
  const std::string a = dir_ + "/a.bin", sub = dir_ + "/assets", b = sub + "/b.bin";
  ASSERT_TRUE(WriteFileAtomic(a, std::vector<uint8_t>{9}).ok());
  const std::vector<std::string> before = Listing(dir_);
  auto write_both = [&](OutputFiles& out) {
    size_t ia, ib;
    ASSERT_TRUE(out.Add(a, &ia).ok());
    ASSERT_TRUE(out.MakeDirectory(sub).ok());
    ASSERT_TRUE(out.Add(b, &ib).ok());
    ASSERT_TRUE(out.Write(ia, std::vector<uint8_t>{1, 2}).ok());
    ASSERT_TRUE(out.Write(ib, std::vector<uint8_t>{3}).ok());
  };
  {
    OutputFiles out;
    write_both(out);
  }  // no Commit
  EXPECT_EQ(Listing(dir_), before);
  std::vector<uint8_t> got;
  ASSERT_TRUE(ReadFile(a, &got).ok());
  EXPECT_EQ(got, std::vector<uint8_t>{9});

  OutputFiles out;
  write_both(out);
  ASSERT_TRUE(out.Commit().ok());
  EXPECT_EQ(Listing(dir_), (std::vector<std::string>{a, sub, b}));
  ASSERT_TRUE(ReadFile(a, &got).ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 2}));
}

// A destination may not be an input, another destination under another name (a later asset named like
// the output), or an existing file that is not a regular file: a FIFO or device would be replaced by a
// regular file (finding 3). A symbolic link to a regular file is followed: the target is replaced, the
// link kept.
TEST_F(FileIo, OutputFilesRefuseWhatTheyMustNotReplace) {
  const std::string in = dir_ + "/in.sdc", out_path = dir_ + "/model.safetensors";
  ASSERT_TRUE(WriteFileAtomic(in, std::vector<uint8_t>{1}).ok());
  OutputFiles out({in});
  size_t id;
  EXPECT_EQ(out.Add(dir_ + "/./in.sdc", &id).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(out.Add(out_path, &id).ok());
  const Status twice =
      out.Add(dir_ + "/../" + std::filesystem::path(dir_).filename().string() + "/model.safetensors", &id);
  EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("same file"), std::string::npos) << twice.ToString();
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const Status f = out.Add(fifo, &id);
  EXPECT_EQ(f.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.message().find("not a regular file"), std::string::npos) << f.ToString();
  EXPECT_EQ(out.Add(dir_, &id).code(), StatusCode::kInvalidArgument) << "a directory";
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO is still a FIFO";

  const std::string target = dir_ + "/target.bin", link = dir_ + "/link.bin";
  ASSERT_TRUE(WriteFileAtomic(target, std::vector<uint8_t>{1}).ok());
  std::filesystem::create_symlink(target, link);
  ASSERT_TRUE(WriteFileAtomic(link, std::vector<uint8_t>{2, 2}).ok());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  std::vector<uint8_t> got;
  ASSERT_TRUE(ReadFile(target, &got).ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{2, 2}));
  std::filesystem::create_symlink(in, dir_ + "/in-link.sdc");
  EXPECT_EQ(WriteFileAtomic(dir_ + "/in-link.sdc", std::vector<uint8_t>{3}, std::vector<std::string>{in}).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sdc
