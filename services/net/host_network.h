// What Net does to the host's network, behind interfaces: the real kernel in production
// and in the netns suite, a recording fake in unit tests.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "banger/ipv4.h"
#include "banger/listen.h"

namespace banger::net {

// Every TAP banger makes is called bg-<n>; the firewall's per-TAP rules match the prefix.
inline constexpr const char* kTapPrefix = "bg-";

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
  // Creates the bridge with the gateway address and the MAC `mac`, and brings it up;
  // idempotent. A bridge without a MAC of its own takes its ports' lowest, so each TAP
  // added could change it, and the kernel then forgets every neighbour entry there (the
  // pinned ones too) and guests hold a stale gateway MAC.
  virtual void ensureBridge(const std::string& bridge, Ipv4 gateway, unsigned prefix,
                            const std::string& mac) = 0;
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
  // The interfaces of the IPv4 default routes (none without a default route).
  virtual std::vector<std::string> defaultRouteInterfaces() = 0;
  virtual bool ipForwardingEnabled() = 0;
  // Each leased guest's address resolved to its lease's MAC on `bridge` for good (a
  // permanent neighbour entry, replacing whatever the host was still resolving), and no
  // other permanent IPv4 entry left there. A new VM's first packet then never waits for
  // ARP, which stalled up to a second where the host still retried to reach the previous
  // VM at that address, and no guest can take another's address. Nothing when the bridge
  // does not exist.
  struct Neighbour {
    std::string address;
    std::string mac;
  };
  virtual void pinNeighbours(const std::string& bridge, const std::vector<Neighbour>& guests) = 0;
  // UDP and listening TCP sockets bound to `at`, for the routing owner's banger-dns.
  // Refuses a port any user could bind (ip_unprivileged_port_start); Busy when taken.
  using Listener = UdpAndTcp;
  virtual Listener openDnsListener(const Ipv4Endpoint& at) = 0;
};

// What the firewall must enforce, derived whole from the lease database each time.
struct FirewallState {
  struct Guest {
    std::string tap;
    std::string mac;
    std::string address;
    uid_t uid = 0;
    bool nat = false;
  };
  std::string bridge;
  Ipv4 gateway;
  std::vector<std::string> uplinks;  // interfaces of the default route: NAT leaves by these
  std::vector<Guest> guests;
};

// The nftables tables `inet banger` (what guests reach, NAT, who on the host reaches
// them) and `bridge banger` (each TAP sends only its lease's MAC and IP; one user's VMs
// do not reach another's), replaced whole in one atomic transaction: they are small, and
// a rebuild cannot drift. They exist for as long as the bridge does.
class Firewall {
 public:
  virtual ~Firewall() = default;
  virtual void apply(const FirewallState& state) = 0;
};

}  // namespace banger::net
