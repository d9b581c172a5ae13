#include "banger/message_budget.h"

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

#include <cstring>
#include <string>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {
namespace {

// sdbus-c++ 1.2 keeps a Message's sd_bus_message in a protected member; a pointer to it,
// formed in a derived class, is the one well-defined way to read it from outside.
struct RawMessage : sdbus::Message {
  static sd_bus_message* of(const sdbus::Message& message) {
    return static_cast<sd_bus_message*>(message.*(&RawMessage::msg_));
  }
};

struct Remaining {
  size_t values;
  size_t bytes;
  bool take(size_t textBytes) {
    if (values == 0 || textBytes > bytes) return false;
    --values;
    bytes -= textBytes;
    return true;
  }
};

// Arrays of these are read as one block (sd_bus_message_read_array) and count as bytes.
bool isFixedSize(const char* contents) {
  return contents[0] != '\0' && contents[1] == '\0' && std::strchr("ybnqiuxtd", contents[0]);
}

bool walk(sd_bus_message* m, Remaining& left) {
  for (;;) {
    char type = 0;
    const char* contents = nullptr;
    const int peeked = sd_bus_message_peek_type(m, &type, &contents);
    if (peeked < 0) return false;
    if (peeked == 0) return true;  // the end of this container, or of the message
    if (type == SD_BUS_TYPE_ARRAY && isFixedSize(contents)) {
      const void* data = nullptr;
      size_t size = 0;
      if (sd_bus_message_read_array(m, contents[0], &data, &size) < 0 || !left.take(size)) {
        return false;
      }
    } else if (type == SD_BUS_TYPE_ARRAY || type == SD_BUS_TYPE_VARIANT ||
               type == SD_BUS_TYPE_STRUCT || type == SD_BUS_TYPE_DICT_ENTRY) {
      if (!left.take(0) || sd_bus_message_enter_container(m, type, contents) <= 0 ||
          !walk(m, left) || sd_bus_message_exit_container(m) < 0) {
        return false;
      }
    } else if (type == SD_BUS_TYPE_STRING || type == SD_BUS_TYPE_OBJECT_PATH ||
               type == SD_BUS_TYPE_SIGNATURE) {
      const char* text = nullptr;  // points into the message: nothing is copied
      if (sd_bus_message_read_basic(m, type, &text) < 0 || !left.take(std::strlen(text))) {
        return false;
      }
    } else {
      union {
        uint64_t number;
        double real;
        int fd;
      } value;
      if (sd_bus_message_read_basic(m, type, &value) < 0 || !left.take(0)) return false;
    }
  }
}

// True when the arguments of `message`, from where it is read now, fit in `budget`; it
// stops reading as soon as they do not.
bool fitsBudget(sd_bus_message* message, const MessageBudget& budget) {
  Remaining left{budget.maxValues, budget.maxTextBytes};
  return walk(message, left);
}

// The sd_bus under an sdbus-c++ connection, which sdbus-c++ 1.2 does not expose.
sd_bus* sdBusOf(sdbus::IConnection& connection) {
  auto proxy = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
  const auto call = proxy->createMethodCall("org.freedesktop.DBus", "Ping");
  return sd_bus_message_get_bus(RawMessage::of(call));
}

int refuseOversized(sd_bus_message* message, void* userdata, sd_bus_error*) {
  uint8_t type = 0;
  if (sd_bus_message_get_type(message, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL) return 0;
  const auto& policy = *static_cast<const MessageBudgetGuard::Policy*>(userdata);
  const bool fits = fitsBudget(message, policy.budget);
  sd_bus_message_rewind(message, 1);  // the handler reads it from the start
  if (fits) return 0;
  const char* interface = sd_bus_message_get_interface(message);
  const char* member = sd_bus_message_get_member(message);
  const char* sender = sd_bus_message_get_sender(message);
  const std::string call = std::string(interface ? interface : "?") + "." + (member ? member : "?");
  log::warning("refused " + call + " from " + (sender ? sender : "?") +
               ": its arguments are over the size limit");
  sd_bus_reply_method_errorf(message, std::string(errorName(ErrorCode::InvalidArgument)).c_str(),
                             "the arguments of %s are too large: at most %zu values and %zu "
                             "bytes of text are accepted; nothing was done",
                             call.c_str(), policy.budget.maxValues, policy.budget.maxTextBytes);
  if (policy.onRefused) policy.onRefused();
  return 1;  // handled: nothing else sees (or unpacks) it
}
}  // namespace

MessageBudgetGuard::MessageBudgetGuard(sdbus::IConnection& connection, MessageBudget budget,
                                       std::function<void()> onRefused)
    : policy_{budget, std::move(onRefused)} {
  const int r = sd_bus_add_filter(sdBusOf(connection), &slot_, &refuseOversized, &policy_);
  if (r < 0) {
    fail(ErrorCode::Failed, std::string("cannot add the message size filter: ") + strerror(-r));
  }
}

MessageBudgetGuard::~MessageBudgetGuard() { sd_bus_slot_unref(slot_); }

}  // namespace banger
