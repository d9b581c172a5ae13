#include "dns_manager.h"

#include "banger/errors.h"

namespace banger::dns {
namespace {
constexpr const char* kZoneServer = "the .vm zone server";
}

DnsManager::DnsManager(ServiceContext& context)
    : AdaptorInterfaces(context.connection, kRootPath), guard_(context.guard) {
  registerAdaptor();
}

DnsManager::~DnsManager() { unregisterAdaptor(); }

std::vector<sdbus::Struct<std::string, std::string>> DnsManager::ListRecords() {
  return guard_("Dns1.Manager.ListRecords",
                [&]() -> std::vector<sdbus::Struct<std::string, std::string>> {
                  notSupportedYet("ListRecords", kZoneServer);
                });
}

std::vector<std::string> DnsManager::Resolve(const std::string& /*name*/) {
  return guard_("Dns1.Manager.Resolve",
                [&]() -> std::vector<std::string> { notSupportedYet("Resolve", kZoneServer); });
}

std::string DnsManager::ListenAddress() {
  return guard_("Dns1.Manager.ListenAddress", [] { return std::string(kListenAddress); });
}
std::string DnsManager::Zone() {
  return guard_("Dns1.Manager.Zone", [] { return std::string(kZone); });
}
uint32_t DnsManager::RecordCount() {
  return guard_("Dns1.Manager.RecordCount", [] { return 0U; });
}

}  // namespace banger::dns
