#include "format/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "format/printable.h"

namespace sdc {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Error(StatusCode::kIoError, what + " '" + Printable(path) + "': " + std::strerror(errno));
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
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
    return Error(StatusCode::kIoError, "'" + Printable(path) + "' is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    close(fd);
    return Error(StatusCode::kLimitExceeded,
                 "'" + Printable(path) + "' is larger than the limit of " + std::to_string(max_bytes) + " bytes");
  }
  Status s = Guarded([&] {
    out->resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < out->size()) {
      ssize_t n = read(fd, out->data() + done, out->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", path);
      if (n == 0) return Error(StatusCode::kIoError, "'" + Printable(path) + "' shrank while reading");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  });
  close(fd);
  return s;
}

OutputFiles::OutputFiles(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

OutputFiles::~OutputFiles() {
  if (!committed_) Rollback();
}

void OutputFiles::Rollback() {
  for (Output& o : outputs_) {
    if (o.fd >= 0) close(o.fd);
    o.fd = -1;
    unlink(o.tmp.c_str());
  }
  outputs_.clear();
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it) rmdir(it->c_str());  // only if still empty
  made_dirs_.clear();
}

Status OutputFiles::MakeDirectory(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    SDC_CHECK(S_ISDIR(st.st_mode), StatusCode::kIoError, "'" + Printable(path) + "' is not a directory");
    return Status::Ok();
  }
  if (mkdir(path.c_str(), 0755) != 0) return Errno("cannot create the directory", path);
  made_dirs_.push_back(path);
  return Status::Ok();
}

Status OutputFiles::Add(const std::string& path, size_t* id) {
  Output o;
  o.path = path;
  o.target = path;
  const std::string shown = "'" + Printable(path) + "'";
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {  // replace the file the link names, not the link
      char* real = realpath(path.c_str(), nullptr);
      if (!real) return Errno("cannot follow the symbolic link", path);
      o.target = real;
      std::free(real);
      if (stat(o.target.c_str(), &st) != 0) return Errno("cannot stat", o.target);
    }
    SDC_CHECK(S_ISREG(st.st_mode), StatusCode::kInvalidArgument,
              shown + " exists and is not a regular file; refusing to replace it");
    for (const std::string& in : inputs_) {
      struct stat si;
      SDC_CHECK(stat(in.c_str(), &si) != 0 || si.st_dev != st.st_dev || si.st_ino != st.st_ino,
                StatusCode::kInvalidArgument, "refusing to overwrite the input file '" + Printable(in) + "'");
    }
  } else if (errno != ENOENT) {
    return Errno("cannot stat", path);
  }
  const std::string dir = DirName(o.target);
  o.name = BaseName(o.target);
  SDC_CHECK(!o.name.empty() && o.name != "." && o.name != "..", StatusCode::kInvalidArgument,
            shown + " names a directory, not a file");
  struct stat sd;
  if (stat(dir.c_str(), &sd) != 0) return Errno("cannot write into the directory", dir);
  SDC_CHECK(S_ISDIR(sd.st_mode), StatusCode::kIoError, "'" + Printable(dir) + "' is not a directory");
  o.dir_dev = sd.st_dev;
  o.dir_ino = sd.st_ino;
  for (const Output& e : outputs_)
    SDC_CHECK(e.dir_dev != o.dir_dev || e.dir_ino != o.dir_ino || e.name != o.name, StatusCode::kInvalidArgument,
              shown + " and '" + Printable(e.path) + "' are the same file; refusing to write it twice");
  // A short hidden name: the destination's own name may already be 255 bytes long.
  o.tmp = dir + "/.sdcodec-tmp-XXXXXX";
  o.fd = mkstemp(o.tmp.data());
  if (o.fd < 0) return Errno("cannot create a temporary file in", dir);
  fchmod(o.fd, 0644);  // mkstemp creates 0600; artifacts are ordinary files
  outputs_.push_back(std::move(o));
  *id = outputs_.size() - 1;
  return Status::Ok();
}

Status OutputFiles::Write(size_t id, std::span<const uint8_t> bytes) {
  SDC_CHECK(id < outputs_.size() && outputs_[id].fd >= 0, StatusCode::kInternal, "write to an unknown output");
  const Output& o = outputs_[id];
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = write(o.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write", o.tmp);
      Rollback();
      return s;
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status OutputFiles::Commit() {
  for (Output& o : outputs_) {
    const int fd = o.fd;
    o.fd = -1;
    if (fsync(fd) != 0 || close(fd) != 0) {
      Status s = Errno("cannot flush", o.tmp);
      Rollback();
      return s;
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (rename(outputs_[i].tmp.c_str(), outputs_[i].target.c_str()) != 0) {
      Status s = Errno("cannot rename the temporary file onto", outputs_[i].path);
      // Those renamed already stay (a rename cannot be undone); say so rather than claim nothing changed.
      if (i > 0)
        s = s.WithContext(std::to_string(i) + " of " + std::to_string(outputs_.size()) + " outputs were written");
      outputs_.erase(outputs_.begin(), outputs_.begin() + static_cast<std::ptrdiff_t>(i));
      made_dirs_.clear();
      Rollback();
      return s;
    }
  }
  committed_ = true;
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes, std::span<const std::string> inputs) {
  OutputFiles out(std::vector<std::string>(inputs.begin(), inputs.end()));
  size_t id;
  SDC_RETURN_IF_ERROR(out.Add(path, &id));
  SDC_RETURN_IF_ERROR(out.Write(id, bytes));
  return out.Commit();
}

}  // namespace sdc
