// The CLI's only way to the services: generated proxies over the user or system bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <string>

#include "banger/names.h"
#include "org.banger.Dns1.Manager_proxy.h"
#include "org.banger.Image1.Image_proxy.h"
#include "org.banger.Image1.Kernel_proxy.h"
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

// A service's ObjectManager: the CLI reads GetManagedObjects and ignores the signals.
class ObjectsClient final : public sdbus::ProxyInterfaces<sdbus::ObjectManager_proxy> {
 public:
  ObjectsClient(sdbus::IConnection& connection, std::string destination, std::string path)
      : ProxyInterfaces(connection, std::move(destination), std::move(path)) {
    registerProxy();
  }
  ~ObjectsClient() { unregisterProxy(); }

 private:
  void onInterfacesAdded(
      const sdbus::ObjectPath&,
      const std::map<std::string, std::map<std::string, sdbus::Variant>>&) override {}
  void onInterfacesRemoved(const sdbus::ObjectPath&, const std::vector<std::string>&) override {}
};

using VmClient = JobsClient<org::banger::Vm1::Manager_proxy>;
using MachineClient = Client<org::banger::Vm1::Machine_proxy>;
using ImageClient = JobsClient<org::banger::Image1::Manager_proxy>;
using NetClient = Client<org::banger::Net1::Manager_proxy>;
using DnsClient = Client<org::banger::Dns1::Manager_proxy>;
using ImageObjectClient = Client<org::banger::Image1::Image_proxy>;
using KernelClient = Client<org::banger::Image1::Kernel_proxy>;

// Connections are opened on first use, so commands that need no bus never touch one.
class Buses {
 public:
  sdbus::IConnection& user();
  sdbus::IConnection& system();

  VmClient vm() { return VmClient(user(), names::kVmBus, names::kVmPath); }
  ImageClient image() { return ImageClient(user(), names::kImageBus, names::kImagePath); }
  ObjectsClient imageObjects() {
    return ObjectsClient(user(), names::kImageBus, names::kImagePath);
  }
  DnsClient dns() { return DnsClient(user(), names::kDnsBus, names::kDnsPath); }
  MachineClient machine(const std::string& name) {
    return MachineClient(user(), names::kVmBus, vm().FindMachine(name));
  }
  ImageObjectClient imageObject(const std::string& name) {
    return ImageObjectClient(user(), names::kImageBus, image().FindImage(name));
  }
  KernelClient kernel(const std::string& name) {
    return KernelClient(user(), names::kImageBus, image().FindKernel(name));
  }
  NetClient net() { return NetClient(system(), names::kNetBus, names::kNetPath); }

 private:
  std::unique_ptr<sdbus::IConnection> user_;
  std::unique_ptr<sdbus::IConnection> system_;
};

// The bus daemon itself, for its own methods (kBusDaemonInterface: NameHasOwner,
// StartServiceByName, ...).
inline constexpr const char* kBusDaemonInterface = "org.freedesktop.DBus";
std::unique_ptr<sdbus::IProxy> busDaemon(sdbus::IConnection& bus);

// Asks the bus to start `busName` unless it runs, without waiting for it: for a service a
// command reaches through another (Image, which Vm asks during a create), so that on a
// first run the two start side by side rather than one after the other.
void startWithoutWaiting(sdbus::IConnection& bus, const std::string& busName);

// banger's four services, for the commands that check each (doctor, system status).
struct ServiceAddress {
  const char* label;  // "vm service"
  const char* busName;
  const char* path;
  bool systemBus;
};
inline constexpr ServiceAddress kServices[] = {
    {"vm service", names::kVmBus, names::kVmPath, false},
    {"image service", names::kImageBus, names::kImagePath, false},
    {"dns service", names::kDnsBus, names::kDnsPath, false},
    {"net service", names::kNetBus, names::kNetPath, true},
};

// Pings a service by bus name, which starts it by D-Bus activation if it is not running.
// Throws sdbus::Error when it cannot be reached (connecting to its bus included).
void ping(Buses& buses, const ServiceAddress& service);

}  // namespace banger::cli
