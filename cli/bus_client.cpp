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

std::unique_ptr<sdbus::IProxy> busDaemon(sdbus::IConnection& bus) {
  return sdbus::createProxy(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus");
}

void startWithoutWaiting(sdbus::IConnection& bus, const std::string& busName) {
  busDaemon(bus)
      ->callMethod("StartServiceByName")
      .onInterface(kBusDaemonInterface)
      .withArguments(busName, uint32_t{0})
      .dontExpectReply();
}

void ping(Buses& buses, const ServiceAddress& service) {
  auto& bus = service.systemBus ? buses.system() : buses.user();
  auto proxy = sdbus::createProxy(bus, service.busName, service.path);
  proxy->callMethod("Ping").onInterface(names::kPeer).withTimeout(std::chrono::seconds(25));
}

}  // namespace banger::cli
