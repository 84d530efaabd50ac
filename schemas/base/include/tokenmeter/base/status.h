// Status and Result<T>: how tokenmeter code reports failure without exceptions.
//
// A Status is OK or carries a Code and a human message. Codes say whether a failure is
// retryable (kUnavailable, kResourceExhausted, kDeadlineExceeded, kNoSpace) or not, so a caller can
// apply its component's retry policy without string matching. Thread-compatible values.
#ifndef TOKENMETER_BASE_STATUS_H_
#define TOKENMETER_BASE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tokenmeter {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // bad input; retrying the same input fails again
  kNotFound,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,  // a bound was hit (queue full, rate limit); retryable later
  kUnavailable,        // a dependency is down; retryable
  kDeadlineExceeded,   // gave up waiting; the outcome may still happen; retryable
  kNoSpace,            // the disk is full; retryable once space is freed
  kFailedPrecondition,
  kInternal,
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // True for failures that may succeed if tried again later.
  bool retryable() const {
    return code_ == Code::kUnavailable || code_ == Code::kResourceExhausted ||
           code_ == Code::kDeadlineExceeded || code_ == Code::kNoSpace;
  }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tokenmeter

#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::tokenmeter::Status tm_status_ = (expr);    \
    if (!tm_status_.ok()) return tm_status_;     \
  } while (0)

#endif  // TOKENMETER_BASE_STATUS_H_
