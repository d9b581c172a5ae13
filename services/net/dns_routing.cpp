#include "dns_routing.h"

#include <string>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger::net {
namespace {
constexpr const char* kOwnerSetting = "resolver_owner";  // a uid; empty: not routed

std::string whose(uid_t uid) { return "uid " + std::to_string(uid); }
}  // namespace

DnsRouting::DnsRouting(LeaseStore& store, LeaseManager& leases, HostNetwork& network,
                       Resolver& resolver)
    : store_(store), leases_(leases), network_(network), resolver_(resolver) {}

std::optional<uid_t> DnsRouting::owner() {
  const auto value = store_.setting(kOwnerSetting);
  if (!value || value->empty()) return std::nullopt;
  return static_cast<uid_t>(std::stoul(*value));
}

void DnsRouting::configure(uid_t uid, bool enabled) {
  const auto current = owner();
  if (current && *current != uid && uid != 0) {
    fail(enabled ? ErrorCode::AlreadyExists : ErrorCode::AccessDenied,
         "the .vm routing of this host belongs to " + whose(*current) + "; only that user or " +
             "root can turn it off" + (enabled ? ", before another user can have it" : ""));
  }
  const auto& config = leases_.config();
  leases_.ensureBridge();
  const int index = network_.interfaceIndex(config.bridge);
  if (enabled) {
    resolver_.route(index, config.dnsListen.address.str(), config.dnsListen.port, "vm");
    store_.setSetting(kOwnerSetting, std::to_string(uid));
    log::info(".vm is routed to " + config.dnsListen.str() + " for " + whose(uid));
  } else {
    resolver_.revert(index);
    store_.setSetting(kOwnerSetting, "");
    log::info(".vm routing reverted by " + whose(uid));
  }
}

HostNetwork::Listener DnsRouting::openListener(uid_t uid) {
  const auto current = owner();
  if (!current) {
    fail(ErrorCode::Unavailable,
         ".vm routing is not configured on this host: ConfigureResolver(true) first "
         "(docs/dns-routing.md)");
  }
  if (*current != uid) {
    fail(ErrorCode::AccessDenied, "the .vm routing of this host belongs to " + whose(*current) +
                                      ": only that user's banger-dns serves it");
  }
  const auto listener = network_.openDnsListener(leases_.config().dnsListen);
  log::info("handed " + leases_.config().dnsListen.str() + " to the banger-dns of " + whose(uid));
  return listener;
}

}  // namespace banger::net
