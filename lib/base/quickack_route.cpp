#include "banger/quickack_route.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include <cstdint>

namespace banger {
namespace {

nl_addr* ipv4(Ipv4 address, unsigned prefix) {
  const std::uint32_t network = htonl(address.value);
  nl_addr* out = nl_addr_build(AF_INET, &network, sizeof network);
  if (out) nl_addr_set_prefixlen(out, static_cast<int>(prefix));
  return out;
}

}  // namespace

int replaceSubnetRouteWithQuickAck(nl_sock* socket, int ifindex, Ipv4Network subnet, Ipv4 source) {
  subnet.base.value &= subnet.mask();
  nl_addr* destination = ipv4(subnet.base, subnet.prefix);
  nl_addr* from = ipv4(source, 32);
  rtnl_route* route = rtnl_route_alloc();
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  int rc = -NLE_NOMEM;
  if (destination && from && route && hop) {
    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_protocol(route, RTPROT_KERNEL);
    rtnl_route_set_scope(route, RT_SCOPE_LINK);
    rtnl_route_set_dst(route, destination);
    rtnl_route_set_pref_src(route, from);
    rtnl_route_set_metric(route, RTAX_QUICKACK, 1);
    rtnl_route_nh_set_ifindex(hop, ifindex);
    rtnl_route_add_nexthop(route, hop);  // the route owns it now
    hop = nullptr;
    rc = rtnl_route_add(socket, route, NLM_F_REPLACE);
  }
  if (hop) rtnl_route_nh_free(hop);
  if (route) rtnl_route_put(route);
  if (from) nl_addr_put(from);
  if (destination) nl_addr_put(destination);
  return rc;
}

}  // namespace banger
