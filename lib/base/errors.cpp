#include "banger/errors.h"

#include <array>
#include <utility>

namespace banger {
namespace {
constexpr std::array<std::pair<ErrorCode, std::string_view>, 12> kNames{{
    {ErrorCode::NotFound, "org.banger.Error.NotFound"},
    {ErrorCode::AlreadyExists, "org.banger.Error.AlreadyExists"},
    {ErrorCode::InvalidArgument, "org.banger.Error.InvalidArgument"},
    {ErrorCode::Busy, "org.banger.Error.Busy"},
    {ErrorCode::NotSupported, "org.banger.Error.NotSupported"},
    {ErrorCode::Unavailable, "org.banger.Error.Unavailable"},
    {ErrorCode::IntegrityError, "org.banger.Error.IntegrityError"},
    {ErrorCode::Timeout, "org.banger.Error.Timeout"},
    {ErrorCode::Canceled, "org.banger.Error.Canceled"},
    {ErrorCode::Failed, "org.banger.Error.Failed"},
    {ErrorCode::AccessDenied, "org.freedesktop.DBus.Error.AccessDenied"},
    {ErrorCode::InteractiveAuthorizationRequired,
     "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"},
}};
}  // namespace

std::string_view errorName(ErrorCode code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "org.banger.Error.Failed";
}

ErrorCode errorCodeFromName(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return ErrorCode::Failed;
}

void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

}  // namespace banger
