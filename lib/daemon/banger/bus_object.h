// Helpers for objects that come and go below an ObjectManager (jobs, machines, images):
// publish() registers the object and emits InterfacesAdded; withdraw() emits
// InterfacesRemoved and unregisters it. Desktop integrations follow these signals.
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "banger/log.h"

namespace banger {

// `prefix`/<name> with the name escaped as sd_bus_path_encode() does (my-box → my_2dbox).
inline sdbus::ObjectPath childPath(const std::string& prefix, const std::string& name) {
  char* encoded = nullptr;
  if (sd_bus_path_encode(prefix.c_str(), name.c_str(), &encoded) < 0 || encoded == nullptr)
    throw std::bad_alloc();
  sdbus::ObjectPath path(encoded);
  std::free(encoded);
  return path;
}

template <class... Interfaces>
class PublishedObject : public sdbus::AdaptorInterfaces<Interfaces..., sdbus::Properties_adaptor,
                                                        sdbus::ManagedObject_adaptor> {
  using Base = sdbus::AdaptorInterfaces<Interfaces..., sdbus::Properties_adaptor,
                                        sdbus::ManagedObject_adaptor>;

 public:
  // Emits PropertiesChanged for `names` of `interface`, reading their current values.
  void propertiesChanged(const std::string& interface, const std::vector<std::string>& names) {
    this->emitPropertiesChangedSignal(interface, names);
  }

 protected:
  PublishedObject(sdbus::IConnection& connection, std::string path)
      : Base(connection, std::move(path)) {}

  // Call at the end of the most derived constructor: InterfacesAdded reads every property.
  void publish() {
    this->registerAdaptor();
    published_ = true;
    this->emitInterfacesAddedSignal();
  }

  // Call in the most derived destructor; safe to call twice.
  void withdraw() noexcept {
    if (!published_) return;
    published_ = false;
    try {
      this->emitInterfacesRemovedSignal();
    } catch (const std::exception& e) {
      log::warning("announcing the removal of " + std::string(this->getObjectPath()) +
                   " failed: " + e.what());
    }
    this->unregisterAdaptor();
  }

  ~PublishedObject() { withdraw(); }

 private:
  bool published_ = false;
};

}  // namespace banger
