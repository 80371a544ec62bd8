// Whole-file reads, and outputs written all or nothing: every destination is first written to a temporary
// file in its own directory (so the final rename is atomic) and renamed into place only after every output
// of the command was written and flushed. A reader never sees a half-written artifact, and a command that
// fails leaves every destination as it was (spec: README "Command line").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"

namespace sdc {

Status ReadFile(const std::string& path, std::vector<uint8_t>* out, uint64_t max_bytes = UINT64_MAX);

// A set of output files written together. Nothing is visible at any destination before Commit(); if
// anything fails first, or the set is destroyed without a Commit, every temporary file (and every directory
// made by MakeDirectory) is removed.
class OutputFiles {
 public:
  // `inputs`: files no destination may overwrite (compared as files, so another spelling or a link of the
  // same file is refused too).
  explicit OutputFiles(std::vector<std::string> inputs = {});
  ~OutputFiles();
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;

  // Creates `path` as a directory unless it is one already (removed again on rollback if this made it).
  Status MakeDirectory(const std::string& path);
  // Adds a destination and creates its temporary file; `id` names it to Write. Refused: a destination that
  // is an input, an existing file that is not a regular file (a device, a FIFO, a directory: it would be
  // replaced by a regular file), or the same file as an earlier destination. A symbolic link is followed:
  // the file it names is replaced and the link kept.
  Status Add(const std::string& path, size_t* id);
  Status Write(size_t id, std::span<const uint8_t> bytes);
  // Flushes every temporary file to disk, then renames each onto its destination in the order added.
  Status Commit();

 private:
  struct Output {
    std::string path;    // as given, for messages
    std::string target;  // the file that will be replaced (a symbolic link resolved)
    std::string tmp;
    int fd = -1;
    uint64_t dir_dev = 0, dir_ino = 0;  // the destination's directory, to find two names of one file
    std::string name;                   // the destination's name in that directory
  };
  void Rollback();
  std::vector<std::string> inputs_;
  std::vector<Output> outputs_;
  std::vector<std::string> made_dirs_;
  bool committed_ = false;
};

// One output file, all or nothing (OutputFiles with a single destination).
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes,
                       std::span<const std::string> inputs = {});

}  // namespace sdc
