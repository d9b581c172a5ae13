// The error table of the D-Bus contract (DESIGN §3) and the exception type that carries it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace banger {

enum class ErrorCode {
  NotFound,
  AlreadyExists,
  InvalidArgument,
  Busy,
  NotSupported,
  Unavailable,
  IntegrityError,
  Timeout,
  Canceled,
  Failed,
  AccessDenied,
  InteractiveAuthorizationRequired,
};

// The D-Bus error name of a code, e.g. "org.banger.Error.NotFound".
std::string_view errorName(ErrorCode code);

// Inverse of errorName; unknown names map to Failed.
ErrorCode errorCodeFromName(std::string_view name);

// Every failure inside a service is thrown as (or converted to) this.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }
  std::string_view name() const noexcept { return errorName(code_); }

 private:
  ErrorCode code_;
};

[[noreturn]] void fail(ErrorCode code, const std::string& message);

}  // namespace banger
