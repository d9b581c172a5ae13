// What every banger service's main() shares: command line (--introspect, --idle-timeout),
// the bus connection, the event loop, the worker pool, name ownership and idle exit.
#pragma once

#include <sdbus-c++/IConnection.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "banger/dbus_call.h"
#include "banger/event_loop.h"
#include "banger/message_budget.h"
#include "banger/worker_pool.h"

namespace banger {

enum class BusKind { User, System };

// A service's root objects. busy() keeps the daemon alive past its idle period.
class Service {
 public:
  virtual ~Service() = default;
  virtual bool busy() const { return false; }
};

struct ServiceContext {
  sdbus::IConnection& connection;
  EventLoop& loop;
  WorkerPool& pool;
  CallGuard& guard;
};

struct DaemonSpec {
  std::string program;  // banger-vm
  std::string busName;  // org.banger.Vm
  BusKind bus = BusKind::User;
  std::string_view interfacesXml;  // the <interface> blocks, printed by --introspect
  std::string summary;
  size_t workerThreads = 4;
  size_t workQueueCapacity = 64;
  // Method calls bigger than this are refused before they are unpacked.
  MessageBudget budget{};
};

// The full introspection document a daemon prints with --introspect.
std::string introspectionDocument(std::string_view interfacesXml);

using ServiceFactory = std::function<std::unique_ptr<Service>(ServiceContext&)>;
int runDaemon(int argc, char** argv, const DaemonSpec& spec, const ServiceFactory& factory);

}  // namespace banger
