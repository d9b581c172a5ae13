#include "vm_follower.h"

#include <malloc.h>

#include "banger/ipv4.h"
#include "banger/log.h"
#include "banger/names.h"
#include "banger/vm_name.h"

namespace banger::dns {
namespace {
constexpr const char* kVm = names::kVmBus;
constexpr const char* kMachine = names::kVmMachine;
using Interfaces = std::map<std::string, std::map<std::string, sdbus::Variant>>;

std::string vmSignal(const char* interface, const char* member) {
  return std::string("type='signal',sender='") + kVm + "',interface='" + interface + "',member='" +
         member + "'";
}

// sdbus-c++ 1.2 lets anything but its own error escape a match or reply callback into
// sd-bus, which ends the process: whatever a signal holds is caught and logged here.
template <class F>
auto guarded(const char* what, F f) {
  return [what, f = std::move(f)](auto&&... args) {
    try {
      f(std::forward<decltype(args)>(args)...);
    } catch (const std::exception& e) {
      log::warning(std::string("ignoring ") + what + " from the Vm service: " + e.what());
    }
  };
}

template <class T>
void take(const std::map<std::string, sdbus::Variant>& properties, const char* key, T& into) {
  auto it = properties.find(key);
  if (it != properties.end() && it->second.containsValueOfType<T>()) into = it->second.get<T>();
}
}  // namespace

VmFollower::VmFollower(sdbus::IConnection& bus, EventLoop& loop, Zone& zone,
                       std::function<void()> changed, std::function<void()> synced)
    : bus_(bus),
      loop_(loop),
      zone_(zone),
      changed_(std::move(changed)),
      synced_(std::move(synced)),
      manager_(sdbus::createProxy(bus, kVm, names::kVmPath)) {
  // Subscribe first, then fetch, so nothing between the two is missed.
  matches_.push_back(
      bus_.addMatch(vmSignal(names::kObjectManager, "InterfacesAdded"),
                    guarded("a malformed InterfacesAdded", [this](sdbus::Message& m) {
                      sdbus::ObjectPath path;
                      Interfaces interfaces;
                      m >> path >> interfaces;
                      if (auto it = interfaces.find(kMachine); it != interfaces.end())
                        update(path, it->second);
                    })));
  matches_.push_back(
      bus_.addMatch(vmSignal(names::kObjectManager, "InterfacesRemoved"),
                    guarded("a malformed InterfacesRemoved", [this](sdbus::Message& m) {
                      sdbus::ObjectPath path;
                      std::vector<std::string> interfaces;
                      m >> path >> interfaces;
                      for (const auto& i : interfaces) {
                        if (i == kMachine) forget(path);
                      }
                    })));
  matches_.push_back(
      bus_.addMatch(vmSignal(names::kProperties, "PropertiesChanged") + ",arg0='" + kMachine + "'",
                    guarded("a malformed PropertiesChanged", [this](sdbus::Message& m) {
                      std::string interface;
                      Properties changed;
                      m >> interface >> changed;
                      update(m.getPath(), changed);
                    })));
  // A new Vm service (restarted, or started later) re-adopts running machines: resync.
  matches_.push_back(bus_.addMatch(
      std::string("type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='") +
          kVm + "'",
      guarded("a malformed NameOwnerChanged", [this](sdbus::Message& m) {
        std::string name, oldOwner, newOwner;
        m >> name >> oldOwner >> newOwner;
        if (!newOwner.empty()) fetchAll();
      })));
  fetchAll();
}

void VmFollower::fetchAll() {
  using Objects = std::map<sdbus::ObjectPath, Interfaces>;
  manager_->callMethodAsync("GetManagedObjects")
      .onInterface(names::kObjectManager)
      .uponReplyInvoke([this](const sdbus::Error* error, const Objects& objects) {
        try {
          if (error != nullptr) {
            log::info("no machines from the Vm service (" + error->getMessage() +
                      "); the zone stays as it is");
          } else {
            machines_.clear();
            for (const auto& [path, interfaces] : objects) {
              if (auto it = interfaces.find(kMachine); it != interfaces.end()) {
                Machine& m = machines_[path];
                take(it->second, "Name", m.name);
                take(it->second, "Address", m.address);
                take(it->second, "State", m.state);
              }
            }
            rebuild();
          }
        } catch (const std::exception& e) {
          log::warning(std::string("ignoring the Vm service's machines: ") + e.what());
        }
        if (auto synced = std::exchange(synced_, {})) synced();
        // Parsed, the reply is megabytes for many machines (sdbus-c++ keeps a message per
        // variant); once it is freed, give the heap back so an idle server stays small.
        loop_.post([] { malloc_trim(0); });
      });
}

std::optional<std::string> VmFollower::recordName(const Machine& m) {
  if (m.state != "running" || !isVmName(m.name) || !Ipv4::parse(m.address)) return std::nullopt;
  return m.name;
}

void VmFollower::apply(const std::optional<std::string>& before, const Machine& now) {
  const auto after = recordName(now);
  bool changed = false;
  if (before && before != after) changed |= zone_.remove(*before);
  if (after) changed |= zone_.set(*after, Ipv4::parse(now.address)->value);
  if (changed && changed_) changed_();
}

// One machine at a time: a signal costs O(1), not a rebuild of the zone.
void VmFollower::update(const std::string& path, const Properties& properties) {
  Machine& m = machines_[path];
  const auto before = recordName(m);
  take(properties, "Name", m.name);
  take(properties, "Address", m.address);
  take(properties, "State", m.state);
  apply(before, m);
}

void VmFollower::forget(const std::string& path) {
  auto it = machines_.find(path);
  if (it == machines_.end()) return;
  const auto before = recordName(it->second);
  machines_.erase(it);
  apply(before, Machine{});
}

void VmFollower::rebuild() {
  Zone next;
  for (const auto& [path, m] : machines_) {
    if (auto name = recordName(m)) next.set(*name, Ipv4::parse(m.address)->value);
  }
  if (next.records() == zone_.records()) return;
  zone_.replace(next);
  if (changed_) changed_();
}

}  // namespace banger::dns
