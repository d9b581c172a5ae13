// The one wrapper every D-Bus handler goes through: it records activity (for idle exit)
// and turns any exception into a named D-Bus error, because sdbus-c++ 1.2 only catches
// sdbus::Error and anything else would unwind into sd-bus.
#pragma once

#include <sdbus-c++/Error.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <string_view>

namespace banger {

// Converts the exception in flight to the named error a caller sees. banger::Error keeps
// its name; sdbus::Error passes through; anything else is Failed (and logged, since it
// means a bug or an unexpected library failure).
sdbus::Error toDbusError(std::string_view member, std::exception_ptr error);

class CallGuard {
 public:
  using Clock = std::chrono::steady_clock;

  CallGuard() : lastActivity_(Clock::now().time_since_epoch().count()) {}

  template <class F>
  auto operator()(std::string_view member, F&& handler) -> decltype(handler()) {
    touch();
    try {
      return handler();
    } catch (...) {
      throw toDbusError(member, std::current_exception());
    }
  }

  void touch() { lastActivity_ = Clock::now().time_since_epoch().count(); }
  Clock::time_point lastActivity() const {
    return Clock::time_point(Clock::duration(lastActivity_.load()));
  }

 private:
  std::atomic<Clock::rep> lastActivity_;
};

}  // namespace banger

#include <sdbus-c++/IObject.h>
#include <sys/types.h>

namespace banger {
// The uid of the caller of the method being handled, from the bus (never an argument).
uid_t callerUid(const sdbus::IObject& object);
}  // namespace banger
