// A call to a peer service (Net, Image): its sdbus::Error becomes a banger::Error of the
// same name, with a message that says which service answered.
#pragma once

#include <sdbus-c++/Error.h>

#include "banger/errors.h"

namespace banger::vm {

template <class F>
auto callPeer(const std::string& service, F&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const sdbus::Error& error) {
    const ErrorCode code = errorCodeFromName(error.getName());
    if (error.getName().rfind("org.freedesktop.DBus.Error.ServiceUnknown", 0) == 0 ||
        error.getName().rfind("org.freedesktop.DBus.Error.NoReply", 0) == 0 ||
        error.getName().rfind("org.freedesktop.DBus.Error.Spawn", 0) == 0)
      fail(ErrorCode::Unavailable,
           service + " is not available: " + error.getMessage() + " (see `banger doctor`)");
    fail(code, service + ": " + error.getMessage());
  }
}

}  // namespace banger::vm
