// libnl's objects held by unique_ptr, each given back with its own put or free, and an
// IPv4 address built as libnl's nl_addr. Shared by the two ends of a VM's link, banger-net
// and banger-init. Header only: banger-net links libnl as a shared library, banger-init
// statically.
#pragma once

#include <arpa/inet.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include <cstdint>
#include <memory>

#include "banger/ipv4.h"

namespace banger::nl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* object) const { Free(object); }
};
using Socket = std::unique_ptr<nl_sock, Deleter<nl_sock, nl_socket_free>>;
using Cache = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;
using Addr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using Link = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using LinkAddr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using Neigh = std::unique_ptr<rtnl_neigh, Deleter<rtnl_neigh, rtnl_neigh_put>>;
using Route = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using Nexthop = std::unique_ptr<rtnl_nexthop, Deleter<rtnl_nexthop, rtnl_route_nh_free>>;

// `address`/`prefix` as libnl's address; null when out of memory.
inline Addr ipv4(Ipv4 address, unsigned prefix) {
  const std::uint32_t network = htonl(address.value);
  Addr out(nl_addr_build(AF_INET, &network, sizeof network));
  if (out) nl_addr_set_prefixlen(out.get(), static_cast<int>(prefix));
  return out;
}

}  // namespace banger::nl
