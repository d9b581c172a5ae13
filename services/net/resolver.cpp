#include "resolver.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <sdbus-c++/sdbus-c++.h>

#include "banger/errors.h"

namespace banger::net {
namespace {
constexpr const char* kResolved = "org.freedesktop.resolve1";
constexpr const char* kManager = "org.freedesktop.resolve1.Manager";

template <class Call>
void callResolved(sdbus::IConnection& bus, Call&& call) {
  try {
    auto proxy = sdbus::createProxy(bus, kResolved, "/org/freedesktop/resolve1");
    call(*proxy);
  } catch (const sdbus::Error& e) {
    if (e.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        e.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner") {
      fail(ErrorCode::NotSupported,
           "systemd-resolved is not running on this host, so banger cannot route .vm names "
           "itself; see docs/dns-routing.md (/usr/share/doc/banger/dns-routing.md) for "
           "dnsmasq, NetworkManager and resolv.conf recipes");
    }
    fail(ErrorCode::Failed, "systemd-resolved refused: " + e.getName() + ": " + e.getMessage());
  }
}
}  // namespace

ResolvedResolver::ResolvedResolver() = default;
ResolvedResolver::~ResolvedResolver() = default;

sdbus::IConnection& ResolvedResolver::bus() {
  if (!connection_) connection_ = sdbus::createSystemBusConnection();
  return *connection_;
}

void ResolvedResolver::route(int ifindex, const std::string& dnsAddress, uint16_t port,
                             const std::string& domain) {
  in_addr addr{};
  if (inet_pton(AF_INET, dnsAddress.c_str(), &addr) != 1) {
    fail(ErrorCode::InvalidArgument, "not an IPv4 address: " + dnsAddress);
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(&addr.s_addr);
  using Server = sdbus::Struct<int32_t, std::vector<uint8_t>, uint16_t, std::string>;
  const std::vector<Server> servers{
      Server{AF_INET, std::vector<uint8_t>(bytes, bytes + 4), port, ""}};
  using Domain = sdbus::Struct<std::string, bool>;
  const std::vector<Domain> domains{Domain{domain, true}};  // routing-only: ~vm
  callResolved(bus(), [&](sdbus::IProxy& resolved) {
    resolved.callMethod("SetLinkDNSEx")
        .onInterface(kManager)
        .withArguments(int32_t{ifindex}, servers);
    resolved.callMethod("SetLinkDomains")
        .onInterface(kManager)
        .withArguments(int32_t{ifindex}, domains);
  });
}

void ResolvedResolver::revert(int ifindex) {
  callResolved(bus(), [&](sdbus::IProxy& resolved) {
    resolved.callMethod("RevertLink").onInterface(kManager).withArguments(int32_t{ifindex});
  });
}

}  // namespace banger::net
