#include "dns_manager.h"

#include "banger/errors.h"
#include "banger/ipv4.h"
#include "banger/log.h"
#include "banger/text.h"

namespace banger::dns {

DnsManager::DnsManager(ServiceContext& context, DnsListening listening)
    : AdaptorInterfaces(context.connection, kRootPath),
      loop_(context.loop),
      guard_(context.guard),
      listenAddress_(boundAddress(listening.listeners)),
      // Queries count as activity: the daemon stays while names are being looked up.
      server_(context.loop, zone_, [&guard = context.guard] { guard.touch(); }),
      follower_(
          context.connection, context.loop, zone_,
          [this] {
            log::debug("zone now has " + std::to_string(zone_.size()) + " records");
            emitPropertiesChangedSignal(org::banger::Dns1::Manager_adaptor::INTERFACE_NAME,
                                        {"RecordCount"});
          },
          [this] { serveQueries("the zone is loaded"); }) {
  server_.add(listening.listeners);
  zoneWait_ = loop_.addTimer(kZoneLoadWait, [this] {
    zoneWait_ = 0;
    serveQueries("the Vm service has not answered in time; answering from what is known");
  });
  if (listening.followNetRouting) {
    routed_ = std::make_unique<RoutedListener>(context.loop, server_, [this] {
      emitPropertiesChangedSignal(org::banger::Dns1::Manager_adaptor::INTERFACE_NAME,
                                  {"ListenAddress"});
    });
  }
  registerAdaptor();
}

DnsManager::~DnsManager() {
  loop_.cancelTimer(zoneWait_);
  unregisterAdaptor();
}

void DnsManager::serveQueries(const char* why) {
  if (server_.started()) return;
  log::debug(std::string("serving queries: ") + why);
  loop_.cancelTimer(zoneWait_);
  zoneWait_ = 0;
  server_.start();
}

std::vector<sdbus::Struct<std::string, std::string>> DnsManager::ListRecords() {
  return guard_("Dns1.Manager.ListRecords", [&] {
    std::vector<sdbus::Struct<std::string, std::string>> out;
    for (const auto& [name, address] : zone_.records())
      out.emplace_back(name + "." + kZone, address);
    return out;
  });
}

std::vector<std::string> DnsManager::Resolve(const std::string& name) {
  return guard_("Dns1.Manager.Resolve", [&] {
    std::string label = asciiLower(name);
    if (!label.empty() && label.back() == '.') label.pop_back();
    if (label.size() > 3 && label.compare(label.size() - 3, 3, ".vm") == 0)
      label.resize(label.size() - 3);
    const auto address = zone_.lookup(label);
    if (!address)
      fail(ErrorCode::NotFound,
           "no running machine named '" + name + "' in the ." + kZone + " zone");
    return std::vector<std::string>{Ipv4{*address}.str()};
  });
}

std::string DnsManager::ListenAddress() {
  return guard_("Dns1.Manager.ListenAddress", [&] {
    return routed_ && routed_->holding() ? routed_->address() : listenAddress_;
  });
}
std::string DnsManager::Zone() {
  return guard_("Dns1.Manager.Zone", [] { return std::string(kZone); });
}
uint32_t DnsManager::RecordCount() {
  return guard_("Dns1.Manager.RecordCount", [&] { return static_cast<uint32_t>(zone_.size()); });
}

}  // namespace banger::dns
