// Host-wide routing of `.vm` names, and who owns it. resolved sends `~vm` queries to one
// privileged loopback listener (dns_listen, a port below 1024, so no other local user
// can take it first); Net binds it and hands it only to the banger-dns of the user who
// turned the routing on. One owner at a time: another user gets AlreadyExists until the
// owner, or root, turns it off. Runs on the Net worker thread.
#pragma once

#include <sys/types.h>

#include <optional>

#include "host_network.h"
#include "lease_manager.h"
#include "lease_store.h"
#include "resolver.h"

namespace banger::net {

class DnsRouting {
 public:
  DnsRouting(LeaseStore& store, LeaseManager& leases, HostNetwork& network, Resolver& resolver);

  // Routes `~vm` (enabled) or reverts it, as `uid`.
  void configure(uid_t uid, bool enabled);
  // The listener, for the owner only.
  HostNetwork::Listener openListener(uid_t uid);
  std::optional<uid_t> owner();

 private:
  LeaseStore& store_;
  LeaseManager& leases_;
  HostNetwork& network_;
  Resolver& resolver_;
};

}  // namespace banger::net
