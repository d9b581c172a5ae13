#include "net_manager.h"

#include "banger/errors.h"

namespace banger::net {
namespace {
constexpr const char* kLeases = "the Net service's bridge, TAP leases and NAT";
constexpr const char* kResolver = "the Net service's systemd-resolved routing";
const std::vector<OptionKey> kAcquireKeys = {{"nat", "b"}};
}  // namespace

NetManager::NetManager(ServiceContext& context, NetSettings settings)
    : AdaptorInterfaces(context.connection, kRootPath),
      guard_(context.guard),
      settings_(std::move(settings)) {
  registerAdaptor();
}

NetManager::~NetManager() { unregisterAdaptor(); }

std::tuple<std::string, std::string, std::string, uint32_t, std::string, std::vector<std::string>>
NetManager::AcquireLease(const std::string& /*vm_id*/, const VariantMap& options) {
  using Lease = std::tuple<std::string, std::string, std::string, uint32_t, std::string,
                           std::vector<std::string>>;
  return guard_("Net1.Manager.AcquireLease", [&]() -> Lease {
    Options::parse(options, kAcquireKeys);
    notSupportedYet("AcquireLease", kLeases);
  });
}

void NetManager::ReleaseLease(const std::string& /*vm_id*/) {
  guard_("Net1.Manager.ReleaseLease", [&] { notSupportedYet("ReleaseLease", kLeases); });
}

void NetManager::SetNat(const std::string& /*vm_id*/, const bool& /*enabled*/) {
  guard_("Net1.Manager.SetNat", [&] { notSupportedYet("SetNat", kLeases); });
}

std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>>
NetManager::ListLeases() {
  return guard_(
      "Net1.Manager.ListLeases",
      [&]() -> std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>> {
        notSupportedYet("ListLeases", kLeases);
      });
}

void NetManager::ConfigureResolver(const bool& /*enabled*/) {
  guard_("Net1.Manager.ConfigureResolver",
         [&] { notSupportedYet("ConfigureResolver", kResolver); });
}

std::string NetManager::Bridge() {
  return guard_("Net1.Manager.Bridge", [&] { return settings_.bridge; });
}
std::string NetManager::Subnet() {
  return guard_("Net1.Manager.Subnet", [&] { return settings_.subnet; });
}
std::string NetManager::Gateway() {
  return guard_("Net1.Manager.Gateway", [&] { return settings_.gateway; });
}
bool NetManager::ResolverConfigured() {
  return guard_("Net1.Manager.ResolverConfigured", [] { return false; });
}

}  // namespace banger::net
