#include "bus_client.h"

namespace banger::cli {

sdbus::IConnection& Buses::user() {
  if (!user_) user_ = sdbus::createSessionBusConnection();
  return *user_;
}

sdbus::IConnection& Buses::system() {
  if (!system_) system_ = sdbus::createSystemBusConnection();
  return *system_;
}

void ping(sdbus::IConnection& bus, const std::string& name, const std::string& path) {
  auto proxy = sdbus::createProxy(bus, name, path);
  proxy->callMethod("Ping")
      .onInterface("org.freedesktop.DBus.Peer")
      .withTimeout(std::chrono::seconds(25));
}

}  // namespace banger::cli
