// One error convention for the whole project: functions that can fail return a Status (or fill an
// out-parameter and return a Status). Nothing in the decoder throws or aborts on input; every rejected
// input goes through SDC_CHECK with a message naming the section, tensor or field at fault, and the
// library's entry points run inside Guarded so that not even an allocation failure escapes as an exception.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

namespace sdc {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // caller error: bad option, impossible request
  kIoError,           // file system
  kCorrupt,           // the input breaks the format: structure, bounds, values
  kChecksumMismatch,  // a section, manifest or tensor hash does not match
  kLimitExceeded,     // a declared size exceeds a configured decoder limit
  kUnsupported,       // a valid but unknown version, codec or representation
  kBudget,            // the requested byte budget cannot be met
  kInternal,          // a bug: an invariant of our own code broke
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: section 3: offset past end of file"
  std::string ToString() const;
  // Prefixes context ("tensor 'wq'") to the message of a failed status; no-op on success.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status Error(StatusCode code, std::string message) { return Status(code, std::move(message)); }

// Runs `body` (which returns a Status) and turns anything it throws into a Status, so no exception crosses
// a library entry point: std::bad_alloc (a size the file vouched for but this process cannot hold, e.g.
// under a memory cap) is kLimitExceeded, anything else kInternal.
template <class Body>
Status Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kLimitExceeded, "out of memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Status(StatusCode::kInternal, "unexpected exception");
  }
}

}  // namespace sdc

#define SDC_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::sdc::Status sdc_status_ = (expr);        \
    if (!sdc_status_.ok()) return sdc_status_; \
  } while (0)

// The single check through which every rejected input passes (the FlatBuffers-verifier idea).
#define SDC_CHECK(cond, code, message)                    \
  do {                                                    \
    if (!(cond)) return ::sdc::Status((code), (message)); \
  } while (0)
