// What Net does to the host's network, behind interfaces: the real kernel in production
// and in the netns suite, a recording fake in unit tests.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ipv4.h"

namespace banger::net {

// What the kernel says about one link, as far as banger's rules need it.
struct LinkInfo {
  std::string name;
  int index = 0;
  std::string kind;           // "tun", "veth", "bridge", ... ("" for plain devices)
  bool isTap = false;         // kind tun in TAP (Ethernet) mode
  bool madeByBanger = false;  // carries banger's marker (ifalias), set when it was created
  bool attached = false;      // carrier on: a process (Firecracker) holds the TAP open
};

class HostNetwork {
 public:
  virtual ~HostNetwork() = default;
  // Creates the bridge with the gateway address and brings it up; idempotent.
  virtual void ensureBridge(const std::string& bridge, Ipv4 gateway, unsigned prefix) = 0;
  // A persistent TAP owned by `owner`, attached to `bridge`, up and marked as banger's;
  // returns its ifindex.
  virtual int createTap(const std::string& name, uid_t owner, const std::string& bridge) = 0;
  // Deletes the link through rtnetlink, which works while a process holds it, if it is
  // still the TAP `index` called `name`. False when there was nothing to delete; throws
  // when the kernel refuses.
  virtual bool deleteTap(const std::string& name, int index) = 0;
  virtual std::optional<LinkInfo> link(const std::string& name) = 0;
  virtual std::vector<LinkInfo> linksWithPrefix(const std::string& prefix) = 0;
  virtual int interfaceIndex(const std::string& name) = 0;  // 0 when absent
  // The interface of the IPv4 default route; empty when there is none.
  virtual std::string defaultRouteInterface() = 0;
  virtual bool ipForwardingEnabled() = 0;
};

// The nftables table `inet banger`, rebuilt whole from the lease database each time:
// it is small, and a rebuild is one atomic transaction that cannot drift. With no NAT
// lease the table is removed, so an unused banger leaves the host's ruleset alone.
class Firewall {
 public:
  virtual ~Firewall() = default;
  // `externalInterface` empty = masquerade whatever leaves by a non-bridge interface.
  virtual void rebuild(const std::string& bridge, const std::string& externalInterface,
                       const std::vector<std::string>& natAddresses) = 0;
};

}  // namespace banger::net
