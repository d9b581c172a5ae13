// Refuses a method call whose arguments are bigger than the service accepts, before
// anything unpacks them. sdbus-c++ turns an a{sv} into a std::map of Variants, each its
// own sd-bus message, before a handler can look at it: one 24 MB dictionary of a million
// keys made a daemon take over a gigabyte. An sd-bus filter runs before that, walks the
// raw message without copying it, and answers org.banger.Error.InvalidArgument.
#pragma once

#include <cstddef>
#include <functional>

struct sd_bus_slot;

namespace sdbus {
class IConnection;
}

namespace banger {

struct MessageBudget {
  size_t maxValues = 4096;            // every basic value and container, counted once
  size_t maxTextBytes = 1024 * 1024;  // strings, object paths, signatures, fixed arrays
};

class MessageBudgetGuard {
 public:
  // `onRefused` runs after a call was refused (to give the memory back).
  MessageBudgetGuard(sdbus::IConnection& connection, MessageBudget budget,
                     std::function<void()> onRefused);
  ~MessageBudgetGuard();
  MessageBudgetGuard(const MessageBudgetGuard&) = delete;
  MessageBudgetGuard& operator=(const MessageBudgetGuard&) = delete;

  // What the filter applies (it lives in the .cpp, where sd-bus's types are known).
  struct Policy {
    MessageBudget budget;
    std::function<void()> onRefused;
  };

 private:
  Policy policy_;
  sd_bus_slot* slot_ = nullptr;
};

}  // namespace banger
