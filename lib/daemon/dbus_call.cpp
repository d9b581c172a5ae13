#include "banger/dbus_call.h"

#include <new>
#include <string>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {

sdbus::Error toDbusError(std::string_view member, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return sdbus::Error(std::string(e.name()), e.what());
  } catch (const sdbus::Error& e) {
    return e;
  } catch (const std::bad_alloc&) {
    log::error(std::string(member) + ": out of memory");
    return sdbus::Error(std::string(errorName(ErrorCode::Failed)), "out of memory");
  } catch (const std::exception& e) {
    log::error(std::string(member) + " failed unexpectedly: " + e.what());
    return sdbus::Error(std::string(errorName(ErrorCode::Failed)),
                        std::string(member) + " failed: " + e.what() +
                            " (see the service's log: journalctl --user -e)");
  } catch (...) {
    log::error(std::string(member) + " failed with an unknown exception");
    return sdbus::Error(std::string(errorName(ErrorCode::Failed)),
                        std::string(member) + " failed with an unknown error");
  }
}

}  // namespace banger

#include <sdbus-c++/Message.h>

namespace banger {
uid_t callerUid(const sdbus::IObject& object) {
  const auto* message = object.getCurrentlyProcessedMessage();
  if (message == nullptr) fail(ErrorCode::Failed, "no method call is being handled");
  return message->getCredsUid();
}
}  // namespace banger
