#include "format/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sdc {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Error(StatusCode::kIoError, what + " '" + path + "': " + std::strerror(errno));
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

Status ReadFile(const std::string& path, std::vector<uint8_t>* out, uint64_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    Status s = Errno("cannot stat", path);
    close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Error(StatusCode::kIoError, "'" + path + "' is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    close(fd);
    return Error(StatusCode::kLimitExceeded, "'" + path + "' is larger than the limit of " +
                                                 std::to_string(max_bytes) + " bytes");
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = n < 0 ? Errno("cannot read", path) : Error(StatusCode::kIoError, "'" + path + "' shrank while reading");
      close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes, std::span<const std::string> inputs) {
  for (const std::string& in : inputs)
    SDC_CHECK(!SameFile(in, path), StatusCode::kInvalidArgument,
              "refusing to overwrite the input file '" + in + "'");
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return Errno("cannot create a temporary file beside", path);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; artifacts are ordinary files.
  fchmod(fd, 0644);
  if (fsync(fd) != 0 || close(fd) != 0) {
    Status s = Errno("cannot flush", tmp);
    unlink(tmp.c_str());
    return s;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("cannot rename the temporary file onto", path);
    unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

}  // namespace sdc
