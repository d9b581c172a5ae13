// Follows the Vm service's machines over D-Bus only (GetManagedObjects, then
// InterfacesAdded/Removed and PropertiesChanged of org.banger.Vm1.Machine) and keeps the
// zone equal to the running machines that have an address.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "banger/event_loop.h"
#include "zone.h"

namespace banger::dns {

class VmFollower {
 public:
  // `changed` runs (on the loop thread) after every change to the zone; `synced` once,
  // when the first answer from the Vm service (machines or an error) has been applied.
  VmFollower(sdbus::IConnection& bus, EventLoop& loop, Zone& zone, std::function<void()> changed,
             std::function<void()> synced = {});

 private:
  struct Machine {
    std::string name, address, state;
  };
  using Properties = std::map<std::string, sdbus::Variant>;
  void fetchAll();
  void update(const std::string& path, const Properties& properties);
  void forget(const std::string& path);
  void rebuild();
  // Replaces the record `before` (a machine's old name, if it had one) with the
  // machine's current one; signals a change when the zone changed.
  void apply(const std::optional<std::string>& before, const Machine& now);
  static std::optional<std::string> recordName(const Machine& m);

  sdbus::IConnection& bus_;
  EventLoop& loop_;
  Zone& zone_;
  std::function<void()> changed_;
  std::function<void()> synced_;
  std::unique_ptr<sdbus::IProxy> manager_;
  std::map<std::string, Machine> machines_;
  std::vector<sdbus::Slot> matches_;  // unsubscribed when the follower goes
};

}  // namespace banger::dns
