// Helpers for objects that come and go below an ObjectManager (jobs, machines, images):
// publish() registers the object and emits InterfacesAdded; withdraw() emits
// InterfacesRemoved and unregisters it. Desktop integrations follow these signals.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <string>
#include <vector>

#include "banger/log.h"

namespace banger {

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
