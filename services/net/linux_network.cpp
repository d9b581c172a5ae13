#include "linux_network.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

#include "banger/errors.h"
#include "banger/listen.h"
#include "banger/netlink_ptr.h"
#include "banger/quickack_route.h"

namespace banger::net {
namespace {

[[noreturn]] void netlinkFail(const std::string& what, int error) {
  fail(ErrorCode::Failed,
       what + ": " + nl_geterror(error) + " (see `journalctl -u banger-net` and `ip link`)");
}

nl::Addr parsedAddress(const std::string& text, int family) {
  nl_addr* raw = nullptr;
  if (const int rc = nl_addr_parse(text.c_str(), family, &raw); rc < 0)
    netlinkFail("reading the address " + text, rc);
  return nl::Addr(raw);
}

// Creates the TAP `name` through /dev/net/tun (the kernel's only way to set a TAP's
// owner). IFF_TUN_EXCL: a device of that name that appeared meanwhile is an error, never
// attached to and re-owned.
int createTapDevice(const std::string& name) {
  if (name.size() >= IFNAMSIZ) fail(ErrorCode::InvalidArgument, "interface name too long: " + name);
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fail(ErrorCode::Failed, std::string("cannot open /dev/net/tun: ") + std::strerror(errno) +
                                " (is the tun module loaded? DeviceAllow= in banger-net.service?)");
  }
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
  if (ioctl(fd, TUNSETIFF, &request) < 0) {
    const int error = errno;
    close(fd);
    fail(ErrorCode::Failed, "creating TAP " + name + ": " + std::strerror(error));
  }
  return fd;
}

LinkInfo describe(rtnl_link* link) {
  LinkInfo info;
  info.name = rtnl_link_get_name(link);
  info.index = rtnl_link_get_ifindex(link);
  const char* kind = rtnl_link_get_type(link);
  info.kind = kind != nullptr ? kind : "";
  info.isTap = info.kind == "tun" && rtnl_link_get_arptype(link) == ARPHRD_ETHER;
  const char* alias = rtnl_link_get_ifalias(link);
  info.madeByBanger = alias != nullptr && std::string_view(alias) == LinuxNetwork::kMarker;
  info.attached = rtnl_link_get_carrier(link) != 0;
  return info;
}

}  // namespace

LinuxNetwork::LinuxNetwork() {
  socket_ = nl_socket_alloc();
  if (socket_ == nullptr) fail(ErrorCode::Failed, "cannot allocate a netlink socket");
  if (const int rc = nl_connect(socket_, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(socket_);
    netlinkFail("connecting to rtnetlink", rc);
  }
}

LinuxNetwork::~LinuxNetwork() { nl_socket_free(socket_); }

int LinuxNetwork::ifindex(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (rtnl_link_get_kernel(socket_, 0, name.c_str(), &raw) < 0) return 0;
  nl::Link link(raw);
  return rtnl_link_get_ifindex(link.get());
}

nl::Link LinuxNetwork::existingLink(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (const int rc = rtnl_link_get_kernel(socket_, 0, name.c_str(), &raw); rc < 0)
    netlinkFail("looking up " + name, rc);
  return nl::Link(raw);
}

std::optional<LinkInfo> LinuxNetwork::link(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (rtnl_link_get_kernel(socket_, 0, name.c_str(), &raw) < 0) return std::nullopt;
  nl::Link link(raw);
  return describe(link.get());
}

void LinuxNetwork::setUpWithMaster(const std::string& name, int masterIndex, const char* alias) {
  const nl::Link link = existingLink(name);
  nl::Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (masterIndex > 0) rtnl_link_set_master(change.get(), masterIndex);
  if (alias != nullptr) rtnl_link_set_ifalias(change.get(), alias);
  if (const int rc = rtnl_link_change(socket_, link.get(), change.get(), 0); rc < 0) {
    netlinkFail("bringing up " + name, rc);
  }
}

void LinuxNetwork::ensureBridge(const std::string& bridge, Ipv4 gateway, unsigned prefix,
                                const std::string& mac) {
  if (ifindex(bridge) == 0) {
    const int rc = rtnl_link_bridge_add(socket_, bridge.c_str());
    if (rc < 0 && rc != -NLE_EXIST) netlinkFail("creating bridge " + bridge, rc);
  }
  setAddress(bridge, mac);
  const int index = ifindex(bridge);
  const std::string cidr = gateway.str() + "/" + std::to_string(prefix);
  const nl::LinkAddr addr(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(addr.get(), index);
  rtnl_addr_set_local(addr.get(), parsedAddress(cidr, AF_INET).get());
  const int rc = rtnl_addr_add(socket_, addr.get(), 0);
  if (rc < 0 && rc != -NLE_EXIST) netlinkFail("adding " + cidr + " to " + bridge, rc);
  setUpWithMaster(bridge, 0, nullptr);
  quickAckSubnetRoute(index, gateway, prefix);
}

void LinuxNetwork::setAddress(const std::string& name, const std::string& mac) {
  const nl::Link link = existingLink(name);
  const nl::Addr wanted = parsedAddress(mac, AF_LLC);
  if (nl_addr_cmp(rtnl_link_get_addr(link.get()), wanted.get()) == 0) return;
  nl::Link change(rtnl_link_alloc());
  rtnl_link_set_addr(change.get(), wanted.get());
  if (const int rc = rtnl_link_change(socket_, link.get(), change.get(), 0); rc < 0)
    netlinkFail("setting the MAC of " + name + " to " + mac, rc);
}

// The subnet's route with quickack 1: the host acknowledges a guest's segments at once
// (banger/quickack_route.h says why).
void LinuxNetwork::quickAckSubnetRoute(int bridgeIndex, Ipv4 gateway, unsigned prefix) {
  const Ipv4Network subnet{.base = gateway, .prefix = prefix};
  if (const int rc = replaceSubnetRouteWithQuickAck(socket_, bridgeIndex, subnet, gateway); rc < 0)
    netlinkFail("setting quickack on the route to " + subnet.str(), rc);
}

int LinuxNetwork::createTap(const std::string& name, uid_t owner, const std::string& bridge) {
  const int fd = createTapDevice(name);
  const bool ok = ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(owner)) == 0 &&
                  ioctl(fd, TUNSETPERSIST, 1UL) == 0;
  const int error = errno;
  close(fd);  // not persistent yet (a failure above): the TAP goes with this fd
  if (!ok) fail(ErrorCode::Failed, "setting up TAP " + name + ": " + std::strerror(error));
  const int index = ifindex(name);
  try {
    setUpWithMaster(name, ifindex(bridge), kMarker);
  } catch (...) {
    deleteTap(name, index);
    throw;
  }
  return index;
}

bool LinuxNetwork::deleteTap(const std::string& name, int index) {
  const auto info = link(name);
  if (!info || info->index != index || !info->isTap) return false;
  nl::Link victim(rtnl_link_alloc());
  rtnl_link_set_ifindex(victim.get(), index);
  if (const int rc = rtnl_link_delete(socket_, victim.get()); rc < 0) {
    if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND) return false;  // gone meanwhile
    netlinkFail("deleting TAP " + name, rc);
  }
  return true;
}

