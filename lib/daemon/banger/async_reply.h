// Asynchronous D-Bus replies. A handler whose work happens elsewhere (a polkit answer,
// the worker pool) keeps an AsyncReply; whichever thread finishes the work, the reply
// itself is sent from the event-loop thread, the only one that touches the bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <exception>
#include <memory>
#include <string>

#include "banger/dbus_call.h"
#include "banger/event_loop.h"

namespace banger {

template <class... Results>
class AsyncReply {
 public:
  AsyncReply(sdbus::Result<Results...>&& result, EventLoop& loop, std::string member)
      : result_(std::make_shared<sdbus::Result<Results...>>(std::move(result))),
        loop_(&loop),
        member_(std::move(member)) {}

  void succeed(Results... values) const {
    loop_->post([result = result_, values...] { result->returnResults(values...); });
  }
  // Any exception becomes the named error toDbusError() gives it.
  void fail(std::exception_ptr error) const {
    loop_->post(
        [result = result_, error = toDbusError(member_, error)] { result->returnError(error); });
  }

 private:
  std::shared_ptr<sdbus::Result<Results...>> result_;
  EventLoop* loop_;
  std::string member_;
};

// The async counterpart of CallGuard::operator(): records activity and turns anything
// the synchronous part throws into the reply's error.
template <class... Results, class F>
void guardAsync(CallGuard& guard, EventLoop& loop, const std::string& member,
                sdbus::Result<Results...>&& result, F&& handler) {
  guard.touch();
  AsyncReply<Results...> reply(std::move(result), loop, member);
  try {
    handler(reply);
  } catch (...) {
    reply.fail(std::current_exception());
  }
}

}  // namespace banger
