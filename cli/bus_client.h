// The CLI's only way to the services: generated proxies over the user or system bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>

#include "org.banger.Dns1.Manager_proxy.h"
#include "org.banger.Image1.Manager_proxy.h"
#include "org.banger.Net1.Manager_proxy.h"
#include "org.banger.Vm1.Machine_proxy.h"
#include "org.banger.Vm1.Manager_proxy.h"

namespace banger::cli {

template <class Interface>
class Client final : public sdbus::ProxyInterfaces<Interface> {
 public:
  Client(sdbus::IConnection& connection, std::string destination, std::string path)
      : sdbus::ProxyInterfaces<Interface>(connection, std::move(destination), std::move(path)) {
    this->registerProxy();
  }
  ~Client() { this->unregisterProxy(); }
};

// The managers' job signals go to callbacks a command may set (progress display).
template <class Interface>
class JobsClient final : public sdbus::ProxyInterfaces<Interface> {
 public:
  JobsClient(sdbus::IConnection& connection, std::string destination, std::string path)
      : sdbus::ProxyInterfaces<Interface>(connection, std::move(destination), std::move(path)) {
    this->registerProxy();
  }
  ~JobsClient() { this->unregisterProxy(); }

  std::function<void(uint32_t, const sdbus::ObjectPath&)> jobNew;
  std::function<void(uint32_t, const sdbus::ObjectPath&, const std::string&)> jobRemoved;

 private:
  void onJobNew(const uint32_t& id, const sdbus::ObjectPath& path) override {
    if (jobNew) jobNew(id, path);
  }
  void onJobRemoved(const uint32_t& id, const sdbus::ObjectPath& path,
                    const std::string& state) override {
    if (jobRemoved) jobRemoved(id, path, state);
  }
};

using VmClient = JobsClient<org::banger::Vm1::Manager_proxy>;
using MachineClient = Client<org::banger::Vm1::Machine_proxy>;
using ImageClient = JobsClient<org::banger::Image1::Manager_proxy>;
using NetClient = Client<org::banger::Net1::Manager_proxy>;
using DnsClient = Client<org::banger::Dns1::Manager_proxy>;

// Connections are opened on first use, so commands that need no bus never touch one.
class Buses {
 public:
  sdbus::IConnection& user();
  sdbus::IConnection& system();

  VmClient vm() { return VmClient(user(), "org.banger.Vm", "/org/banger/Vm"); }
  ImageClient image() { return ImageClient(user(), "org.banger.Image", "/org/banger/Image"); }
  DnsClient dns() { return DnsClient(user(), "org.banger.Dns", "/org/banger/Dns"); }
  MachineClient machine(const std::string& name) {
    return MachineClient(user(), "org.banger.Vm", vm().FindMachine(name));
  }
  NetClient net() { return NetClient(system(), "org.banger.Net", "/org/banger/Net"); }

 private:
  std::unique_ptr<sdbus::IConnection> user_;
  std::unique_ptr<sdbus::IConnection> system_;
};

// banger's four services, for the commands that check each (doctor, system status).
struct ServiceAddress {
  const char* label;  // "vm service"
  const char* busName;
  const char* path;
  bool systemBus;
};
inline constexpr ServiceAddress kServices[] = {
    {"vm service", "org.banger.Vm", "/org/banger/Vm", false},
    {"image service", "org.banger.Image", "/org/banger/Image", false},
    {"dns service", "org.banger.Dns", "/org/banger/Dns", false},
    {"net service", "org.banger.Net", "/org/banger/Net", true},
};

// Pings a service by bus name, which starts it by D-Bus activation if it is not running.
// Throws sdbus::Error when it cannot be reached (connecting to its bus included).
void ping(Buses& buses, const ServiceAddress& service);

}  // namespace banger::cli
