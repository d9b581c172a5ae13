// Follows the Vm service's machines over D-Bus only (GetManagedObjects, then
// InterfacesAdded/Removed and PropertiesChanged of org.banger.Vm1.Machine) and keeps the
// zone equal to the running machines that have an address.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "zone.h"

namespace banger::dns {

class VmFollower {
 public:
  // `changed` runs (on the loop thread) after every change to the zone.
  VmFollower(sdbus::IConnection& bus, Zone& zone, std::function<void()> changed);

 private:
  struct Machine {
    std::string name, address, state;
  };
  using Properties = std::map<std::string, sdbus::Variant>;
  void fetchAll();
  void update(const std::string& path, const Properties& properties);
  void forget(const std::string& path);
  void rebuild();

  sdbus::IConnection& bus_;
  Zone& zone_;
  std::function<void()> changed_;
  std::unique_ptr<sdbus::IProxy> manager_;
  std::map<std::string, Machine> machines_;
};

}  // namespace banger::dns