std::vector<LinkInfo> LinuxNetwork::linksWithPrefix(const std::string& prefix) {
  nl_cache* raw = nullptr;
  if (const int rc = rtnl_link_alloc_cache(socket_, AF_UNSPEC, &raw); rc < 0) {
    netlinkFail("listing links", rc);
  }
  nl::Cache cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    const char* name = rtnl_link_get_name(link);
    if (name != nullptr && std::string_view(name).rfind(prefix, 0) == 0) {
      out.push_back(describe(link));
    }
  }
  return out;
}

std::vector<std::string> LinuxNetwork::defaultRouteInterfaces() {
  nl_cache* raw = nullptr;
  if (const int rc = rtnl_route_alloc_cache(socket_, AF_INET, 0, &raw); rc < 0) {
    netlinkFail("reading routes", rc);
  }
  nl::Cache routes(raw);
  std::vector<std::string> out;
  for (nl_object* o = nl_cache_get_first(routes.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* route = reinterpret_cast<rtnl_route*>(o);
    nl_addr* dst = rtnl_route_get_dst(route);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst) != 0)) {
      continue;
    }
    for (int n = 0; n < rtnl_route_get_nnexthops(route); ++n) {
      const int index = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, n));
      rtnl_link* link = nullptr;
      if (rtnl_link_get_kernel(socket_, index, nullptr, &link) < 0) continue;
      nl::Link owned(link);
      const std::string name = rtnl_link_get_name(link);
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

void LinuxNetwork::pinNeighbours(const std::string& bridge, const std::vector<Neighbour>& guests) {
  const int index = ifindex(bridge);
  if (index == 0) return;
  std::set<std::string> pinned;
  for (const Neighbour& guest : guests) {
    nl::Neigh entry(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(entry.get(), index);
    rtnl_neigh_set_family(entry.get(), AF_INET);
    rtnl_neigh_set_dst(entry.get(), parsedAddress(guest.address, AF_INET).get());
    rtnl_neigh_set_lladdr(entry.get(), parsedAddress(guest.mac, AF_LLC).get());
    rtnl_neigh_set_state(entry.get(), NUD_PERMANENT);
    if (const int rc = rtnl_neigh_add(socket_, entry.get(), NLM_F_CREATE | NLM_F_REPLACE); rc < 0)
      netlinkFail("pinning " + guest.address + " to " + guest.mac + " on " + bridge, rc);
    pinned.insert(guest.address);
  }
  nl_cache* raw = nullptr;
  if (const int rc = rtnl_neigh_alloc_cache(socket_, &raw); rc < 0)
    netlinkFail("listing the neighbours on " + bridge, rc);
  const nl::Cache cache(raw);
  for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr;
       object = nl_cache_get_next(object)) {
    auto* entry = reinterpret_cast<rtnl_neigh*>(object);
    if (rtnl_neigh_get_ifindex(entry) != index || rtnl_neigh_get_family(entry) != AF_INET ||
        (rtnl_neigh_get_state(entry) & NUD_PERMANENT) == 0)
      continue;
    char address[64] = {};
    nl_addr2str(rtnl_neigh_get_dst(entry), address, sizeof address);
    if (pinned.count(address) != 0) continue;
    if (const int rc = rtnl_neigh_delete(socket_, entry, 0); rc < 0 && rc != -NLE_OBJ_NOTFOUND)
      netlinkFail(std::string("unpinning ") + address + " on " + bridge, rc);
  }
}

bool LinuxNetwork::ipForwardingEnabled() {
  std::ifstream in("/proc/sys/net/ipv4/ip_forward");
  int value = 0;
  in >> value;
  return value == 1;
}

}  // namespace banger::net

namespace banger::net {

HostNetwork::Listener LinuxNetwork::openDnsListener(const Ipv4Endpoint& at) {
  std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  unsigned firstUnprivileged = 1024;
  in >> firstUnprivileged;
  if (at.port >= firstUnprivileged) {
    fail(ErrorCode::Unavailable,
         "net.ipv4.ip_unprivileged_port_start is " + std::to_string(firstUnprivileged) +
             " on this host, so any user could bind port " + std::to_string(at.port) +
             " and answer .vm queries; set dns_listen in /etc/banger/net.toml to a lower port");
  }
  return listenUdpAndTcp(at);
}

}  // namespace banger::net
